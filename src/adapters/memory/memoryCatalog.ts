import { DateTime } from 'luxon';
import type { ChatType } from '../../core/chatType.js';
import type { UploadRow } from '../../core/eligibility.js';
import type { AuditRow, Catalog, ChatTypeCount, CompanionRow, DatabaseUsage, ExpiredCount, ExpiredUploadQuery, ExpiredUploadReader, PlanRow } from '../../ports.js';
import { KEYSET_START, openKeysetUploadReader } from '../keysetUploadReader.js';

/** One AFT_LOG row, every column of Cisco's table. */
export interface MemoryRow {
  aftIndex: bigint;
  jid: string;
  toJid: string;
  method: string;
  filename: string;
  realFilename: string;
  fileType: string;
  chatType: string;
  fileServer: string;
  filePath: string;
  fileSize: number;
  bytesTransferred: number;
  /** timestampvalue, as the instant it stands for. */
  timestamp: Date;
}

/** A row to add: the columns the purge reads, the others filled in. */
export type MemoryRowInput = Pick<MemoryRow, 'method' | 'chatType' | 'filePath' | 'timestamp'> & { aftIndex: bigint | number | string } & Partial<Omit<MemoryRow, 'aftIndex'>>;

export interface MemoryCatalogOptions {
  /** The database server's clock (default: the host's). */
  now?: () => Date;
  /** The zone timestampvalue is written in, for the audit export's text (default UTC). */
  timestampZone?: string;
  /**
   * Called with the rows a deleteRows call is about to delete, before anything is deleted:
   * throwing there fails the call and deletes none of them (a refused DELETE, a full disk).
   */
  beforeDelete?: (rows: readonly MemoryRow[]) => void | Promise<void>;
}

/**
 * AFT_LOG held in this process: the Catalog port without a database server, for tests of the
 * purge's rules and for trying the tool out. It meets the same contract as the PostgreSQL and
 * Oracle adapters (test/contract); its reader is the generic keyset one the Oracle adapter uses.
 */
export class MemoryCatalog implements Catalog {
  private readonly rows = new Map<bigint, MemoryRow>();
  private readonly now: () => Date;
  private readonly zone: string;

  constructor(
    rows: Iterable<MemoryRowInput> = [],
    private readonly opts: MemoryCatalogOptions = {},
  ) {
    this.now = opts.now ?? (() => new Date());
    this.zone = opts.timestampZone ?? 'UTC';
    this.insert(rows);
  }

  /** Adds rows, as another writer would (Cisco's MFT logging an upload or a download). */
  insert(rows: Iterable<MemoryRowInput>): void {
    for (const r of rows) {
      const aftIndex = BigInt(r.aftIndex);
      // A column given as undefined takes its default, as one left out does.
      const given = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as MemoryRowInput;
      if (this.rows.has(aftIndex)) throw new Error(`AFT_LOG already holds a row with aft_index ${aftIndex}`);
      this.rows.set(aftIndex, {
        jid: 'alice@example.com',
        toJid: 'bob@example.com',
        filename: 'f',
        realFilename: 'f',
        fileType: 'txt',
        fileServer: 'files.example.com',
        fileSize: 1024,
        bytesTransferred: given.fileSize ?? 1024,
        ...given,
        aftIndex,
      });
    }
  }

  /** Every row, ascending aft_index. */
  all(): MemoryRow[] {
    return [...this.rows.values()].sort((a, b) => compare(a.aftIndex, b.aftIndex));
  }

  /** aft_index of every row, ascending, as decimal strings. */
  indexes(): string[] {
    return this.all().map((r) => r.aftIndex.toString());
  }

  async databaseNow(): Promise<Date> {
    return this.now();
  }

  openExpiredUploads(chatType: ChatType, before: Date): Promise<ExpiredUploadReader> {
    return openKeysetUploadReader(this, chatType, before);
  }

  async maxAftIndex(): Promise<string> {
    let max: bigint | undefined;
    for (const i of this.rows.keys()) if (max === undefined || i > max) max = i;
    return max === undefined ? KEYSET_START : max.toString();
  }

