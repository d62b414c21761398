import type { Refusal } from './limits.js';
import type { FileDecision } from './planBatch.js';

/** Totals for one node and chat type. In a dry-run, what would go; in a purge, what went. */
export interface ChatTypeStats {
  chatType: string;
  retention: string;
  /** Files removed (or, in a dry-run, that would be), including ones already missing. */
  files: number;
  bytes: number;
  rows: number;
  /** Of `files`, how many were already gone from the file server. */
  alreadyMissing: number;
  oldestHour?: string;
  newestHour?: string;
  kept: Record<string, number>;
  failed: Record<string, number>;
  /** Files removed but whose rows could not be deleted yet (the next run finishes them). */
  rowsPending: number;
  /** Files (and bytes) gone per day of their hour folder, `YYYY-MM-DD` (UTC). */
  byDay: Record<string, { files: number; bytes: number }>;
  /** Files (gone or to go) whose upload failed: bytes_transferred differs from file_size. */
  failedTransfers: number;
  /** Hour and date folders removed because the purge left them empty. */
  foldersRemoved: number;
  /** `Post` rows handled so far, whatever their outcome (for progress). */
  handled: number;
  /** The blast-radius limit that refused this chat type (in a dry-run: would refuse it). */
  refused?: Refusal;
}

export function emptyStats(chatType: string, retention: string): ChatTypeStats {
  return { chatType, retention, files: 0, bytes: 0, rows: 0, alreadyMissing: 0, kept: {}, failed: {}, rowsPending: 0, byDay: {}, handled: 0, foldersRemoved: 0, failedTransfers: 0 };
}

// The files of a batch come hour folder after hour folder: one label is made per folder, not per file.
let lastHour = NaN;
let lastLabel = '';
function hourLabel(d: Date): string {
  const t = d.getTime();
  if (t !== lastHour) {
    lastHour = t;
    lastLabel = `${d.toISOString().slice(0, 13)}:00Z`;
  }
  return lastLabel;
}

export function countGone(s: ChatTypeStats, f: FileDecision, missing: boolean): void {
  s.files += 1;
  s.bytes += f.fileSize;
  if (missing) s.alreadyMissing += 1;
  if (f.failedTransfer) s.failedTransfers += 1;
  if (f.hourStart) {
    const h = hourLabel(f.hourStart);
    if (!s.oldestHour || h < s.oldestHour) s.oldestHour = h;
    if (!s.newestHour || h > s.newestHour) s.newestHour = h;
    const day = (s.byDay[h.slice(0, 10)] ??= { files: 0, bytes: 0 });
    day.files += 1;
    day.bytes += f.fileSize;
  }
}

export function countKept(s: ChatTypeStats, reason: string): void {
  s.kept[reason] = (s.kept[reason] ?? 0) + 1;
}

export function countFailed(s: ChatTypeStats, reason: string): void {
  s.failed[reason] = (s.failed[reason] ?? 0) + 1;
}

export function totalFailed(s: ChatTypeStats): number {
  return Object.values(s.failed).reduce((a, b) => a + b, 0);
}
