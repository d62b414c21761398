import { describe, expect, it } from 'vitest';
import { backlogVerdict, databaseUsageVerdict, freeSpaceVerdict, noSuccessVerdict } from '../../src/alarms/evaluate.js';
import type { FreeSpaceThresholds } from '../../src/config/resolveAlarms.js';

const CISCO: FreeSpaceThresholds = { lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true };
const GiB = 2 ** 30;
const space = (freePercent: number, total = 100 * GiB) => ({ totalBytes: total, availableBytes: Math.round((total * freePercent) / 100) });

describe('freeSpaceVerdict (XcpMFTExtFsFreeSpaceWarn)', () => {
  it.each([
    [5, 'raise'],
    [10, 'raise'],
    [10.01, 'hold'],
    [12, 'hold'],
    [14.99, 'hold'],
    [15, 'clear'],
    [60, 'clear'],
  ] as const)('with Cisco thresholds 10 and 15, $0 percent free gives $1', (percent, verdict) => {
    expect(freeSpaceVerdict(space(percent), CISCO).verdict).toBe(verdict);
  });

  it('an absolute floor raises even when the percentage is fine, and clears only above its upper bound', () => {
    const t = { ...CISCO, lowerFreeBytes: 50 * GiB, upperFreeBytes: 80 * GiB };
    expect(freeSpaceVerdict(space(20, 200 * GiB), t).verdict).toBe('raise'); // 40 GiB free, 20 %
    expect(freeSpaceVerdict(space(30, 200 * GiB), t).verdict).toBe('hold'); // 60 GiB: above the floor, below its clear level
    expect(freeSpaceVerdict(space(45, 200 * GiB), t).verdict).toBe('clear'); // 90 GiB
  });

  it('says the measured value and the thresholds in words', () => {
    const v = freeSpaceVerdict(space(8), CISCO);
    expect(v.value).toMatch(/^8\.0 % free \(8\.0+ GiB of 100(\.0+)? GiB\)$/);
    expect(v.threshold).toBe('raised at or below 10 % free, cleared at or above 15 %');
    expect(v.measured).toBeCloseTo(8, 5);
  });

  it('an empty file system (total 0) counts as full', () => {
    expect(freeSpaceVerdict({ totalBytes: 0, availableBytes: 0 }, CISCO).verdict).toBe('raise');
  });
});

describe('databaseUsageVerdict (XcpMFTDBFullError)', () => {
  const t = { capacityBytes: 100 * GiB, raisePercent: 90, clearPercent: 85 };
  it.each([
    [95, 'raise'],
    [90, 'raise'],
    [87, 'hold'],
    [85, 'clear'],
    [10, 'clear'],
  ] as const)('$0 percent of the configured capacity used gives $1', (percent, verdict) => {
    expect(databaseUsageVerdict({ usedBytes: percent * GiB, source: 'pg_database_size' }, t)?.verdict).toBe(verdict);
  });

  it('prefers what the server reports (Oracle quota or usage percent) over the configured capacity', () => {
    expect(databaseUsageVerdict({ usedBytes: 1, capacityBytes: 1, source: 'USER_TS_QUOTAS' }, t)?.verdict).toBe('raise');
    expect(databaseUsageVerdict({ usedBytes: 99 * GiB, usedPercent: 50, source: 'DBA_TABLESPACE_USAGE_METRICS' }, t)?.verdict).toBe('clear');
  });

  it('without any capacity there is no verdict (only SQLSTATE 53100 can raise the alarm)', () => {
    expect(databaseUsageVerdict({ usedBytes: 5 * GiB, source: 'pg_database_size' }, { raisePercent: 90, clearPercent: 85 })).toBeUndefined();
  });
});

describe('stalled purge verdicts (XcpMFTPurgeStalledWarn)', () => {
  const t = { maxTimeWithoutSuccessMs: 6 * 3_600_000, maxBacklogAgeMs: 2 * 3_600_000 };
  const now = new Date('2026-03-01T12:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

  it('raises after too long without a successful purge, counting from the last success', () => {
    expect(noSuccessVerdict(hoursAgo(100), hoursAgo(5), now, t).verdict).toBe('clear');
    expect(noSuccessVerdict(hoursAgo(100), hoursAgo(7), now, t).verdict).toBe('raise');
  });

  it('a node that never succeeded counts from when it was first watched', () => {
    expect(noSuccessVerdict(hoursAgo(1), undefined, now, t).verdict).toBe('clear');
    const v = noSuccessVerdict(hoursAgo(7), undefined, now, t);
    expect(v.verdict).toBe('raise');
    expect(v.value).toContain('no successful purge since');
  });

  it('raises when the oldest due file has waited longer than the allowed backlog age', () => {
    expect(backlogVerdict(undefined, 0, now, t).verdict).toBe('clear');
    expect(backlogVerdict(hoursAgo(1), 10, now, t).verdict).toBe('clear');
    const v = backlogVerdict(hoursAgo(3), 10, now, t);
    expect(v.verdict).toBe('raise');
    expect(v.value).toBe('10 expired file(s) waiting; the oldest has been due for 3.0 h');
  });
});
