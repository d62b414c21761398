import type { PlannedBatch } from './purgeTypes.js';

/**
 * Batches removed side by side at most. While one batch's files are being removed, the next
 * batch is read from the database and the previous batch's rows are deleted, so the file
 * server always has requests waiting. Memory holds at most this many batches plus the one
 * being read, whatever the backlog.
 */
const PIPELINE_DEPTH = 2;

/**
 * Starts `step` for each batch as soon as it is read, with at most PIPELINE_DEPTH batches in
 * flight. Each step receives the previous step's completion, to delete rows in batch order.
 * After a failure or a stop no new batch is read, but the batches in flight always finish:
 * their files are already being removed, and the rows of the ones confirmed gone must go too.
 */
export async function runPipeline(
  read: () => Promise<PlannedBatch | undefined>,
  signal: AbortSignal | undefined,
  step: (batch: PlannedBatch, previous: Promise<void>) => Promise<void>,
): Promise<void> {
  const inFlight: Array<Promise<void>> = [];
  let previous: Promise<void> = Promise.resolve();
  let failed: { error: unknown } | undefined;
  try {
    while (!signal?.aborted && !failed) {
      const batch = await read();
      if (!batch) break;
      // Settled, never rejected: the next batch only waits for its turn.
      previous = step(batch, previous).catch((error: unknown) => {
        failed ??= { error };
      });
      inFlight.push(previous);
      if (inFlight.length >= PIPELINE_DEPTH) await inFlight.shift();
      if (batch.last) break;
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failed) throw failed.error;
}
