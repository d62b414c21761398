/**
 * The interfaces the purge needs from the outside world. The core never imports pg, oracledb
 * or ssh2: adapters implement these.
 */
import type { ChatType } from './core/chatType.js';
import type { UploadRow } from './core/eligibility.js';
import type { CompanionRow } from './core/planBatch.js';
import type { RowColumns } from './core/planFile.js';
import type { CancelReason } from './errors.js';

/** Another AFT_LOG row sharing a file_path with a candidate upload; defined with the rules that read it. */
export type { CompanionRow };

/** One chat type's expired `Post` rows to count: those uploaded strictly before `before`. */
export interface ExpiredCount {
  chatType: ChatType;
  before: Date;
}

/** Expired uploads of a chat type, and their bytes. */
export interface Backlog {
  files: number;
  bytes: number;
}

/** What countExpiredUploadsByChatType found for one chat type. */
export interface ChatTypeCount extends Backlog {
  /** Only when asked for (totalBefore). */
  total?: number;
}

export interface ExpiredUploadQuery {
  chatType: ChatType;
  /** Uploads strictly before this instant. */
  before: Date;
  /** Keyset position: only rows with aft_index greater than this (decimal string). */
  afterIndex: string;
  limit: number;
}

/** An expired `Post` row with every other AFT_LOG row that shares its file_path. */
export interface ExpiredUpload {
  upload: UploadRow;
  /** Its `Get` rows and any other `Post` row for the same path, ascending aft_index. */
  companions: CompanionRow[];
}

/**
 * The expired uploads of one chat type, read once per run in ascending aft_index and handed
 * out a batch at a time. Whatever the backlog, only the batch asked for is held in memory.
 */
export interface ExpiredUploadReader {
  /**
   * The largest aft_index the reader saw when it opened: a row above it was logged during the
   * run (a late download), so deleteRows looks for those among the newest rows only.
   */
  readonly highWaterIndex: string;
  /**
   * Rows above this mark may have been logged, or committed, after the reader's snapshot: a
   * download whose transaction took its aft_index before the snapshot and committed after it
   * has an aft_index below highWaterIndex and is in no batch. deleteRows looks for the rows of
   * the removed files' paths above this mark (the last minutes of the table). At most
   * highWaterIndex; highWaterIndex when absent.
   */
  readonly lateRowsAbove?: string;
  /** The next at most `limit` uploads; an empty array when there are no more. */
  next(limit: number): Promise<ExpiredUpload[]>;
  close(): Promise<void>;
}

/**
 * One AFT_LOG row with every column of the table, keyed by column name in lower case, each
 * value as the database renders it as text (numbers as digits, timestamps as
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` wall-clock), null for SQL NULL.
 */
export type AuditRow = Record<string, string | null>;

/**
 * A whole AFT_LOG row as a plan records it and checks it again before applying it: the columns
 * the purge decides on. Text columns that are NULL read as ''.
 */
export type PlanRow = RowColumns;

/** AFT_LOG on one node's external database. */
export interface Catalog {
  /** The database server's clock, to measure skew against the host's. */
  databaseNow(): Promise<Date>;
  /**
   * Opens a reader over the `Post` rows of one chat type uploaded strictly before `before`,
   * each with its companion rows. Only one reader is open at a time on a catalog. The purge
   * reads its batches through it.
   */
  openExpiredUploads(chatType: ChatType, before: Date): Promise<ExpiredUploadReader>;
  /**
   * Expired `Post` rows of one chat type, ascending aft_index, at most `limit`, after a keyset
   * position (for the backlog alarm, and for adapters whose reader is built on it).
   */
  findExpiredUploads(query: ExpiredUploadQuery): Promise<UploadRow[]>;
  /** Every row whose file_path is one of `paths`, whatever its method (reconcile, companions). */
  findRowsByPath(paths: string[]): Promise<CompanionRow[]>;
  /**
   * How many expired `Post` rows (and their bytes) each chat type has, for several chat types
   * at once, in one pass over the table where the adapter can; the results come in the order
   * of `counts`. With `totalBefore`, each also has
   * `total`: the `Post` rows of the chat type uploaded before it (the blast-radius limits
   * compare the run with what the table holds).
   */
  countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]>;
  /**
   * Deletes, in one transaction, the rows with these aft_index values, plus any row
   * for one of `paths` newer than `newerThanIndex` (a download logged after the rows were read).
   * `paths` are the paths of the given rows (the files removed); an adapter may read them from
   * those rows instead.
   * Returns the number of rows deleted.
   *
   * With `beforeCommit` (the audit export): inside the transaction, before it commits, it is
   * called with every row the call deletes, all columns (see {@link AuditRow}); only when it resolves is
   * the transaction committed. If it throws, the transaction is rolled back and the error
   * rethrown: no row is deleted that was not exported. (PostgreSQL: DELETE ... RETURNING *;
   * Oracle: SELECT ... FOR UPDATE, then the DELETE, rolled back if it would take more rows.)
   */
  deleteRows(aftIndexes: string[], paths: string[], newerThanIndex: string, beforeCommit?: (rows: AuditRow[]) => Promise<void>): Promise<number>;
  /** How full the database is, for the XcpMFTDBFullError alarm. */
  databaseUsage(): Promise<DatabaseUsage>;
  /**
   * Cancels the purge's statements in progress on the server: `reads`, the long reads only
   * (counting, computing the reader: a stop, a lost file server; a DELETE of removed files
   * still finishes), or `all` (the purge gives up). Resolves once the requests are sent. The
   * cancelled call fails with a StatementCancelledError. An adapter without it lets a statement
   * run to its time limit.
   */
  cancel?(scope: 'reads' | 'all', reason: CancelReason): Promise<void>;
  /**
   * Before the first file of a node is removed: that this login may read and delete AFT_LOG
   * rows on a server that accepts writes. Throws a DatabaseRefusedError that names what is
   * missing and the statement that fixes it.
   */
  checkWritable?(): Promise<void>;
  /**
   * `Get` rows logged before `before` whose path has no other row (no `Post`): downloads of a
   * file already purged. At most `limit`, ascending aft_index.
   */
  findOrphanDownloads?(before: Date, limit: number): Promise<CompanionRow[]>;
  /**
   * The rows with these aft_index values, and every row for one of `paths` with an aft_index
   * above `newerThanIndex` (logged after a plan read the table): what a plan's batch is checked
   * against before it is applied, and what the plan records. One query for a batch (on Oracle,
   * one per 1,000 values); the rows above the mark are looked for in the primary key's newest
   * range only.
   */
  findPlanRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<PlanRow[]>;
  close(): Promise<void>;
}

