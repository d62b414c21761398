import type { ChatType } from './chatType.js';
import { findHold, type Hold } from './holds.js';
import { parseFilePath, type ParsedFilePath, type PathRejection } from './filePath.js';

/** One `Post` row of AFT_LOG, as the purge sees it. */
export interface UploadRow {
  /** AFT_LOG.aft_index (BIGINT) as a decimal string: it may exceed Number.MAX_SAFE_INTEGER. */
  aftIndex: string;
  filePath: string | null;
  fileSize: number;
  /** Bytes the upload moved; differs from fileSize when the transfer failed (Cisco's sign). */
  bytesTransferred?: number;
  chatType: string;
  /** AFT_LOG.timestampvalue, interpreted in the node's configured `timestampZone`. */
  uploadedAt: Date;
  jid: string;
  toJid: string;
}

export interface EligibilityContext {
  /** Normalised node directory (see normaliseNodeDirectory). */
  nodeDirectory: string;
  chatType: ChatType;
  /** Uploads at or after this instant are not expired. */
  retentionCutoff: Date;
  /** Start of the current UTC hour, on the earliest of the clocks we trust. */
  currentHourStart: Date;
  /** Legal holds; a hold is in force until its expiry passes the start of the current hour. */
  holds?: readonly Hold[];
  /** With `keepAfterLastDownload`: a file downloaded at or after this instant is kept. */
  lastDownloadCutoff?: Date;
}

export type KeepReason =
  | PathRejection
  | 'chat-type-mismatch'
  | 'current-hour'
  | 'future-timestamp'
  | 'not-expired'
  | 'duplicate-post'
  | 'recent-download'
  | `hold:${string}`;

export type Decision =
  | { decision: 'delete'; reason: 'expired'; parsed: ParsedFilePath }
  | { decision: 'keep'; reason: KeepReason; detail?: string; parsed?: ParsedFilePath };

/**
 * The eligibility rule, and the only place it lives: both the dry-run and the purge call it.
 * A file may go only if every condition holds; anything unexpected keeps the file.
 */
export function decide(row: UploadRow, ctx: EligibilityContext): Decision {
  const parsed = parseFilePath(row.filePath, ctx.nodeDirectory);
  if (!parsed.ok) return { decision: 'keep', reason: parsed.reason, detail: parsed.detail };
  const path = parsed.value;
  if (row.chatType !== ctx.chatType || path.chatType !== ctx.chatType) {
    return {
      decision: 'keep',
      reason: 'chat-type-mismatch',
      detail: `row chat_type "${row.chatType}", folder "${path.chatType}", policy "${ctx.chatType}"`,
      parsed: path,
    };
  }
  if (Number.isNaN(ctx.retentionCutoff.getTime()) || Number.isNaN(ctx.currentHourStart.getTime())) {
    // Every comparison with an invalid date is false: without this, everything would pass.
    return { decision: 'keep', reason: 'not-expired', detail: 'no valid cutoff time', parsed: path };
  }
  const uploaded = row.uploadedAt.getTime();
  if (Number.isNaN(uploaded)) {
    return { decision: 'keep', reason: 'bad-path', detail: 'timestampvalue is not a valid time', parsed: path };
  }
  const hourEnd = ctx.currentHourStart.getTime() + 3_600_000;
  if (uploaded >= hourEnd || path.hourStart.getTime() >= hourEnd) {
    return { decision: 'keep', reason: 'future-timestamp', detail: 'upload time or hour folder is in the future', parsed: path };
  }
  // Cisco's rule: never purge anything created during the current UTC hour, whatever the policy.
  if (uploaded >= ctx.currentHourStart.getTime() || path.hourStart.getTime() >= ctx.currentHourStart.getTime()) {
    return { decision: 'keep', reason: 'current-hour', parsed: path };
  }
  // Both the row's timestamp and the hour folder must be expired: a row whose timestamp
  // disagrees with its folder (clock or time-zone trouble) errs towards keeping.
  if (uploaded >= ctx.retentionCutoff.getTime() || path.hourStart.getTime() >= ctx.retentionCutoff.getTime()) {
    return { decision: 'keep', reason: 'not-expired', parsed: path };
  }
  // Holds come last, so a held file is reported as held only when it would otherwise go.
  const hold = ctx.holds ? findHold(row, ctx.holds, ctx.currentHourStart) : undefined;
  if (hold) return { decision: 'keep', reason: `hold:${hold.name}`, detail: hold.reason, parsed: path };
  return { decision: 'delete', reason: 'expired', parsed: path };
}
