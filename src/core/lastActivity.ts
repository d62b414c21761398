/**
 * Retention by last activity: a file whose policy sets `keepAfterLastDownload` stays until its
 * last download is also older than that. IMs to offline users are often fetched days late,
 * and a file someone still downloads is still in use.
 */

/** A `Get` row of AFT_LOG: one download of the file. */
export interface DownloadRow {
  method: string;
  /** AFT_LOG.timestampvalue of the download. */
  uploadedAt: Date;
}

/**
 * The most recent download among a file's rows: undefined when it was never downloaded,
 * `unreadable` when a download's time cannot be read.
 */
export function lastDownload(rows: readonly DownloadRow[]): Date | 'unreadable' | undefined {
  let last: Date | undefined;
  for (const r of rows) {
    if (r.method !== 'Get') continue;
    if (Number.isNaN(r.uploadedAt.getTime())) return 'unreadable';
    if (!last || r.uploadedAt.getTime() > last.getTime()) last = r.uploadedAt;
  }
  return last;
}

/**
 * The download that keeps the file: its last one, when at or after `cutoff` (or when a
 * download's time cannot be read: in doubt, the file stays). Undefined when nothing keeps it.
 */
export function downloadedSince(rows: readonly DownloadRow[], cutoff: Date): Date | 'unreadable' | undefined {
  const last = lastDownload(rows);
  if (last === 'unreadable') return last;
  // An invalid cutoff keeps everything: every comparison with NaN is false.
  if (last && (Number.isNaN(cutoff.getTime()) || last.getTime() >= cutoff.getTime())) return last;
  return undefined;
}
