import { describe, expect, it } from 'vitest';
import { insideWindow, nextWindowChange, parseWindow, windowSchedule, windowState, type PurgeWindow } from '../../src/core/purgeWindows.js';

const sched = (zone: string, ...texts: string[]) =>
  windowSchedule(
    texts.map((t) => {
      const w = parseWindow(t);
      if (typeof w === 'string') throw new Error(w);
      return w;
    }),
    zone,
  );
const at = (iso: string) => new Date(iso);

describe('parseWindow', () => {
  it('reads times, days, day ranges and 24:00', () => {
    expect(parseWindow('01:00-05:00')).toMatchObject({ days: [0, 1, 2, 3, 4, 5, 6], start: 60, end: 300 });
    expect(parseWindow('Sat,Sun 00:00-24:00')).toMatchObject({ days: [5, 6], start: 0, end: 1440 });
    expect(parseWindow('Mon-Fri 22:00-02:00')).toMatchObject({ days: [0, 1, 2, 3, 4], start: 1320, end: 120 });
    expect(parseWindow('Fri-Mon 10:00-11:00')).toMatchObject({ days: [0, 4, 5, 6] });
  });

  it('says what is wrong with a bad window', () => {
    expect(parseWindow('1-5')).toMatch(/such as "01:00-05:00"/);
    expect(parseWindow('25:00-26:00')).toMatch(/start "25:00"/);
    expect(parseWindow('Funday 01:00-02:00')).toMatch(/"Funday" is not a day/);
    expect(parseWindow('03:00-03:00')).toMatch(/empty/);
  });
});

describe('windows in UTC', () => {
  const s = sched('UTC', '01:00-05:00', 'Sat,Sun 00:00-24:00');
  it('is inside from the start (inclusive) to the end (exclusive)', () => {
    // 2026-12-02 is a Wednesday.
    expect(insideWindow(s, at('2026-12-02T00:59:59Z'))).toBe(false);
    expect(insideWindow(s, at('2026-12-02T01:00:00Z'))).toBe(true);
    expect(insideWindow(s, at('2026-12-02T04:59:59Z'))).toBe(true);
    expect(insideWindow(s, at('2026-12-02T05:00:00Z'))).toBe(false);
  });
  it('gives the end of the window a run is in, and the start of the next one', () => {
    expect(windowState(s, at('2026-12-02T02:30:00Z'))).toEqual({ inside: true, endsAt: at('2026-12-02T05:00:00Z') });
    expect(windowState(s, at('2026-12-02T06:00:00Z'))).toEqual({ inside: false, opensAt: at('2026-12-03T01:00:00Z') });
  });
  it('joins Saturday and Sunday into one window up to Monday 00:00', () => {
    // Friday 2026-12-04 at 23:00 -> Saturday 00:00; inside until Monday 00:00, then 01:00-05:00.
    expect(nextWindowChange(s, at('2026-12-04T23:00:00Z'))).toEqual(at('2026-12-05T00:00:00Z'));
    expect(nextWindowChange(s, at('2026-12-05T12:00:00Z'))).toEqual(at('2026-12-07T00:00:00Z'));
    expect(nextWindowChange(s, at('2026-12-07T00:00:00Z'))).toEqual(at('2026-12-07T01:00:00Z'));
  });
  it('a window across midnight belongs to the day it starts on', () => {
    const m = sched('UTC', 'Fri 22:00-02:00');
    expect(insideWindow(m, at('2026-12-04T23:30:00Z'))).toBe(true); // Friday night
    expect(insideWindow(m, at('2026-12-05T01:59:00Z'))).toBe(true); // Saturday early
    expect(insideWindow(m, at('2026-12-04T01:00:00Z'))).toBe(false); // Friday early: Thursday's night is not a window
    expect(nextWindowChange(m, at('2026-12-04T23:30:00Z'))).toEqual(at('2026-12-05T02:00:00Z'));
  });
  it('never changes without windows or round the clock', () => {
    expect(nextWindowChange(sched('UTC'), at('2026-12-02T00:00:00Z'))).toBeUndefined();
    expect(nextWindowChange(sched('UTC', '00:00-24:00'), at('2026-12-02T00:00:00Z'))).toBeUndefined();
  });
});

