import oracledb, { type DbType } from 'oracledb';
import { oneAtATime, type OneAtATime } from '../oneAtATime.js';
import { DateTime } from 'luxon';
import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import type { ChatType } from '../../core/chatType.js';
import type { UploadRow } from '../../core/eligibility.js';
import { ConnectError, DatabaseFullError, DatabaseRefusedError, StatementCancelledError, type CancelReason } from '../../errors.js';
import type { AuditRow, PlanRow, Backlog, Catalog, ChatTypeCount, CompanionRow, DatabaseUsage, ExpiredCount, ExpiredUploadQuery, ExpiredUploadReader } from '../../ports.js';
import { KEYSET_START, openKeysetUploadReader } from '../keysetUploadReader.js';
import { connectOracle, describeOracle, thinConnector, type OracleConnection, type OracleConnector } from './connection.js';
import { classifyOracleError, isTableOrViewMissing, oraCode, oraNumber } from './errors.js';
import * as sql from './sql.js';

type Row = Record<string, string | number | null>;

/** The statements a stop cancels: the counts and the reads of expired uploads and of rows by path. */
const LONG_READ = /^\s*SELECT\b[\s\S]*\bFROM\b(?![\s\S]*\bFOR UPDATE\b)/i;

/** Oracle returns unquoted aliases in upper case. */
const QUERY = { outFormat: oracledb.OUT_FORMAT_OBJECT, autoCommit: false } as const;

// aft_index travels as text both ways (NUMBER(19) exceeds 2^53); a path as VARCHAR2 of up to
// 4000 bytes (AFT_LOG's file_path is VARCHAR2(511)).
const INDEX_BIND = { type: oracledb.STRING, maxSize: 40 };
const PATH_BIND = { type: oracledb.STRING, maxSize: 4000 };

/**
 * A bind for "this instant, as AFT_LOG's zone-less timestampvalue reads it": a Date whose UTC
 * clock shows the wall clock in `zone`, sent as TIMESTAMP WITH TIME ZONE (the driver writes it
 * in UTC) for SYS_EXTRACT_UTC to turn back into that wall clock. Sending a plain TIMESTAMP
 * instead would use this process's local time zone.
 */
export function wallClockBind(instant: Date, zone: string): { val: Date; type: DbType } {
  const w = DateTime.fromJSDate(instant, { zone });
  return { val: new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond)), type: oracledb.DB_TYPE_TIMESTAMP_TZ };
}

/** The audit export's rows: numbers as the driver's exact text (thin mode never goes through a float). */
const AUDIT_QUERY = {
  outFormat: oracledb.OUT_FORMAT_OBJECT,
  autoCommit: false,
  fetchTypeHandler: (m: { dbType?: unknown }) => (m.dbType === oracledb.DB_TYPE_NUMBER ? { type: oracledb.STRING } : undefined),
} as const;

/**
 * One fetched row as an AuditRow: text or null. The server's microseconds lose their trailing
 * zeros (and a bare dot), as PostgreSQL renders a timestamp.
 */
export function auditRow(row: Record<string, unknown>): AuditRow {
  const out: AuditRow = {};
  for (const [k, v] of Object.entries(row)) {
    if (v === null || v === undefined) out[k] = null;
    else {
      const s = v instanceof Date ? v.toISOString() : String(v);
      out[k] = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$/.test(s) ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
    }
  }
  return out;
}

/** Oracle stores '' as NULL: a NULL text column reads as ''. file_path keeps its NULL (an empty path). */
const text = (v: string | number | null | undefined): string => (v === null || v === undefined ? '' : String(v));

/**
 * AFT_LOG on Oracle (12c and later), through one dedicated thin-mode connection per node.
 * The same contract as the PostgreSQL adapter: keyset batches over aft_index (the generic
 * keyset reader), bound timestamps, deletes by primary key in one transaction per batch.
 */
export class OracleCatalog implements Catalog {
  private readonly table: string;
  /**
   * The purge reads the next batch while it deletes the rows of the previous one, on this one
   * connection: a transaction's statements must not interleave with another call's.
   */
  private readonly exclusive: OneAtATime = oneAtATime();

