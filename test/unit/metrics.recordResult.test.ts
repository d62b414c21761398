// Runs by outcome, run durations and the thresholds in force, as PurgeMetrics exports them.
import { describe, expect, it } from 'vitest';
import { PurgeMetrics, RUN_OUTCOMES } from '../../src/daemon/metrics.js';
import type { NodeResult } from '../../src/purge/purgeNode.js';
import type { NodeAlarmThresholds } from '../../src/config/resolveAlarms.js';

const value = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const run = (status: NodeResult['status'], seconds: number): NodeResult => ({ node: 'n1', status, chatTypes: [], startedAt: new Date(1_000_000), finishedAt: new Date(1_000_000 + seconds * 1000) });

const thresholds = (o: Partial<NodeAlarmThresholds['database']> = {}): NodeAlarmThresholds => ({
  freeSpace: { lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true, lowerFreeBytes: 1000 },
  database: { raisePercent: 90, clearPercent: 85, ...o },
  stalled: { maxTimeWithoutSuccessMs: 3_600_000, maxBacklogAgeMs: 7_200_000 },
});

describe('PurgeMetrics', () => {
  it('counts every outcome from zero and observes each run\'s duration', async () => {
    const m = new PurgeMetrics();
    m.registerNode('n1', ['im']);
    let text = await m.render();
    for (const outcome of RUN_OUTCOMES) expect(value(text, `mft_purge_runs_total{node="n1",outcome="${outcome}"}`), outcome).toBe(0);
    m.recordResult(run('ok', 2));
    m.recordResult(run('refused', 40));
    m.recordResult(run('ok', 700));
    m.countFailedStart('n1');
    text = await m.render();
    expect(value(text, 'mft_purge_runs_total{node="n1",outcome="ok"}')).toBe(2);
    expect(value(text, 'mft_purge_runs_total{node="n1",outcome="refused"}')).toBe(1);
    expect(value(text, 'mft_purge_runs_total{node="n1",outcome="failed"}')).toBe(1);
    expect(value(text, 'mft_purge_run_duration_seconds_count{node="n1"}')).toBe(3);
    expect(value(text, 'mft_purge_run_duration_seconds_sum{node="n1"}')).toBe(742);
    expect(value(text, 'mft_purge_run_duration_seconds_bucket{le="5",node="n1"}')).toBe(1);
    expect(value(text, 'mft_purge_run_duration_seconds_bucket{le="60",node="n1"}')).toBe(2);
    expect(value(text, 'mft_purge_run_duration_seconds_bucket{le="1200",node="n1"}')).toBe(3);
    expect(text).toMatch(/^mft_retention_build_info\{version="\d+\.\d+\.\d+[^"]*",runtime="node",runtime_version="[^"]+"\} 1$/m);
  });

  it('exports the thresholds in force, only those configured, and forgets them with the node', async () => {
    const m = new PurgeMetrics();
    m.setThresholds('n1', thresholds());
    let text = await m.render();
    expect(value(text, 'mft_purge_max_time_without_success_seconds{node="n1"}')).toBe(3600);
    expect(value(text, 'mft_purge_max_backlog_age_seconds{node="n1"}')).toBe(7200);
    expect(value(text, 'mft_file_server_available_ratio_threshold{node="n1",bound="lower"}')).toBe(0.1);
    expect(value(text, 'mft_file_server_available_bytes_threshold{node="n1",bound="lower"}')).toBe(1000);
    expect(value(text, 'mft_file_server_available_bytes_threshold{node="n1",bound="upper"}')).toBeUndefined();
    expect(value(text, 'mft_database_capacity_bytes{node="n1"}')).toBeUndefined();
    // A reload that sets a capacity and a new raise threshold: the new values, nothing stale.
    m.setThresholds('n1', thresholds({ capacityBytes: 5e9, raisePercent: 80 }));
    text = await m.render();
    expect(value(text, 'mft_database_capacity_bytes{node="n1"}')).toBe(5e9);
    expect(value(text, 'mft_database_used_ratio_threshold{node="n1",bound="raise"}')).toBe(0.8);
    m.removeNode('n1');
    text = await m.render();
    expect(text).not.toMatch(/node="n1"/);
  });
});
