import { describe, expect, it } from 'vitest';
import { parseWindow, type PurgeWindow } from '../../src/core/purgeWindows.js';
import { nextDaemonPurge } from '../../src/daemon/nextRun.js';

const windows = (...texts: string[]): PurgeWindow[] => texts.map((t) => parseWindow(t) as PurgeWindow);
const next = (schedule: string, timezone: string, from: string, w: PurgeWindow[] = []): string | undefined =>
  nextDaemonPurge({ schedule, timezone, windows: w }, new Date(from))?.toISOString();

describe('nextDaemonPurge', () => {
  it('finds five past the next hour for the default schedule', () => {
    expect(next('5 * * * *', 'UTC', '2026-11-21T10:07:30Z')).toBe('2026-11-21T11:05:00.000Z');
  });

  it('is strictly after the given instant', () => {
    expect(next('5 * * * *', 'UTC', '2026-11-21T10:05:00Z')).toBe('2026-11-21T11:05:00.000Z');
  });

  it('reads the schedule in its time zone', () => {
    // 02:30 every day in Berlin (UTC+1 in November) is 01:30 UTC.
    expect(next('30 2 * * *', 'Europe/Berlin', '2026-11-21T10:00:00Z')).toBe('2026-11-22T01:30:00.000Z');
  });

  it('handles six-field schedules with seconds', () => {
    expect(next('*/20 * * * * *', 'UTC', '2026-11-21T10:00:05Z')).toBe('2026-11-21T10:00:20.000Z');
  });

  it('with purge windows, skips the runs outside them: the first run inside the next window', () => {
    expect(next('5 * * * *', 'UTC', '2026-11-21T10:07:30Z', windows('01:00-05:00'))).toBe('2026-11-22T01:05:00.000Z');
    // Inside a window now: the next run of the schedule, if the window is still open then.
    expect(next('5 * * * *', 'UTC', '2026-11-22T02:30:00Z', windows('01:00-05:00'))).toBe('2026-11-22T03:05:00.000Z');
    expect(next('5 * * * *', 'UTC', '2026-11-22T04:30:00Z', windows('01:00-05:00'))).toBe('2026-11-23T01:05:00.000Z');
    // Days of the week, in the schedule's time zone: 2026-11-21 is a Saturday.
    expect(next('5 * * * *', 'Europe/Berlin', '2026-11-23T10:00:00Z', windows('Sat,Sun 00:00-24:00'))).toBe('2026-11-27T23:05:00.000Z');
  });

  it('is undefined when the schedule never fires inside a window', () => {
    expect(next('5 * * * *', 'UTC', '2026-11-21T10:07:30Z', windows('01:10-01:50'))).toBeUndefined();
  });
});
