// One chat type's purge: its expired uploads read a batch at a time, each batch decided and
// handed to executeBatch (or, in a dry-run, counted), and the folders it emptied removed.
import type { EligibilityContext } from '../core/eligibility.js';
import { attachCompanions, decideRows, type FileDecision } from '../core/planBatch.js';
import { countGone, countKept } from '../core/purgeStats.js';
import type { Backlog, CompanionRow, ExpiredUploadReader } from '../ports.js';
import { runPipeline } from './batchPipeline.js';
import { removeFinishedFolders, removeLeftFolders, type EmptiedFolders } from './emptiedFolders.js';
import { executeBatch } from './executeBatch.js';
import type { ChatTypeRun, PlannedBatch, StepProgress } from './purgeTypes.js';

export async function purgeChatType(run: ChatTypeRun, counted: Backlog): Promise<void> {
  const { ctx, ports, opts, stats, log } = run;
  const folders: EmptiedFolders = { emptied: new Map(), removed: new Set(), pending: [] };
  try {
    await purgeBatches(run, folders, counted);
  } finally {
    await Promise.all(folders.pending);
    if (!opts.dryRun && opts.removeEmptyFolders && ports.files) await removeLeftFolders(folders, ctx.currentHourStart, ports.files);
    stats.foldersRemoved += folders.removed.size;
    if (folders.removed.size) log.info({ folders: folders.removed.size }, 'removed empty folders');
  }
}

/** Reads the next batch and applies the eligibility rules to it; undefined when nothing is left. */
async function readBatch(reader: ExpiredUploadReader, ctx: EligibilityContext, batchSize: number): Promise<PlannedBatch | undefined> {
  const uploads = await reader.next(batchSize);
  if (uploads.length === 0) return undefined;
  const first = decideRows(uploads.map((u) => u.upload), ctx);
  // Two Post rows of one path each list the other (and the same Get rows): one copy of each row.
  const companions = new Map<string, CompanionRow>();
  for (const u of uploads) for (const c of u.companions) companions.set(c.aftIndex, c);
  return { files: attachCompanions(first, [...companions.values()], ctx), handled: uploads.length, last: uploads.length < batchSize };
}

async function purgeBatches(run: ChatTypeRun, folders: EmptiedFolders, backlog: Backlog): Promise<void> {
  const { node, ctx, ports, opts, stats, budget, pacing } = run;
  const progress: StepProgress = { step: budget.step, maxFilesPerSecond: pacing.pacer?.perSecond };
  // The backlog is the count taken before the run (blast-radius limits): counting again would
  // cost another pass over AFT_LOG.
  opts.onProgress?.(node, stats, backlog, progress);
  const reader = await ports.catalog.openExpiredUploads(ctx.chatType, ctx.retentionCutoff);
  const afterBatch = (batch: PlannedBatch): void => {
    stats.handled += batch.handled;
    opts.onProgress?.(node, stats, backlog, progress);
  };
  // With a cap, a batch is cut to the chat type's share and the step ends there; with a rate,
  // batches are one chunk of it.
  const read = async (): Promise<PlannedBatch | undefined> => {
    if (budget.exhausted) return undefined;
    const batch = await readBatch(reader, ctx, budget.readSize(opts.batchSize));
    if (!batch) return undefined;
    const fit = budget.take(batch.files, !batch.last);
    return { ...batch, files: fit.files, last: fit.last };
  };
  try {
    await runPipeline(read, run.signal, async (batch, previous) => {
      if (opts.dryRun) {
        await previous;
        countDryRun(run, batch.files);
      } else {
        const gone = await executeBatch(run, batch.files, previous, reader.lateRowsAbove ?? reader.highWaterIndex);
        for (const f of gone) folders.emptied.set(f.hourDir!, f.hourStart!);
        if (opts.removeEmptyFolders && ports.files) removeFinishedFolders(gone, ctx, ports.files, folders);
      }
      afterBatch(batch);
    });
  } finally {
    await reader.close();
  }
}

/** A dry-run's batch: counted and reported, nothing touched. */
function countDryRun({ node, opts, stats }: ChatTypeRun, files: FileDecision[]): void {
  for (const f of files) {
    if (f.decision === 'delete') {
      countGone(stats, f, false);
      stats.rows += f.rowIndexes.length;
    } else countKept(stats, f.reason);
    opts.onFile?.(node, f);
  }
}

