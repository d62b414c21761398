import pg from 'pg';
import { oneAtATime, type OneAtATime } from '../oneAtATime.js';
import { DateTime } from 'luxon';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { connectPostgres } from './connect.js';
import { ConnectError, DatabaseFullError, DatabaseRefusedError, StatementCancelledError, type CancelReason } from '../../errors.js';
import type { UploadRow } from '../../core/eligibility.js';
import type { AuditRow, Catalog, PlanRow, ChatTypeCount, CompanionRow, DatabaseUsage, ExpiredCount, ExpiredUpload, ExpiredUploadQuery, ExpiredUploadReader } from '../../ports.js';
import * as sql from './sql.js';
import { RowGroups } from '../rowGroups.js';
import { parseWallClock } from './wallClockText.js';
import { QUERY_CANCELED, StatementWatch } from './cancel.js';
import { checkPostgresWritable } from './writable.js';

export { postgresClientConfig } from './clientConfig.js';

/** SQLSTATE class 53 code for "disk full" (Cisco's XcpMFTDBFullError condition on PostgreSQL). */
export const PG_DISK_FULL = '53100';
/** SQLSTATE 42501: a privilege is missing. */
const PG_INSUFFICIENT_PRIVILEGE = '42501';
/** SQLSTATE 25006: a write in a read-only transaction (a standby, default_transaction_read_only). */
const PG_READ_ONLY_TRANSACTION = '25006';

/**
 * A row of the expired-uploads cursor, as text (rowMode 'array'): every row of an expired
 * file, labelled with the file's expired `Post`; the file's details only on the Post's own row.
 */
type CursorRow = [
  post: string,
  idx: string,
  method: string,
  chatType: string,
  ts: string,
  filePath: string | null,
  size: string | null,
  moved: string | null,
  jid: string | null,
  toJid: string | null,
];

/** Every column as the server's text rendering: the reader converts what it needs itself. */
const TEXT_TYPES = { getTypeParser: (() => (v: string) => v) as never };

/** Cursor rows fetched at a time at least (a batch's files, with their companions, are more). */
const MIN_FETCH = 1000;
/** Rows fetched for each file a batch still needs. */
const ROWS_A_FILE = 2;
/** AFT_LOG on PostgreSQL, through one dedicated connection per node. */
export class PostgresCatalog implements Catalog {
  private readonly table: string;
  /**
   * The purge reads the next batch while it deletes the rows of the previous one, on this one
   * connection: a transaction's statements must not interleave with another call's.
   */
  private readonly exclusive: OneAtATime = oneAtATime();
  /** The purge's statements in progress, to cancel them on the server (see StatementWatch). */
  private readonly watch: StatementWatch;
  /** The reader is being computed: its statements are long reads, which a stop cancels. */
  private computing = false;

  private constructor(
    private readonly client: pg.Client,
    private readonly db: ResolvedPostgresDatabase,
    private readonly node: string,
  ) {
    this.table = sql.tableName(db.schema, db.table);
    this.watch = new StatementWatch({ host: db.host, port: db.port }, db.statementTimeoutMs);
  }

  static async open(node: string, db: ResolvedPostgresDatabase, env: NodeJS.ProcessEnv = process.env): Promise<PostgresCatalog> {
    const client = await connectPostgres(node, db, env);
    try {
      // The expired-uploads cursor returns timestamps as the server renders them, in this
      // session's DateStyle: ISO is the one form the reader (and node-postgres) parse.
      await client.query(sql.setIsoDateStyle);
      await client.query(sql.checkClientConnection);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new ConnectError('database', node, `cannot set DateStyle on PostgreSQL ${db.host}:${db.port}: ${(err as Error).message}`, { cause: err });
    }
    return new PostgresCatalog(client, db, node);
  }

