/**
 * Blast-radius limits, evaluated before anything is removed: absolute caps per node run,
 * relative limits per chat type, and policy floors. Pure: the counts come in, refusals go out.
 */
import type { ResolvedLimits } from '../config/limits.js';
import type { ApprovalScope } from './approval.js';
import type { ChatType } from './chatType.js';

export type LimitName = 'maxFiles' | 'maxBytes' | 'maxTimesUsual' | 'maxPercentOfChatType' | 'purgeAll' | 'minRetention';

/** A limit that stopped (or, in a dry-run, would stop) a node or one of its chat types. */
export interface Refusal {
  node: string;
  /** The chat type refused, or `all` when a node-wide cap refused every chat type. */
  chatType: ApprovalScope;
  limit: LimitName;
  /** What the run measured against the limit, in `unit`. */
  measured: number;
  threshold: number;
  unit: 'files' | 'bytes' | 'percent' | 'retention-ms';
  /** Files and bytes the run counted in the refused scope (expired `Post` rows). */
  files: number;
  bytes: number;
  message: string;
  /** How to go ahead. */
  fix: string;
  /** An approval token (absent when only a policy change can lift the limit). */
  approval?: { token: string; validUntil: string };
}

/** What a run would remove from one chat type, counted before it starts. */
export interface ChatTypeMeasure {
  chatType: ChatType;
  /** Expired `Post` rows and their bytes: an upper bound of what the run removes. */
  files: number;
  bytes: number;
  /** Every `Post` row of the chat type (only needed for the relative limits). */
  total?: number;
  retentionMs: number;
  retentionText: string;
  allowShortRetention: boolean;
  allowPurgeAll: boolean;
  /** Files counted by recent runs of this chat type that found something, oldest first. */
  recent: number[];
  /** Where the policy comes from, for the fix text. */
  source: string;
  /** Why `recent` cannot be trusted ("the purge history FILE is empty"): the relative limit then refuses. */
  historyProblem?: string;
  /**
   * This run continues a catch-up in capped steps that an earlier run began (and that the
   * limits let through): the size of the step before, which counts as usual.
   */
  catchUpStep?: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Below this many recent runs there is no "usual" to compare with. */
export const MIN_RUNS_FOR_USUAL = 3;

const n = (v: number): string => v.toLocaleString('en-US');

type Draft = Omit<Refusal, 'node' | 'fix' | 'approval'> & { fix?: string };

/** Whether the relative limits need the chat type's total (only then is it counted). */
export function needsTotal(m: Pick<ChatTypeMeasure, 'files'>, limits: ResolvedLimits): boolean {
  return m.files > 0 && m.files >= limits.minFiles;
}

/** Every limit the planned run breaks; an empty list lets it go ahead. */
export function evaluateLimits(node: string, measures: readonly ChatTypeMeasure[], limits: ResolvedLimits): Refusal[] {
  const drafts: Draft[] = [];
  for (const m of measures) drafts.push(...chatTypeLimits(node, m, limits));
  const files = measures.reduce((a, m) => a + m.files, 0);
  const bytes = measures.reduce((a, m) => a + m.bytes, 0);
  if (limits.maxFiles !== undefined && files > limits.maxFiles) {
    drafts.push({ chatType: 'all', limit: 'maxFiles', measured: files, threshold: limits.maxFiles, unit: 'files', files, bytes, message: `the run would remove ${n(files)} files from the node, more than purge.limits.maxFiles (${n(limits.maxFiles)})` });
  }
  if (limits.maxBytes !== undefined && bytes > limits.maxBytes) {
    drafts.push({ chatType: 'all', limit: 'maxBytes', measured: bytes, threshold: limits.maxBytes, unit: 'bytes', files, bytes, message: `the run would remove ${n(bytes)} bytes from the node, more than purge.limits.maxBytes (${n(limits.maxBytes)})` });
  }
  return drafts.map((d) => ({ node, ...d, fix: d.fix ?? 'approve this run once with the token below, or raise the limit in the config' }));
}

function chatTypeLimits(node: string, m: ChatTypeMeasure, limits: ResolvedLimits): Draft[] {
  const out: Draft[] = [];
  const base = { chatType: m.chatType, files: m.files, bytes: m.bytes };
  if (m.retentionMs < limits.minRetentionMs && !m.allowShortRetention) {
    out.push({
      ...base,
      limit: 'minRetention',
      measured: m.retentionMs,
      threshold: limits.minRetentionMs,
      unit: 'retention-ms',
      message: `the ${m.chatType} policy keeps files ${m.retentionText}, shorter than purge.limits.minRetention (${limits.minRetentionText})`,
      fix: `if ${m.retentionText} is meant, add "allowShortRetention: true" to ${m.source}`,
    });
  }
  if (m.files === 0 || m.files < limits.minFiles) return out;
  const recent = m.recent.slice(-limits.usualRuns);
  // A damaged history must not switch the limit off: what it cannot judge, it refuses.
  if (limits.maxTimesUsual !== undefined && m.historyProblem) {
    out.push({
      ...base,
      limit: 'maxTimesUsual',
      measured: m.files,
      threshold: 0,
      unit: 'files',
      message: `cannot tell whether removing ${n(m.files)} ${m.chatType} files is unusually many: ${m.historyProblem} (purge.limits.maxTimesUsual)`,
      fix: `look at the file, then start the history again deliberately: mft-retention state reset-history --config FILE --node ${node}; or approve this run once with the token below`,
    });
  } else if (limits.maxTimesUsual !== undefined && (recent.length >= MIN_RUNS_FOR_USUAL || m.catchUpStep !== undefined)) {
    // A step of a known catch-up is as large as the step before it: that is not unusual.
    const usual = Math.max(recent.length >= MIN_RUNS_FOR_USUAL ? median(recent) : 0, m.catchUpStep ?? 0);
    const threshold = usual * limits.maxTimesUsual;
    if (m.files > threshold) {
      out.push({
        ...base,
        limit: 'maxTimesUsual',
        measured: m.files,
        threshold,
        unit: 'files',
        message: `the run would remove ${n(m.files)} ${m.chatType} files, more than ${limits.maxTimesUsual} times the usual ${n(usual)} (median of the last ${recent.length} runs; purge.limits.maxTimesUsual)`,
      });
    }
  }
  if (m.total !== undefined && m.total > 0) {
    const percent = (m.files / m.total) * 100;
    if (m.files >= m.total && !m.allowPurgeAll) {
      out.push({
        ...base,
        limit: 'purgeAll',
        measured: m.files,
        threshold: m.total,
        unit: 'files',
        message: `the run would remove every ${m.chatType} file (${n(m.files)} of ${n(m.total)})`,
        fix: `approve this run once with the token below, or, if the ${m.chatType} policy is meant to empty the chat type, add "allowPurgeAll: true" to ${m.source}`,
      });
    } else if (limits.maxPercentOfChatType !== undefined && percent > limits.maxPercentOfChatType) {
      out.push({
        ...base,
        limit: 'maxPercentOfChatType',
        measured: Math.round(percent * 10) / 10,
        threshold: limits.maxPercentOfChatType,
        unit: 'percent',
        message: `the run would remove ${n(m.files)} of ${n(m.total)} ${m.chatType} files (${percent.toFixed(1)} %), more than purge.limits.maxPercentOfChatType (${limits.maxPercentOfChatType} %)`,
      });
    }
  }
  return out;
}
