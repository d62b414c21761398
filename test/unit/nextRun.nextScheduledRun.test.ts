import { describe, expect, it } from 'vitest';
import { nextScheduledRun } from '../../src/daemon/nextRun.js';

describe('nextScheduledRun', () => {
  it('finds five past the next hour for the default schedule', () => {
    expect(nextScheduledRun('5 * * * *', 'UTC', new Date('2026-11-21T10:07:30Z'))?.toISOString()).toBe('2026-11-21T11:05:00.000Z');
  });

  it('is strictly after the given instant', () => {
    expect(nextScheduledRun('5 * * * *', 'UTC', new Date('2026-11-21T10:05:00Z'))?.toISOString()).toBe('2026-11-21T11:05:00.000Z');
  });

  it('reads the schedule in its time zone', () => {
    // 02:30 every day in Berlin (UTC+1 in November) is 01:30 UTC.
    expect(nextScheduledRun('30 2 * * *', 'Europe/Berlin', new Date('2026-11-21T10:00:00Z'))?.toISOString()).toBe('2026-11-22T01:30:00.000Z');
  });

  it('handles six-field schedules with seconds', () => {
    expect(nextScheduledRun('*/20 * * * * *', 'UTC', new Date('2026-11-21T10:00:05Z'))?.toISOString()).toBe('2026-11-21T10:00:20.000Z');
  });
});
