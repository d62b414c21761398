import type pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import type { CancelReason } from '../../errors.js';
import { oneAtATime, type OneAtATime } from '../oneAtATime.js';
import { StatementWatch } from './cancel.js';
import { cancelledError, translatePostgresError } from './errors.js';

/** Every column as the server's text rendering: the reader converts what it needs itself. */
export const TEXT_TYPES = { getTypeParser: (() => (v: string) => v) as never };

/**
 * The catalog's one connection: its statements in turn, watched so that a stop or the time
 * limit can cancel them on the server, and their errors as the purge reports them.
 */
export class PostgresSession {
  /**
   * The purge reads the next batch while it deletes the rows of the previous one, on this one
   * connection: a transaction's statements must not interleave with another call's.
   */
  readonly exclusive: OneAtATime = oneAtATime();
  /** The purge's statements in progress, to cancel them on the server (see StatementWatch). */
  private readonly watch: StatementWatch;
  /** The reader is being computed: its statements are long reads, which a stop cancels. */
  private computing = false;

  constructor(
    readonly client: pg.Client,
    private readonly db: ResolvedPostgresDatabase,
    private readonly node: string,
    private readonly table: string,
  ) {
    this.watch = new StatementWatch({ host: db.host, port: db.port }, db.statementTimeoutMs);
  }

  /** A statement on the first connection; `long` (a read that may take minutes) is cancelled by a stop. */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[], types?: typeof TEXT_TYPES, long = this.computing): Promise<pg.QueryResult<R>> {
    return this.run(long, (client) => (types ? client.query<R>({ text, values, types }) : client.query<R>(text, values)));
  }

  /** `fn`'s statement under watch (see StatementWatch), its error translated. */
  run<T>(long: boolean, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    return this.translated(() => this.watch.run(this.client, long, () => fn(this.client), (reason, err) => cancelledError(this.db, this.node, reason, err)));
  }

  /** `fn` with every statement it runs taken as a long read (computing the reader). */
  async computingReader<T>(fn: () => Promise<T>): Promise<T> {
    this.computing = true;
    try {
      return await fn();
    } finally {
      this.computing = false;
    }
  }

  async cancel(scope: 'reads' | 'all', reason: CancelReason): Promise<void> {
    await this.watch.cancel(scope === 'reads' ? 'long' : 'all', reason);
  }

  /** `fn`'s result, or its error as the purge reports it (see translatePostgresError). */
  private async translated<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translatePostgresError(err, this.db, this.node, this.table);
    }
  }

  /** BEGIN (as given), fn, COMMIT; ROLLBACK on any error. */
  async transaction<T>(begin: string, fn: (began: unknown) => Promise<T>, types?: typeof TEXT_TYPES): Promise<T> {
    try {
      // `begin` may carry the transaction's first statement too (see deleteRows).
      const value = await fn(await this.query(begin, undefined, types));
      await this.query('COMMIT');
      return value;
    } catch (err) {
      // Also when `begin` itself failed after its BEGIN: that left a transaction open.
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
