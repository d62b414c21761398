import { lstat, readdir, realpath, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import type { DirectoryEntry, FileState, FileStore, FileToRemove, FreeSpace, RemoveOutcome } from '../ports.js';
import { eachLimited, makeLimiter, MISSING, NO_FILES_FOLDER, removeEmptyFolders, removeInFolders, type FolderOps, type Limiter } from './removeInFolders.js';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException)?.code;

/** Operations on this host's file system, at most `limit` at once. */
function localOps(limit: Limiter): FolderOps {
  return {
    realpaths: (paths) =>
      eachLimited(paths, limit, async (p) => {
        try {
          return await realpath(p);
        } catch (err) {
          if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return MISSING;
          throw err;
        }
      }),
    unlinks: (paths) =>
      eachLimited(paths, limit, async (p): Promise<'removed' | 'missing'> => {
        try {
          await unlink(p);
          return 'removed';
        } catch (err) {
          if (code(err) === 'ENOENT') return 'missing';
          throw err;
        }
      }),
    rmdirs: (paths) => eachLimited(paths, limit, async (p): Promise<'removed'> => (await rmdir(p), 'removed')),
    classify(err) {
      switch (code(err)) {
        case 'EACCES':
        case 'EPERM':
          return 'permission-denied';
        case 'EISDIR':
          return 'not-a-file';
        case 'EROFS':
          return 'read-only';
        default:
          return 'io-error';
      }
    },
    isFatal: () => false,
  };
}

/** The node's directory on this host: the daemon runs on the file server itself. */
export class LocalFileStore implements FileStore {
  private constructor(
    private readonly directory: string,
    private readonly realDirectory: string,
    private readonly ops: FolderOps,
    private readonly limit: Limiter,
  ) {}

  static async open(directory: string, concurrency: number): Promise<LocalFileStore> {
    let real: string;
    try {
      real = await realpath(directory);
    } catch (err) {
      throw new Error(`the node directory ${directory} cannot be opened (${code(err) ?? err})`, { cause: err });
    }
    const files = await stat(`${real}/files`).catch(() => undefined);
    if (!files?.isDirectory()) throw new Error(`the node directory ${directory} cannot be used: ${NO_FILES_FOLDER}`);
    const limit = makeLimiter(concurrency);
    return new LocalFileStore(directory, real, localOps(limit), limit);
  }

  removeFiles(files: FileToRemove[]): Promise<RemoveOutcome[]> {
    return removeInFolders(files, this.ops, this.directory, this.realDirectory);
  }

  removeEmptyFolders(dirs: string[]): Promise<string[]> {
    return removeEmptyFolders(dirs, this.ops, this.directory, this.realDirectory);
  }

  async listDirectory(path: string): Promise<DirectoryEntry[] | 'missing'> {
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return 'missing';
      throw err;
    }
    const out: DirectoryEntry[] = [];
    for (const name of names.sort()) {
      // lstat: a symlink is reported as one, never as what it points to.
      const st = await lstat(`${path}/${name}`).catch(() => undefined);
      if (!st) continue; // removed while listing
      const type = st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
      out.push({ name, type, size: st.size });
    }
    return out;
  }

  async exists(path: string): Promise<boolean> {
    try {
      await lstat(path);
      return true;
    } catch (err) {
      if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return false;
      throw err;
    }
  }

  statFiles(paths: string[]): Promise<FileState[]> {
    return eachLimited(paths, this.limit, async (p): Promise<FileState> => {
      try {
        const st = await lstat(p);
        return { type: st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other', size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
      } catch (err) {
        if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return 'missing';
        throw err;
      }
    });
  }

  async freeSpace(): Promise<FreeSpace> {
    const s = await statfs(this.realDirectory);
    return { availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  }

  async close(): Promise<void> {}
}
