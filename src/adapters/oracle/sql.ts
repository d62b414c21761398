/**
 * The SQL the purge runs against AFT_LOG on Oracle (12c and later). Pure: text only, every
 * value bound. Rules that keep it independent of the session's NLS and time zone settings:
 *
 * - timestamps are bound, never written as literals. A bound instant travels as a TIMESTAMP
 *   WITH TIME ZONE in UTC whose clock reading is the wall clock in the node's timestampZone
 *   (see wallClockBind); SYS_EXTRACT_UTC turns it back into that plain TIMESTAMP, so neither
 *   the session time zone nor this process's TZ shifts it;
 * - timestamps are read back as text with an explicit format mask, numbers with TO_CHAR, so
 *   an aft_index above 2^53 survives and no NLS setting changes the digits;
 * - no comparison with '' anywhere: Oracle stores an empty string as NULL, and `x <> ''` is
 *   never true.
 */

/** `OWNER.TABLE`, or `TABLE` in the login user's own schema; identifiers validated as unquoted. */
export const tableName = (owner: string | undefined, table: string): string => (owner ? `${owner}.${table}` : table);

/** Oracle allows at most 1,000 expressions in an IN list (ORA-01795). */
export const MAX_IN_LIST = 1000;

/**
 * Sizes an IN list is padded to, so the server sees a handful of distinct statements instead
 * of one per list length (each new text is a hard parse and a new cursor in the shared pool).
 */
export const IN_LIST_SIZES = [1, 16, 128, MAX_IN_LIST] as const;

const TS = `TO_CHAR(timestampvalue, 'YYYY-MM-DD"T"HH24:MI:SS.FF3')`;

// Column aliases are distinct from column names (idx, fsize, ts), as on PostgreSQL: ORDER BY
// must sort the NUMBER, never its text.
//
// INDEX_ASC: each page walks the primary key from the keyset position and stops after
// :maxRows rows, whatever the optimizer statistics say. With statistics from when the table
// was small, the optimizer could otherwise read the whole table and sort it for every page.
// Without an index name the hint lets it take the only index that serves the range and the
// order (Cisco's schema has just the primary key); a hint it cannot use is ignored, never an error.
export const selectExpiredUploads = (t: string): string => `
  SELECT /*+ INDEX_ASC(u) */ TO_CHAR(aft_index) AS idx, file_path, TO_CHAR(file_size) AS fsize,
         TO_CHAR(bytes_transferred) AS moved, chat_type, jid, to_jid, ${TS} AS ts
    FROM ${t} u
   WHERE method = 'Post' AND chat_type = :chatType
     AND timestampvalue < SYS_EXTRACT_UTC(:before)
     AND aft_index > TO_NUMBER(:afterIndex)
   ORDER BY aft_index
   FETCH FIRST :maxRows ROWS ONLY`;

/** The newest aft_index now (NULL for an empty table): rows above it were logged after the reader opened. */
export const selectMaxIndex = (t: string): string => `SELECT TO_CHAR(MAX(aft_index)) AS idx FROM ${t}`;

export const countExpiredUploads = (t: string): string => `
  SELECT TO_CHAR(COUNT(*)) AS files, TO_CHAR(NVL(SUM(file_size), 0)) AS bytes
    FROM ${t}
   WHERE method = 'Post' AND chat_type = :chatType
     AND timestampvalue < SYS_EXTRACT_UTC(:before)`;

/** `file_path IN (:p0, ..., :pN-1)` for a list of exactly n bind variables (n <= MAX_IN_LIST). */
export const selectRowsByPath = (t: string, n: number): string => {
  if (!Number.isInteger(n) || n < 1 || n > MAX_IN_LIST) throw new RangeError(`an IN list holds 1 to ${MAX_IN_LIST} items, not ${n}`);
  const binds = Array.from({ length: n }, (_, i) => `:p${i}`).join(', ');
  return `
  SELECT TO_CHAR(aft_index) AS idx, file_path, method, chat_type, ${TS} AS ts
    FROM ${t}
   WHERE file_path IN (${binds})`;
};

const PLAN_COLUMNS = `TO_CHAR(aft_index) AS idx, method, chat_type, file_path, TO_CHAR(NVL(file_size, 0)) AS fsize,
         TO_CHAR(NVL(bytes_transferred, 0)) AS moved, jid, to_jid, ${TS} AS ts`;

/** A plan's rows by aft_index (n binds :p0..). */
export const selectPlanRowsByIndex = (t: string, n: number): string => `
  SELECT ${PLAN_COLUMNS}
    FROM ${t}
   WHERE aft_index IN (${inListParams(n, (b) => `TO_NUMBER(${b})`)})`;

/** Rows for a plan's paths logged after it read the table (n binds :p0.., and :newerThan). */
export const selectPlanRowsNewerByPath = (t: string, n: number): string => `
  SELECT ${PLAN_COLUMNS}
    FROM ${t}
   WHERE aft_index > TO_NUMBER(:newerThan) AND file_path IN (${inListParams(n, (b) => b)})`;

/** Run with executeMany, one bind row per aft_index (an array bind: one round trip). */
export const deleteByIndex = (t: string): string => `DELETE FROM ${t} WHERE aft_index = TO_NUMBER(:idx)`;

/**
 * Rows for removed files logged after we read them (a late download): only rows above the
 * batch's highest aft_index are scanned. Run with executeMany, one bind row per path.
 */
export const deleteNewerByPath = (t: string): string =>
  `DELETE FROM ${t} WHERE aft_index > TO_NUMBER(:newerThan) AND file_path = :path`;

