import { DateTime } from 'luxon';

/**
 * The instant a timestamp's text stands for, read as a wall clock in `zone` (the node's
 * `timestampZone`) unless the text carries its own offset.
 *
 * The text is PostgreSQL's ISO rendering of a `timestamp`: `YYYY-MM-DD HH:MM:SS` with up to
 * six fraction digits (none when zero), or with a `T` as `to_char` writes it here; a
 * `timestamptz` column would add its offset (`+00`, `+05:30`, `-03:30:45`), which then fixes
 * the instant. Microseconds are cut to milliseconds. Anything else (`infinity`, a BC date) is
 * an Invalid Date, which no rule treats as old enough to delete.
 *
 * Read by hand, not by a regular expression: this runs for every row a purge reads.
 */
export function parseWallClock(text: string, zone: string): Date {
  const n = text.length;
  if (n < 19 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) return invalid();
  const sep = text.charCodeAt(10);
  if (sep !== SPACE && sep !== T) return invalid();
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  const s = digits(text, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return invalid();
  let i = 19;
  let ms = 0;
  if (i < n && text.charCodeAt(i) === DOT) {
    const start = ++i;
    while (i < n && i - start < 6 && isDigit(text.charCodeAt(i))) i++;
    if (i === start) return invalid();
    for (let k = start; k < start + 3; k++) ms = ms * 10 + (k < i ? text.charCodeAt(k) - ZERO : 0);
  }
  if (i === n) {
    // UTC (the default) needs no time-zone rules.
    if (zone === 'UTC') return new Date(utc(y, mo, d, h, mi, s, ms));
    const dt = DateTime.fromObject({ year: y, month: mo, day: d, hour: h, minute: mi, second: s, millisecond: ms }, { zone });
    return dt.isValid ? dt.toJSDate() : invalid();
  }
  const offset = parseOffset(text, i);
  return offset === undefined ? invalid() : new Date(utc(y, mo, d, h, mi, s, ms) - offset);
}

const [DASH, COLON, SPACE, T, DOT, ZERO, PLUS, MINUS] = ['-', ':', ' ', 'T', '.', '0', '+', '-'].map((c) => c.charCodeAt(0)) as [number, number, number, number, number, number, number, number];

const invalid = (): Date => new Date(NaN);
const isDigit = (c: number): boolean => c >= ZERO && c <= ZERO + 9;

/** The number written by `len` digits at `at`, or -1. */
function digits(text: string, at: number, len: number): number {
  let v = 0;
  for (let k = at; k < at + len; k++) {
    const c = text.charCodeAt(k);
    if (!isDigit(c)) return -1;
    v = v * 10 + c - ZERO;
  }
  return v;
}

/** `+HH`, `+HH:MM` or `+HH:MM:SS` (or `-`) to the end of the text, in milliseconds; undefined if not. */
function parseOffset(text: string, at: number): number | undefined {
  const sign = text.charCodeAt(at);
  if (sign !== PLUS && sign !== MINUS) return undefined;
  const parts: number[] = [];
  let i = at + 1;
  while (parts.length < 3) {
    const v = digits(text, i, 2);
    if (v < 0 || i + 2 > text.length) return undefined;
    parts.push(v);
    i += 2;
    if (i === text.length) break;
    if (text.charCodeAt(i) === COLON) i++;
  }
  if (i !== text.length) return undefined;
  const [h = 0, m = 0, s = 0] = parts;
  return (sign === MINUS ? -1 : 1) * ((h * 60 + m) * 60 + s) * 1000;
}

/** 400 Gregorian years, in milliseconds: Date.UTC reads years 0-99 as 1900-1999. */
const FOUR_CENTURIES_MS = 146_097 * 86_400_000;

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  return y < 100 ? Date.UTC(y + 400, mo - 1, d, h, mi, s, ms) - FOUR_CENTURIES_MS : Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

function daysInMonth(y: number, mo: number): number {
  if (mo === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}
