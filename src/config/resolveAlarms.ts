// The alarm settings in force: the shared `alarms:` thresholds with a node's own on top,
// checked together (a lower threshold above its upper one is refused).
import { fixedDuration, type ConfigDuration } from './duration.js';
import type { Report } from './schemaIssues.js';
import type { SecretSource } from './secrets.js';

export interface FreeSpaceThresholds {
  lowerPercent: number;
  upperPercent: number;
  lowerFreeBytes?: number;
  upperFreeBytes?: number;
  purgeWhenRaised: boolean;
}

export interface DatabaseThresholds {
  capacityBytes?: number;
  raisePercent: number;
  clearPercent: number;
}

export interface StalledThresholds {
  maxTimeWithoutSuccessMs: number;
  maxBacklogAgeMs: number;
}

/** The alarm thresholds in force for one node: the shared ones with the node's overrides on top. */
export interface NodeAlarmThresholds {
  freeSpace: FreeSpaceThresholds;
  database: DatabaseThresholds;
  stalled: StalledThresholds;
}

export type ResolvedSink =
  | { type: 'alertmanager'; name: string; url: string; headers: Record<string, string>; timeoutMs: number }
  | { type: 'webhook'; name: string; url: string; headers: Record<string, string>; timeoutMs: number; hmac?: SecretSource; purgeFinished: boolean }
  | { type: 'syslog'; name: string; host: string; port: number; protocol: 'udp' | 'tcp'; facility: string; appName: string; timeoutMs: number; purgeFinished: boolean }
  | { type: 'log'; name: string; purgeFinished: boolean };

export interface ResolvedAlarms {
  checkIntervalMs: number;
  sinks: ResolvedSink[];
  delivery: { maxQueued: number; retryInitialMs: number; retryMaxMs: number };
  /** The shared thresholds (nodes may override them: see ResolvedNode.alarms). */
  defaults: NodeAlarmThresholds;
}

/** Cisco's defaults for the free-space alarm; the others are ours. */
export const ALARM_DEFAULTS = {
  freeSpace: { lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true },
  database: { raisePercent: 90, clearPercent: 85 },
  stalled: { maxTimeWithoutSuccess: fixedDuration('PT6H'), maxBacklogAge: fixedDuration('PT6H') },
} as const;

/** One level's threshold settings as the schema parsed them (sizes in bytes), each optional. */
export interface ThresholdSettings {
  freeSpace?: { lowerPercent?: number; upperPercent?: number; lowerFreeBytes?: number; upperFreeBytes?: number; purgeWhenRaised?: boolean };
  database?: { capacity?: number; raisePercent?: number; clearPercent?: number };
  stalled?: { maxTimeWithoutSuccess?: ConfigDuration; maxBacklogAge?: ConfigDuration };
}

/**
 * The thresholds for one node: its own values (`node`, at `at` in the file) over the shared
 * ones (at `alarms`), then the defaults. A problem is reported at the key the admin wrote.
 */
export function mergeThresholds(shared: ThresholdSettings, node: ThresholdSettings | undefined, at: Array<string | number>, report: Report): NodeAlarmThresholds {
  const fs = { ...ALARM_DEFAULTS.freeSpace, ...defined(shared.freeSpace), ...defined(node?.freeSpace) };
  const db = { ...ALARM_DEFAULTS.database, ...defined(shared.database), ...defined(node?.database) };
  const st = { ...ALARM_DEFAULTS.stalled, ...defined(shared.stalled), ...defined(node?.stalled) };
  const where = (section: 'freeSpace' | 'database', key: string): Array<string | number> =>
    node?.[section] && (node[section] as Record<string, unknown>)[key] !== undefined ? [...at, section, key] : ['alarms', section, key];

  if (fs.lowerPercent > fs.upperPercent) {
    report(where('freeSpace', 'lowerPercent'), `a lower threshold at most the upper one (upperPercent is ${fs.upperPercent})`, {
      fix: 'the alarm is raised at or below lowerPercent and cleared at or above upperPercent, e.g. 10 and 15 (Cisco\'s defaults); Cisco\'s own service refuses to start with lower > upper too',
    });
  }
  const lowerFreeBytes = fs.lowerFreeBytes;
  let upperFreeBytes = fs.upperFreeBytes;
  if (upperFreeBytes !== undefined && lowerFreeBytes === undefined) {
    report(where('freeSpace', 'upperFreeBytes'), 'upperFreeBytes only together with lowerFreeBytes', { fix: 'set lowerFreeBytes (raise at or below) too, or remove upperFreeBytes' });
  }
  if (lowerFreeBytes !== undefined) {
    upperFreeBytes ??= Math.round(lowerFreeBytes * 1.5);
    if (lowerFreeBytes > upperFreeBytes) {
      report(where('freeSpace', 'lowerFreeBytes'), `a size at most upperFreeBytes (${upperFreeBytes} bytes)`, { fix: 'raise at or below lowerFreeBytes, clear at or above upperFreeBytes' });
    }
  }
  if (db.clearPercent > db.raisePercent) {
    report(where('database', 'clearPercent'), `a percentage at most raisePercent (${db.raisePercent})`, {
      fix: 'the alarm is raised at or above raisePercent and cleared at or below clearPercent, e.g. 90 and 85',
    });
  }
  return {
    freeSpace: { lowerPercent: fs.lowerPercent, upperPercent: fs.upperPercent, lowerFreeBytes, upperFreeBytes, purgeWhenRaised: fs.purgeWhenRaised },
    database: { capacityBytes: db.capacity, raisePercent: db.raisePercent, clearPercent: db.clearPercent },
    stalled: { maxTimeWithoutSuccessMs: st.maxTimeWithoutSuccess.ms, maxBacklogAgeMs: st.maxBacklogAge.ms },
  };
}

function defined<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
