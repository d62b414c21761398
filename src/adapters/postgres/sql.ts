/**
 * The SQL the purge runs against AFT_LOG on PostgreSQL. Pure: text only, every value bound,
 * except in beginAndDeleteRows, whose integers are checked and then written into the text.
 * Timestamps travel as zone-less text in the node's `timestampZone` (ISO, see setIsoDateStyle),
 * so neither the session TimeZone nor node-postgres's local-time parsing can shift them.
 */

/** `schema.table`, from identifiers already validated as plain (unquoted, so they fold like Cisco's). */
export const tableName = (schema: string, table: string): string => `${schema}.${table}`;

// Output columns rendered as text get names of their own (idx, size, ts): an alias equal to a
// column name would make ORDER BY sort the text rendering ('10' < '9') and the keyset would skip
// rows. The cursor orders by position, on the bigint columns themselves.
const tsText = (column: string): string => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

/**
 * Every row of the files of the expired `Post` rows of one chat type, one output row per
 * AFT_LOG row, labelled with the expired `Post` (post) it belongs to and ordered by it: the
 * Post itself (idx = post) and its companions (`Get` rows, other `Post` rows of the path).
 * Only the Post's own output row carries the file's details; a companion's are NULL.
 *
 * Cisco's AFT_LOG has no index on file_path, so looking up the companions of each batch by
 * path would scan the whole table once per batch: a purge would cost batches x table size.
 * Instead the companions of the whole backlog are found in ONE pass: the expired Posts' paths
 * are hashed (the small side) and the table is scanned once against them. The query runs
 * once per chat type and run, through a cursor WITH HOLD: PostgreSQL computes it when the
 * reading transaction commits, keeps the result server-side (spilling to a temporary file
 * past work_mem), and the purge fetches it a batch at a time, so neither side holds the
 * backlog in memory and no snapshot stays open while files are removed. Per batch, the cost is
 * one FETCH and one DELETE by primary key, whatever the table's size. A `Get` row always has
 * a larger aft_index than its `Post`, but it may come days later, so a bounded forward range
 * scan would miss rows; a temporary table would need a privilege and a table the admin did not
 * ask for. With the optional index on file_path (see the README and `doctor`), the planner is
 * free to use it instead of the scan; the tool never creates it.
 *
 * The expired Posts are the preserved side of an outer join, so a Post with an empty or NULL
 * path still comes, alone (its rows are kept anyway): the scanned side leaves out empty paths,
 * which thousands of rows may share and which would otherwise pair with each other. One scan
 * finds the Posts and carries their details; a second probes the table against them. The
 * Post's own output row takes its details from the first, companions from the second.
 *
 * Before a row of the second scan is hashed, its path must lie between the smallest and the
 * largest expired path, compared byte by byte (COLLATE "C": a plain memory comparison, whatever
 * the database's locale, and the order in which equal paths are certainly in range). A path
 * carries its upload's date folder, so in a purge that keeps up (a day expiring at a time) most
 * of the table is newer than every expired path and is passed over by that cheap comparison
 * instead of being hashed and probed. The bounds are scalar subqueries, computed once before
 * the scan (an InitPlan), never a join the planner could turn into a loop.
 *
 * The plan must not depend on the planner statistics, which a production AFT_LOG may lack (a
 * restore, a bulk load, autovacuum off) or have from when it was a thousandth of its size.
 * Without them the planner takes the expired Posts for one row and loops over a scan of the
 * whole table for each of them: hours instead of seconds. The cursor's transaction therefore
 * forbids nested loops (see tuneCursorTransaction): the join is then a hash or merge join,
 * one pass over each side whatever the estimates.
 */
export const selectExpiredUploadsWithCompanions = (t: string): string => `
  WITH e AS MATERIALIZED (
         SELECT aft_index, method, chat_type, timestampvalue, file_path, file_size, bytes_transferred, jid, to_jid
           FROM ${t}
          WHERE method = 'Post' AND chat_type = $1 AND timestampvalue < $2::timestamp),
       r AS (SELECT min(file_path COLLATE "C") AS lo, max(file_path COLLATE "C") AS hi FROM e WHERE file_path <> '')
  SELECT e.aft_index AS post, coalesce(c.aft_index, e.aft_index) AS idx,
         CASE WHEN c.aft_index IS NULL THEN e.method ELSE c.method END AS method,
         CASE WHEN c.aft_index IS NULL THEN e.chat_type ELSE c.chat_type END AS chat_type,
         CASE WHEN c.aft_index IS NULL THEN e.timestampvalue ELSE c.timestampvalue END AS ts,
         CASE WHEN c.aft_index IS NULL OR c.aft_index = e.aft_index THEN e.file_path END AS file_path,
         CASE WHEN c.aft_index IS NULL OR c.aft_index = e.aft_index THEN e.file_size END AS size,
         CASE WHEN c.aft_index IS NULL OR c.aft_index = e.aft_index THEN e.bytes_transferred END AS moved,
         CASE WHEN c.aft_index IS NULL OR c.aft_index = e.aft_index THEN e.jid END AS jid,
         CASE WHEN c.aft_index IS NULL OR c.aft_index = e.aft_index THEN e.to_jid END AS to_jid
    FROM e
    LEFT JOIN (SELECT t.aft_index, t.method, t.chat_type, t.timestampvalue, t.file_path
                 FROM ${t} t
                WHERE t.file_path <> '' AND t.file_path COLLATE "C" >= (SELECT lo FROM r) AND t.file_path COLLATE "C" <= (SELECT hi FROM r)) c
           ON c.file_path = e.file_path
   ORDER BY 1, 2`;

