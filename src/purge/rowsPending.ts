import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { coerceError } from '../errors.js';

/**
 * Files a run removed whose AFT_LOG rows it could not delete (the DELETE failed: a privilege
 * revoked, a failover, a lock timeout). The next run finds those files missing and deletes
 * their rows; this note lets its log say who removed them, instead of "already missing" for
 * no known reason. Kept per node in `rows-pending.json` in the state directory, written
 * (and synced) as soon as the DELETE fails.
 */
export interface RowsPendingLedger {
  /** When an earlier run removed the file of this `Post` row, if one did and its rows are still pending. */
  earlier(aftIndex: string): string | undefined;
  /** Notes this run's files whose rows are pending, and saves at once. */
  add(files: ReadonlyArray<{ aftIndex: string; path: string }>): Promise<void>;
  /** The rows of this `Post` row's file are deleted: forgotten (saved with `save`). */
  done(aftIndex: string): void;
  save(): Promise<void>;
}

interface LedgerFile {
  version: 1;
  nodes: Record<string, Record<string, { path: string; removedAt: string }>>;
}

export const ROWS_PENDING_FILE = 'rows-pending.json';

/** Reads the ledger of one node; a missing file is an empty one, an unreadable one an error naming the file and the fix. */
export async function openRowsPending(directory: string, node: string, now: () => Date = () => new Date()): Promise<RowsPendingLedger> {
  const file = path.join(directory, ROWS_PENDING_FILE);
  let data: LedgerFile = { version: 1, nodes: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LedgerFile>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.nodes !== 'object' || parsed.nodes === null) throw new Error('not a list of files with rows pending');
    data = { version: 1, nodes: parsed.nodes };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read ${file}: ${(err as Error).message}; fix or remove the file (it only names files an earlier run removed whose rows are still pending)`, { cause: err });
    }
  }
  const mine = (data.nodes[node] ??= {});
  const before = new Set(Object.keys(mine));
  let dirty = false;
  const save = async (): Promise<void> => {
    if (!dirty) return;
    if (Object.keys(mine).length === 0) delete data.nodes[node];
    await mkdir(directory, { recursive: true });
    // Temp file, synced, then renamed: a crash never leaves half a file.
    const tmp = `${file}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(data)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    data.nodes[node] = mine;
    dirty = false;
  };
  return {
    earlier: (aftIndex) => (before.has(aftIndex) ? mine[aftIndex]?.removedAt : undefined),
    async add(files) {
      const at = now().toISOString();
      for (const f of files) mine[f.aftIndex] ??= { path: f.path, removedAt: at };
      dirty = true;
      await save();
    },
    done(aftIndex) {
      if (mine[aftIndex]) {
        delete mine[aftIndex];
        dirty = true;
      }
    },
    save,
  };
}

/**
 * The error a failed DELETE of removed files stops the run with: what the database said, and
 * that those files are gone with their rows pending. The error itself, its message prefixed:
 * its kind (a lost connection, a full database, a database refusing writes) decides the exit
 * code and the alarms.
 */
export function deleteFailure(err: unknown, _node: string, files: number): Error {
  const e = coerceError(err);
  e.message = `${files} files were removed but their AFT_LOG rows could not be deleted (the next run deletes them; no new batch was started): ${e.message}`;
  return e;
}
