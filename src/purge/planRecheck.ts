/**
 * Before a planned file is removed: is it still the file the plan was reviewed with? Pure: the
 * rows and file states come in, one decision a file goes out, in the purge's own terms (a
 * FileDecision), so that the purge's batch code removes and deletes exactly as in a run.
 */
import type { EligibilityContext } from '../core/eligibility.js';
import { rowDigest, type PlannedFile, type PlannedServerFile } from '../core/planFile.js';
import type { CompanionRow, FileState, PlanRow } from '../ports.js';
import { attachCompanions, decideRows, type FileDecision } from './planBatch.js';

/** Why a planned file was not removed (besides the purge's own keep reasons). */
export type PlanSkipReason =
  /** Some of its rows are gone (deleted by someone else). */
  | 'row-deleted'
  /** All its rows and the file are gone: an earlier application of the plan (or someone) purged it. */
  | 'already-purged'
  /** A row's columns differ from the plan's. */
  | 'row-changed'
  /** A `Get` row for the file was logged after the plan was made. */
  | 'new-download'
  /** Another `Post` row for the same path was logged after the plan was made. */
  | 'new-upload'
  /** The file on the server is not the one planned (type, size or modification time). */
  | 'file-changed'
  /** The plan found the file missing; now there is one. */
  | 'file-appeared'
  /** The file could not be examined on the server. */
  | 'file-unverified';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

/** How the file on the server differs from the plan's record of it; undefined when it does not. */
export function fileDifference(planned: PlannedServerFile | null, now: FileState): { reason: PlanSkipReason; detail: string } | undefined {
  if (now instanceof Error) return { reason: 'file-unverified', detail: now.message };
  if (now === 'missing') return undefined; // gone already: only its rows are left to delete
  if (planned === null) return { reason: 'file-appeared', detail: `the plan found no file; now a ${now.type} of ${now.size} bytes` };
  if (now.type !== planned.type) return { reason: 'file-changed', detail: `planned a ${planned.type}, now a ${now.type}` };
  if (now.size !== planned.size) return { reason: 'file-changed', detail: `planned ${planned.size} bytes, now ${now.size}` };
  const mtime = iso(now.mtimeMs);
  // Compared only where both sides have one: some servers give no times.
  if (planned.mtime !== null && mtime !== null && mtime !== planned.mtime) return { reason: 'file-changed', detail: `planned modified ${planned.mtime}, now ${mtime}` };
  return undefined;
}

/** What the rows of a planned file say now; undefined when they are exactly the plan's. */
export function rowDifference(file: PlannedFile, live: readonly PlanRow[], fileState: FileState): { reason: PlanSkipReason; detail: string } | undefined {
  const byIndex = new Map(live.map((r) => [r.aftIndex, r]));
  const planned = new Set(file.rows.map((r) => r.aftIndex));
  const gone = file.rows.filter((r) => !byIndex.has(r.aftIndex));
  if (gone.length === file.rows.length && fileState === 'missing') return { reason: 'already-purged', detail: 'the file and all its rows are gone' };
  if (gone.length > 0) return { reason: 'row-deleted', detail: `aft_index ${gone.map((r) => r.aftIndex).join(', ')} no longer in AFT_LOG` };
  const changed = file.rows.filter((r) => rowDigest(byIndex.get(r.aftIndex)!) !== r.digest || byIndex.get(r.aftIndex)!.filePath !== file.path);
  if (changed.length > 0) return { reason: 'row-changed', detail: `aft_index ${changed.map((r) => r.aftIndex).join(', ')} changed since the plan` };
  const extra = live.filter((r) => r.filePath === file.path && !planned.has(r.aftIndex));
  const get = extra.find((r) => r.method === 'Get');
  if (get) return { reason: 'new-download', detail: `downloaded ${get.uploadedAt.toISOString()} (aft_index ${get.aftIndex}), after the plan` };
  if (extra.length > 0) return { reason: 'new-upload', detail: `another upload record (aft_index ${extra[0]!.aftIndex}) for this path, after the plan` };
  return undefined;
}

function skipped(file: PlannedFile, reason: FileDecision['reason'], detail?: string): FileDecision {
  return {
    filePath: file.path,
    chatType: file.chatType,
    fileSize: file.size,
    failedTransfer: false,
    uploadedAt: new Date(file.uploadedAt),
    aftIndex: file.aftIndex,
    decision: 'keep',
    reason,
    detail,
    rowIndexes: [file.aftIndex],
  };
}

/**
 * Each planned file of a batch, judged again: its rows as the plan recorded them, nothing new
 * for its path, today's rules (the purge's own: holds, the current hour, the node directory),
 * and the same file on the server. A file that passes goes with exactly its planned rows.
 */
export function recheckBatch(files: readonly PlannedFile[], live: readonly PlanRow[], states: readonly FileState[], ctx: EligibilityContext): FileDecision[] {
  const pathOfRow = new Map<string, string>();
  for (const f of files) for (const r of f.rows) pathOfRow.set(r.aftIndex, f.path);
  const byPath = new Map<string, PlanRow[]>();
  for (const r of live) {
    // A row of a planned file is its own even if its path changed (that shows as row-changed).
    const owner = pathOfRow.get(r.aftIndex) ?? r.filePath;
    const list = byPath.get(owner);
    if (list) list.push(r);
    else byPath.set(owner, [r]);
  }
  return files.map((file, i) => {
    const rows = byPath.get(file.path) ?? [];
    const state = states[i]!;
    const rowsDiffer = rowDifference(file, rows, state);
    if (rowsDiffer) return skipped(file, rowsDiffer.reason, rowsDiffer.detail);
    const post = rows.find((r) => r.aftIndex === file.aftIndex)!;
    const upload = { aftIndex: post.aftIndex, filePath: post.filePath, fileSize: post.fileSize, bytesTransferred: post.bytesTransferred, chatType: post.chatType, uploadedAt: post.uploadedAt, jid: post.jid, toJid: post.toJid };
    const companions: CompanionRow[] = rows.filter((r) => r !== post).map((r) => ({ aftIndex: r.aftIndex, filePath: r.filePath, method: r.method, chatType: r.chatType, uploadedAt: r.uploadedAt }));
    // The purge's own rules, as a run today would apply them to these rows.
    const [today] = attachCompanions(decideRows([upload], ctx), companions, ctx);
    if (!today) return skipped(file, 'new-upload', 'an older upload record of this path owns the file');
    if (today.decision === 'keep') return skipped(file, today.reason, today.detail);
    const fileDiffers = fileDifference(file.onServer, state);
    if (fileDiffers) return skipped(file, fileDiffers.reason, fileDiffers.detail);
    // Exactly the planned rows: any other row of the path was found above (new-download).
    return { ...today, rowIndexes: file.rows.map((r) => r.aftIndex) };
  });
}