/**
 * ISO DateStyle for the session. The cursor's columns are kept in their own types and rendered
 * as text when fetched, by the server's output functions (cheaper than to_char, and done while
 * files are being removed rather than before the first can be); for timestamps that rendering
 * follows DateStyle, which a server may set otherwise (`SQL, DMY`, `German`).
 */
export const setIsoDateStyle = `SET DateStyle TO 'ISO, YMD'`;

/**
 * Settings for the transaction that computes the cursor (SET LOCAL: they end with it, the
 * server's settings are untouched), never lowering what the server has: enough work_mem for
 * the hash of the expired paths and the sort to stay in memory; no JIT compilation, which
 * costs more than it saves on a query run once; and no nested loop, whatever the statistics
 * (see selectExpiredUploadsWithCompanions).
 */
export const tuneCursorTransaction = `
  SELECT set_config(name, CASE name WHEN 'work_mem' THEN '65536kB' ELSE 'off' END, true)
    FROM pg_settings
   WHERE name IN ('jit', 'enable_nestloop') OR (name = 'work_mem' AND setting::bigint < 65536)`;

/** The smallest and the largest bigint: bounds that leave out no aft_index. */
export const BIGINT_MIN = '-9223372036854775808';
export const BIGINT_MAX = '9223372036854775807';

/**
 * The server checks every second, while a statement of this session runs, that the purge is
 * still connected (PostgreSQL 14 and later): a purge killed outright leaves nothing running
 * for long. Only ever more often than the server's own setting; nothing on an older server.
 */
export const checkClientConnection = `
  SELECT set_config(name, '1000', false) FROM pg_settings
   WHERE name = 'client_connection_check_interval' AND (setting::bigint = 0 OR setting::bigint > 1000)`;

/** The cursor the purge reads expired uploads through (one at a time). */
export const EXPIRED_CURSOR = 'mft_retention_expired';

export const declareExpiredCursor = (t: string): string =>
  `DECLARE ${EXPIRED_CURSOR} NO SCROLL CURSOR WITH HOLD FOR ${selectExpiredUploadsWithCompanions(t)}`;

export const fetchExpiredCursor = (limit: number): string => `FETCH FORWARD ${Math.max(1, Math.floor(limit))} FROM ${EXPIRED_CURSOR}`;

export const closeExpiredCursor = `CLOSE ${EXPIRED_CURSOR}`;

/** The newest aft_index now: rows above it were logged after the reader opened. */
export const selectMaxIndex = (t: string): string => `SELECT coalesce(max(aft_index), -9223372036854775808)::text AS idx FROM ${t}`;

/**
 * Minutes before the reader's snapshot from which a row may still be committing: MFT logs a
 * download in a transaction of its own, whose aft_index comes from the sequence when the row
 * is inserted, not when it commits.
 */
export const UNSETTLED_MINUTES = 10;

/**
 * The newest aft_index of a row logged more than UNSETTLED_MINUTES before now, in the node's
 * wall clock ($1, its IANA zone): rows above it may have committed after the snapshot. A
 * backward walk of the primary key that stops at the first such row (ORDER BY ... LIMIT 1).
 */
export const selectSettledIndex = (t: string): string => `
  SELECT coalesce((SELECT aft_index FROM ${t}
                    WHERE timestampvalue < (now() AT TIME ZONE $1) - interval '${UNSETTLED_MINUTES} minutes'
                    ORDER BY aft_index DESC LIMIT 1), -9223372036854775808)::text AS idx`;

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

/**
 * A plan's batch of rows: by primary key, and, for the batch's paths, any row above the plan's
 * high-water mark (a new download or upload, read from the newest end of the primary key
 * only). Parameters: $1 aft_index values, $2 paths, $3 the mark.
 */
export const selectPlanRows = (t: string): string => `
  SELECT aft_index::text AS idx, method, chat_type, file_path, coalesce(file_size, 0)::text AS size,
         coalesce(bytes_transferred, 0)::text AS moved, jid, to_jid, ${tsText('timestampvalue')} AS ts
    FROM ${t}
   WHERE aft_index = ANY($1::bigint[])
      OR (aft_index > $3::bigint AND file_path = ANY($2::text[]))
   ORDER BY aft_index`;

