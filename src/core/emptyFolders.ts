const DAY_MS = 86_400_000;

/** Start of the UTC day of `t`, in milliseconds. */
const utcDayStart = (t: Date): number => Math.floor(t.getTime() / DAY_MS) * DAY_MS;

/**
 * The folders a purge may try to remove once it has emptied them: the hour folders (`HH`,
 * `HH.n`) it removed files from, and their date folders. Never the current hour's folder nor
 * anything of today (UTC): MFT may be writing there right now. Removal itself uses rmdir, which
 * refuses a folder that is not empty.
 *
 * @param hourDirs hour folder path -> start of its hour
 */
export function emptyFolderCandidates(hourDirs: Map<string, Date>, currentHourStart: Date): string[] {
  const todayStart = utcDayStart(currentHourStart);
  const out = new Set<string>();
  for (const [dir, hourStart] of hourDirs) {
    if (hourStart.getTime() >= todayStart) continue;
    out.add(dir);
    out.add(dir.slice(0, dir.lastIndexOf('/')));
  }
  return [...out];
}

/**
 * The hour folders a batch is done with, to remove while the purge goes on rather than all at
 * the end: each hour folder of the batch's removed files but the last one's, which the next
 * batch may still have files in. A purge reads its files in upload order, so an hour folder's
 * files come one after another. Never the current hour's folder nor one of today's (UTC). A
 * folder that still has files is not lost: rmdir refuses it, and the end of the run offers it
 * again (see emptyFolderCandidates).
 *
 * @param hourDirs the hour folder and hour start of each removed file, in the batch's order
 */
export function finishedHourFolders(hourDirs: ReadonlyArray<readonly [dir: string, hourStart: Date]>, currentHourStart: Date): string[] {
  if (hourDirs.length === 0) return [];
  const todayStart = utcDayStart(currentHourStart);
  const last = hourDirs[hourDirs.length - 1]![0];
  const out = new Set<string>();
  for (const [dir, hourStart] of hourDirs) {
    if (dir !== last && hourStart.getTime() < todayStart) out.add(dir);
  }
  return [...out];
}
