/**
 * Purge windows: the times of the week, on the wall clock of one time zone, in which purges may
 * run, such as "01:00-05:00" (every day) or "Sat,Sun 00:00-24:00". Pure: every instant comes in.
 *
 * A window is a set of minutes of the local week. On the night the clocks go forward a window
 * over the missing hour is that much shorter; on the night they go back, the repeated hour is
 * inside the window twice (a window of 01:00-05:00 then lasts five real hours).
 */
import { IANAZone } from 'luxon';

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const WEEK_MINUTES = 7 * 1440;
const MINUTE = 60_000;

/** One parsed window: on these days (0 = Monday), from `start` to `end` minutes after midnight. */
export interface PurgeWindow {
  text: string;
  days: number[];
  start: number;
  /** Exclusive; may be below `start`: the window runs across midnight into the next day. */
  end: number;
}

/** The windows as a weekly timetable in one zone. */
export interface WindowSchedule {
  windows: PurgeWindow[];
  timezone: string;
  /** Minute of the local week (Monday 00:00 = 0) -> inside a window. */
  minutes: Uint8Array;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

function parseTime(s: string, isEnd: boolean): number | undefined {
  if (isEnd && s === '24:00') return 1440;
  const m = TIME.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

function parseDays(s: string): number[] | string {
  const days = new Set<number>();
  for (const part of s.split(',')) {
    const [a, b] = part.trim().toLowerCase().split('-');
    const from = DAY_NAMES.indexOf(a as (typeof DAY_NAMES)[number]);
    const to = b === undefined ? from : DAY_NAMES.indexOf(b as (typeof DAY_NAMES)[number]);
    if (from < 0 || to < 0) return `"${part.trim()}" is not a day or range of days (Mon, Tue, Wed, Thu, Fri, Sat, Sun; Mon-Fri)`;
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

/** Parses "HH:MM-HH:MM" with optional days before it ("Mon-Fri 22:00-02:00"); a string says what is wrong. */
export function parseWindow(text: string): PurgeWindow | string {
  const m = /^\s*(?:([A-Za-z][A-Za-z,\s-]*?)\s+)?(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(text);
  if (!m) return 'a window such as "01:00-05:00" or "Sat,Sun 00:00-24:00" (24-hour local times, optional days Mon..Sun)';
  const days = m[1] === undefined ? [0, 1, 2, 3, 4, 5, 6] : parseDays(m[1]);
  if (typeof days === 'string') return days;
  const start = parseTime(m[2]!, false);
  const end = parseTime(m[3]!, true);
  if (start === undefined) return `start "${m[2]}" is not a time from 00:00 to 23:59`;
  if (end === undefined) return `end "${m[3]}" is not a time from 00:00 to 24:00`;
  if (start === end) return 'the window is empty (start and end are the same time); use 00:00-24:00 for a whole day';
  return { text, days, start, end };
}

/** The weekly timetable of parsed windows (the zone must be a valid IANA name, as the config checks). */
export function windowSchedule(windows: PurgeWindow[], timezone: string): WindowSchedule {
  const minutes = new Uint8Array(WEEK_MINUTES);
  for (const w of windows) {
    const length = w.end > w.start ? w.end - w.start : 1440 - w.start + w.end;
    for (const d of w.days) {
      for (let i = 0; i < length; i++) minutes[(d * 1440 + w.start + i) % WEEK_MINUTES] = 1;
    }
  }
  return { windows, timezone, minutes };
}

function offsetMinutes(s: WindowSchedule, t: number): number {
  return IANAZone.create(s.timezone).offset(t);
}

/** Minute of the local week of the instant, given the zone's offset then. */
function weekMinute(t: number, offset: number): number {
  const local = new Date(t + offset * MINUTE);
  const day = (local.getUTCDay() + 6) % 7;
  return day * 1440 + local.getUTCHours() * 60 + local.getUTCMinutes();
}

/** Whether the instant lies inside a window. */
export function insideWindow(s: WindowSchedule, at: Date): boolean {
  const t = at.getTime();
  return s.minutes[weekMinute(t, offsetMinutes(s, t))] === 1;
}

/**
 * The first instant after `at` at which being inside a window changes (the end of the window
 * `at` is in, or the start of the next one); undefined when it never changes (no windows, or
 * windows round the clock).
 */
export function nextWindowChange(s: WindowSchedule, at: Date): Date | undefined {
  let t = at.getTime();
  const inside = insideWindow(s, at);
  // Each pass either finds the change or moves on to a clock change (a week has one or two at most).
  for (let pass = 0; pass < 8; pass++) {
    const offset = offsetMinutes(s, t);
    const from = weekMinute(t, offset);
    let steps = 1;
    while (steps <= WEEK_MINUTES && (s.minutes[(from + steps) % WEEK_MINUTES] === 1) === inside) steps++;
    if (steps > WEEK_MINUTES) return undefined;
    // At the same offset, the change is at the start of that local minute.
    const candidate = Math.floor(t / MINUTE) * MINUTE + steps * MINUTE;
    if (offsetMinutes(s, candidate) === offset) return new Date(candidate);
    // The clocks change before then: find the first minute at the new offset and look again from it.
    let lo = Math.floor(t / MINUTE) * MINUTE;
    let hi = candidate;
    while (hi - lo > MINUTE) {
      const mid = lo + Math.floor((hi - lo) / MINUTE / 2) * MINUTE;
      if (offsetMinutes(s, mid) === offset) lo = mid;
      else hi = mid;
    }
    if (insideWindow(s, new Date(hi)) !== inside) return new Date(hi);
    t = hi;
  }
  return undefined;
}

/** Where a run started at `at` stands: inside a window until its end, or outside until the next start. */
export function windowState(s: WindowSchedule, at: Date): { inside: true; endsAt?: Date } | { inside: false; opensAt?: Date } {
  return insideWindow(s, at) ? { inside: true, endsAt: nextWindowChange(s, at) } : { inside: false, opensAt: nextWindowChange(s, at) };
}
