import type pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { connectPostgres } from './connect.js';
import { ConnectError, type CancelReason } from '../../errors.js';
import type { UploadRow } from '../../core/eligibility.js';
import type { AuditRow, Catalog, PlanRow, ChatTypeCount, CompanionRow, DatabaseUsage, ExpiredCount, ExpiredUploadQuery, ExpiredUploadReader } from '../../ports.js';
import * as sql from './sql.js';
import { parseWallClock } from './wallClockText.js';
import { checkPostgresWritable } from './writable.js';
import { openExpiredCursor } from './expiredCursor.js';
import { toUploadRow, toWall, type UploadRowText } from './rows.js';
import { PostgresSession, TEXT_TYPES } from './session.js';

export { postgresClientConfig } from './clientConfig.js';
export { PG_DISK_FULL } from './errors.js';

/** AFT_LOG on PostgreSQL, through one dedicated connection per node. */
export class PostgresCatalog implements Catalog {
  private readonly table: string;
  private readonly session: PostgresSession;

  private constructor(
    client: pg.Client,
    private readonly db: ResolvedPostgresDatabase,
    private readonly node: string,
  ) {
    this.table = sql.tableName(db.schema, db.table);
    this.session = new PostgresSession(client, db, node, this.table);
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

  async cancel(scope: 'reads' | 'all', reason: CancelReason): Promise<void> {
    await this.session.cancel(scope, reason);
  }

  async checkWritable(): Promise<void> {
    await checkPostgresWritable((text, values) => this.session.exclusive(() => this.session.query(text, values)), this.db, this.node);
  }

  private toWall(t: Date): string {
    return toWall(t, this.db.timestampZone);
  }

  private fromWall(ts: string): Date {
    return parseWallClock(ts, this.db.timestampZone);
  }

  async databaseNow(): Promise<Date> {
    const r = await this.session.query<{ now: Date }>(sql.selectNow);
    return r.rows[0]!.now;
  }

  /** The purge's reader: one cursor over the expired files' rows (see expiredCursor). */
  openExpiredUploads(chatType: string, before: Date): Promise<ExpiredUploadReader> {
    return openExpiredCursor(this.session, this.table, this.db, chatType, this.toWall(before));
  }

  /**
   * The largest aft_index now. The purge's reader takes its own, in its snapshot; this one lets
   * the generic keyset reader (keysetUploadReader) run on PostgreSQL too, for the contract suite.
   */
  async maxAftIndex(): Promise<string> {
    return (await this.session.exclusive(() => this.session.query<{ idx: string }>(sql.selectMaxIndex(this.table)))).rows[0]!.idx;
  }

  async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]> {
    if (counts.length === 0) return [];
    const withTotal = totalBefore !== undefined;
    const r = await this.session.query<Record<string, string>>(
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
    const r = await this.session.exclusive(() =>
      this.session.query<UploadRowText>(sql.selectExpiredUploads(this.table), [q.chatType, this.toWall(q.before), q.afterIndex, q.limit], undefined, true),
    );
    return r.rows.map((row) => toUploadRow(row, this.db.timestampZone));
  }

  async findRowsByPath(paths: string[]): Promise<CompanionRow[]> {
    if (paths.length === 0) return [];
    const r = await this.session.exclusive(() =>
      this.session.query<{ idx: string; file_path: string; method: string; chat_type: string; ts: string }>(sql.selectRowsByPath(this.table), [paths], undefined, true),
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
    const r = await this.session.exclusive(() => this.session.query<R>(sql.selectPlanRows(this.table), [aftIndexes, paths, newerThanIndex]));
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
    return this.session.exclusive(() =>
      this.session.transaction(
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
    const r = await this.session.exclusive(() =>
      this.session.transaction('BEGIN', async () => {
        await this.session.query(sql.noNestedLoop);
        return this.session.query<{ idx: string; file_path: string; chat_type: string; ts: string }>(sql.selectOrphanDownloads(this.table), [this.toWall(before), limit], undefined, true);
      }),
    );
    return r.rows.map((row) => ({ aftIndex: row.idx, filePath: row.file_path, method: 'Get', chatType: row.chat_type, uploadedAt: this.fromWall(row.ts) }));
  }

  async databaseUsage(): Promise<DatabaseUsage> {
    const r = await this.session.query<{ bytes: string }>(sql.selectDatabaseSize);
    // PostgreSQL has no quota of its own: the capacity to compare against comes from the config.
    return { usedBytes: Number(r.rows[0]!.bytes), source: 'pg_database_size' };
  }

  async close(): Promise<void> {
    await this.session.client.end().catch(() => undefined);
  }
}