/**
 * What the database reports about its own size. PostgreSQL knows only its size (the capacity
 * comes from the config); Oracle knows its tablespace quota or usage percent.
 */
export interface DatabaseUsage {
  usedBytes: number;
  /** The most the database may grow to, when the server knows it (Oracle quota / tablespace). */
  capacityBytes?: number;
  /** Used percent as the server reports it (Oracle DBA_TABLESPACE_USAGE_METRICS). */
  usedPercent?: number;
  /** Where the figures come from, for the alarm text: "pg_database_size", "USER_TS_QUOTAS", ... */
  source: string;
}

/**
 * "This process purges this node", held in the node's own database on a dedicated session:
 * when the process dies, the session ends and another instance may take the node.
 */
export interface NodeLock {
  readonly node: string;
  /** What identifies the lock on the server (advisory-lock key, DBMS_LOCK name), for the log. */
  readonly key: string;
  /** Aborted when the lock's session is lost (server restart, network drop). */
  readonly lost: AbortSignal;
  /** Whether the lock's session is still alive (one round trip); marks the lock lost if not. */
  isHeld(): Promise<boolean>;
  /** Unlocks and closes the session. Idempotent. */
  release(): Promise<void>;
}

/** Free space of the file system holding the node's directory (statvfs). */
export interface FreeSpace {
  totalBytes: number;
  /** Bytes available to the (unprivileged) user, as `df` shows them. */
  availableBytes: number;
}

export interface FileToRemove {
  path: string;
  /** The file's hour folder, as parsed from the path. */
  hourDir: string;
}

export interface DirectoryEntry {
  name: string;
  /** The entry itself: a symlink is `symlink`, whatever it points to. */
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
}

/** What lstat of a path found (a symlink is itself, never what it points to); mtime in ms when the server gives one. */
export type FileState = { type: 'file' | 'symlink' | 'directory' | 'other'; size: number; mtimeMs?: number } | 'missing' | Error;

export type RemoveOutcome =
  | { path: string; outcome: 'removed' }
  | { path: string; outcome: 'missing' }
  | { path: string; outcome: 'failed'; reason: string; message: string };

/** The node's directory on the file server (SFTP) or on this host (local). */
export interface FileStore {
  /**
   * Removes files, many at a time. Each file's parent folder must resolve (symlinks followed)
   * to the same place as its lexical path under the node directory, or nothing in it is
   * removed. Never throws for one file: each path gets an outcome.
   */
  removeFiles(files: FileToRemove[]): Promise<RemoveOutcome[]>;
  /**
   * Removes each folder if it is empty (rmdir never removes a non-empty folder nor follows a
   * symlink). Returns the folders removed; anything else is left alone without error.
   */
  removeEmptyFolders(dirs: string[]): Promise<string[]>;
  /**
   * The entries of a folder, like `ls -la` without following symlinks (each entry's type is
   * that of the entry itself, lstat). `missing` when the folder does not exist. Read-only;
   * used by reconciliation to walk hour folders.
   */
  listDirectory(path: string): Promise<DirectoryEntry[] | 'missing'>;
  /** Whether a regular file or anything else exists at the path (lstat, no symlink follow). */
  exists(path: string): Promise<boolean>;
  /** Free space of the node directory's file system; 'unsupported' when the server cannot say. */
  freeSpace(): Promise<FreeSpace | 'unsupported'>;
  /**
   * lstat of each path, many at a time, read-only (a plan records the files and checks them
   * again before removing them). Never throws for one path: each gets its state.
   */
  statFiles(paths: string[]): Promise<FileState[]>;
  close(): Promise<void>;
}
