/**
 * The interfaces the purge needs from the outside world. The core never imports pg, oracledb
 * or ssh2: adapters implement these.
 */
import type { ChatType } from './core/chatType.js';
import type { UploadRow } from './core/eligibility.js';

/** Another AFT_LOG row sharing a file_path with a candidate upload (its `Get` rows, or a duplicate `Post`). */
export interface CompanionRow {
  aftIndex: string;
  filePath: string;
  method: string;
  chatType: string;
  uploadedAt: Date;
}

export interface ExpiredUploadQuery {
  chatType: ChatType;
  /** Uploads strictly before this instant. */
  before: Date;
  /** Keyset position: only rows with aft_index greater than this (decimal string). */
  afterIndex: string;
  limit: number;
}

/** AFT_LOG on one node's external database. */
export interface Catalog {
  /** The database server's clock, to measure skew against the host's. */
  databaseNow(): Promise<Date>;
  /** Expired `Post` rows of one chat type, ascending aft_index, at most `limit`. */
  findExpiredUploads(query: ExpiredUploadQuery): Promise<UploadRow[]>;
  /** How many expired `Post` rows (and their bytes) a chat type has: the backlog, for progress and metrics. */
  countExpiredUploads(chatType: ChatType, before: Date): Promise<{ files: number; bytes: number }>;
  /** Every row whose file_path is one of `paths`, whatever its method. */
  findRowsByPath(paths: string[]): Promise<CompanionRow[]>;
  /**
   * Deletes, in one transaction, the rows with these aft_index values, plus any row for one
   * of `paths` newer than `newerThanIndex` (a download logged after the rows were read).
   * Returns the number of rows deleted.
   */
  deleteRows(aftIndexes: string[], paths: string[], newerThanIndex: string): Promise<number>;
  close(): Promise<void>;
}

export interface FileToRemove {
  path: string;
  /** The file's hour folder, as parsed from the path. */
  hourDir: string;
}

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
  /** Whether a regular file or anything else exists at the path (lstat, no symlink follow). */
  exists(path: string): Promise<boolean>;
  close(): Promise<void>;
}