/** AFT_LOG's columns in table order (for the audit export's every-column rows). Binds: owner, tableName (upper case). */
export const selectColumns = `
  SELECT column_name AS name, data_type AS type FROM all_tab_columns
   WHERE owner = :owner AND table_name = :tableName
   ORDER BY column_id`;

/** A column of AFT_LOG as it appears in the audit export: a quoted lower-case alias, timestamps rendered by the server. */
export interface AuditColumn {
  name: string;
  type: string;
}

/**
 * One select-list item per column, aliased to its lower-case name. Timestamps are rendered by
 * the server with an explicit mask (wall clock, microseconds; the adapter trims trailing zeros
 * as PostgreSQL does), a DATE without fraction; numbers are fetched as text by the driver.
 */
export function auditSelectList(columns: readonly AuditColumn[]): string {
  return columns
    .map(({ name, type }) => {
      const col = `"${name.replace(/"/g, '')}"`;
      const alias = `"${name.toLowerCase().replace(/"/g, '')}"`;
      if (/^TIMESTAMP/.test(type)) return `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS.FF6') AS ${alias}`;
      if (type === 'DATE') return `TO_CHAR(${col}, 'YYYY-MM-DD HH24:MI:SS') AS ${alias}`;
      return `${col} AS ${alias}`;
    })
    .join(', ');
}

/**
 * The rows a batch will delete, every column, locked until the transaction ends (FOR UPDATE):
 * by aft_index (n binds :p0..), or newer than :newerThan for the paths (n binds :p0..).
 */
export const selectForAuditByIndex = (t: string, columns: readonly AuditColumn[], n: number): string =>
  `SELECT ${auditSelectList(columns)} FROM ${t} WHERE aft_index IN (${inListParams(n, (b) => `TO_NUMBER(${b})`)}) FOR UPDATE`;

export const selectForAuditNewerByPath = (t: string, columns: readonly AuditColumn[], n: number): string =>
  `SELECT ${auditSelectList(columns)} FROM ${t} WHERE aft_index > TO_NUMBER(:newerThan) AND file_path IN (${inListParams(n, (b) => b)}) FOR UPDATE`;

function inListParams(n: number, wrap: (bind: string) => string): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_IN_LIST) throw new RangeError(`an IN list holds 1 to ${MAX_IN_LIST} items, not ${n}`);
  return Array.from({ length: n }, (_, i) => wrap(`:p${i}`)).join(', ');
}

export const selectNow = `SELECT TO_CHAR(SYS_EXTRACT_UTC(SYSTIMESTAMP), 'YYYY-MM-DD"T"HH24:MI:SS.FF3') AS now FROM dual`;

/** The tablespace AFT_LOG lives in (NULL for a partitioned table). Binds: owner (upper case), tableName. */
export const selectTableTablespace = `
  SELECT tablespace_name AS tablespace FROM all_tables WHERE owner = :owner AND table_name = :tableName`;

/** The login user's quotas: no privilege needed. MAX_BYTES -1 means unlimited. */
export const selectUserQuotas = `
  SELECT tablespace_name AS tablespace, TO_CHAR(bytes) AS used, TO_CHAR(max_bytes) AS max_bytes
    FROM user_ts_quotas
   ORDER BY bytes DESC`;

/**
 * Usage of one tablespace as the server measures it (autoextend included). Needs SELECT on
 * DBA_TABLESPACE_USAGE_METRICS (or SELECT_CATALOG_ROLE): ORA-00942 without it. USED_SPACE and
 * TABLESPACE_SIZE are in database blocks; the percent is fetched as a number (TO_CHAR of a
 * decimal would follow NLS_NUMERIC_CHARACTERS).
 */
export const selectTablespaceMetrics = `
  SELECT TO_CHAR(m.used_space * t.block_size) AS used,
         TO_CHAR(m.tablespace_size * t.block_size) AS max_bytes,
         ROUND(m.used_percent, 2) AS used_percent
    FROM dba_tablespace_usage_metrics m
    JOIN user_tablespaces t ON t.tablespace_name = m.tablespace_name
   WHERE m.tablespace_name = :tablespace`;

/** The login user, to name the owner when AFT_LOG is in the user's own schema. */
export const selectUser = `SELECT USER AS username FROM dual`;

/**
 * Chunks a list for IN lists of at most MAX_IN_LIST items, each chunk padded (by repeating
 * its last item, which changes no result) to one of IN_LIST_SIZES.
 */
export function inListChunks<T>(items: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_IN_LIST) {
    const chunk = items.slice(i, i + MAX_IN_LIST);
    const size = IN_LIST_SIZES.find((s) => s >= chunk.length)!;
    while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
    chunks.push(chunk);
  }
  return chunks;
}

/** Named binds `{ p0: ..., p1: ... }` for selectRowsByPath. */
export const inListBinds = (items: readonly string[]): Record<string, string> => Object.fromEntries(items.map((v, i) => [`p${i}`, v]));

/**
 * Whether this session may read and delete AFT_LOG rows, by trying: a SELECT and a DELETE that
 * match no row (privileges are checked when the statement is parsed; a read-only database
 * refuses the DELETE all the same), rolled back. The database role says a standby apart.
 */
export const selectDatabaseRole = `SELECT SYS_CONTEXT('USERENV', 'DATABASE_ROLE') AS DB_ROLE, USER AS LOGIN FROM dual`;
export const trySelect = (t: string): string => `SELECT 1 AS ONE FROM ${t} WHERE 1 = 0`;
export const tryDelete = (t: string): string => `DELETE FROM ${t} WHERE 1 = 0`;
