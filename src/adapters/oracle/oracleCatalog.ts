import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import type { ChatType } from '../../core/chatType.js';
import type { UploadRow } from '../../core/eligibility.js';
import type { CancelReason } from '../../errors.js';
import type { AuditRow, PlanRow, Backlog, Catalog, ChatTypeCount, CompanionRow, DatabaseUsage, ExpiredCount, ExpiredUploadQuery, ExpiredUploadReader } from '../../ports.js';
import { KEYSET_START, openKeysetUploadReader } from '../keysetUploadReader.js';
import { OracleBatchDelete } from './batchDelete.js';
import { INDEX_BIND, wallClockBind } from './binds.js';
import { connectOracle, thinConnector, type OracleConnection, type OracleConnector } from './connection.js';
import { fromWall, text, type Row } from './rows.js';
import { OracleSession } from './session.js';
import { tablespaceUsage } from './usage.js';
import { checkOracleWritable } from './writable.js';
import * as sql from './sql.js';

export { wallClockBind } from './binds.js';
export { auditRow, quotaUsage } from './rows.js';

/**
 * AFT_LOG on Oracle (12c and later), through one dedicated thin-mode connection per node.
 * The same contract as the PostgreSQL adapter: keyset batches over aft_index (the generic
 * keyset reader), bound timestamps, deletes by primary key in one transaction per batch.
 */
export class OracleCatalog implements Catalog {
  private readonly table: string;
  private readonly session: OracleSession;
  private readonly batchDelete: OracleBatchDelete;

  constructor(
    conn: OracleConnection,
    private readonly db: ResolvedOracleDatabase,
    private readonly node: string,
  ) {
    this.table = sql.tableName(db.owner, db.table);
    this.session = new OracleSession(conn, db, node, this.table);
    this.batchDelete = new OracleBatchDelete(this.session, db, this.table);
  }

  static async open(node: string, db: ResolvedOracleDatabase, env: NodeJS.ProcessEnv = process.env, connector: OracleConnector = thinConnector): Promise<OracleCatalog> {
    return new OracleCatalog(await connectOracle(node, db, env, connector), db, node);
  }

  /** Breaks the call in progress (see OracleSession.cancel). */
  cancel(scope: 'reads' | 'all', reason: CancelReason): Promise<void> {
    return this.session.cancel(scope, reason);
  }

  /** Before the first removal: that the login may read and delete AFT_LOG rows (see checkOracleWritable). */
  checkWritable(): Promise<void> {
    return checkOracleWritable(this.session, this.db, this.node, this.table);
  }

  /** ORA- codes of a full tablespace or quota become DatabaseFullError; a lost session ConnectError. */
  translate(err: unknown): Error {
    return this.session.translate(err);
  }

  private fromWall(ts: string | number | null | undefined): Date {
    return fromWall(ts, this.db.timestampZone);
  }

  async databaseNow(): Promise<Date> {
    const [row] = await this.session.exclusive(() => this.session.query(sql.selectNow));
    return fromWall(row?.NOW, 'UTC');
  }

  /** The purge's reader: keyset pages and a lookup of their companions by path (see keysetUploadReader). */
  openExpiredUploads(chatType: ChatType, before: Date): Promise<ExpiredUploadReader> {
    return openKeysetUploadReader(this, chatType, before);
  }

  /** The largest aft_index now (the reader's high-water mark); KEYSET_START for an empty table. */
  async maxAftIndex(): Promise<string> {
    const [row] = await this.session.exclusive(() => this.session.query(sql.selectMaxIndex(this.table)));
    const idx = row?.IDX;
    return idx === null || idx === undefined ? KEYSET_START : String(idx);
  }

  async findExpiredUploads(q: ExpiredUploadQuery): Promise<UploadRow[]> {
    const rows = await this.session.exclusive(() =>
      this.session.query(sql.selectExpiredUploads(this.table), {
        chatType: q.chatType,
        before: wallClockBind(q.before, this.db.timestampZone),
        afterIndex: { val: q.afterIndex, ...INDEX_BIND },
        maxRows: q.limit,
      }),
    );
    return rows.map((r) => ({
      aftIndex: text(r.IDX),
      filePath: r.FILE_PATH === null || r.FILE_PATH === undefined ? null : String(r.FILE_PATH),
      fileSize: Number(r.FSIZE),
      bytesTransferred: Number(r.MOVED),
      chatType: text(r.CHAT_TYPE),
      uploadedAt: this.fromWall(r.TS),
      jid: text(r.JID),
      toJid: text(r.TO_JID),
    }));
  }

