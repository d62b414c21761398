/**
 * The SQL the purge runs against AFT_LOG on PostgreSQL. Pure: text only, every value bound.
 * Timestamps travel as zone-less text in the node's `timestampZone`, so neither the session
 * TimeZone nor node-postgres's local-time parsing can shift them.
 */

/** `schema.table`, from identifiers already validated as plain (unquoted, so they fold like Cisco's). */
export const tableName = (schema: string, table: string): string => `${schema}.${table}`;

// Output columns get names of their own (idx, size, ts): an alias equal to a column name would
// make ORDER BY sort the text rendering ('10' < '9') and the keyset would skip rows.
const TS = `to_char(timestampvalue, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

export const selectExpiredUploads = (t: string): string => `
  SELECT aft_index::text AS idx, file_path, file_size::text AS size,
         bytes_transferred::text AS moved, chat_type,
         jid, to_jid, ${TS} AS ts
    FROM ${t}
   WHERE method = 'Post' AND chat_type = $1 AND timestampvalue < $2::timestamp
     AND aft_index > $3::bigint
   ORDER BY aft_index
   LIMIT $4`;

export const countExpiredUploads = (t: string): string => `
  SELECT count(*)::text AS files, coalesce(sum(file_size), 0)::text AS bytes
    FROM ${t}
   WHERE method = 'Post' AND chat_type = $1 AND timestampvalue < $2::timestamp`;

export const selectRowsByPath = (t: string): string => `
  SELECT aft_index::text AS idx, file_path, method, chat_type, ${TS} AS ts
    FROM ${t}
   WHERE file_path = ANY($1::text[])`;

export const deleteByIndex = (t: string): string => `DELETE FROM ${t} WHERE aft_index = ANY($1::bigint[])`;

/** Rows for removed files logged after we read them (a late download): only the newest rows are scanned. */
export const deleteNewerByPath = (t: string): string =>
  `DELETE FROM ${t} WHERE aft_index > $1::bigint AND file_path = ANY($2::text[])`;

export const deleteByIndexReturning = (t: string): string => `${deleteByIndex(t)} RETURNING *`;
export const deleteNewerByPathReturning = (t: string): string => `${deleteNewerByPath(t)} RETURNING *`;

export const selectNow = `SELECT now() AS now`;

export const selectDatabaseSize = `SELECT pg_database_size(current_database())::text AS bytes`;