/**
 * The expired `Post` rows (and their bytes) of `n` chat types, in one scan: a node purges up
 * to three, so one pass over the table instead of one each. With `withTotal`, each also gets
 * the count of its `Post` rows before a later instant (the total the blast-radius limits
 * compare with). Parameters: $1..$n the chat types, $n+1..$2n their cutoffs, $2n+1 the later
 * instant; columns files<i>, bytes<i> and total<i>.
 */
export function countExpiredUploadsByChatType(t: string, n: number, withTotal: boolean): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`at least one chat type to count, not ${n}`);
  const cols: string[] = [];
  for (let i = 0; i < n; i++) {
    const mine = `chat_type = $${i + 1}`;
    const expired = `${mine} AND timestampvalue < $${n + i + 1}::timestamp`;
    cols.push(`count(*) FILTER (WHERE ${expired})::text AS files${i}`, `coalesce(sum(file_size) FILTER (WHERE ${expired}), 0)::text AS bytes${i}`);
    if (withTotal) cols.push(`count(*) FILTER (WHERE ${mine})::text AS total${i}`);
  }
  const types = Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
  // Without the total, no row at or after the latest cutoff counts.
  const upTo = withTotal ? `$${2 * n + 1}::timestamp` : `greatest(${Array.from({ length: n }, (_, i) => `$${n + i + 1}::timestamp`).join(', ')})`;
  return `
  SELECT ${cols.join(',\n         ')}
    FROM ${t}
   WHERE method = 'Post' AND chat_type IN (${types}) AND timestampvalue < ${upTo}`;
}

/**
 * Opens the transaction that deletes a batch's rows, and deletes them, in one message: the
 * rows of removed files by primary key, and rows for the same paths logged after the reader
 * opened (a late download). The second part looks only at the primary-key range above the
 * reader's high-water mark: the newest rows, never the whole table. The paths are read from
 * the batch's own rows, in the statement, rather than sent: a batch's paths are some 70 kB,
 * which would cross the network and be parsed again for every batch.
 *
 * The rows are reached through the primary key whatever the planner statistics: without
 * them, the planner reads the whole table once a batch. The transaction forbids a sequential
 * scan (SET LOCAL: for this transaction only), which leaves it the primary key for both parts.
 *
 * One message rather than BEGIN and then the DELETE: a round trip less for every batch. A
 * message of two statements cannot carry bound parameters, so the values are written into the
 * text; both are checked to be plain integers first.
 *
 * @param ids aft_index values
 * @param newerThan the reader's high-water mark
 * @param returning every column of each deleted row comes back (the audit export)
 */
export function beginAndDeleteRows(t: string, ids: readonly string[], newerThan: string, returning: boolean): string {
  for (const v of [...ids, newerThan]) {
    if (!BIGINT_TEXT.test(v)) throw new Error(`not an aft_index value: ${JSON.stringify(v)}`);
  }
  const list = `'{${ids.join(',')}}'::bigint[]`;
  return `BEGIN; ${PRIMARY_KEY_ONLY}; DELETE FROM ${t} WHERE aft_index = ANY(${list})
      OR (aft_index > '${newerThan}'::bigint AND file_path IN (SELECT file_path FROM ${t} WHERE aft_index = ANY(${list})))${returning ? ' RETURNING *' : ''}`;
}

const BIGINT_TEXT = /^-?\d{1,19}$/;

/** For the rest of the transaction: no sequential scan where an index can do (see beginAndDeleteRows). */
const PRIMARY_KEY_ONLY = 'SET LOCAL enable_seqscan = off';

/** Results of the message beginAndDeleteRows writes, before the DELETE's own (BEGIN's, the SET's). */
export const RESULTS_BEFORE_DELETE = 2;

export const selectNow = `SELECT now() AS now`;

export const selectDatabaseSize = `SELECT pg_database_size(current_database())::text AS bytes`;

/**
 * `Get` rows whose path has no other row left: downloads of a file a purge already removed
 * (logged, or committed, after its batch was deleted). Only rows logged before $1 (wall clock):
 * older than any transaction still committing. One pass over the downloads, one over the other
 * rows (a hash anti-join: the transaction forbids nested loops). At most $2 rows.
 */
export const selectOrphanDownloads = (t: string): string => `
  SELECT g.aft_index::text AS idx, g.file_path, g.chat_type, ${tsText('g.timestampvalue')} AS ts
    FROM ${t} g
   WHERE g.method = 'Get' AND g.file_path <> '' AND g.timestampvalue < $1::timestamp
     AND NOT EXISTS (SELECT 1 FROM ${t} o WHERE o.file_path = g.file_path AND o.method <> 'Get')
   ORDER BY g.aft_index
   LIMIT $2`;

/** For the transaction of selectOrphanDownloads: a hash anti-join whatever the statistics. */
export const noNestedLoop = `SET LOCAL enable_nestloop = off`;
