// The real purge CLI stopped with SIGTERM (systemctl stop) and SIGINT (Ctrl-C) at each phase of
// a purge, against the real PostgreSQL and OpenSSH sshd: while it counts, while the server
// computes its cursor, mid-batch (files removed, their DELETE waiting) and between batches. A
// first signal lets the batch in flight finish and exits 5 with the report saying `stopped`; a
// second gives up at once. Either way, within 2 s of the process exiting, none of its
// statements is left running on the server.
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { sleep } from '../helpers/procUtil.js';
import { avoidHourEdge } from '../helpers/purgeFixture.js';
import { holdLock, type HeldLock } from './blocking.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { DAY, HOUR, World, type RunningCli } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** The purge's sessions in this world's database (application_name is the tool's). */
const purgeSessions = (w: World): Promise<Array<{ state: string; query: string }>> =>
  w.sql(`SELECT state, left(query, 60) AS query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mft-retention'`);

/** Until `pred` holds for one of the purge's sessions (polled from another session). */
async function waitForSession(w: World, run: RunningCli, what: string, pred: (s: { state: string; query: string; wait: string | null }) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await w.sql(
      `SELECT state, query, wait_event_type AS wait FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mft-retention'`,
    );
    if (rows.some(pred)) return;
    if (Date.now() > deadline) throw new Error(`the purge was never ${what}:\n${run.lines.slice(-10).join('\n')}`);
    await sleep(10);
  }
}

/** The process exits, and within 2 s of that none of its sessions remains on the server. */
async function exitsClean(w: World, run: RunningCli): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const res = await run.exited;
  const exitedAt = Date.now();
  let left = await purgeSessions(w);
  while (left.length > 0 && Date.now() - exitedAt < 2000) {
    await sleep(50);
    left = await purgeSessions(w);
  }
  expect(left, `sessions of the purge still on the server 2 s after it exited\n${run.lines.slice(-10).join('\n')}`).toEqual([]);
  return res;
}

const summaryOf = (run: RunningCli): Record<string, any> => JSON.parse(run.lines.filter((l) => l.startsWith('out ') && l.includes('"type":"summary"')).at(-1)!.slice(4));

/** Expired uploads with files, in distinct hour folders. */
async function uploads(w: World, n: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) paths.push(await w.upload({ at: new Date(Date.now() - 2 * DAY - i * HOUR), gets: [new Date(Date.now() - DAY)] }));
  return paths;
}

