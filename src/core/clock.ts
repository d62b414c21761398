import { DateTime, type Duration } from 'luxon';

const HOUR_MS = 3_600_000;

export function startOfUtcHour(t: Date): Date {
  return new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
}

export interface PurgeTimes {
  /** The instant the purge reasons about: the earliest of the clocks it was given. */
  now: Date;
  currentHourStart: Date;
  /** Database clock minus host clock, in milliseconds (0 when the database clock is unknown). */
  skewMs: number;
}

/**
 * Takes the earliest of the host and database clocks. A clock running ahead would make the
 * current hour look past and its files purgeable; the earliest clock can only keep more.
 */
export function resolvePurgeTimes(hostNow: Date, databaseNow?: Date): PurgeTimes {
  const now = databaseNow && databaseNow.getTime() < hostNow.getTime() ? databaseNow : hostNow;
  return {
    now,
    currentHourStart: startOfUtcHour(now),
    skewMs: databaseNow ? databaseNow.getTime() - hostNow.getTime() : 0,
  };
}

/** `now` minus an ISO-8601 duration on the UTC calendar (so P1M is one calendar month, no DST). */
export function retentionCutoff(now: Date, retention: Duration): Date {
  const cutoff = DateTime.fromMillis(now.getTime(), { zone: 'utc' }).minus(retention);
  // A retention reaching before the earliest representable date expires nothing.
  return cutoff.isValid ? cutoff.toJSDate() : new Date(EARLIEST_MS);
}

/** The earliest instant a JavaScript Date can hold. */
const EARLIEST_MS = -8.64e15;
