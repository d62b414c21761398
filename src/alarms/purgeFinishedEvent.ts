import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { NodeResult } from '../purge/purgeNode.js';
import { totalFailed } from '../purge/stats.js';

const count = z.number().int().min(0);
const counts = z.record(z.string(), count);

/**
 * The "purge finished" event: one per finished purge of a node, for the sinks that ask for it
 * (`purgeFinished: true`), for teams that keep evidence of every run. Same envelope as the
 * alarm events (version, id, event, node, occurredAt, host); the run's summary per chat type.
 */
export const purgeFinishedEventSchema = z
  .strictObject({
    version: z.literal(1),
    id: z.uuid().describe('Unique per event; a receiver that sees an id twice (a retried delivery) can drop the second.'),
    event: z.literal('purge-finished'),
    node: z.string(),
    status: z.enum(['ok', 'partial', 'refused', 'stopped', 'failed']).describe('ok; partial: some files or rows are left for the next run; refused: a safety limit refused some or all of it; stopped: shutdown or a lost node lock; failed.'),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    durationSeconds: z.number().min(0),
    error: z.string().nullable().describe('Why the purge failed or stopped (no secrets), else null.'),
    files: count.describe('Files removed from the file server (or found already gone) with their rows, all chat types.'),
    bytes: count,
    rows: count.describe('AFT_LOG rows deleted.'),
    failures: count.describe('Files not purged because of an error (see chatTypes[].failed).'),
    chatTypes: z.array(
      z.strictObject({
        chatType: z.string(),
        retention: z.string().describe('The policy in force, e.g. P7D.'),
        files: count,
        bytes: count,
        rows: count,
        alreadyMissing: count.describe('Of files, how many were already gone from the file server.'),
        failedTransfers: count.describe('Of files, how many had a failed upload (bytes_transferred differs from file_size).'),
        rowsPending: count.describe('Files removed whose rows the next run deletes.'),
        kept: counts.describe('Expired files kept, by reason (a hold, a recent download, ...).'),
        failed: counts.describe('Files not purged because of an error, by reason.'),
        oldestHour: z.string().nullable().describe('The oldest hour folder purged, e.g. 2025-03-07T09:00Z.'),
        newestHour: z.string().nullable(),
        refused: z.string().nullable().describe('The safety limit that refused this chat type, else null.'),
      }),
    ),
    occurredAt: z.iso.datetime().describe('When the purge finished.'),
    host: z.string().describe('The host running mft-retention.'),
  })
  .describe('mft-retention purge finished event, version 1');

export type PurgeFinishedEvent = z.infer<typeof purgeFinishedEventSchema>;

export function purgeFinishedEvent(r: NodeResult, now: Date, host = hostname()): PurgeFinishedEvent {
  const finished = r.finishedAt ?? now;
  const sum = (f: (s: NodeResult['chatTypes'][number]) => number): number => r.chatTypes.reduce((a, s) => a + f(s), 0);
  return {
    version: 1,
    id: randomUUID(),
    event: 'purge-finished',
    node: r.node,
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.max(0, finished.getTime() - r.startedAt.getTime()) / 1000,
    error: r.error?.message ?? null,
    files: sum((s) => s.files),
    bytes: sum((s) => s.bytes),
    rows: sum((s) => s.rows),
    failures: sum(totalFailed),
    chatTypes: r.chatTypes.map((s) => ({
      chatType: s.chatType,
      retention: s.retention,
      files: s.files,
      bytes: s.bytes,
      rows: s.rows,
      alreadyMissing: s.alreadyMissing,
      failedTransfers: s.failedTransfers,
      rowsPending: s.rowsPending,
      kept: { ...s.kept },
      failed: { ...s.failed },
      oldestHour: s.oldestHour ?? null,
      newestHour: s.newestHour ?? null,
      refused: s.refused?.message ?? null,
    })),
    occurredAt: finished.toISOString(),
    host,
  };
}
