import { describe, expect, it } from 'vitest';
import { PurgeMetrics } from '../../src/daemon/metrics.js';
import { planStep } from '../../src/core/catchUp.js';
import { emptyStats } from '../../src/core/purgeStats.js';

const line = (text: string, name: string, labels: string): number | undefined => {
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('the catch-up metrics', () => {
  it('show the backlog left, what the run still has to do, and an ETA at the rate, after every batch', async () => {
    const metrics = new PurgeMetrics();
    const [step] = planStep([{ chatType: 'im', files: 10_000, bytes: 1e6 }], { maxFilesPerRun: 2000 });
    const stats = emptyStats('im', 'P7D');
    const backlog = { files: 10_000, bytes: 1e6 };
    metrics.catchUp.record('node_1', stats, backlog, { step: step!, maxFilesPerSecond: 50 }, 1_000);
    let text = await metrics.render();
    const labels = 'node="node_1",chat_type="im"';
    expect(line(text, 'mft_purge_backlog_remaining_files', labels)).toBe(10_000);
    expect(line(text, 'mft_purge_run_remaining_files', labels)).toBe(2000);
    expect(line(text, 'mft_purge_backlog_eta_seconds', labels)).toBe(200);

    stats.files = 500;
    metrics.catchUp.record('node_1', stats, backlog, { step: step!, maxFilesPerSecond: 50 }, 11_000);
    text = await metrics.render();
    expect(line(text, 'mft_purge_backlog_remaining_files', labels)).toBe(9500);
    expect(line(text, 'mft_purge_run_remaining_files', labels)).toBe(1500);
    expect(line(text, 'mft_purge_backlog_eta_seconds', labels)).toBe(190);
  });

  it('without a rate, the ETA is at the rate the run has reached so far', async () => {
    const metrics = new PurgeMetrics();
    const stats = emptyStats('groupchat', 'P1D');
    const backlog = { files: 3000, bytes: 3e5 };
    metrics.catchUp.record('node_1', stats, backlog, undefined, 0);
    stats.files = 1000;
    metrics.catchUp.record('node_1', stats, backlog, undefined, 10_000);
    const text = await metrics.render();
    // 1,000 files in 10 s: 2,000 left take 20 s.
    expect(line(text, 'mft_purge_backlog_eta_seconds', 'node="node_1",chat_type="groupchat"')).toBe(20);
  });

  it('counts the purges the windows held back', async () => {
    const metrics = new PurgeMetrics();
    metrics.catchUp.recordOutsideWindow('node_1');
    metrics.catchUp.recordOutsideWindow('node_1');
    expect(line(await metrics.render(), 'mft_purge_outside_window_total', 'node="node_1"')).toBe(2);
  });
});
