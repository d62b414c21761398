import { parseIsoDuration } from './duration.js';
import type { RawLimits } from './schema.js';

/** Blast-radius limits of one node, with defaults applied (see docs/configuration.md, "Blast-radius limits"). */
export interface ResolvedLimits {
  /** Most files one run may remove from the node (all chat types together); undefined: no cap. */
  maxFiles?: number;
  /** Most bytes one run may remove from the node; undefined: no cap. */
  maxBytes?: number;
  /** Refuse a chat type's run above this many times the median of its recent runs; undefined: off. */
  maxTimesUsual?: number;
  /** How many recent runs (that found something to remove) make up "usual". */
  usualRuns: number;
  /** The relative limits (usual, percent, everything) apply only from this many files up. */
  minFiles: number;
  /** Refuse a chat type's run that would remove more than this percentage of its files; undefined: off. */
  maxPercentOfChatType?: number;
  /** A policy with a shorter retention needs `allowShortRetention: true`. */
  minRetentionMs: number;
  minRetentionText: string;
  /** How long an approval token stays valid after the refused run that issued it. */
  approvalValidityMs: number;
  /** A run removes at most this many (oldest) expired files and stops; undefined: no cap. */
  maxFilesPerRun?: number;
  /** A run removes at most this many bytes and stops; undefined: no cap. */
  maxBytesPerRun?: number;
}

export const LIMIT_DEFAULTS = {
  maxTimesUsual: 10,
  usualRuns: 10,
  minFiles: 100,
  // One hour past Cisco's current-hour rule: anything shorter almost certainly is a typo.
  minRetention: 'PT2H',
  approvalValidity: 'PT24H',
} as const;

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** `500MB`, `20GiB`, `1.5TB` or a number of bytes (already validated by the schema). */
export function parseByteSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$/.exec(value)!;
  return Math.round(Number(m[1]) * UNITS[m[2]!]!);
}

/** A node's limits: its own `limits` key by key over the shared `purge.limits`, then the defaults. */
export function resolveLimits(shared: RawLimits | undefined, own: RawLimits | undefined): ResolvedLimits {
  const l: RawLimits = { ...shared, ...own };
  const minRetention = l.minRetention ?? LIMIT_DEFAULTS.minRetention;
  const times = l.maxTimesUsual ?? LIMIT_DEFAULTS.maxTimesUsual;
  return {
    maxFiles: l.maxFiles,
    maxBytes: l.maxBytes === undefined ? undefined : parseByteSize(l.maxBytes),
    maxTimesUsual: times === 'off' ? undefined : times,
    usualRuns: l.usualRuns ?? LIMIT_DEFAULTS.usualRuns,
    minFiles: l.minFiles ?? LIMIT_DEFAULTS.minFiles,
    maxPercentOfChatType: l.maxPercentOfChatType,
    minRetentionMs: parseIsoDuration(minRetention)!.as('milliseconds'),
    minRetentionText: minRetention,
    approvalValidityMs: parseIsoDuration(l.approvalValidity ?? LIMIT_DEFAULTS.approvalValidity)!.as('milliseconds'),
    maxFilesPerRun: l.maxFilesPerRun,
    maxBytesPerRun: l.maxBytesPerRun === undefined ? undefined : parseByteSize(l.maxBytesPerRun),
  };
}