  /** A statement on the first connection; `long` (a read that may take minutes) is cancelled by a stop. */
  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[], types?: typeof TEXT_TYPES, long = this.computing): Promise<pg.QueryResult<R>> {
    return this.translated(() =>
      this.watched(this.client, long, () => (types ? this.client.query<R>({ text, values, types }) : this.client.query<R>(text, values))),
    );
  }

  private watched<T>(client: pg.Client, long: boolean, fn: () => Promise<T>): Promise<T> {
    return this.watch.run(client, long, fn, (reason, err) => this.cancelledError(reason, err));
  }

  private cancelledError(reason: CancelReason, cause: unknown): StatementCancelledError {
    const where = `PostgreSQL ${this.db.host}:${this.db.port}`;
    const why = {
      stopped: `a statement was cancelled on ${where}: the purge was stopped`,
      'file-server-lost': `a statement was cancelled on ${where}: the file server was lost, so nothing more can be removed in this run`,
      timeout:
        `a statement ran longer than database.statementTimeout (${this.db.statementTimeout}) on ${where} and was cancelled; ` +
        `if AFT_LOG is that large or the server that busy, raise statementTimeout in the database section of node ${this.node} in the config`,
    }[reason];
    return new StatementCancelledError(this.node, reason, why, { cause });
  }

  async cancel(scope: 'reads' | 'all', reason: CancelReason): Promise<void> {
    await this.watch.cancel(scope === 'reads' ? 'long' : 'all', reason);
  }

  async checkWritable(): Promise<void> {
    await checkPostgresWritable((text, values) => this.exclusive(() => this.query(text, values)), this.db, this.node);
  }

  /** `fn`'s result, or its error as the purge reports it (see translate). */
  private async translated<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): Error {
    if (err instanceof StatementCancelledError) return err;
    const e = err as { code?: string; message?: string };
    // The server's own statement_timeout.
    if (e.code === QUERY_CANCELED && /statement timeout/i.test(e.message ?? '')) return this.cancelledError('timeout', err);
    const where = `PostgreSQL ${this.db.host}:${this.db.port}/${this.db.database}`;
    if (e.code === PG_INSUFFICIENT_PRIVILEGE) {
      return new DatabaseRefusedError(
        this.node,
        `${where} refused: ${e.message}; run as the owner of the table: GRANT SELECT, DELETE ON ${this.table} TO ${this.db.user};`,
        { cause: err },
      );
    }
    if (e.code === PG_READ_ONLY_TRANSACTION) {
      return new DatabaseRefusedError(this.node, `${where} refused: ${e.message} (a standby after a failover, or default_transaction_read_only): point database.host of node ${this.node} at the primary`, { cause: err });
    }
    if (e.code === PG_DISK_FULL) {
      return new DatabaseFullError(this.node, `the database is full (SQLSTATE 53100): ${e.message}`, { cause: err });
    }
    // A socket error carries Node's errno name (ECONNRESET, EPIPE, ETIMEDOUT...), never a
    // SQLSTATE: the server went away mid-query (e.g. stopped with -m immediate). Without this
    // it was reported as "read ECONNRESET", a partial purge (exit 1), not a lost database (3).
    const socketError = /^E[A-Z]+$/.test(e.code ?? '');
    if (!e.code || socketError || /^08/.test(e.code) || /terminat|Connection/i.test(e.message ?? '')) {
      return new ConnectError('database', this.node, `lost the connection to PostgreSQL ${this.db.host}:${this.db.port}: ${e.message}`, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }

  private toWall(t: Date): string {
    return DateTime.fromJSDate(t, { zone: this.db.timestampZone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS');
  }

  private fromWall(ts: string): Date {
    return parseWallClock(ts, this.db.timestampZone);
  }

  async databaseNow(): Promise<Date> {
    const r = await this.query<{ now: Date }>(sql.selectNow);
    return r.rows[0]!.now;
  }

  async openExpiredUploads(chatType: string, before: Date): Promise<ExpiredUploadReader> {
    const cutoff = this.toWall(before);
    const { highWaterIndex, lateRowsAbove } = await this.exclusive(async () => {
      this.computing = true;
      try {
        return await this.declareCursor(chatType, cutoff);
      } finally {
        this.computing = false;
      }
    });
    let open = true;
    let ended = false;
    const groups = new RowGroups<CursorRow>((r) => r[0]);
    // The connection also deletes the batches' rows: its FETCHes wait their turn there.
    const fetch = async (n: number): Promise<void> => {
      const r = await this.exclusive(() =>
        this.translated(() => this.watched(this.client, false, () => this.client.query<CursorRow>({ text: sql.fetchExpiredCursor(n), rowMode: 'array', types: TEXT_TYPES }))),
      );
      groups.add(r.rows);
      if (r.rows.length < n) ended = true;
    };
    // One call of the reader at a time.
    const inTurn = oneAtATime();
    return {
      highWaterIndex,
      lateRowsAbove,
      next: (limit) =>
        inTurn(async () => {
          if (!open) return [];
          const out: ExpiredUpload[] = [];
          for (;;) {
            for (const g of groups.take(limit - out.length, ended)) out.push(this.toExpiredUpload(g));
            if (out.length >= limit || ended) return out;
            // A file is its Post and its downloads (in a chat, mostly one): rows enough for that
            // fill most batches in one round trip, and what is left over starts the next batch.
            await fetch(Math.max(ROWS_A_FILE * limit, MIN_FETCH));
          }
        }),
      close: () =>
        inTurn(async () => {
          if (!open) return;
          open = false;
          await this.exclusive(() => this.client.query(sql.closeExpiredCursor).catch(() => undefined));
        }),
    };
  }

  /**
   * Declares the reader's cursor and has it computed (at COMMIT: the cursor is WITH HOLD), in a
   * REPEATABLE READ transaction that also fixes the high-water marks in the same snapshot.
   */
  private async declareCursor(chatType: string, cutoff: string): Promise<{ highWaterIndex: string; lateRowsAbove: string }> {
    let settled = sql.BIGINT_MIN;
    const max = await this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ', async () => {
      await this.query(sql.tuneCursorTransaction);
      const max = (await this.query<{ idx: string }>(sql.selectMaxIndex(this.table))).rows[0]!.idx;
      settled = (await this.query<{ idx: string }>(sql.selectSettledIndex(this.table), [this.db.timestampZone])).rows[0]!.idx;
      await this.query(sql.declareExpiredCursor(this.table), [chatType, cutoff]);
      return max;
    });
    return { highWaterIndex: max, lateRowsAbove: BigInt(settled) < BigInt(max) ? settled : max };
  }

  /**
   * The largest aft_index now. The purge's reader takes its own, in its snapshot; this one lets
   * the generic keyset reader (keysetUploadReader) run on PostgreSQL too, for the contract suite.
   */
  async maxAftIndex(): Promise<string> {
    return (await this.exclusive(() => this.query<{ idx: string }>(sql.selectMaxIndex(this.table)))).rows[0]!.idx;
  }

  /** BEGIN (as given), fn, COMMIT; ROLLBACK on any error. */
  private async transaction<T>(begin: string, fn: (began: unknown) => Promise<T>, types?: typeof TEXT_TYPES): Promise<T> {
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

  /** One file's rows from the cursor: its expired Post and the other rows of its path. */
  private toExpiredUpload(rows: CursorRow[]): ExpiredUpload {
    const post = rows.find((r) => r[1] === r[0]);
    if (!post) throw new Error(`the expired-uploads cursor returned rows of aft_index ${rows[0]![0]} without that row itself`);
    const filePath = post[5] ?? '';
    const companions: CompanionRow[] = [];
    for (const r of rows) {
      if (r !== post) companions.push({ aftIndex: r[1], filePath, method: r[2], chatType: r[3], uploadedAt: this.fromWall(r[4]) });
    }
    return {
      upload: this.toUploadRow({ idx: post[1], file_path: filePath, size: post[6] ?? '0', moved: post[7] ?? '0', chat_type: post[3], jid: post[8] ?? '', to_jid: post[9] ?? '', ts: post[4] }),
      companions,
    };
  }

  async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]> {
    if (counts.length === 0) return [];
    const withTotal = totalBefore !== undefined;
    const r = await this.query<Record<string, string>>(
      sql.countExpiredUploadsByChatType(this.table, counts.length, withTotal),
      [...counts.map((c) => c.chatType), ...counts.map((c) => this.toWall(c.before)), ...(withTotal ? [this.toWall(totalBefore)] : [])],
      undefined,
      true,
    );
    const row = r.rows[0]!;
    return counts.map((_, i) => ({
      files: Number(row[`files${i}`]),
      bytes: Number(row[`bytes${i}`]),
      ...(withTotal ? { total: Number(row[`total${i}`]) } : {}),
    }));
  }

  async findExpiredUploads(q: ExpiredUploadQuery): Promise<UploadRow[]> {
    const r = await this.exclusive(() =>
      this.query<{ idx: string; file_path: string; size: string; moved: string; chat_type: string; jid: string; to_jid: string; ts: string }>(
        sql.selectExpiredUploads(this.table),
        [q.chatType, this.toWall(q.before), q.afterIndex, q.limit],
        undefined,
        true,
      ),
    );
    return r.rows.map((row) => this.toUploadRow(row));
  }

  /** A `Post` row as selected by both the keyset query and the one-pass reader. */
  private toUploadRow(row: { idx: string; file_path: string; size: string; moved: string; chat_type: string; jid: string; to_jid: string; ts: string }): UploadRow {
    return {
      aftIndex: row.idx,
      filePath: row.file_path,
      fileSize: Number(row.size),
      bytesTransferred: Number(row.moved),
      chatType: row.chat_type,
      uploadedAt: this.fromWall(row.ts),
      jid: row.jid,
      toJid: row.to_jid,
    };
  }

  async findRowsByPath(paths: string[]): Promise<CompanionRow[]> {
    if (paths.length === 0) return [];
    const r = await this.exclusive(() =>
      this.query<{ idx: string; file_path: string; method: string; chat_type: string; ts: string }>(sql.selectRowsByPath(this.table), [paths], undefined, true),
    );
    return r.rows.map((row) => ({
      aftIndex: row.idx,
      filePath: row.file_path,
      method: row.method,
      chatType: row.chat_type,
      uploadedAt: this.fromWall(row.ts),
    }));
  }

  async findPlanRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<PlanRow[]> {
    if (aftIndexes.length === 0 && paths.length === 0) return [];
    type R = { idx: string; method: string; chat_type: string; file_path: string | null; size: string; moved: string; jid: string | null; to_jid: string | null; ts: string };
    const r = await this.exclusive(() => this.query<R>(sql.selectPlanRows(this.table), [aftIndexes, paths, newerThanIndex]));
    return r.rows.map((row) => ({
      aftIndex: row.idx,
      method: row.method,
      chatType: row.chat_type,
      filePath: row.file_path ?? '',
      uploadedAt: this.fromWall(row.ts),
      fileSize: Number(row.size),
      bytesTransferred: Number(row.moved),
      jid: row.jid ?? '',
      toJid: row.to_jid ?? '',
    }));
  }

  async deleteRows(aftIndexes: string[], _paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    if (aftIndexes.length === 0) return 0;
    // The paths are those of these rows: the statement reads them there (see sql.beginAndDeleteRows).
    const text = sql.beginAndDeleteRows(this.table, aftIndexes, newerThanIndex, beforeCommit !== undefined);
    // An explicit transaction, not an autocommitted statement: if this process dies while the
    // DELETE runs, the rows stay (nothing commits without our COMMIT), so the next run finds
    // the files missing and deletes and logs them then. Either every row of the batch goes,
    // or none.
    return this.exclusive(() =>
      this.transaction(
        text,
        async (began) => {
          // Several statements: node-postgres gives a result each (BEGIN's, the SET's, the DELETE's).
          // RETURNING *: every column of what was deleted, as text (no driver conversion), so
          // the export holds exactly what the table held. The export is written (and synced)
          // before COMMIT; if it fails, the transaction rolls back and no row goes unexported.
          const deleted = (began as pg.QueryResult<AuditRow>[])[sql.RESULTS_BEFORE_DELETE]!;
          if (beforeCommit) await beforeCommit(deleted.rows);
          return beforeCommit ? deleted.rows.length : (deleted.rowCount ?? 0);
        },
        TEXT_TYPES,
      ),
    );
  }

  async findOrphanDownloads(before: Date, limit: number): Promise<CompanionRow[]> {
    const r = await this.exclusive(() =>
      this.transaction('BEGIN', async () => {
        await this.query(sql.noNestedLoop);
        return this.query<{ idx: string; file_path: string; chat_type: string; ts: string }>(sql.selectOrphanDownloads(this.table), [this.toWall(before), limit], undefined, true);
      }),
    );
    return r.rows.map((row) => ({ aftIndex: row.idx, filePath: row.file_path, method: 'Get', chatType: row.chat_type, uploadedAt: this.fromWall(row.ts) }));
  }

  async databaseUsage(): Promise<DatabaseUsage> {
    const r = await this.query<{ bytes: string }>(sql.selectDatabaseSize);
    // PostgreSQL has no quota of its own: the capacity to compare against comes from the config.
    return { usedBytes: Number(r.rows[0]!.bytes), source: 'pg_database_size' };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
