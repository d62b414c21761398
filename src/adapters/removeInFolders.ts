import type { FileToRemove, RemoveOutcome } from '../ports.js';

/**
 * Without a files/ folder every file would look "already missing" and its rows would be
 * deleted: an unmounted file store must stop the purge, not empty the table.
 */
export const NO_FILES_FOLDER = 'it has no files/ folder (is the file store mounted? is this the node\'s External File Server Directory?)';

/**
 * The primitive file operations a store offers, a batch at a time: each path gets its own
 * result, in order, and a batch never rejects. An Error in a result is that path's failure.
 */
export interface FolderOps {
  /** For each path: its canonical path with symlinks resolved, 'missing', or the error. */
  realpaths(paths: readonly string[]): Promise<Array<string | Error>>;
  /** For each path: whether it was removed or was already missing, or the error. */
  unlinks(paths: readonly string[]): Promise<Array<'removed' | 'missing' | Error>>;
  /** Removes each folder if it is empty; a folder not empty, not a folder, or gone gets its error. */
  rmdirs(paths: readonly string[]): Promise<Array<'removed' | Error>>;
  /** Classifies an error of the calls above into a short reason. */
  classify(err: unknown): string;
  /** True when the error means the session is gone and nothing more will succeed. */
  isFatal(err: unknown): boolean;
}

/** A realpath result for a path that does not exist (real paths are absolute: no clash). */
export const MISSING = 'missing';

/** Any thrown value as an Error. */
export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

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
 * Removes files, a batch of operations at a time (the store bounds how many are in flight).
 * Before touching a folder, it checks that the folder resolves to exactly where its lexical
 * path says under the node's real directory: a folder replaced by a symlink pointing elsewhere
 * is never deleted through.
 */
export async function removeInFolders(files: FileToRemove[], ops: FolderOps, nodeDirectory: string, realNodeDirectory: string): Promise<RemoveOutcome[]> {
  const byDir = new Map<string, FileToRemove[]>();
  for (const f of files) {
    const list = byDir.get(f.hourDir);
    if (list) list.push(f);
    else byDir.set(f.hourDir, [f]);
  }
  const outcomes: RemoveOutcome[] = [];
  let fatal: string | undefined;
  const toUnlink: string[] = [];

  const dirs = [...byDir.keys()];
  const reals = await ops.realpaths(dirs);
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i]!;
    const group = byDir.get(dir)!;
    const real = reals[i]!;
    if (real instanceof Error) {
      if (ops.isFatal(real)) fatal ??= real.message;
      failAll(group, outcomes, ops.classify(real), real.message);
      continue;
    }
    // The whole hour folder is gone: its files are already removed.
    if (real === MISSING) {
      for (const f of group) outcomes.push({ path: f.path, outcome: 'missing' });
      continue;
    }
    const expected = realNodeDirectory + dir.slice(nodeDirectory.length);
    if (real !== expected) {
      failAll(group, outcomes, 'symlink-escape', `folder resolves to ${real}, not ${expected}`);
      continue;
    }
    for (const f of group) toUnlink.push(f.path);
  }
  if (fatal) {
    for (const path of toUnlink) outcomes.push({ path, outcome: 'failed', reason: 'connection-lost', message: fatal });
    return outcomes;
  }

  const results = await ops.unlinks(toUnlink);
  for (let i = 0; i < toUnlink.length; i++) {
    const path = toUnlink[i]!;
    const r = results[i]!;
    if (r instanceof Error) outcomes.push({ path, outcome: 'failed', reason: ops.classify(r), message: r.message });
    else outcomes.push({ path, outcome: r });
  }
  return outcomes;
}

function failAll(group: FileToRemove[], outcomes: RemoveOutcome[], reason: string, message: string): void {
  for (const f of group) outcomes.push({ path: f.path, outcome: 'failed', reason, message });
}

/** `fn` over every item with at most the limiter's number at once; each item's error is its result. */
export function eachLimited<T, R>(items: readonly T[], limit: Limiter, fn: (item: T) => Promise<R>): Promise<Array<R | Error>> {
  return Promise.all(items.map((item) => limit(() => fn(item)).catch(asError)));
}

/**
 * Removes now-empty hour folders, then their date folders when those became empty too. Only
 * folders under the node directory whose real path matches their lexical one are touched.
 */
export async function removeEmptyFolders(dirs: string[], ops: FolderOps, nodeDirectory: string, realNodeDirectory: string): Promise<string[]> {
  const removed: string[] = [];
  const levels = new Map<number, string[]>();
  for (const dir of new Set(dirs)) {
    if (!dir.startsWith(`${nodeDirectory}/files/`)) continue;
    const depth = dir.split('/').length;
    const level = levels.get(depth);
    if (level) level.push(dir);
    else levels.set(depth, [dir]);
  }
  // Deepest level first, a level at a time, so an hour folder goes before its date folder is tried.
  for (const depth of [...levels.keys()].sort((a, b) => b - a)) {
    const level = levels.get(depth)!.sort((a, b) => a.localeCompare(b));
    const reals = await ops.realpaths(level);
    const checked = level.filter((dir, i) => reals[i] === realNodeDirectory + dir.slice(nodeDirectory.length));
    const results = await ops.rmdirs(checked);
    // An error is fine: not empty (a new upload, or files this run kept), or gone.
    checked.forEach((dir, i) => {
      if (results[i] === 'removed') removed.push(dir);
    });
  }
  return removed;
}
