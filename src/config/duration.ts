import { Duration } from 'luxon';

const MAX_YEARS = 1000;

/**
 * The exact ISO-8601 duration grammar: a "T" must be followed by a time part (`P1DT` is a typo,
 * not `P1D`), and at least one part must be given.
 */
const ISO_DURATION = /^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;

export function isIsoDurationText(text: unknown): text is string {
  return typeof text === 'string' && ISO_DURATION.test(text);
}

/** Parses an ISO-8601 duration such as `PT36H`, `P30D`, `P1Y`; undefined if invalid or not positive. */
export function parseIsoDuration(text: string): Duration | undefined {
  if (!isIsoDurationText(text)) return undefined;
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