scenario(
  'purge stopped by SIGTERM or SIGINT at each phase',
  async (rec) => {
    const w = await World.create(servers, { batchSize: 2 });
    const landed: string[] = [];
    try {
      for (const signal of SIGNALS) {
        // 1. Counting: an ACCESS EXCLUSIVE lock holds the count; the stop cancels it.
        await avoidHourEdge(20_000);
        await w.reset();
        let paths = await uploads(w, 4);
        let lock: HeldLock | undefined = await holdLock(w, 'between-batches');
        let run = w.startPurge('--json');
        await waitForSession(w, run, 'counting', (s) => s.wait === 'Lock' && /count\(\*\)/.test(s.query));
        run.child.kill(signal);
        let res = await exitsClean(w, run);
        await lock.release();
        expect(res.code, run.lines.join('\n')).toBe(5);
        expect(summaryOf(run).nodes[0].status).toBe('stopped');
        expect(paths.every((p) => existsSync(p))).toBe(true);
        landed.push(`${signal} counting`);

        // 2. The cursor being computed (its COMMIT): 2,000 expired Posts of one path make the
        // server join 4,000,000 rows. The stop cancels it.
        await w.reset();
        const path = w.layoutPath('im', new Date(Date.now() - 2 * DAY), 'crowded.txt');
        w.writeFile(path);
        await w.sql(
          `INSERT INTO aft_log (jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
           SELECT 'a@example.com', 'b@example.com', 'Post', 'crowded.txt', 'crowded.txt', 'txt', 'im', 'files.example.com', $1, 64, 64,
                  (now() AT TIME ZONE 'UTC') - interval '2 days' + i * interval '1 ms' FROM generate_series(1, 2000) AS i`,
          [path],
        );
        run = w.startPurge('--json');
        await waitForSession(w, run, 'computing its cursor', (s) => s.state === 'active' && s.query === 'COMMIT');
        run.child.kill(signal);
        res = await exitsClean(w, run);
        expect(res.code, run.lines.join('\n')).toBe(5);
        expect(summaryOf(run).nodes[0].status).toBe('stopped');
        expect(existsSync(path)).toBe(true);
        landed.push(`${signal} cursor`);

        // 3. Mid-batch: an EXCLUSIVE lock holds the first batch's DELETE after its files are
        // removed. The first signal lets it finish once the lock goes; no new batch starts.
        await w.reset();
        paths = await uploads(w, 6);
        lock = await holdLock(w, 'rows-pending');
        run = w.startPurge('--json');
        await waitForSession(w, run, 'waiting on its DELETE', (s) => s.wait === 'Lock' && /DELETE FROM/.test(s.query));
        run.child.kill(signal);
        await sleep(300);
        await lock.release();
        res = await exitsClean(w, run);
        expect(res.code, run.lines.join('\n')).toBe(5);
        let s = summaryOf(run);
        expect(s.nodes[0].status).toBe('stopped');
        let gone = paths.filter((p) => !existsSync(p));
        // The batch in flight (and the one read beside it) finished: every file gone lost its rows.
        expect(gone.length).toBeGreaterThan(0);
        expect(gone.length).toBeLessThan(paths.length);
        let rowPaths = new Set((await w.rows()).map((r) => r.file_path));
        expect(gone.filter((p) => rowPaths.has(p))).toEqual([]);
        expect(s.files).toBe(gone.length);
        landed.push(`${signal} mid-batch`);

        // 4. Between batches: the signal right after a batch's "removed" lines.
        await w.reset();
        paths = await uploads(w, 8);
        run = w.startPurge('--json');
        await run.waitForLine((l) => l.includes('"msg":"removed"'));
        run.child.kill(signal);
        res = await exitsClean(w, run);
        expect([0, 5], run.lines.join('\n')).toContain(res.code);
        s = summaryOf(run);
        gone = paths.filter((p) => !existsSync(p));
        rowPaths = new Set((await w.rows()).map((r) => r.file_path));
        expect(gone.filter((p) => rowPaths.has(p))).toEqual([]);
        expect(s.files).toBe(gone.length);
        // The stop may come after the last batch was already in flight: then all went, and the
        // run still says it was stopped.
        if (res.code === 5) expect(s.nodes[0].status).toBe('stopped');
        landed.push(`${signal} between batches (${res.code === 5 ? `stopped after ${gone.length} of ${paths.length} files` : 'had finished'})`);
      }

      // A second signal gives up at once, even on a DELETE held by a lock that stays: the
      // DELETE is cancelled, the files already removed keep their rows for the next run.
      await w.reset();
      const paths = await uploads(w, 4);
      const lock = await holdLock(w, 'rows-pending');
      const run = w.startPurge('--json');
      await waitForSession(w, run, 'waiting on its DELETE', (s) => s.wait === 'Lock' && /DELETE FROM/.test(s.query));
      run.child.kill('SIGTERM');
      await sleep(200);
      run.child.kill('SIGINT');
      const res = await exitsClean(w, run);
      expect(res.code, run.lines.join('\n')).toBe(5);
      await lock.release();
      expect(paths.some((p) => !existsSync(p))).toBe(true);
      const again = await w.purge('--json');
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(await w.rows()).toEqual([]);
      landed.push('SIGTERM then SIGINT on a held DELETE: gave up at once');
    } finally {
      await w.dispose();
    }
    rec.iterations = landed.length;
    rec.note(landed.join('; '));
  },
  600_000,
);
