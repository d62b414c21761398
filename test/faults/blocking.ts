// Holding a running purge at an exact point, so that a fault strikes there and nowhere else:
// the test takes a table lock on AFT_LOG that the purge's next statement must wait for.
//   EXCLUSIVE         blocks DELETE but not SELECT: the purge stops after removing a batch's
//                     files and before deleting their rows (the worst moment to fail);
//   ACCESS EXCLUSIVE  blocks SELECT too: the purge stops before its next read (of the next
//                     batch, or of the download rows of the batch in hand), before removing
//                     anything more.
import type pg from 'pg';
import { expect } from 'vitest';
import { sleep } from '../helpers/procUtil.js';
import type { Rng } from './seed.js';
import type { RunningCli, World } from './world.js';

export type LockPoint = 'rows-pending' | 'between-batches';

export interface HeldLock {
  /** Ends the lock (rollback); if the server died meanwhile, just drops the connection. */
  release(): Promise<void>;
}

export async function holdLock(w: World, point: LockPoint): Promise<HeldLock> {
  const client: pg.PoolClient = await w.pool.connect();
  // Removed again on release: the pool hands the same client out again, and a listener added
  // per lock would pile up on it.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  await client.query('BEGIN');
  await client.query(`LOCK TABLE aft_log IN ${point === 'rows-pending' ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE'} MODE`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('ROLLBACK');
        client.removeListener('error', ignore);
        client.release();
      } catch {
        client.removeListener('error', ignore);
        client.release(true);
      }
    },
  };
}

/**
 * Until a statement of the purge waits for the lock: resolves with the point it is held at
 * (an ACCESS EXCLUSIVE lock taken while a batch is in flight holds its DELETE too), or
 * undefined when the purge exited first.
 */
export async function waitUntilBlocked(w: World, run: RunningCli): Promise<LockPoint | undefined> {
  let exited = false;
  void run.exited.then(() => (exited = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await w.sql(
      `SELECT query FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND wait_event_type = 'Lock' AND query ILIKE '%aft_log%'`,
    );
    if (r.length > 0) return /^\s*DELETE/i.test(r[0].query) ? 'rows-pending' : 'between-batches';
    if (exited) return undefined;
    if (Date.now() > deadline) throw new Error(`the purge did not block on the lock within 30 s:\n${run.lines.slice(-10).join('\n')}`);
    await sleep(5);
  }
}

/**
 * Starts the real purge (`--json`) and, once it has printed output line k (k drawn from 0 to 3),
 * holds it with a lock: with a batch's files removed and its rows pending on even iterations,
 * before its next read on odd ones. Fails the test when the purge exits without blocking.
 */
export async function startHeldPurge(w: World, rng: Rng, iteration: number): Promise<{ run: RunningCli; k: number; lock: HeldLock; point: LockPoint }> {
  const run = w.startPurge('--json');
  const k = rng.int(0, 3);
  await run.waitForLine((_l, idx) => idx >= k);
  const lock = await holdLock(w, iteration % 2 === 0 ? 'rows-pending' : 'between-batches');
  const point = await waitUntilBlocked(w, run);
  expect(point, run.lines.join('\n')).toBeDefined();
  return { run, k, lock, point: point! };
}
