/**
 * `purge --until TIME` and `--max-duration DURATION`: the time a command-line purge stops by,
 * between batches, as the daemon's runs stop at the end of a purge window. Pure: now comes in.
 */
import { DateTime } from 'luxon';
import { parseIsoDuration } from '../config/duration.js';
import type { Deadline } from '../purge/pacing.js';
import { UsageError } from './io.js';

const SHORT = /^(\d+(?:\.\d+)?)(s|m|h)$/;

/** An ISO-8601 duration (PT2H, PT30M) or a short one (90m, 2h, 45s), in milliseconds. */
export function parseMaxDuration(text: string): number {
  const short = SHORT.exec(text);
  if (short) {
    const ms = Number(short[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[short[2] as 's' | 'm' | 'h'];
    if (ms > 0) return ms;
  }
  const d = parseIsoDuration(text);
  if (!d) throw new UsageError(`--max-duration "${text}" is not a duration; expected e.g. PT2H, PT30M, 90m or 2h`);
  return d.as('milliseconds');
}

/**
 * `HH:MM` is the next such time on the wall clock of `timezone` (daemon.timezone); anything
 * else must be an ISO-8601 date and time with its offset (2026-12-05T05:00:00+01:00).
 */
export function parseUntil(text: string, timezone: string, now: Date): Date {
  const hm = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (hm) {
    const today = DateTime.fromJSDate(now, { zone: timezone }).set({ hour: Number(hm[1]), minute: Number(hm[2]), second: 0, millisecond: 0 });
    const at = today.toMillis() > now.getTime() ? today : today.plus({ days: 1 }).set({ hour: Number(hm[1]), minute: Number(hm[2]) });
    return at.toJSDate();
  }
  const t = DateTime.fromISO(text, { setZone: true });
  if (!t.isValid || !/T\d{2}:\d{2}/.test(text) || !/(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    throw new UsageError(`--until "${text}" is not a time; expected HH:MM (in daemon.timezone, ${timezone}) or an ISO-8601 date and time with offset, such as 2026-12-05T05:00:00Z`);
  }
  if (t.toMillis() <= now.getTime()) throw new UsageError(`--until ${text} has already passed (it is now ${now.toISOString()})`);
  return t.toJSDate();
}

/** The earlier of --until and --max-duration, or undefined when neither is given. */
export function commandDeadline(opts: { until?: string; maxDuration?: string }, timezone: string, now: Date): Deadline | undefined {
  const until = opts.until !== undefined ? { at: parseUntil(opts.until, timezone, now), reason: 'until' as const } : undefined;
  const max = opts.maxDuration !== undefined ? { at: new Date(now.getTime() + parseMaxDuration(opts.maxDuration)), reason: 'max-duration' as const } : undefined;
  if (!until || !max) return until ?? max;
  return until.at.getTime() <= max.at.getTime() ? until : max;
}
