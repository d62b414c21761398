// The hour and date folders a chat type's purge emptied, removed beside the batches and at its end.
import { emptyFolderCandidates, finishedHourFolders } from '../core/emptyFolders.js';
import type { EligibilityContext } from '../core/eligibility.js';
import type { FileDecision } from '../core/planBatch.js';
import type { FileStore } from '../ports.js';

/** The hour folders a chat type's purge emptied, and the ones already removed on the way. */
export interface EmptiedFolders {
  /** hour folder -> start of its hour */
  emptied: Map<string, Date>;
  removed: Set<string>;
  /** Removals of finished hour folders still under way. */
  pending: Array<Promise<void>>;
}

/**
 * Removes the hour folders a batch is done with (see finishedHourFolders) beside the next
 * batches' files, so that the end of the run has only a few left: the file server answers an
 * rmdir far more slowly than an unlink, and at the end nothing else would be going on.
 */
export function removeFinishedFolders(gone: FileDecision[], ctx: EligibilityContext, files: FileStore, folders: EmptiedFolders): void {
  const finished = finishedHourFolders(
    gone.map((f) => [f.hourDir!, f.hourStart!] as const),
    ctx.currentHourStart,
  ).filter((d) => !folders.removed.has(d));
  if (finished.length === 0) return;
  folders.pending.push(
    files.removeEmptyFolders(finished).then(
      (removed) => {
        for (const d of removed) folders.removed.add(d);
      },
      // As at the end: a folder that cannot be removed now is offered again then.
      () => undefined,
    ),
  );
}

/**
 * At the end of a chat type's purge, also after a failure (folders emptied before it are as
 * empty as ever): the date folders, after their hour folders, and the hour folders the batches
 * did not finish with.
 */
export async function removeLeftFolders(folders: EmptiedFolders, currentHourStart: Date, files: FileStore): Promise<void> {
  if (folders.emptied.size === 0) return;
  const left = emptyFolderCandidates(folders.emptied, currentHourStart).filter((d) => !folders.removed.has(d));
  const removed = await files.removeEmptyFolders(left).catch(() => []);
  for (const d of removed) folders.removed.add(d);
}
