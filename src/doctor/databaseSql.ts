/**
 * The read-only catalog queries `doctor` runs on PostgreSQL. `$1` is always the table as
 * `schema.table` text: to_regclass() folds it like an unquoted identifier and gives NULL when
 * the table does not exist, instead of an error.
 */

/** Columns Cisco documents for AFT_LOG that the purge reads or deletes by (see src/adapters/postgres/sql.ts). */
export const COLUMNS_THE_PURGE_NEEDS = ['aft_index', 'jid', 'to_jid', 'method', 'chat_type', 'file_path', 'file_size', 'timestampvalue'] as const;

/** The other columns Cisco documents: expected, but the purge does not use them. */
export const OTHER_DOCUMENTED_COLUMNS = ['filename', 'real_filename', 'file_type', 'file_server', 'bytes_transferred'] as const;

export const serverVersion = `SELECT current_setting('server_version') AS version, current_user AS "user", current_database() AS database`;

export const tableColumns = `
  SELECT a.attname AS name
    FROM pg_attribute a
   WHERE a.attrelid = to_regclass($1::text) AND a.attnum > 0 AND NOT a.attisdropped`;

export const tableExists = `SELECT to_regclass($1::text) IS NOT NULL AS present`;

/** $1 table, $2 schema. */
export const privileges = `
  SELECT has_schema_privilege(current_user, $2::text, 'USAGE') AS "usage",
         has_table_privilege(current_user, $1::text, 'SELECT') AS "select",
         has_table_privilege(current_user, $1::text, 'DELETE') AS "delete"`;

export const capacity = `
  SELECT pg_database_size(current_database())::text AS database_bytes,
         pg_total_relation_size(to_regclass($1::text))::text AS table_bytes,
         (SELECT reltuples::bigint::text FROM pg_class WHERE oid = to_regclass($1::text)) AS estimated_rows`;

/** Indexes of the table whose first key column is file_path (an expression index has indkey[0] = 0). */
export const filePathIndexes = `
  SELECT c.relname AS name, i.indisvalid AS valid, i.indpred IS NOT NULL AS partial
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = to_regclass($1::text) AND a.attname = 'file_path'
   ORDER BY i.indisvalid DESC, c.relname`;

export const createFilePathIndex = (table: string): string => `CREATE INDEX CONCURRENTLY aft_log_file_path_idx ON ${table} (file_path);`;
