// Issue 4: stopping the daemon. SIGTERM lets the batch in flight finish and exits 0; when the
// batch cannot finish within daemon.drainTimeout, the daemon exits non-zero anyway, and the
// next start completes what was left.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, waitFor } from '../helpers/daemonHarness.js';
import { startPostgres } from '../helpers/pgServer.js';
import { killQuietly } from '../helpers/procUtil.js';
import { startSshd } from '../helpers/sshdServer.js';

describe('daemon shutdown', () => {
  let bed: DaemonTestBed;
  const stopped: number[] = [];

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(async () => {
    for (const pid of stopped.splice(0)) killQuietly(pid, 'SIGCONT');
    await bed.killDaemons();
  });
  afterAll(() => bed?.close());

  it('SIGTERM: the batch in flight completes, nothing is half-done, exit 0', async () => {
    const n = await bed.node('drain_1');
    const paths = await n.seed(3000);
    const d = bed.daemon(bed.config([n], { batchSize: 25 }));
    await d.waitForLog('the first removal', (l) => l.msg === 'removed', 30_000);
    d.signal('SIGTERM');
    const exit = await d.exited;
    expect(exit, d.dump()).toEqual({ code: 0, signal: null });

    const removed = d.removed();
    expect(removed.length).toBeGreaterThan(0);
    expect(removed.length).toBeLessThan(paths.length);
    // Whole batches only: the batch in flight finished, no new one started.
    expect(removed.length % 25).toBe(0);
    // Every removed file lost its row; every file still there kept its row.
    const rows = await n.rowsFor(paths);
    expect(rows.size).toBe(paths.length - removed.length);
    for (const p of paths) expect(existsSync(p)).toBe(rows.has(p));
    expect(d.find((l) => l.msg.startsWith('stopping'))).toMatchObject({ reason: 'SIGTERM', running: ['drain_1'] });
    expect(d.find((l) => l.msg === 'purge finished')).toMatchObject({ node: 'drain_1', status: 'stopped' });
    expect(d.find((l) => l.msg === 'stopped')).toBeDefined();
  });

  it('a batch stuck past drainTimeout: exit 1 with a clear line; the next start finishes the work', async () => {
    const n = await bed.node('stuck_1');
    const paths = await n.seed(2000);
    const d = bed.daemon(bed.config([n], { batchSize: 25, drainTimeout: 'PT1S' }));
    await d.waitForLog('the first removal', (l) => l.msg === 'removed', 30_000);
    // Freeze the PostgreSQL backend serving the purge: its next query hangs. The alarm checks
    // may have a connection of their own open at this moment; theirs only ever SELECT.
    const backend = await n.admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'mft-retention' AND datname = $1 AND query ~ '^\\s*(FETCH|DELETE|BEGIN|COMMIT)'`,
      [n.dbName],
    );
    expect(backend.rows).toHaveLength(1);
    const pid = backend.rows[0]!.pid;
    stopped.push(pid);
    killQuietly(pid, 'SIGSTOP');
    d.signal('SIGTERM');
    const exit = await d.exited;
    expect(exit, d.dump()).toEqual({ code: 1, signal: null });
    expect(d.find((l) => l.msg.startsWith('drain timeout passed'))).toMatchObject({ level: 50, drainTimeoutMs: 1000, running: ['stuck_1'] });
    killQuietly(pid, 'SIGCONT');

    // A new start (catch-up: the last purge did not succeed) purges everything that is left,
    // including files removed by the stuck batch whose rows were not deleted.
    const again = bed.daemon(bed.config([n], { batchSize: 1000 }), 'restarted');
    await waitFor('the restarted daemon to finish the purge', async () => (await n.rowsFor(paths)).size === 0, 30_000);
    expect(paths.every((p) => !existsSync(p))).toBe(true);
    // Every file is reported removed by one run or the other (the log line follows the commit),
    // except a batch whose COMMIT the frozen backend had already received: it commits when the
    // backend resumes, after the first daemon gave up waiting for the answer. Those rows are
    // gone with their files (consistent), but no run could log them: at most the two batches
    // the pipeline keeps in flight.
    const logged = (): Set<string> => new Set([...d.removed(), ...again.removed()]);
    await waitFor('the restarted run to finish', () => again.find((l) => l.msg === 'purge finished'), 30_000);
    await waitFor('the last removals to be logged', () => paths.length - logged().size <= 2 * 25);
    expect([...logged()].every((p) => paths.includes(p))).toBe(true);
    again.signal('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it('a second SIGTERM within the grace period is ignored; one after it forces the exit (exit 1), and the next start finishes', async () => {
    const n = await bed.node('force_1');
    const paths = await n.seed(2000);
    const d = bed.daemon(bed.config([n], { batchSize: 25, drainTimeout: 'PT120S' }));
    await d.waitForLog('the first removal', (l) => l.msg === 'removed', 30_000);
    const backend = await n.admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = 'mft-retention' AND datname = $1`, [n.dbName]);
    const pid = backend.rows[0]!.pid;
    stopped.push(pid);
    killQuietly(pid, 'SIGSTOP');
    d.signal('SIGTERM');
    await d.waitForLog('the drain to start', (l) => l.msg.startsWith('stopping'));
    d.signal('SIGTERM');
    const ignored = await d.waitForLog('the repeat to be ignored', (l) => l.msg.startsWith('stop already in progress'));
    expect(d.running).toBe(true);
    // After the grace period (5 s from the first signal), another signal forces the exit.
    await new Promise((r) => setTimeout(r, (ignored.graceLeftMs as number) + 200));
    d.signal('SIGTERM');
    const exit = await d.exited;
    expect(exit, d.dump()).toEqual({ code: 1, signal: null });
    expect(d.find((l) => l.msg.startsWith('second stop signal: forcing the exit'))).toMatchObject({ level: 50, signal: 'SIGTERM' });
    killQuietly(pid, 'SIGCONT');

    const again = bed.daemon(bed.config([n], { batchSize: 1000 }), 'restarted');
    await waitFor('the restarted daemon to finish the purge', async () => (await n.rowsFor(paths)).size === 0, 30_000);
    expect(paths.every((p) => !existsSync(p))).toBe(true);
    again.signal('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });
});
