// PostgreSQL's errors as the purge reports them: a full disk, a refused write, a lost or
// cancelled statement, each with what the admin can do about it.
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { ConnectError, DatabaseFullError, DatabaseRefusedError, StatementCancelledError, type CancelReason } from '../../errors.js';
import { QUERY_CANCELED } from './cancel.js';

/** SQLSTATE class 53 code for "disk full" (Cisco's XcpMFTDBFullError condition on PostgreSQL). */
export const PG_DISK_FULL = '53100';
/** SQLSTATE 42501: a privilege is missing. */
const PG_INSUFFICIENT_PRIVILEGE = '42501';
/** SQLSTATE 25006: a write in a read-only transaction (a standby, default_transaction_read_only). */
const PG_READ_ONLY_TRANSACTION = '25006';

/** A statement the purge (or the time limit) cancelled, saying why. */
export function cancelledError(db: ResolvedPostgresDatabase, node: string, reason: CancelReason, cause: unknown): StatementCancelledError {
  const where = `PostgreSQL ${db.host}:${db.port}`;
  const why = {
    stopped: `a statement was cancelled on ${where}: the purge was stopped`,
    'file-server-lost': `a statement was cancelled on ${where}: the file server was lost, so nothing more can be removed in this run`,
    timeout:
      `a statement ran longer than database.statementTimeout (${db.statementTimeout}) on ${where} and was cancelled; ` +
      `if AFT_LOG is that large or the server that busy, raise statementTimeout in the database section of node ${node} in the config`,
  }[reason];
  return new StatementCancelledError(node, reason, why, { cause });
}

/** A driver or server error as the purge reports it; `table` is AFT_LOG's qualified name, for the GRANT. */
export function translatePostgresError(err: unknown, db: ResolvedPostgresDatabase, node: string, table: string): Error {
  if (err instanceof StatementCancelledError) return err;
  const e = err as { code?: string; message?: string };
  // The server's own statement_timeout.
  if (e.code === QUERY_CANCELED && /statement timeout/i.test(e.message ?? '')) return cancelledError(db, node, 'timeout', err);
  const where = `PostgreSQL ${db.host}:${db.port}/${db.database}`;
  if (e.code === PG_INSUFFICIENT_PRIVILEGE) {
    return new DatabaseRefusedError(node, `${where} refused: ${e.message}; run as the owner of the table: GRANT SELECT, DELETE ON ${table} TO ${db.user};`, { cause: err });
  }
  if (e.code === PG_READ_ONLY_TRANSACTION) {
    return new DatabaseRefusedError(node, `${where} refused: ${e.message} (a standby after a failover, or default_transaction_read_only): point database.host of node ${node} at the primary`, { cause: err });
  }
  if (e.code === PG_DISK_FULL) {
    return new DatabaseFullError(node, `the database is full (SQLSTATE 53100): ${e.message}`, { cause: err });
  }
  // A socket error carries Node's errno name (ECONNRESET, EPIPE, ETIMEDOUT...), never a
  // SQLSTATE: the server went away mid-query (e.g. stopped with -m immediate). Without this
  // it was reported as "read ECONNRESET", a partial purge (exit 1), not a lost database (3).
  const socketError = /^E[A-Z]+$/.test(e.code ?? '');
  if (!e.code || socketError || /^08/.test(e.code) || /terminat|Connection/i.test(e.message ?? '')) {
    return new ConnectError('database', node, `lost the connection to PostgreSQL ${db.host}:${db.port}: ${e.message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(String(err));
}
