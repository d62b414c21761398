// A real daemon's /metrics, after a real purge: passes promtool check metrics, and carries
// the series the shipped rules and dashboard need (build info, runs by outcome, the run
// duration histogram, the thresholds in force, the last success kept across a restart).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, getText, metricValue, waitFor } from '../helpers/daemonHarness.js';
import { ROOT } from '../helpers/monitoringFiles.js';
import { startPostgres } from '../helpers/pgServer.js';
import { promtool } from '../helpers/promtool.js';
import { startSshd } from '../helpers/sshdServer.js';

// prom-client's default Node.js metrics name three gauges "*_total", which promtool's linter
// reports; they are not the daemon's to rename. Every other finding fails the test.
const PROM_CLIENT_FINDINGS = [
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];

describe('the daemon\'s live /metrics', () => {
  let bed: DaemonTestBed;

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(() => bed.killDaemons());
  afterAll(() => bed?.close());

  it('pass promtool check metrics and carry build info, runs by outcome, run durations and thresholds', async () => {
    const n = await bed.node('live_1');
    const paths = await n.seed(12);
    const config = bed.config([n], { extra: { alarms: { stalled: { maxTimeWithoutSuccess: 'PT2H', maxBacklogAge: 'PT3H' }, freeSpace: { lowerPercent: 8, upperPercent: 12 } } } });
    const d = bed.daemon(config);
    const url = await d.url();
    await waitFor('the purge', async () => (await n.rowsFor(paths)).size === 0);
    await d.waitForLog('purge finished', (l) => l.msg === 'purge finished' && l.status === 'ok');
    const body = (await getText(`${url}/metrics`)).body;

    const r = promtool(['check', 'metrics'], body);
    const findings = `${r.stdout}${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(findings.filter((f) => !PROM_CLIENT_FINDINGS.includes(f)), r.output).toEqual([]);
    // 0: clean; 3: lint findings only (1 would be a text that does not parse).
    expect([0, 3], r.output).toContain(r.status);

    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(metricValue(body, `mft_retention_build_info{version="${version}",runtime="node",runtime_version="${process.versions.node}"}`)).toBe(1);
    const v = (s: string): number | undefined => metricValue(body, s);
    expect(v('mft_purge_runs_total{node="live_1",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    for (const outcome of ['partial', 'refused', 'stopped', 'failed']) expect(v(`mft_purge_runs_total{node="live_1",outcome="${outcome}"}`), outcome).toBe(0);
    const runs = v('mft_purge_run_duration_seconds_count{node="live_1"}')!;
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(v('mft_purge_run_duration_seconds_bucket{le="+Inf",node="live_1"}')).toBe(runs);
    expect(v('mft_purge_max_time_without_success_seconds{node="live_1"}')).toBe(7200);
    expect(v('mft_purge_max_backlog_age_seconds{node="live_1"}')).toBe(10800);
    expect(v('mft_file_server_available_ratio_threshold{node="live_1",bound="lower"}')).toBe(0.08);
    expect(v('mft_file_server_available_ratio_threshold{node="live_1",bound="upper"}')).toBe(0.12);
    expect(v('mft_database_used_ratio_threshold{node="live_1",bound="raise"}')).toBe(0.9);
    expect(v('mft_purge_watched_since_timestamp_seconds{node="live_1"}')).toBeLessThanOrEqual(Date.now() / 1000);
  });

  it('keep the last success across a restart, before the next purge', async () => {
    const n = await bed.node('live_2');
    const paths = await n.seed(3);
    const config = bed.config([n]);
    const first = bed.daemon(config, 'first');
    await first.url();
    await waitFor('the purge', async () => (await n.rowsFor(paths)).size === 0);
    const done = await first.waitForLog('purge finished', (l) => l.msg === 'purge finished' && l.status === 'ok');
    first.signal('SIGTERM');
    await first.exited;
    // The same state directory, a schedule far away: no purge runs in this daemon's life.
    const text = readFileSync(config, 'utf8').replace('"schedule": "* * * * * *"', '"schedule": "0 0 1 1 *"');
    expect(text).toContain('0 0 1 1 *');
    writeFileSync(config, text);
    const second = bed.daemon(config, 'second');
    const body = (await getText(`${await second.url()}/metrics`)).body;
    expect(second.count((l) => l.msg === 'purge started')).toBe(0);
    const last = metricValue(body, 'mft_purge_last_success_timestamp_seconds{node="live_2"}');
    expect(last).toBeGreaterThan(0);
    expect(Math.abs(last! - Date.parse(done.finishedAt as string) / 1000)).toBeLessThan(2);
  });
});
