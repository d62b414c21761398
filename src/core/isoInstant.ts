import { DateTime } from 'luxon';

export type InstantParse = { ok: true; instant: Date; assumedUtc: boolean } | { ok: false; reason: string };

/**
 * A date or date-time given by a person (`--as-of`): strictly ISO 8601, a real calendar date
 * (2026-02-30 is refused, never rolled over into March), and without an offset read as UTC,
 * the time zone of Cisco's hour folders (the caller says so).
 */
export function parseIsoInstant(text: string): InstantParse {
  if (!/^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.test(text)) {
    return { ok: false, reason: 'not an ISO-8601 date or date-time' };
  }
  const t = DateTime.fromISO(text, { zone: 'utc' });
  if (!t.isValid) return { ok: false, reason: t.invalidExplanation ?? t.invalidReason ?? 'not a real date or time' };
  const assumedUtc = !/(?:Z|[+-]\d{2}(?::?\d{2})?)$/i.test(text.slice(10));
  return { ok: true, instant: t.toJSDate(), assumedUtc };
}
