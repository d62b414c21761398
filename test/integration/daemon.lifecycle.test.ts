// Issue 4: the daemon as a real process under real PostgreSQL and sshd: it purges on its
// schedule, reports on /healthz and /metrics, and reloads on SIGHUP (rejecting a bad config).
// Stopping is in daemon.shutdown.test.ts, several instances in daemon.instances.test.ts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, getText, metricValue, waitFor } from '../helpers/daemonHarness.js';
import { startPostgres } from '../helpers/pgServer.js';
import { startSshd } from '../helpers/sshdServer.js';

describe('mft-retention daemon', () => {
  let bed: DaemonTestBed;

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(() => bed.killDaemons());
  afterAll(() => bed?.close());

  it('purges on its schedule and reports it on /healthz and /metrics', async () => {
    const n = await bed.node('sched_1');
    const first = await n.seed(30);
    const fresh = await n.seed(5, { ageHours: 2 }); // younger than the 1-day policy: kept
    const d = bed.daemon(bed.config([n]));
    const url = await d.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    await waitFor('the first purge', async () => (await n.rowsFor(first)).size === 0);
    expect(first.every((p) => !existsSync(p))).toBe(true);
    // A later upload that has expired goes at a later tick, without a restart.
    const second = await n.seed(7);
    await waitFor('a later scheduled purge', async () => (await n.rowsFor(second)).size === 0);
    expect(second.every((p) => !existsSync(p))).toBe(true);
    expect(await n.rowsFor(fresh)).toEqual(new Set(fresh));
    // The rows go before the run logs its end: wait for the runs' own reports of 30 + 7 files.
    await waitFor('the purge reports', () => d.lines.filter((l) => l.msg === 'purge finished').reduce((a, l) => a + (l.files as number), 0) === 37);

    const health = await getText(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = JSON.parse(health.body);
    expect(body).toMatchObject({ status: 'ok', pid: d.pid, schedule: { expression: '* * * * * *', timezone: 'UTC' } });
    expect(body.nodes).toEqual([
      expect.objectContaining({ name: 'sched_1', lock: 'held', lastSuccessAt: expect.any(String), lastRun: expect.objectContaining({ status: 'ok' }) }),
    ]);

    const m = await getText(`${url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.contentType).toContain('text/plain');
    const v = (s: string): number | undefined => metricValue(m.body, s);
    expect(v('mft_purge_files_total{node="sched_1",chat_type="im"}')).toBe(37);
    expect(v('mft_purge_bytes_total{node="sched_1",chat_type="im"}')).toBe(37);
    expect(v('mft_purge_rows_total{node="sched_1",chat_type="im"}')).toBe(37);
    expect(v('mft_purge_files_total{node="sched_1",chat_type="groupchat"}')).toBe(0);
    expect(v('mft_purge_last_duration_seconds{node="sched_1"}')).toBeGreaterThanOrEqual(0);
    expect(v('mft_purge_last_success_timestamp_seconds{node="sched_1"}')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(v('mft_purge_running{node="sched_1"}')).toBeGreaterThanOrEqual(0);
    expect(v('mft_purge_lock_held{node="sched_1"}')).toBe(1);
    expect(m.body).toContain('# TYPE mft_purge_failures_total counter');
    expect(m.body).toMatch(/^process_cpu_user_seconds_total /m);
    expect(m.body).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect((await getText(`${url}/nope`)).status).toBe(404);

    d.signal('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.find((l) => l.msg === 'stopped')).toBeDefined();
  });

  it('SIGHUP: a bad config is rejected and the old one keeps running; a good one is applied', async () => {
    const n = await bed.node('reload_1');
    const file = bed.config([n]);
    const good = readFileSync(file, 'utf8');
    const d = bed.daemon(file);
    await d.url();
    await d.waitForLog('a first purge', (l) => l.msg === 'purge finished');

    writeFileSync(file, good.replace('"schedule": "* * * * * *"', '"schedule": "every now and then"'));
    d.signal('SIGHUP');
    const rejected = await d.waitForLog('the rejection', (l) => l.msg === 'config reload rejected; the running config is kept');
    expect(rejected.level).toBe(50);
    expect(rejected.reason).toMatch(/daemon\.schedule/);
    expect(rejected.reason).toMatch(/every now and then/);
    // Still purging with the old config.
    const a = await n.seed(3);
    await waitFor('a purge after the rejected reload', async () => (await n.rowsFor(a)).size === 0);

    // A good config: im now kept 5 days, so a 3-day-old file stays and a 6-day-old one goes.
    const changed = JSON.parse(good) as { nodes: Array<{ policies?: unknown }> };
    changed.nodes[0]!.policies = { im: { retention: 'P5D' } };
    writeFileSync(file, JSON.stringify(changed, null, 2));
    const mark = d.lines.length;
    d.signal('SIGHUP');
    const applied = await d.waitForLog('the reload', (l) => l.msg === 'config reloaded', 15_000, mark);
    expect(applied.policiesChanged).toEqual(['reload_1']);
    const report = await d.waitForLog('the eligibility report', (l) => l.msg === 'files eligible under the reloaded policies' && l.chatType === 'im', 15_000, mark);
    expect(report).toMatchObject({ node: 'reload_1', retentionBefore: 'P1D', retentionAfter: 'P5D' });
    const recent = await n.seed(2, { ageHours: 3 * 24 });
    const old = await n.seed(2, { ageHours: 6 * 24 });
    await waitFor('the 6-day-old files to go', async () => (await n.rowsFor(old)).size === 0);
    // Two more purges after that one: the 3-day-old files are still there.
    const finished = d.count((l) => l.msg === 'purge finished');
    await waitFor('two more purges', () => d.count((l) => l.msg === 'purge finished') >= finished + 2);
    expect(await n.rowsFor(recent)).toEqual(new Set(recent));
    expect(recent.every((p) => existsSync(p))).toBe(true);

    d.signal('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('counts purged files whose upload had failed (bytes_transferred differs from file_size) in /metrics', async () => {
    const n = await bed.node('failed_tx_1');
    const good = await n.seed(4);
    const broken = await n.seed(3, { bytesTransferred: 0 });
    const d = bed.daemon(bed.config([n]));
    await waitFor('the purge', async () => (await n.rowsFor([...good, ...broken])).size === 0);
    await waitFor('the purge report', () => d.find((l) => l.msg === 'purge finished' && l.files === 7));
    const m = (await getText(`${await d.url()}/metrics`)).body;
    expect(metricValue(m, 'mft_purge_failed_transfers_total{node="failed_tx_1",chat_type="im"}')).toBe(3);
    expect(metricValue(m, 'mft_purge_failed_transfers_total{node="failed_tx_1",chat_type="groupchat"}')).toBe(0);
  });
});
