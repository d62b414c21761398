import pg from 'pg';
import { DateTime } from 'luxon';
import type { ResolvedDatabase } from '../../config/loadConfig.js';
import { connectPostgres } from './connect.js';
import type { UploadRow } from '../../core/eligibility.js';
import { ConnectError, DatabaseFullError } from '../../errors.js';
import type { Catalog, CompanionRow, DatabaseUsage, ExpiredUploadQuery } from '../../ports.js';
import * as sql from './sql.js';

export { postgresClientConfig } from './clientConfig.js';

/** SQLSTATE class 53 code for "disk full" (Cisco's XcpMFTDBFullError condition on PostgreSQL). */
export const PG_DISK_FULL = '53100';

/** AFT_LOG on PostgreSQL, through one dedicated connection per node. */
export class PostgresCatalog implements Catalog {
  private readonly table: string;

  private constructor(
    private readonly client: pg.Client,
    private readonly db: ResolvedDatabase,
    private readonly node: string,
  ) {
    this.table = sql.tableName(db.schema, db.table);
  }

  static async open(node: string, db: ResolvedDatabase, env: NodeJS.ProcessEnv = process.env): Promise<PostgresCatalog> {
    return new PostgresCatalog(await connectPostgres(node, db, env), db, node);
  }

  private async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(text, values);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): Error {
    const e = err as { code?: string; message?: string };
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
    return DateTime.fromISO(ts, { zone: this.db.timestampZone }).toJSDate();
  }

  async databaseNow(): Promise<Date> {
    const r = await this.query<{ now: Date }>(sql.selectNow);
    return r.rows[0]!.now;
  }

  async findExpiredUploads(q: ExpiredUploadQuery): Promise<UploadRow[]> {
    const r = await this.query<{ idx: string; file_path: string; size: string; moved: string; chat_type: string; jid: string; to_jid: string; ts: string }>(
      sql.selectExpiredUploads(this.table),
      [q.chatType, this.toWall(q.before), q.afterIndex, q.limit],
    );
    return r.rows.map((row) => ({
      aftIndex: row.idx,
      filePath: row.file_path,
      fileSize: Number(row.size),
      bytesTransferred: Number(row.moved),
      chatType: row.chat_type,
      uploadedAt: this.fromWall(row.ts),
      jid: row.jid,
      toJid: row.to_jid,
    }));
  }

  async countExpiredUploads(chatType: string, before: Date): Promise<{ files: number; bytes: number }> {
    const r = await this.query<{ files: string; bytes: string }>(sql.countExpiredUploads(this.table), [chatType, this.toWall(before)]);
    return { files: Number(r.rows[0]!.files), bytes: Number(r.rows[0]!.bytes) };
  }

  async findRowsByPath(paths: string[]): Promise<CompanionRow[]> {
    if (paths.length === 0) return [];
    const r = await this.query<{ idx: string; file_path: string; method: string; chat_type: string; ts: string }>(sql.selectRowsByPath(this.table), [paths]);
    return r.rows.map((row) => ({
      aftIndex: row.idx,
      filePath: row.file_path,
      method: row.method,
      chatType: row.chat_type,
      uploadedAt: this.fromWall(row.ts),
    }));
  }

  async deleteRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<number> {
    if (aftIndexes.length === 0) return 0;
    // One transaction per batch: either every row of the batch's removed files goes, or none.
    await this.query('BEGIN');
    try {
      const a = await this.query(sql.deleteByIndex(this.table), [aftIndexes]);
      const b = await this.query(sql.deleteNewerByPath(this.table), [newerThanIndex, paths]);
      await this.query('COMMIT');
      return (a.rowCount ?? 0) + (b.rowCount ?? 0);
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
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
