import type { Logger } from 'pino';
import { parseFilePath } from '../core/filePath.js';
import { infoMany } from '../logger.js';
import type { Catalog, CompanionRow, FileStore } from '../ports.js';

/** Downloads found and removed a run at most: the rest waits for the next run. */
export const ORPHAN_DOWNLOADS_A_RUN = 10_000;
/** How old a download must be: no transaction that logged it can still be committing. */
const SETTLED_MS = 15 * 60_000;

export interface OrphanDownloads {
  /** `Get` rows deleted. */
  rows: number;
  /** Their paths (files already gone). */
  files: number;
  /** Paths whose file is still on the file server: their rows stay. */
  kept: number;
}

/**
 * The `Get` rows of files an earlier purge removed, logged (or committed) after their file's
 * rows were deleted: found, and deleted when their path is in the node directory and no file
 * is there (a file still present keeps its rows, whatever AFT_LOG says). Never a row of the
 * current hour, never one logged in the last minutes.
 */
export async function removeOrphanDownloads(
  catalog: Catalog,
  files: FileStore,
  nodeDirectory: string,
  now: Date,
  currentHourStart: Date,
  log: Logger,
): Promise<OrphanDownloads | undefined> {
  if (!catalog.findOrphanDownloads) return undefined;
  const before = new Date(Math.min(now.getTime() - SETTLED_MS, currentHourStart.getTime()));
  const rows = await catalog.findOrphanDownloads(before, ORPHAN_DOWNLOADS_A_RUN);
  const out: OrphanDownloads = { rows: 0, files: 0, kept: 0 };
  if (rows.length === 0) return out;
  const byPath = new Map<string, CompanionRow[]>();
  for (const r of rows) {
    if (!parseFilePath(r.filePath, nodeDirectory).ok) continue;
    const list = byPath.get(r.filePath);
    if (list) list.push(r);
    else byPath.set(r.filePath, [r]);
  }
  const ids: string[] = [];
  const gonePaths: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  for (const [path, list] of byPath) {
    if (await files.exists(path)) {
      out.kept++;
      continue;
    }
    out.files++;
    gonePaths.push(path);
    ids.push(...list.map((r) => r.aftIndex));
    lines.push({ path, rows: list.length, aftIndexes: list.map((r) => r.aftIndex) });
  }
  if (ids.length === 0) return out;
  // By primary key only: nothing above the highest bigint is a late row.
  out.rows = await catalog.deleteRows(ids, gonePaths, '9223372036854775807');
  infoMany(log, 'deleted downloads of a file already purged', lines);
  return out;
}
