import type { Duration } from 'luxon';
import { z } from 'zod';
import { CHAT_TYPES } from '../core/chatType.js';
import { fixedDuration, isoDuration, parseIsoDuration } from './duration.js';

/** A duration, or `forever` (never purged). One check, so that a typo is told what a duration looks like. */
const retention = z
  // A number (`retention: 7`) is taken in, to be told the same.
  .union([z.string(), z.number()])
  .refine((s): s is string => typeof s === 'string' && (s === 'forever' || parseIsoDuration(s) !== undefined), {
    message: 'retention: an ISO-8601 duration greater than zero and at most 1000 years, such as PT36H, P7D, P30D or P1Y; or "forever"',
  })
  .transform((s) => (s === 'forever' ? ('forever' as const) : fixedDuration(s as string)));

/** A chat type's retention and options as they apply, whichever file or override they came from. */
export interface PolicyRule {
  /** `forever` never purges. */
  retention: Duration | 'forever';
  /** As written, for reports: `P7D`, `forever`. */
  retentionText: string;
  /** The policy may have a retention below purge.limits.minRetention. */
  allowShortRetention: boolean;
  /** A run may remove every file of the chat type. */
  allowPurgeAll: boolean;
  /** Keep a file until its last download is also older than this. */
  keepAfterLastDownload?: Duration;
  keepAfterLastDownloadText?: string;
}

/** Optional per-policy settings, in a policy file or a node's override. */
const policyOptions = {
  /** A retention below purge.limits.minRetention is refused unless this is true. */
  allowShortRetention: z.boolean().optional(),
  /** A run that would remove every file of the chat type is refused unless this is true. */
  allowPurgeAll: z.boolean().optional(),
  /** Keep a file until its last download (Get row) is also older than this. */
  keepAfterLastDownload: isoDuration('keepAfterLastDownload').optional(),
};

function toRule(p: { retention: z.infer<typeof retention> } & { [K in keyof typeof policyOptions]?: z.infer<(typeof policyOptions)[K]> }): PolicyRule {
  const after = p.keepAfterLastDownload;
  return {
    retention: p.retention === 'forever' ? 'forever' : p.retention.duration,
    retentionText: p.retention === 'forever' ? 'forever' : p.retention.text,
    allowShortRetention: p.allowShortRetention ?? false,
    allowPurgeAll: p.allowPurgeAll ?? false,
    ...(after ? { keepAfterLastDownload: after.duration, keepAfterLastDownloadText: after.text } : {}),
  };
}

/** A node's own policy for a chat type (`nodes[].policies.<chatType>`). */
export const policyOverrideSchema = z
  .strictObject({
    retention,
    ...policyOptions,
  })
  .transform(toRule);

/** A policy file (`policies/<chatType>.yaml`). */
export const policyFileSchema = z
  .strictObject({
    chatType: z.enum(CHAT_TYPES),
    retention,
    description: z.string().optional(),
    ...policyOptions,
  })
  .transform((p) => ({ chatType: p.chatType, rule: toRule(p) }));
