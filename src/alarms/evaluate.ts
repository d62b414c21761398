/**
 * Pure threshold rules: a measurement and thresholds in, a verdict out. Raise and clear
 * thresholds differ (hysteresis), so a value hovering near one of them never flaps.
 */
import type { DatabaseThresholds, FreeSpaceThresholds, StalledThresholds } from '../config/resolveAlarms.js';
import { humanBytes } from '../shared/format.js';
import type { DatabaseUsage, FreeSpace } from '../ports.js';

export interface Verdict {
  verdict: 'raise' | 'clear' | 'hold';
  value: string;
  threshold: string;
  /** The number behind `value`, for metrics (percent free, percent used, seconds). */
  measured: number;
}

const pct = (n: number): string => `${n.toFixed(1)} %`;

/** Cisco's rule: raised at or below the lower threshold, cleared at or above the upper one. */
export function freeSpaceVerdict(space: FreeSpace, t: FreeSpaceThresholds): Verdict {
  const percent = space.totalBytes > 0 ? (space.availableBytes / space.totalBytes) * 100 : 0;
  const bytesLow = t.lowerFreeBytes !== undefined && space.availableBytes <= t.lowerFreeBytes;
  const bytesOk = t.upperFreeBytes === undefined || space.availableBytes >= t.upperFreeBytes;
  const verdict = percent <= t.lowerPercent || bytesLow ? 'raise' : percent >= t.upperPercent && bytesOk ? 'clear' : 'hold';
  const bytesRule = t.lowerFreeBytes !== undefined ? `; or at or below ${humanBytes(t.lowerFreeBytes)} free, cleared at or above ${humanBytes(t.upperFreeBytes!)}` : '';
  return {
    verdict,
    measured: percent,
    value: `${pct(percent)} free (${humanBytes(space.availableBytes)} of ${humanBytes(space.totalBytes)})`,
    threshold: `raised at or below ${t.lowerPercent} % free, cleared at or above ${t.upperPercent} %${bytesRule}`,
  };
}

/**
 * Database usage against its capacity: the server's own figure (Oracle quota or tablespace),
 * else the configured capacity (PostgreSQL). Undefined when neither is known.
 */
export function databaseUsageVerdict(usage: DatabaseUsage, t: DatabaseThresholds): Verdict | undefined {
  const capacity = usage.capacityBytes ?? t.capacityBytes;
  const percent = usage.usedPercent ?? (capacity && capacity > 0 ? (usage.usedBytes / capacity) * 100 : undefined);
  if (percent === undefined) return undefined;
  const verdict = percent >= t.raisePercent ? 'raise' : percent <= t.clearPercent ? 'clear' : 'hold';
  const of = capacity ? ` of ${humanBytes(capacity)}` : '';
  return {
    verdict,
    measured: percent,
    value: `${pct(percent)} used (${humanBytes(usage.usedBytes)}${of}, ${usage.source})`,
    threshold: `raised at or above ${t.raisePercent} % used, cleared at or below ${t.clearPercent} %`,
  };
}

const hours = (ms: number): string => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`);

/**
 * No successful purge for too long. `since` is the last success, or when this node was first
 * watched if it never succeeded (so a node that never works raises the alarm too).
 */
export function noSuccessVerdict(since: Date, lastSuccess: Date | undefined, now: Date, t: StalledThresholds): Verdict {
  const ageMs = Math.max(0, now.getTime() - (lastSuccess ?? since).getTime());
  return {
    verdict: ageMs > t.maxTimeWithoutSuccessMs ? 'raise' : 'clear',
    measured: ageMs / 1000,
    value: lastSuccess ? `last successful purge ${hours(ageMs)} ago (${lastSuccess.toISOString()})` : `no successful purge since ${since.toISOString()} (${hours(ageMs)})`,
    threshold: `raised after ${hours(t.maxTimeWithoutSuccessMs)} without a successful purge`,
  };
}

/** The oldest file still waiting to be purged has waited too long past its expiry. */
export function backlogVerdict(oldestDueSince: Date | undefined, waiting: number, now: Date, t: StalledThresholds): Verdict {
  const overdueMs = oldestDueSince ? Math.max(0, now.getTime() - oldestDueSince.getTime()) : 0;
  return {
    verdict: overdueMs > t.maxBacklogAgeMs ? 'raise' : 'clear',
    measured: overdueMs / 1000,
    value: oldestDueSince ? `${waiting} expired file(s) waiting; the oldest has been due for ${hours(overdueMs)}` : 'no expired file waiting',
    threshold: `raised when an expired file has waited more than ${hours(t.maxBacklogAgeMs)}`,
  };
}