describe('windows across the clock changes in Europe/Berlin', () => {
  const s = sched('Europe/Berlin', '01:00-05:00');
  it('in a normal winter night: 01:00 CET is 00:00Z', () => {
    expect(windowState(s, at('2026-12-02T00:30:00Z'))).toEqual({ inside: true, endsAt: at('2026-12-02T04:00:00Z') });
  });
  it('on the night the clocks go forward (29 March 2026, 02:00 -> 03:00) the window lasts three hours', () => {
    // 01:00 CET = 00:00Z; 05:00 CEST = 03:00Z.
    expect(windowState(s, at('2026-03-28T23:00:00Z'))).toEqual({ inside: false, opensAt: at('2026-03-29T00:00:00Z') });
    expect(windowState(s, at('2026-03-29T00:00:00Z'))).toEqual({ inside: true, endsAt: at('2026-03-29T03:00:00Z') });
    expect(insideWindow(s, at('2026-03-29T02:59:00Z'))).toBe(true);
    expect(insideWindow(s, at('2026-03-29T03:00:00Z'))).toBe(false);
  });
  it('on the night the clocks go back (25 October 2026, 03:00 -> 02:00) the window lasts five hours', () => {
    // 01:00 CEST = 23:00Z the day before; 05:00 CET = 04:00Z.
    expect(windowState(s, at('2026-10-24T23:00:00Z'))).toEqual({ inside: true, endsAt: at('2026-10-25T04:00:00Z') });
    // Inside during both 02:30s.
    expect(insideWindow(s, at('2026-10-25T00:30:00Z'))).toBe(true);
    expect(insideWindow(s, at('2026-10-25T01:30:00Z'))).toBe(true);
  });
  it('a window over the hour that does not exist ends when the clocks jump', () => {
    const gap = sched('Europe/Berlin', '01:30-02:30');
    // 01:30 CET = 00:30Z; at 01:00Z the wall clock jumps from 02:00 to 03:00, past 02:30.
    expect(windowState(gap, at('2026-03-29T00:45:00Z'))).toEqual({ inside: true, endsAt: at('2026-03-29T01:00:00Z') });
  });
  it('a window that starts in the missing hour opens when the clocks jump past its start', () => {
    const gap = sched('Europe/Berlin', '02:30-04:00');
    // 02:30 never happens on 29 March; at 03:00 CEST (01:00Z) the wall clock is inside.
    expect(windowState(gap, at('2026-03-29T00:30:00Z'))).toEqual({ inside: false, opensAt: at('2026-03-29T01:00:00Z') });
    expect(windowState(gap, at('2026-03-29T01:00:00Z'))).toEqual({ inside: true, endsAt: at('2026-03-29T02:00:00Z') });
  });
  it('a window that ends in the repeated hour ends at its first occurrence and is inside again in the repeat', () => {
    const back = sched('Europe/Berlin', '00:00-02:30');
    // 00:00 CEST = 22:00Z; 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET): the window
    // ends at the first, and the repeated 02:00-02:30 (CET) is inside the window again.
    expect(nextWindowChange(back, at('2026-10-24T23:00:00Z'))).toEqual(at('2026-10-25T00:30:00Z'));
    expect(windowState(back, at('2026-10-25T00:45:00Z'))).toEqual({ inside: false, opensAt: at('2026-10-25T01:00:00Z') });
    expect(windowState(back, at('2026-10-25T01:00:00Z'))).toEqual({ inside: true, endsAt: at('2026-10-25T01:30:00Z') });
  });
});

describe('windowSchedule', () => {
  it('is a timetable of the local week', () => {
    const w = parseWindow('Sun 23:00-01:00') as PurgeWindow;
    const s = windowSchedule([w], 'UTC');
    // Sunday 23:00 to Monday 01:00: wraps round the end of the week.
    expect(s.minutes[6 * 1440 + 23 * 60]).toBe(1);
    expect(s.minutes[59]).toBe(1);
    expect(s.minutes[60]).toBe(0);
  });
});
