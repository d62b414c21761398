import { ConnectError } from '../errors.js';
import { infoMany } from '../logger.js';
import type { FileDecision } from '../core/planBatch.js';
import { countFailed, countGone, countKept } from '../core/purgeStats.js';
import { deleteFailure } from './rowsPending.js';
import type { ChatTypeRun } from './purgeTypes.js';

/**
 * The only code that deletes: files first, then, for files confirmed gone, their rows. The
 * files are removed at once, side by side with the previous batch; the rows wait for the
 * previous batch's turn, so rows are deleted (and files reported) in batch order.
 */
export async function executeBatch(run: ChatTypeRun, files: FileDecision[], previous: Promise<void>, newerThanIndex: string): Promise<FileDecision[]> {
  const { node, ports, opts, stats, log } = run;
  const toRemove = files.filter((f) => f.decision === 'delete');
  if (toRemove.length > 0 && !ports.files) throw new Error('no file store is open for this node');
  // 1. Remove the files. Never throws for one file: each path gets an outcome.
  const removal = toRemove.length > 0 ? ports.files!.removeFiles(toRemove.map((f) => ({ path: f.filePath!, hourDir: f.hourDir! }))) : Promise.resolve([]);
  const outcomes = await removal;
  await previous;
  for (const f of files) {
    if (f.decision === 'keep') {
      countKept(stats, f.reason);
      opts.onFile?.(node, f, 'kept');
    }
  }
  if (toRemove.length === 0) return [];
  // 2. Sort out which files are confirmed gone; any other keeps all its rows.
  const outcomeByPath = new Map(outcomes.map((o) => [o.path, o]));
  const gone: FileDecision[] = [];
  let fatal: Error | undefined;
  for (const f of toRemove) {
    const o = outcomeByPath.get(f.filePath!);
    if (o && o.outcome !== 'failed') {
      gone.push(f);
      continue;
    }
    const reason = o?.outcome === 'failed' ? o.reason : 'no-outcome';
    countFailed(stats, reason);
    log.warn({ path: f.filePath, reason, error: o?.outcome === 'failed' ? o.message : undefined }, 'file not removed; its rows are kept');
    opts.onFile?.(node, f, `failed:${reason}`);
    if (reason === 'connection-lost' && !fatal) {
      fatal = new ConnectError('file-server', node, `connection to the file server lost during the purge: ${o?.outcome === 'failed' ? o.message : ''}`);
    }
  }
  // 3. Rows are deleted here, and only here: after their files are confirmed gone.
  if (gone.length > 0) {
    const indexes = gone.flatMap((f) => f.rowIndexes);
    let deleted: number;
    try {
      const audit = ports.audit;
      deleted = await ports.catalog.deleteRows(indexes, gone.map((f) => f.filePath!), newerThanIndex, audit ? (rows) => audit.append(rows) : undefined);
    } catch (err) {
      // The files are gone but their rows remain: they are reported as removed, with their
      // rows pending, and noted for the next run, which finds the files missing and deletes
      // the rows then. Nothing is lost, and no further file is removed (the error stops the run).
      stats.rowsPending += gone.length;
      reportGone(run, gone, outcomeByPath, true);
      await ports.pending?.add(gone.map((f) => ({ aftIndex: f.aftIndex, path: f.filePath! })));
      throw deleteFailure(err, node, gone.length);
    }
    stats.rows += deleted;
    reportGone(run, gone, outcomeByPath, false);
  }
  if (fatal) throw fatal;
  return gone;
}

/** 4. Reports each removal (one log line a file: the audit trail). */
function reportGone(run: ChatTypeRun, gone: FileDecision[], outcomeByPath: Map<string, { outcome: string }>, rowsPending: boolean): void {
  const { node, ports, opts, stats, log } = run;
  const lines: Array<Record<string, unknown>> = [];
  for (const f of gone) {
    const missing = outcomeByPath.get(f.filePath!)?.outcome === 'missing';
    countGone(stats, f, missing);
    // A file missing because an earlier run removed it and could not delete its rows says so.
    const leftBy = missing ? ports.pending?.earlier(f.aftIndex) : undefined;
    lines.push({
      path: f.filePath,
      size: f.fileSize,
      rows: f.rowIndexes.length,
      aftIndex: f.aftIndex,
      alreadyMissing: missing,
      ...(leftBy ? { removedByEarlierRun: leftBy } : {}),
      ...(rowsPending ? { rowsPending: true } : {}),
    });
    if (!rowsPending) ports.pending?.done(f.aftIndex);
    opts.onFile?.(node, f, `${missing ? 'missing' : 'removed'}${rowsPending ? ':rows-pending' : ''}`);
  }
  infoMany(log, 'removed', lines);
  if (rowsPending) log.warn({ files: gone.length }, 'these files were removed but their AFT_LOG rows could not be deleted; the next run deletes them');
}
