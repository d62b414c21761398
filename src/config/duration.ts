import { Duration } from 'luxon';

const MAX_YEARS = 1000;

/** Parses an ISO-8601 duration such as `PT36H`, `P30D`, `P1Y`; undefined if invalid or not positive. */
export function parseIsoDuration(text: string): Duration | undefined {
  if (typeof text !== 'string' || !/^P/.test(text)) return undefined;
  const d = Duration.fromISO(text);
  if (!d.isValid) return undefined;
  const values = Object.values(d.toObject()) as number[];
  if (values.some((v) => v < 0) || values.every((v) => v === 0)) return undefined;
  // Longer than 1,000 years is a typo or meant "forever": say so rather than compute with it.
  if (d.as('years') > MAX_YEARS) return undefined;
  return d;
}

/** Milliseconds in a duration, treating calendar units at their average length (for comparisons only). */
export function approximateMs(d: Duration): number {
  return d.as('milliseconds');
}
