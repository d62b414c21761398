import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import { ConnectError, DatabaseFullError, DatabaseRefusedError, StatementCancelledError, type CancelReason } from '../../errors.js';
import { oneAtATime, type OneAtATime } from '../oneAtATime.js';
import { QUERY } from './binds.js';
import { describeOracle, type OracleConnection } from './connection.js';
import { classifyOracleError, oraCode, oraNumber } from './errors.js';
import type { Row } from './rows.js';

/** The statements a stop cancels: the counts and the reads of expired uploads and of rows by path. */
const LONG_READ = /^\s*SELECT\b[\s\S]*\bFROM\b(?![\s\S]*\bFOR UPDATE\b)/i;

/**
 * The catalog's one connection: its calls in turn, the long reads a stop breaks (Oracle's
 * break), and the driver's errors as the purge reports them.
 */
export class OracleSession {
  /**
   * The purge reads the next batch while it deletes the rows of the previous one, on this one
   * connection: a transaction's statements must not interleave with another call's.
   */
  readonly exclusive: OneAtATime = oneAtATime();
  /** Long reads in progress (counting, a page of expired uploads, rows by path), which a stop cancels. */
  private longReads = 0;
  /** After a stop, no new long read starts; after giving up, no statement at all. */
  private refused: { scope: 'long' | 'all'; reason: CancelReason } | undefined;
  /** Why the session's call was broken: ORA-01013 is then the purge's own cancel. */
  private broken: CancelReason | undefined;

  constructor(
    readonly conn: OracleConnection,
    private readonly db: ResolvedOracleDatabase,
    private readonly node: string,
    /** AFT_LOG's qualified name, for the GRANT an error suggests. */
    private readonly table: string,
  ) {}

  async query(text: string, binds: Record<string, unknown> = {}): Promise<Row[]> {
    const long = LONG_READ.test(text);
    if (this.refused && (this.refused.scope === 'all' || long)) throw this.cancelledError(this.refused.reason, undefined);
    if (long) this.longReads++;
    try {
      return (await this.conn.execute<Row>(text, binds, QUERY)).rows ?? [];
    } catch (err) {
      throw this.translate(err);
    } finally {
      if (long) this.longReads--;
    }
  }

  /**
   * Oracle's break (connection.break()): the call in progress ends with ORA-01013. A stop
   * breaks a long read only; giving up breaks whatever runs, the DELETE included (rolled back).
   */
  async cancel(scope: 'reads' | 'all', reason: CancelReason): Promise<void> {
    if (this.refused?.scope !== 'all') this.refused = { scope: scope === 'reads' ? 'long' : 'all', reason };
    if (scope === 'reads' && this.longReads === 0) return;
    this.broken ??= reason;
    await this.conn.break().catch(() => undefined);
  }

  private cancelledError(reason: CancelReason, cause: unknown): StatementCancelledError {
    const where = `Oracle ${describeOracle(this.db)}`;
    return new StatementCancelledError(
      this.node,
      reason,
      reason === 'stopped'
        ? `a statement was cancelled on ${where}: the purge was stopped`
        : reason === 'file-server-lost'
          ? `a statement was cancelled on ${where}: the file server was lost, so nothing more can be removed in this run`
          : `a statement ran longer than database.statementTimeout (${this.db.statementTimeout}) on ${where}; raise statementTimeout in the database section of node ${this.node} in the config`,
      { cause },
    );
  }

  /** ORA- codes of a full tablespace or quota become DatabaseFullError; a lost session ConnectError. */
  translate(err: unknown): Error {
    if (err instanceof StatementCancelledError) return err;
    // ORA-01013: the call was broken (the purge's own cancel) or timed out (callTimeout: DPI-1067/NJS-123 otherwise).
    if (oraNumber((err ?? {}) as never) === 1013) return this.cancelledError(this.broken ?? 'timeout', err);
    const ora = oraNumber((err ?? {}) as never);
    if (ora === 1031) {
      return new DatabaseRefusedError(this.node, `Oracle ${describeOracle(this.db)} refused: ${(err as Error).message}; run as the owner of the table: GRANT SELECT, DELETE ON ${this.table} TO ${this.db.user};`, { cause: err });
    }
    if (ora === 16000) {
      return new DatabaseRefusedError(this.node, `Oracle ${describeOracle(this.db)} refused: ${(err as Error).message} (a standby or a database open read-only): point the node's database at the primary`, { cause: err });
    }
    const c = classifyOracleError(err);
    const message = (err as Error)?.message ?? String(err);
    if (c.kind === 'full') {
      return new DatabaseFullError(this.node, `the database is full (${oraCode(c.ora)}: ${c.meaning}): ${message}`, { cause: err });
    }
    if (c.kind === 'connection') {
      return new ConnectError('database', this.node, `lost the connection to Oracle ${describeOracle(this.db)}: ${message}`, { cause: err });
    }
    return err instanceof Error ? err : new Error(message);
  }
}