  async findExpiredUploads(q: ExpiredUploadQuery): Promise<UploadRow[]> {
    const after = BigInt(q.afterIndex);
    return this.all()
      .filter((r) => isExpiredPost(r, q.chatType, q.before) && r.aftIndex > after)
      .slice(0, q.limit)
      .map((r) => ({
        aftIndex: r.aftIndex.toString(),
        filePath: r.filePath,
        fileSize: r.fileSize,
        bytesTransferred: r.bytesTransferred,
        chatType: r.chatType,
        uploadedAt: r.timestamp,
        jid: r.jid,
        toJid: r.toJid,
      }));
  }

  async findRowsByPath(paths: string[]): Promise<CompanionRow[]> {
    const wanted = new Set(paths);
    return this.all()
      .filter((r) => wanted.has(r.filePath))
      .map((r) => ({ aftIndex: r.aftIndex.toString(), filePath: r.filePath, method: r.method, chatType: r.chatType, uploadedAt: r.timestamp }));
  }

  async findPlanRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<PlanRow[]> {
    const ids = new Set(aftIndexes.map((i) => BigInt(i)));
    const wanted = new Set(paths);
    const mark = BigInt(newerThanIndex);
    return this.all()
      .filter((r) => ids.has(r.aftIndex) || (wanted.has(r.filePath) && r.aftIndex > mark))
      .map((r) => ({
        aftIndex: r.aftIndex.toString(),
        method: r.method,
        chatType: r.chatType,
        filePath: r.filePath,
        uploadedAt: r.timestamp,
        fileSize: r.fileSize,
        bytesTransferred: r.bytesTransferred,
        jid: r.jid,
        toJid: r.toJid,
      }));
  }

  async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]> {
    const rows = [...this.rows.values()];
    return counts.map(({ chatType, before }) => {
      const expired = rows.filter((r) => isExpiredPost(r, chatType, before));
      const count: ChatTypeCount = { files: expired.length, bytes: expired.reduce((n, r) => n + r.fileSize, 0) };
      if (totalBefore) count.total = rows.filter((r) => isExpiredPost(r, chatType, totalBefore)).length;
      return count;
    });
  }

  async deleteRows(aftIndexes: string[], _paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    // As the PostgreSQL adapter does: the paths are those of the given rows, read from them.
    const ids = new Set(aftIndexes.map((i) => BigInt(i)));
    const paths = new Set([...ids].flatMap((i) => (this.rows.has(i) ? [this.rows.get(i)!.filePath] : [])));
    const newer = BigInt(newerThanIndex);
    const doomed = [...this.rows.values()].filter((r) => ids.has(r.aftIndex) || (r.aftIndex > newer && paths.has(r.filePath)));
    await this.opts.beforeDelete?.(doomed);
    // Nothing is deleted until the export is written: a failure there deletes nothing.
    if (beforeCommit) await beforeCommit(doomed.map((r) => this.auditRow(r)));
    for (const r of doomed) this.rows.delete(r.aftIndex);
    return doomed.length;
  }

  async databaseUsage(): Promise<DatabaseUsage> {
    // About what a row of AFT_LOG takes on disk: the figure only has to be plausible.
    return { usedBytes: this.rows.size * 512, source: 'in-memory AFT_LOG' };
  }

  async close(): Promise<void> {}

  /** Every column as the database renders it as text (see AuditRow). */
  private auditRow(r: MemoryRow): AuditRow {
    return {
      aft_index: r.aftIndex.toString(),
      jid: r.jid,
      to_jid: r.toJid,
      method: r.method,
      filename: r.filename,
      real_filename: r.realFilename,
      file_type: r.fileType,
      chat_type: r.chatType,
      file_server: r.fileServer,
      file_path: r.filePath,
      file_size: String(r.fileSize),
      bytes_transferred: String(r.bytesTransferred),
      timestampvalue: wallClockText(r.timestamp, this.zone),
    };
  }
}

function isExpiredPost(r: MemoryRow, chatType: string, before: Date): boolean {
  return r.method === 'Post' && r.chatType === chatType && r.timestamp.getTime() < before.getTime();
}

const compare = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** `YYYY-MM-DD HH:MM:SS[.fff]`, trailing zeros of the fraction dropped, as PostgreSQL renders a timestamp. */
function wallClockText(t: Date, zone: string): string {
  return DateTime.fromJSDate(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS').replace(/\.?0+$/, '');
}
