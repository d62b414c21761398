// Rows fetched from Oracle as the Catalog hands them on: text, instants, audit rows, quota usage.
import { DateTime } from 'luxon';
import type { AuditRow, DatabaseUsage } from '../../ports.js';

/** A fetched row (OUT_FORMAT_OBJECT), keyed by the upper-case alias. */
export type Row = Record<string, string | number | null>;

/** Oracle stores '' as NULL: a NULL text column reads as ''. file_path keeps its NULL (an empty path). */
export const text = (v: string | number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

/** AFT_LOG's zone-less timestampvalue, as fetched, read as the wall clock in `zone`. */
export const fromWall = (ts: string | number | null | undefined, zone: string): Date => DateTime.fromISO(text(ts), { zone }).toJSDate();

/**
 * One fetched row as an AuditRow: text or null. The server's microseconds lose their trailing
 * zeros (and a bare dot), as PostgreSQL renders a timestamp.
 */
export function auditRow(row: Record<string, unknown>): AuditRow {
  const out: AuditRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[k] = null;
    else {
      const s = v instanceof Date ? v.toISOString() : String(v);
      out[k] = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$/.test(s) ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
    }
  }
  return out;
}

/**
 * Usage from USER_TS_QUOTAS rows: the quota on AFT_LOG's tablespace when the user has one,
 * else the largest. MAX_BYTES -1 is an unlimited quota: no capacity to compare against.
 */
export function quotaUsage(rows: Row[], tablespace: string | undefined): DatabaseUsage {
  const row = rows.find((r) => r.TABLESPACE === tablespace) ?? rows[0];
  if (!row) return { usedBytes: 0, source: 'USER_TS_QUOTAS (no quota: the user has none, or UNLIMITED TABLESPACE)' };
  const max = Number(row.MAX_BYTES);
  const usedBytes = Number(row.USED);
  const source = `USER_TS_QUOTAS (tablespace ${text(row.TABLESPACE)}${max < 0 ? ', unlimited' : ''})`;
  if (max < 0) return { usedBytes, source };
  return { usedBytes, capacityBytes: max, usedPercent: max > 0 ? Math.round((usedBytes / max) * 10_000) / 100 : undefined, source };
}