  constructor(
    private readonly conn: OracleConnection,
    private readonly db: ResolvedOracleDatabase,
    private readonly node: string,
  ) {
    this.table = sql.tableName(db.owner, db.table);
  }

  static async open(node: string, db: ResolvedOracleDatabase, env: NodeJS.ProcessEnv = process.env, connector: OracleConnector = thinConnector): Promise<OracleCatalog> {
    return new OracleCatalog(await connectOracle(node, db, env, connector), db, node);
  }

  private async query(text: string, binds: Record<string, unknown> = {}): Promise<Row[]> {
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

  /** Long reads in progress (counting, a page of expired uploads, rows by path), which a stop cancels. */
  private longReads = 0;
  /** After a stop, no new long read starts; after giving up, no statement at all. */
  private refused: { scope: 'long' | 'all'; reason: CancelReason } | undefined;
  /** Why the session's call was broken: ORA-01013 is then the purge's own cancel. */
  private broken: CancelReason | undefined;

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

  /**
   * Before the first removal: that the login may read and delete AFT_LOG rows on a primary
   * that accepts writes, found by trying (see sql.tryDelete), then rolled back.
   */
  async checkWritable(): Promise<void> {
    await this.exclusive(async () => {
      const [row] = await this.query(sql.selectDatabaseRole);
      const role = text(row?.DB_ROLE);
      const login = text(row?.LOGIN) || this.db.user;
      const where = `Oracle ${describeOracle(this.db)}`;
      const grant = `run as the owner of the table: GRANT SELECT, DELETE ON ${this.table} TO ${login};`;
      if (role && role !== 'PRIMARY') {
        throw new DatabaseRefusedError(this.node, `the purge cannot delete AFT_LOG rows on ${where}, so no file was removed: the database is a ${role} (SYS_CONTEXT('USERENV', 'DATABASE_ROLE')): point the node's database at the primary`);
      }
      for (const [statement, privilege] of [
        [sql.trySelect(this.table), 'SELECT'],
        [sql.tryDelete(this.table), 'DELETE'],
      ] as const) {
        try {
          await this.conn.execute(statement, {}, { autoCommit: false });
        } catch (err) {
          const ora = oraNumber((err ?? {}) as never);
          const why =
            ora === 1031 || ora === 942
              ? `${login} lacks the ${privilege} privilege on ${this.table} (${oraCode(ora)}): ${grant}`
              : ora === 16000
                ? `the database is open read-only (${oraCode(ora)}): point the node's database at the primary`
                : undefined;
          if (why) throw new DatabaseRefusedError(this.node, `the purge cannot delete AFT_LOG rows on ${where}, so no file was removed: ${why}`, { cause: err });
          throw this.translate(err);
        } finally {
          await this.conn.rollback().catch(() => undefined);
        }
      }
    });
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

  private fromWall(ts: string | number | null | undefined): Date {
    return DateTime.fromISO(text(ts), { zone: this.db.timestampZone }).toJSDate();
  }

  async databaseNow(): Promise<Date> {
    const [row] = await this.exclusive(() => this.query(sql.selectNow));
    return DateTime.fromISO(text(row?.NOW), { zone: 'UTC' }).toJSDate();
  }

  /** The purge's reader: keyset pages and a lookup of their companions by path (see keysetUploadReader). */
  openExpiredUploads(chatType: ChatType, before: Date): Promise<ExpiredUploadReader> {
    return openKeysetUploadReader(this, chatType, before);
  }

  /** The largest aft_index now (the reader's high-water mark); KEYSET_START for an empty table. */
  async maxAftIndex(): Promise<string> {
    const [row] = await this.exclusive(() => this.query(sql.selectMaxIndex(this.table)));
    const idx = row?.IDX;
    return idx === null || idx === undefined ? KEYSET_START : String(idx);
  }

  async findExpiredUploads(q: ExpiredUploadQuery): Promise<UploadRow[]> {
    const rows = await this.exclusive(() =>
      this.query(sql.selectExpiredUploads(this.table), {
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
    const [row] = await this.exclusive(() => this.query(sql.countExpiredUploads(this.table), { chatType, before: wallClockBind(before, this.db.timestampZone) }));
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
    return this.exclusive(() => this.rowsByPath(paths));
  }

  private async rowsByPath(paths: string[]): Promise<CompanionRow[]> {
    const found: CompanionRow[] = [];
    // Never more than 1,000 items in one IN list (ORA-01795): one query per chunk.
    for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
      const rows = await this.query(sql.selectRowsByPath(this.table, chunk.length), sql.inListBinds(chunk));
      for (const r of rows) {
        found.push({ aftIndex: text(r.IDX), filePath: text(r.FILE_PATH), method: text(r.METHOD), chatType: text(r.CHAT_TYPE), uploadedAt: this.fromWall(r.TS) });
      }
    }
    return found;
  }

  /** By aft_index, then by path above the mark, 1,000 values a query at most (ORA-01795); each row once. */
  findPlanRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<PlanRow[]> {
    return this.exclusive(async () => {
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
        collect(await this.query(sql.selectPlanRowsByIndex(this.table, chunk.length), sql.inListBinds(chunk)));
      }
      for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
        collect(await this.query(sql.selectPlanRowsNewerByPath(this.table, chunk.length), { ...sql.inListBinds(chunk), newerThan: { val: newerThanIndex, ...INDEX_BIND } }));
      }
      return [...byIndex.values()].sort((a, b) => (BigInt(a.aftIndex) < BigInt(b.aftIndex) ? -1 : BigInt(a.aftIndex) > BigInt(b.aftIndex) ? 1 : 0));
    });
  }

  async deleteRows(aftIndexes: string[], paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    if (aftIndexes.length === 0) return 0;
    return this.exclusive(() => this.deleteInTransaction(aftIndexes, paths, newerThanIndex, beforeCommit));
  }

  private async deleteInTransaction(aftIndexes: string[], paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    // One transaction per batch: either every row of the batch's removed files goes, or none.
    // Array binds (executeMany) send every aft_index in one round trip, with no IN list at all.
    const options = { autoCommit: false } as const;
    try {
      // The audit export: Oracle has no DELETE ... RETURNING * for a whole row, so the rows are
      // read first, locked (FOR UPDATE) so that nobody changes them before the DELETE, and
      // handed over; only when beforeCommit resolves are they deleted and committed.
      const exported = beforeCommit ? await this.rowsToDelete(aftIndexes, paths, newerThanIndex) : undefined;
      if (exported) await beforeCommit!(exported);
      const a = await this.conn.executeMany(sql.deleteByIndex(this.table), aftIndexes.map((idx) => ({ idx })), { ...options, bindDefs: { idx: INDEX_BIND } });
      const live = [...new Set(paths.filter((p) => p !== ''))];
      const b =
        live.length === 0
          ? { rowsAffected: 0 }
          : await this.conn.executeMany(sql.deleteNewerByPath(this.table), live.map((path) => ({ newerThan: newerThanIndex, path })), { ...options, bindDefs: { newerThan: INDEX_BIND, path: PATH_BIND } });
      const deleted = (a.rowsAffected ?? 0) + (b.rowsAffected ?? 0);
      if (exported && deleted !== exported.length) {
        // A row for one of the paths was logged between the export and the DELETE: it would be
        // deleted without being exported. Roll back; the next run exports and deletes it all.
        throw new Error(`the batch would delete ${deleted} rows but ${exported.length} were exported (rows were logged for these files meanwhile); rolled back, the next run deletes them`);
      }
      await this.conn.commit();
      return deleted;
    } catch (err) {
      await this.conn.rollback().catch(() => undefined);
      throw this.translate(err);
    }
  }

  /** Every column of the rows a batch deletes, as text with lower-case keys (the AuditRow contract), locked. */
  private async rowsToDelete(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<AuditRow[]> {
    const columns = await this.auditColumns();
    const byIndex = new Map<string, AuditRow>();
    const collect = async (text: string, binds: Record<string, unknown>) => {
      const r = await this.conn.execute<Record<string, unknown>>(text, binds, AUDIT_QUERY);
      for (const row of r.rows ?? []) {
        const out = auditRow(row);
        byIndex.set(out.aft_index ?? '', out);
      }
    };
    for (const chunk of sql.inListChunks([...new Set(aftIndexes)])) {
      await collect(sql.selectForAuditByIndex(this.table, columns, chunk.length), sql.inListBinds(chunk));
    }
    for (const chunk of sql.inListChunks([...new Set(paths.filter((p) => p !== ''))])) {
      await collect(sql.selectForAuditNewerByPath(this.table, columns, chunk.length), { ...sql.inListBinds(chunk), newerThan: newerThanIndex });
    }
    return [...byIndex.values()];
  }

  private columns?: sql.AuditColumn[];

  /** AFT_LOG's columns, read once per connection. */
  private async auditColumns(): Promise<sql.AuditColumn[]> {
    if (this.columns) return this.columns;
    const owner = (this.db.owner ?? text((await this.query(sql.selectUser))[0]?.USERNAME)).toUpperCase();
    const rows = await this.query(sql.selectColumns, { owner, tableName: this.db.table.toUpperCase() });
    const columns = rows.map((r) => ({ name: text(r.NAME), type: text(r.TYPE) }));
    if (!columns.some((c) => c.name.toLowerCase() === 'aft_index')) {
      throw new Error(`cannot read the columns of ${this.table} for the audit export (ALL_TAB_COLUMNS shows none with aft_index)`);
    }
    this.columns = columns;
    return columns;
  }

  /**
   * DBA_TABLESPACE_USAGE_METRICS for AFT_LOG's tablespace where granted (autoextend included);
   * otherwise, silently, the login user's USER_TS_QUOTAS (no privilege needed).
   */
  databaseUsage(): Promise<DatabaseUsage> {
    return this.exclusive(() => this.usage());
  }

  private async usage(): Promise<DatabaseUsage> {
    const owner = (this.db.owner ?? text((await this.query(sql.selectUser))[0]?.USERNAME)).toUpperCase();
    const [t] = await this.query(sql.selectTableTablespace, { owner, tableName: this.db.table.toUpperCase() });
    const tablespace = t?.TABLESPACE === null || t?.TABLESPACE === undefined ? undefined : String(t.TABLESPACE);
    if (tablespace) {
      try {
        const [m] = (await this.conn.execute<Row>(sql.selectTablespaceMetrics, { tablespace }, QUERY)).rows ?? [];
        if (m) {
          return { usedBytes: Number(m.USED), capacityBytes: Number(m.MAX_BYTES), usedPercent: Number(m.USED_PERCENT), source: `DBA_TABLESPACE_USAGE_METRICS (tablespace ${tablespace})` };
        }
      } catch (err) {
        if (!isTableOrViewMissing(err)) throw this.translate(err);
      }
    }
    return quotaUsage(await this.query(sql.selectUserQuotas), tablespace);
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

/**
 * Usage from USER_TS_QUOTAS rows: the quota on AFT_LOG's tablespace when the user has one,
 * else the largest. MAX_BYTES -1 is an unlimited quota: no capacity to compare against.
 */
export function quotaUsage(rows: Row[], tablespace: string | undefined): DatabaseUsage {
  const row = rows.find((r) => r.TABLESPACE === tablespace) ?? rows[0];
  if (!row) return { usedBytes: 0, source: 'USER_TS_QUOTAS (no quota: the user has none, or UNLIMITED TABLESPACE)' };
  const max = Number(row.MAX_BYTES);
  const usedBytes = Number(row.USED);
  const source = `USER_TS_QUOTAS (tablespace ${text(row.TABLESPACE)}${max < 0 ? ', unlimited' : ''})`;
  if (max < 0) return { usedBytes, source };
  return { usedBytes, capacityBytes: max, usedPercent: max > 0 ? Math.round((usedBytes / max) * 10_000) / 100 : undefined, source };
}
