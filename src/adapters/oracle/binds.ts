// How the Oracle adapter binds values and fetches rows: exact text for numbers, wall-clock timestamps.
import oracledb, { type DbType } from 'oracledb';
import { DateTime } from 'luxon';

/** Oracle returns unquoted aliases in upper case. */
export const QUERY = { outFormat: oracledb.OUT_FORMAT_OBJECT, autoCommit: false } as const;

// aft_index travels as text both ways (NUMBER(19) exceeds 2^53); a path as VARCHAR2 of up to
// 4000 bytes (AFT_LOG's file_path is VARCHAR2(511)).
export const INDEX_BIND = { type: oracledb.STRING, maxSize: 40 };
export const PATH_BIND = { type: oracledb.STRING, maxSize: 4000 };

/**
 * A bind for "this instant, as AFT_LOG's zone-less timestampvalue reads it": a Date whose UTC
 * clock shows the wall clock in `zone`, sent as TIMESTAMP WITH TIME ZONE (the driver writes it
 * in UTC) for SYS_EXTRACT_UTC to turn back into that wall clock. Sending a plain TIMESTAMP
 * instead would use this process's local time zone.
 */
export function wallClockBind(instant: Date, zone: string): { val: Date; type: DbType } {
  const w = DateTime.fromJSDate(instant, { zone });
  return { val: new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond)), type: oracledb.DB_TYPE_TIMESTAMP_TZ };
}

/** The audit export's rows: numbers as the driver's exact text (thin mode never goes through a float). */
export const AUDIT_QUERY = {
  outFormat: oracledb.OUT_FORMAT_OBJECT,
  autoCommit: false,
  fetchTypeHandler: (m: { dbType?: unknown }) => (m.dbType === oracledb.DB_TYPE_NUMBER ? { type: oracledb.STRING } : undefined),
} as const;
