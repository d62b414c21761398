import { createTask, type Logger as CronLogger, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';

export interface ScheduleSpec {
  /** node-cron expression (5 or 6 fields). */
  expression: string;
  timezone: string;
  /** Random delay before each run, at most this many milliseconds. */
  jitterMs: number;
  /** Names the task in node-cron's events and in our logs. */
  name: string;
}

export interface Schedule {
  readonly name: string;
  nextRun(): Date | null;
  /** Stops future runs; a run in progress is not waited for (its owner tracks it). Idempotent. */
  stop(): void;
}

/** node-cron's internal messages, routed into our JSON log instead of the console. */
function cronLogger(log: Logger): CronLogger {
  return {
    info: (msg) => log.debug(msg),
    warn: (msg) => log.debug(msg),
    error: (msg, err) => log.error({ err: err ?? (msg instanceof Error ? msg : undefined) }, typeof msg === 'string' ? msg : 'node-cron error'),
    debug: (msg) => log.debug(typeof msg === 'string' ? msg : msg.message),
  };
}

/**
 * Runs `job` on a cron schedule with node-cron v4. `noOverlap`: when a run is still going at
 * the next tick, that tick is dropped and reported through `onOverlap`, never stacked.
 * `job` must not throw (node-cron would only log it); it is awaited so overlap detection works.
 */
export function startSchedule(spec: ScheduleSpec, job: () => Promise<void>, log: Logger, onOverlap: (at: Date) => void): Schedule {
  const task: ScheduledTask = createTask(spec.expression, () => job(), {
    name: spec.name,
    timezone: spec.timezone,
    noOverlap: true,
    maxRandomDelay: spec.jitterMs,
    logger: cronLogger(log),
    // We log missed ticks ourselves (a blocked event loop or a suspended host).
    suppressMissedWarning: true,
  });
  task.on('execution:overlap', (ctx) => onOverlap(ctx.date));
  task.on('execution:missed', (ctx) => log.warn({ schedule: spec.name, missedAt: ctx.date }, 'scheduled run missed (the process was blocked or suspended)'));
  task.on('execution:failed', (ctx) => log.error({ schedule: spec.name, err: ctx.execution?.error }, 'scheduled run failed'));
  void task.start();
  return {
    name: spec.name,
    nextRun: () => task.getNextRun(),
    stop: () => void task.destroy(),
  };
}

/** The interval between the next two runs of an expression: how long "overdue" is. */
export function scheduleIntervalMs(spec: Pick<ScheduleSpec, 'expression' | 'timezone'>): number {
  const probe = createTask(spec.expression, () => undefined, { timezone: spec.timezone });
  try {
    const [a, b] = probe.getNextRuns(2);
    return a && b ? b.getTime() - a.getTime() : Number.POSITIVE_INFINITY;
  } finally {
    void probe.destroy();
  }
}