  private async countExpiredUploads(chatType: string, before: Date): Promise<Backlog> {
    const [row] = await this.session.exclusive(() => this.session.query(sql.countExpiredUploads(this.table), { chatType, before: wallClockBind(before, this.db.timestampZone) }));
    return { files: Number(row?.FILES ?? 0), bytes: Number(row?.BYTES ?? 0) };
  }

  /**
   * One count (one scan) a chat type, two with `totalBefore`. One scan for them all, as on
   * PostgreSQL, would be new Oracle SQL: only a real server checks that (`npm run test:oracle`).
   */
  async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]> {
    const out: ChatTypeCount[] = [];
    for (const { chatType, before } of counts) {
      const counted = await this.countExpiredUploads(chatType, before);
      out.push(totalBefore ? { ...counted, total: (await this.countExpiredUploads(chatType, totalBefore)).files } : counted);
    }
    return out;
  }

  findRowsByPath(paths: string[]): Promise<CompanionRow[]> {
    return this.session.exclusive(() => this.rowsByPath(paths));
  }

  private async rowsByPath(paths: string[]): Promise<CompanionRow[]> {
    const found: CompanionRow[] = [];
    // Never more than 1,000 items in one IN list (ORA-01795): one query per chunk.
    for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
      const rows = await this.session.query(sql.selectRowsByPath(this.table, chunk.length), sql.inListBinds(chunk));
      for (const r of rows) {
        found.push({ aftIndex: text(r.IDX), filePath: text(r.FILE_PATH), method: text(r.METHOD), chatType: text(r.CHAT_TYPE), uploadedAt: this.fromWall(r.TS) });
      }
    }
    return found;
  }

  /** By aft_index, then by path above the mark, 1,000 values a query at most (ORA-01795); each row once. */
  findPlanRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<PlanRow[]> {
    return this.session.exclusive(async () => {
      const byIndex = new Map<string, PlanRow>();
      const collect = (rows: Row[]): void => {
        for (const r of rows) {
          const row: PlanRow = {
            aftIndex: text(r.IDX),
            method: text(r.METHOD),
            chatType: text(r.CHAT_TYPE),
            filePath: text(r.FILE_PATH),
            uploadedAt: this.fromWall(r.TS),
            fileSize: Number(r.FSIZE ?? 0),
            bytesTransferred: Number(r.MOVED ?? 0),
            jid: text(r.JID),
            toJid: text(r.TO_JID),
          };
          byIndex.set(row.aftIndex, row);
        }
      };
      for (const chunk of sql.inListChunks([...new Set(aftIndexes)])) {
        collect(await this.session.query(sql.selectPlanRowsByIndex(this.table, chunk.length), sql.inListBinds(chunk)));
      }
      for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
        collect(await this.session.query(sql.selectPlanRowsNewerByPath(this.table, chunk.length), { ...sql.inListBinds(chunk), newerThan: { val: newerThanIndex, ...INDEX_BIND } }));
      }
      return [...byIndex.values()].sort((a, b) => (BigInt(a.aftIndex) < BigInt(b.aftIndex) ? -1 : BigInt(a.aftIndex) > BigInt(b.aftIndex) ? 1 : 0));
    });
  }

  /** The batch's rows in one transaction, exported first when `beforeCommit` is given (see OracleBatchDelete). */
  async deleteRows(aftIndexes: string[], paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    if (aftIndexes.length === 0) return 0;
    return this.session.exclusive(() => this.batchDelete.deleteInTransaction(aftIndexes, paths, newerThanIndex, beforeCommit));
  }

  /** AFT_LOG's tablespace usage, or the user's quota (see tablespaceUsage). */
  databaseUsage(): Promise<DatabaseUsage> {
    return this.session.exclusive(() => tablespaceUsage(this.session, this.db));
  }

  async close(): Promise<void> {
    await this.session.conn.close().catch(() => undefined);
  }
}
