import type { DirectoryEntry, FileState, FileStore, FileToRemove, FreeSpace, RemoveOutcome } from '../ports.js';

/**
 * A file store still connecting. Logging in over SSH takes a good part of a second; the
 * purge's first database work (counting, computing the cursor) takes as long, and neither
 * needs the other, so they run side by side. Every call waits for the connection; if it
 * fails, every call fails with its error, and nothing has been removed.
 */
export class PendingFileStore implements FileStore {
  constructor(private readonly opening: Promise<FileStore>) {
    // Reported by the calls and by `failure()`, never as an unhandled rejection.
    opening.catch(() => undefined);
  }

  /** The connection's error once it is known; undefined when it succeeded. */
  failure(): Promise<Error | undefined> {
    return this.opening.then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  removeFiles(files: FileToRemove[]): Promise<RemoveOutcome[]> {
    return this.opening.then((s) => s.removeFiles(files));
  }

  removeEmptyFolders(dirs: string[]): Promise<string[]> {
    return this.opening.then((s) => s.removeEmptyFolders(dirs));
  }

  listDirectory(path: string): Promise<DirectoryEntry[] | 'missing'> {
    return this.opening.then((s) => s.listDirectory(path));
  }

  exists(path: string): Promise<boolean> {
    return this.opening.then((s) => s.exists(path));
  }

  statFiles(paths: string[]): Promise<FileState[]> {
    return this.opening.then((s) => s.statFiles(paths));
  }

  freeSpace(): Promise<FreeSpace | 'unsupported'> {
    return this.opening.then((s) => s.freeSpace());
  }

  close(): Promise<void> {
    return this.opening.then(
      (s) => s.close(),
      () => undefined,
    );
  }
}
