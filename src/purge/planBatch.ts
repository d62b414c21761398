import { decide, type EligibilityContext, type KeepReason, type UploadRow } from '../core/eligibility.js';
import { downloadedSince } from '../core/lastActivity.js';
import type { CompanionRow } from '../ports.js';
import type { PlanSkipReason } from './planRecheck.js';

/** What happens to one file (one file_path) of a batch, and which rows go with it. */
export interface FileDecision {
  filePath: string | null;
  chatType: string;
  fileSize: number;
  /** The upload's bytes_transferred differs from file_size: the transfer failed. */
  failedTransfer: boolean;
  uploadedAt: Date;
  /** The `Post` row that brought the file into the batch. */
  aftIndex: string;
  decision: 'delete' | 'keep';
  /** Or, for a file of a plan, why it was skipped (see planRecheck). */
  reason: 'expired' | KeepReason | PlanSkipReason;
  detail?: string;
  /** Start of the hour folder, when the path parsed. */
  hourStart?: Date;
  hourDir?: string;
  /** Every AFT_LOG row to delete once the file is gone (its Post rows and its Get rows). */
  rowIndexes: string[];
}

/** First pass: the eligibility rule on each row on its own. */
export function decideRows(rows: UploadRow[], ctx: EligibilityContext): FileDecision[] {
  return rows.map((row) => {
    const d = decide(row, ctx);
    return {
      filePath: row.filePath,
      chatType: row.chatType,
      fileSize: row.fileSize,
      failedTransfer: row.bytesTransferred !== undefined && row.bytesTransferred !== row.fileSize,
      uploadedAt: row.uploadedAt,
      aftIndex: row.aftIndex,
      decision: d.decision,
      reason: d.reason,
      detail: d.decision === 'keep' ? d.detail : undefined,
      hourStart: d.parsed?.hourStart,
      hourDir: d.parsed?.hourDir,
      rowIndexes: [row.aftIndex],
    };
  });
}

/**
 * Second pass, with every row that shares a path with an eligible file: attaches the `Get`
 * rows, merges duplicate `Post` rows of one path into one file, and keeps a file when another
 * `Post` row for the same path is not itself expired (a duplicate upload record is resolved
 * towards keeping).
 */
export function attachCompanions(decisions: FileDecision[], companions: CompanionRow[], ctx: EligibilityContext): FileDecision[] {
  const byPath = new Map<string, CompanionRow[]>();
  for (const c of companions) {
    const list = byPath.get(c.filePath);
    if (list) list.push(c);
    else byPath.set(c.filePath, [c]);
  }
  const inBatch = new Map<string, FileDecision>();
  // The rows each file already has: a file downloaded by a whole room has tens of thousands,
  // and looking each one up in its list would cost the square of that.
  const rowsOf = new Map<FileDecision, Set<string>>();
  const out: FileDecision[] = [];
  for (const d of decisions) {
    if (d.decision !== 'delete') {
      out.push(d);
      continue;
    }
    const path = d.filePath!;
    const first = inBatch.get(path);
    if (first) {
      // A second expired Post row for the same file in this batch: one file, both rows go.
      const seen = rowsOf.get(first);
      if (seen && !seen.has(d.aftIndex)) {
        seen.add(d.aftIndex);
        first.rowIndexes.push(d.aftIndex);
      }
      continue;
    }
    const others = byPath.get(path) ?? [];
    // An older expired upload record of the same file owns it: the file was (or, in a
    // dry-run, would have been) handled with that row's batch, so it is not counted again.
    if (others.some((c) => c.method !== 'Get' && BigInt(c.aftIndex) < BigInt(d.aftIndex) && isExpiredPost(c, ctx))) continue;
    const merged: FileDecision = { ...d, rowIndexes: [...d.rowIndexes] };
    const seen = new Set(merged.rowIndexes);
    for (const c of others) {
      if (seen.has(c.aftIndex)) continue;
      // Anything that is not a download is treated as an upload record (even an odd 'POST').
      if (c.method !== 'Get' && !isExpiredPost(c, ctx)) {
        merged.decision = 'keep';
        merged.reason = 'duplicate-post';
        merged.detail = `another Post row (aft_index ${c.aftIndex}, chat_type "${c.chatType}") for this path is not expired`;
        break;
      }
      seen.add(c.aftIndex);
      merged.rowIndexes.push(c.aftIndex);
    }
    // Every row of the path was fetched, whatever batch it came from: the last download is
    // the file's, not the batch's.
    const recent = merged.decision === 'delete' && ctx.lastDownloadCutoff ? downloadedSince(others, ctx.lastDownloadCutoff) : undefined;
    if (recent) {
      merged.decision = 'keep';
      merged.reason = 'recent-download';
      merged.detail = recent === 'unreadable' ? 'a download has an unreadable time' : `last downloaded ${recent.toISOString()}`;
    }
    if (merged.decision === 'keep') merged.rowIndexes = [d.aftIndex];
    else rowsOf.set(merged, seen);
    inBatch.set(path, merged);
    out.push(merged);
  }
  return out;
}

function isExpiredPost(c: CompanionRow, ctx: EligibilityContext): boolean {
  const t = c.uploadedAt.getTime();
  return c.chatType === ctx.chatType && t < ctx.retentionCutoff.getTime() && t < ctx.currentHourStart.getTime();
}
