const DAY_MS = 86_400_000;

/**
 * The folders a purge may try to remove once it has emptied them: the hour folders (`HH`,
 * `HH.n`) it removed files from, and their date folders. Never the current hour's folder nor
 * anything of today (UTC): MFT may be writing there right now. Removal itself uses rmdir, which
 * refuses a folder that is not empty.
 *
 * @param hourDirs hour folder path -> start of its hour
 */
export function emptyFolderCandidates(hourDirs: Map<string, Date>, currentHourStart: Date): string[] {
  const todayStart = Math.floor(currentHourStart.getTime() / DAY_MS) * DAY_MS;
  const out = new Set<string>();
  for (const [dir, hourStart] of hourDirs) {
    if (hourStart.getTime() >= todayStart) continue;
    out.add(dir);
    out.add(dir.slice(0, dir.lastIndexOf('/')));
  }
  return [...out];
}
