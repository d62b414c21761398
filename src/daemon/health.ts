// The body of /healthz: what an admin or a monitor asks a running daemon. Built from what the
// daemon holds; nothing here changes it.
import type { ActiveAlarm } from '../alarms/alarmState.js';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { nextPurgeStart, scheduleTimes } from './nextRun.js';
import type { NodeWorker } from './nodeWorker.js';
import type { StateWriteProblem } from './stateHealth.js';
import { purgeWindowVerdict } from './windowGate.js';

export interface HealthInputs {
  config: Pick<ResolvedConfig, 'daemon' | 'file'>;
  stopping: boolean;
  startedAt: Date;
  now: Date;
  workers: Array<Pick<NodeWorker, 'name' | 'lockState' | 'isRunning' | 'lastSuccessAt' | 'lastRun'>>;
  /** When each node's schedule fires next (node-cron's running task), by node name. */
  nextTicks: Map<string, Date | null>;
  stateProblems: StateWriteProblem[];
  alarms: ActiveAlarm[];
  alarmOutbox: Record<string, number>;
}

export function healthBody(h: HealthInputs): { ok: boolean; body: unknown } {
  const { daemon } = h.config;
  // With purge windows a tick outside them starts nothing: the next run is the first inside.
  const times = daemon.windows.length ? scheduleTimes(daemon.schedule, daemon.timezone) : undefined;
  const nextRun = (tick: Date | null | undefined): string | null => {
    const at = tick && times ? nextPurgeStart(times, daemon, tick) : tick;
    return at?.toISOString() ?? null;
  };
  try {
    const window = daemon.windows.length ? purgeWindowVerdict(daemon, h.now) : undefined;
    return {
      ok: !h.stopping,
      body: {
        status: h.stopping ? 'stopping' : h.stateProblems.length > 0 ? 'degraded' : 'ok',
        ...(h.stateProblems.length > 0 ? { degraded: `cannot write the state directory ${daemon.stateDirectory}; the state is kept in memory and the writes are retried` } : {}),
        stateDirectory: { path: daemon.stateDirectory, writable: h.stateProblems.length === 0, problems: h.stateProblems },
        pid: process.pid,
        startedAt: h.startedAt.toISOString(),
        uptimeSeconds: Math.round((h.now.getTime() - h.startedAt.getTime()) / 1000),
        configFile: h.config.file,
        schedule: { expression: daemon.schedule, timezone: daemon.timezone },
        ...(window
          ? {
              purgeWindows: {
                windows: daemon.windows.map((w) => w.text),
                open: window.start,
                ...(window.start ? { closesAt: window.deadline?.at.toISOString() ?? null } : { opensAt: window.opensAt?.toISOString() ?? null }),
              },
            }
          : {}),
        nodes: h.workers.map((w) => ({
          name: w.name,
          lock: w.lockState,
          running: w.isRunning,
          nextRun: nextRun(h.nextTicks.get(`purge:${w.name}`)),
          lastSuccessAt: w.lastSuccessAt?.toISOString() ?? null,
          lastRun: w.lastRun ?? null,
        })),
        alarms: h.alarms
          .filter((a) => h.workers.find((w) => w.name === a.node)?.lockState !== 'elsewhere')
          .map((a) => ({ alarm: a.name, node: a.node, chatType: a.chatType ?? null, severity: a.severity, raisedAt: a.raisedAt, value: a.value })),
        alarmOutbox: h.alarmOutbox,
      },
    };
  } finally {
    times?.close();
  }
}
