/**
 * The SQL the purge runs against AFT_LOG on PostgreSQL. Pure: text only, every value bound.
 * Timestamps travel as zone-less text in the node's `timestampZone`, so neither the session
 * TimeZone nor node-postgres's local-time parsing can shift them.
 */

/** `schema.table`, from identifiers already validated as plain (unquoted, so they fold like Cisco's). */
export const tableName = (schema: string, table: string): string => `${schema}.${table}`;

// Output columns get names of their own (idx, size, ts): an alias equal to a column name would
// make ORDER BY sort the text rendering ('10' < '9') and the keyset would skip rows.
const tsText = (column: string): string => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/**
 * The expired `Post` rows of one chat type, each with every other row of its file_path
 * (`Get` rows, duplicate `Post` rows), ascending aft_index.
 *
 * Cisco's AFT_LOG has no index on file_path, so looking up the companions of each batch by
 * path would scan the whole table once per batch: a purge would cost batches x table size.
 * Instead the companions of the whole backlog are found in ONE pass: a hash join of the
 * expired `Post` rows (the build side) against a single sequential scan of the table. The
 * query runs once per chat type and run, through a cursor WITH HOLD: PostgreSQL computes it
 * when the reading transaction commits, keeps the result server-side (spilling to a temporary
 * file past work_mem), and the purge fetches it a batch at a time, so neither side holds the
 * backlog in memory and no snapshot stays open while files are removed. Per batch, the cost is
 * one FETCH and one DELETE by primary key, whatever the table's size. A `Get` row always has
 * a larger aft_index than its `Post`, but it may come days later, so a bounded forward range
 * scan would miss rows; a temporary table would need a privilege and a table the admin did not
 * ask for. With the optional index on file_path (see the README and `doctor`), the planner is
 * free to use it instead of the scan; the tool never creates it.
 *
 * An empty file_path never joins: those rows are kept anyway, and thousands of them would
 * otherwise pair with each other.
 */
export const selectExpiredUploadsWithCompanions = (t: string): string => `
  SELECT e.aft_index::text AS idx, e.file_path, e.file_size::text AS size,
         e.bytes_transferred::text AS moved, e.chat_type, e.jid, e.to_jid,
         ${tsText('e.timestampvalue')} AS ts,
         array_agg(c.aft_index::text ORDER BY c.aft_index) FILTER (WHERE c.aft_index IS NOT NULL) AS c_idx,
         array_agg(c.method ORDER BY c.aft_index) FILTER (WHERE c.aft_index IS NOT NULL) AS c_method,
         array_agg(c.chat_type ORDER BY c.aft_index) FILTER (WHERE c.aft_index IS NOT NULL) AS c_chat_type,
         array_agg(${tsText('c.timestampvalue')} ORDER BY c.aft_index) FILTER (WHERE c.aft_index IS NOT NULL) AS c_ts
    FROM ${t} e
    LEFT JOIN ${t} c ON c.file_path = e.file_path AND c.aft_index <> e.aft_index AND e.file_path <> ''
   WHERE e.method = 'Post' AND e.chat_type = $1 AND e.timestampvalue < $2::timestamp
   GROUP BY e.aft_index
   ORDER BY e.aft_index`;

/** The cursor the purge reads expired uploads through (one per connection at a time). */
export const EXPIRED_CURSOR = 'mft_retention_expired';

export const declareExpiredCursor = (t: string): string =>
  `DECLARE ${EXPIRED_CURSOR} NO SCROLL CURSOR WITH HOLD FOR ${selectExpiredUploadsWithCompanions(t)}`;

export const fetchExpiredCursor = (limit: number): string => `FETCH FORWARD ${Math.max(1, Math.floor(limit))} FROM ${EXPIRED_CURSOR}`;

export const closeExpiredCursor = `CLOSE ${EXPIRED_CURSOR}`;

/** The newest aft_index now: rows above it were logged after the reader opened. */
export const selectMaxIndex = (t: string): string => `SELECT coalesce(max(aft_index), -9223372036854775808)::text AS idx FROM ${t}`;

/** Expired `Post` rows after a keyset position (the backlog alarm; not the purge, which reads through the cursor). */
export const selectExpiredUploads = (t: string): string => `
  SELECT aft_index::text AS idx, file_path, file_size::text AS size,
         bytes_transferred::text AS moved, chat_type,
         jid, to_jid, ${tsText('timestampvalue')} AS ts
    FROM ${t}
   WHERE method = 'Post' AND chat_type = $1 AND timestampvalue < $2::timestamp
     AND aft_index > $3::bigint
   ORDER BY aft_index
   LIMIT $4`;

/** Every row of these paths, whatever its method. Without an index on file_path, one scan of the table. */
export const selectRowsByPath = (t: string): string => `
  SELECT aft_index::text AS idx, file_path, method, chat_type, ${tsText('timestampvalue')} AS ts
    FROM ${t}
   WHERE file_path = ANY($1::text[])`;

export const countExpiredUploads = (t: string): string => `
  SELECT count(*)::text AS files, coalesce(sum(file_size), 0)::text AS bytes
    FROM ${t}
   WHERE method = 'Post' AND chat_type = $1 AND timestampvalue < $2::timestamp`;

/**
 * The rows of removed files by primary key, and rows for those paths logged after the reader
 * opened (a late download). The second part scans only the primary-key range above the
 * reader's high-water mark: the newest rows, never the whole table.
 */
export const deleteRows = (t: string): string =>
  `DELETE FROM ${t} WHERE aft_index = ANY($1::bigint[]) OR (aft_index > $2::bigint AND file_path = ANY($3::text[]))`;

/** The same, with every column of each deleted row (the audit export). */
export const deleteRowsReturning = (t: string): string => `${deleteRows(t)} RETURNING *`;

export const selectNow = `SELECT now() AS now`;

export const selectDatabaseSize = `SELECT pg_database_size(current_database())::text AS bytes`;
