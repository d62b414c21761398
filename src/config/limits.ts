import { z } from 'zod';
import type { ResolvedLimits } from '../core/limits.js';
import { byteSize } from './byteSize.js';
import { fixedDuration, isoDuration } from './duration.js';

export const LIMIT_DEFAULTS = {
  maxTimesUsual: 10,
  usualRuns: 10,
  minFiles: 100,
  // One hour past Cisco's current-hour rule: anything shorter almost certainly is a typo.
  minRetention: fixedDuration('PT2H'),
  approvalValidity: fixedDuration('PT24H'),
} as const;

/**
 * Blast-radius limits: how much one run may remove from a node before it refuses and asks for
 * an approval. Without defaults here: a node's `limits` overrides the shared `purge.limits`
 * key by key, and defaults apply last (resolveLimits).
 */
export const limitsSchema = z.strictObject({
  maxFiles: z.number().int().min(1).optional(),
  maxBytes: byteSize(1).optional(),
  maxTimesUsual: z.union([z.number().min(1), z.literal('off')]).optional(),
  usualRuns: z.number().int().min(3).max(1000).optional(),
  minFiles: z.number().int().min(0).optional(),
  maxPercentOfChatType: z.number().gt(0).max(100).optional(),
  minRetention: isoDuration('minRetention').optional(),
  approvalValidity: isoDuration('approvalValidity').optional(),
  /** Catch-up in steps: a run removes at most this many of the oldest expired files, then stops (not a refusal). */
  maxFilesPerRun: z.number().int().min(1).optional(),
  /** Likewise in bytes (file_size). */
  maxBytesPerRun: byteSize(1).optional(),
});

export type LimitSettings = z.infer<typeof limitsSchema>;

/** A node's limits: its own `limits` key by key over the shared `purge.limits`, then the defaults. */
export function resolveLimits(shared: LimitSettings | undefined, own: LimitSettings | undefined): ResolvedLimits {
  const l: LimitSettings = { ...shared, ...own };
  const minRetention = l.minRetention ?? LIMIT_DEFAULTS.minRetention;
  const times = l.maxTimesUsual ?? LIMIT_DEFAULTS.maxTimesUsual;
  return {
    maxFiles: l.maxFiles,
    maxBytes: l.maxBytes,
    maxTimesUsual: times === 'off' ? undefined : times,
    usualRuns: l.usualRuns ?? LIMIT_DEFAULTS.usualRuns,
    minFiles: l.minFiles ?? LIMIT_DEFAULTS.minFiles,
    maxPercentOfChatType: l.maxPercentOfChatType,
    minRetentionMs: minRetention.ms,
    minRetentionText: minRetention.text,
    approvalValidityMs: (l.approvalValidity ?? LIMIT_DEFAULTS.approvalValidity).ms,
    maxFilesPerRun: l.maxFilesPerRun,
    maxBytesPerRun: l.maxBytesPerRun,
  };
}
