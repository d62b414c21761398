import type { FileToRemove, RemoveOutcome } from '../ports.js';

/**
 * Without a files/ folder every file would look "already missing" and its rows would be
 * deleted: an unmounted file store must stop the purge, not empty the table.
 */
export const NO_FILES_FOLDER = 'it has no files/ folder (is the file store mounted? is this the node\'s External File Server Directory?)';

/** The primitive file operations a store offers; each resolves 'missing' instead of throwing for a missing path. */
export interface FolderOps {
  /** Canonical path with symlinks resolved, or 'missing'. */
  realpath(path: string): Promise<string | 'missing'>;
  unlink(path: string): Promise<'removed' | 'missing'>;
  /** Removes an empty folder; throws if it is not empty, not a folder, or anything else. */
  rmdir(path: string): Promise<void>;
  /** Classifies an error thrown by the two calls above into a short reason. */
  classify(err: unknown): string;
  /** True when the error means the session is gone and nothing more will succeed. */
  isFatal(err: unknown): boolean;
}

/** Runs the functions given to it with at most `limit` at once, first come first served. */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

export function makeLimiter(limit: number): Limiter {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return async (fn) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

/**
 * Removes files with at most the limiter's number of operations in flight. The store shares
 * one limiter between calls, so batches removed side by side keep the same total in flight.
 * Before touching a folder, it checks that the folder resolves to exactly where its lexical
 * path says under the node's real directory: a folder replaced by a symlink pointing elsewhere
 * is never deleted through.
 */
export async function removeInFolders(
  files: FileToRemove[],
  ops: FolderOps,
  nodeDirectory: string,
  realNodeDirectory: string,
  limit: Limiter,
): Promise<RemoveOutcome[]> {
  const byDir = new Map<string, FileToRemove[]>();
  for (const f of files) {
    const list = byDir.get(f.hourDir);
    if (list) list.push(f);
    else byDir.set(f.hourDir, [f]);
  }
  const outcomes: RemoveOutcome[] = [];
  let fatal: string | undefined;
  const toUnlink: string[] = [];

  await forEachLimited([...byDir.keys()], limit, async (dir) => {
    const group = byDir.get(dir)!;
    if (fatal) return failAll(group, outcomes, 'connection-lost', fatal);
    const expected = realNodeDirectory + dir.slice(nodeDirectory.length);
    let real: string;
    try {
      real = await ops.realpath(dir);
    } catch (err) {
      if (ops.isFatal(err)) fatal = String((err as Error).message ?? err);
      return failAll(group, outcomes, ops.classify(err), (err as Error).message ?? String(err));
    }
    // The whole hour folder is gone: its files are already removed.
    if (real === 'missing') {
      for (const f of group) outcomes.push({ path: f.path, outcome: 'missing' });
      return;
    }
    if (real !== expected) {
      return failAll(group, outcomes, 'symlink-escape', `folder resolves to ${real}, not ${expected}`);
    }
    for (const f of group) toUnlink.push(f.path);
  });

  await forEachLimited(toUnlink, limit, async (path) => {
    if (fatal) {
      outcomes.push({ path, outcome: 'failed', reason: 'connection-lost', message: fatal });
      return;
    }
    try {
      outcomes.push({ path, outcome: await ops.unlink(path) });
    } catch (err) {
      if (ops.isFatal(err)) fatal = String((err as Error).message ?? err);
      outcomes.push({ path, outcome: 'failed', reason: ops.classify(err), message: (err as Error).message ?? String(err) });
    }
  });
  return outcomes;
}

function failAll(group: FileToRemove[], outcomes: RemoveOutcome[], reason: string, message: string): void {
  for (const f of group) outcomes.push({ path: f.path, outcome: 'failed', reason, message });
}

/** Runs `fn` over items through the limiter; never rejects (fn must not throw). */
async function forEachLimited<T>(items: T[], limit: Limiter, fn: (item: T) => Promise<void>): Promise<void> {
  await Promise.all(items.map((item) => limit(() => fn(item))));
}

/**
 * Removes now-empty hour folders, then their date folders when those became empty too. Only
 * folders under the node directory whose real path matches their lexical one are touched.
 */
export async function removeEmptyFolders(dirs: string[], ops: FolderOps, nodeDirectory: string, realNodeDirectory: string): Promise<string[]> {
  const removed: string[] = [];
  // Deepest first, so an hour folder goes before its date folder is tried.
  const ordered = [...new Set(dirs)].sort((a, b) => b.split('/').length - a.split('/').length || a.localeCompare(b));
  for (const dir of ordered) {
    if (!dir.startsWith(`${nodeDirectory}/files/`)) continue;
    try {
      const real = await ops.realpath(dir);
      if (real !== realNodeDirectory + dir.slice(nodeDirectory.length)) continue;
      await ops.rmdir(dir);
      removed.push(dir);
    } catch {
      // Not empty (a new upload, or files this run kept), or gone: both are fine.
    }
  }
  return removed;
}
