import type pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { DatabaseRefusedError } from '../../errors.js';

/**
 * Whether this login may read and delete AFT_LOG rows on a server that accepts writes. Read
 * from the catalog, changes nothing. The DELETE reads the table too (the paths of a batch's
 * rows, RETURNING for the audit export): both privileges are needed.
 */
export const selectWritable = `
  SELECT current_user AS login,
         has_schema_privilege($2, 'USAGE') AS schema_usage,
         to_regclass($1) IS NOT NULL AS table_found,
         CASE WHEN to_regclass($1) IS NOT NULL THEN has_table_privilege(to_regclass($1), 'SELECT') END AS can_select,
         CASE WHEN to_regclass($1) IS NOT NULL THEN has_table_privilege(to_regclass($1), 'DELETE') END AS can_delete,
         pg_is_in_recovery() AS standby,
         current_setting('default_transaction_read_only') AS read_only`;

interface WritableRow {
  login: string;
  schema_usage: boolean;
  table_found: boolean;
  can_select: boolean | null;
  can_delete: boolean | null;
  standby: boolean;
  read_only: string;
}

/** A role or database name as it must be written in a statement (the table's names are plain, as configured). */
const ident = (name: string): string => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`);

/** Throws a DatabaseRefusedError naming everything that stops the purge, with the statements that fix it. */
export async function checkPostgresWritable(
  query: (text: string, values: unknown[]) => Promise<pg.QueryResult<pg.QueryResultRow>>,
  db: ResolvedPostgresDatabase,
  node: string,
): Promise<void> {
  const table = `${db.schema}.${db.table}`;
  const r = (await query(selectWritable, [table, db.schema])).rows[0] as WritableRow;
  const where = `PostgreSQL ${db.host}:${db.port}/${db.database}`;
  const role = ident(r.login);
  const problems: string[] = [];
  if (r.standby) {
    problems.push(`the server is a read-only standby (pg_is_in_recovery() is true): point database.host of node ${node} at the primary`);
  } else if (r.read_only === 'on') {
    problems.push(
      `default_transaction_read_only is on for role ${r.login} (set for the server, the database or the role): no row can be deleted. ` +
        `If the purge's role may write, run as a superuser: ALTER ROLE ${role} IN DATABASE ${ident(db.database)} SET default_transaction_read_only = off;`,
    );
  }
  if (!r.schema_usage) problems.push(`role ${r.login} has no USAGE on schema ${db.schema}: run as the owner: GRANT USAGE ON SCHEMA ${db.schema} TO ${role};`);
  else if (!r.table_found) problems.push(`table ${table} does not exist (check database.schema and database.table of node ${node})`);
  else {
    const missing = [!r.can_select && 'SELECT', !r.can_delete && 'DELETE'].filter((p): p is string => Boolean(p));
    if (missing.length) {
      problems.push(`role ${r.login} lacks the ${missing.join(' and ')} privilege on ${table}: run as its owner: GRANT ${missing.join(', ')} ON ${table} TO ${role};`);
    }
  }
  if (problems.length) {
    throw new DatabaseRefusedError(node, `the purge cannot delete AFT_LOG rows on ${where}, so no file was removed: ${problems.join('; ')}`);
  }
}
