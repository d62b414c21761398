import { createTask } from 'node-cron';
import type { ResolvedDaemon } from '../config/resolvedConfig.js';
import { purgeWindowVerdict } from './windowGate.js';

/** When a node-cron schedule fires: one matcher for many questions (a catch-up plan asks thousands). */
export interface ScheduleTimes {
  /** The first instant at or after `from` that the schedule fires; undefined if none within a year. */
  atOrAfter(from: Date): Date | undefined;
  /** The first instant strictly after `from`, on the schedule's minute (or second) boundaries. */
  after(from: Date): Date | undefined;
  close(): void;
}

/**
 * node-cron says when a schedule fires next only for a running task, so this asks the task's
 * matcher: its direct "next match" where this node-cron version has one, else by stepping
 * minute by minute (5 fields, a year at most) or second by second (6 fields, two days).
 */
export function scheduleTimes(schedule: string, timezone: string): ScheduleTimes {
  const task = createTask(schedule, () => undefined, { timezone });
  const seconds = schedule.trim().split(/\s+/).length === 6;
  const step = seconds ? 1000 : 60_000;
  const limit = seconds ? 2 * 86_400 : 366 * 1440;
  const matcher = (task as unknown as { timeMatcher?: { getNextMatch?: (d: Date) => Date } }).timeMatcher;
  const atOrAfter = (from: Date): Date | undefined => {
    if (typeof matcher?.getNextMatch === 'function') {
      const next = matcher.getNextMatch(new Date(Math.ceil(from.getTime() / 1000) * 1000 - 1000));
      if (next instanceof Date && !Number.isNaN(next.getTime()) && next.getTime() >= from.getTime()) return next;
    }
    let t = Math.ceil(from.getTime() / step) * step;
    for (let i = 0; i < limit; i++, t += step) if (task.match(new Date(t))) return new Date(t);
    return undefined;
  };
  return {
    atOrAfter,
    after: (from) => atOrAfter(new Date(Math.floor(from.getTime() / step) * step + step)),
    close: () => void task.destroy(),
  };
}

/**
 * The first scheduled run at or after `from` that the daemon would start: with purge windows
 * (daemon.windows), a run that falls outside them does not start, so the first one inside.
 */
export function nextPurgeStart(times: ScheduleTimes, daemon: Pick<ResolvedDaemon, 'windows' | 'timezone'>, from: Date): Date | undefined {
  let t = times.atOrAfter(from);
  // Each step lands in the next window or past it: a year of windows is far fewer steps.
  for (let i = 0; i < 1000 && t; i++) {
    const v = purgeWindowVerdict(daemon, t);
    if (v.start) return t;
    if (!v.opensAt) return undefined;
    t = times.atOrAfter(v.opensAt);
  }
  return undefined;
}

/** The next purge the daemon would start after `from`: the schedule's next run, inside a window. */
export function nextDaemonPurge(daemon: Pick<ResolvedDaemon, 'schedule' | 'windows' | 'timezone'>, from: Date): Date | undefined {
  const times = scheduleTimes(daemon.schedule, daemon.timezone);
  try {
    const first = times.after(from);
    return first && nextPurgeStart(times, daemon, first);
  } finally {
    times.close();
  }
}
