import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/progress.js';
import { planStep } from '../../src/core/catchUp.js';
import { emptyStats } from '../../src/core/purgeStats.js';

describe('progressLine with a capped step and a rate', () => {
  it('shows this run\'s step, the ETA at the configured rate, and the backlog left after it', () => {
    const [step] = planStep([{ chatType: 'im', files: 100_000, bytes: 1e8 }], { maxFilesPerRun: 20_000 });
    const s = { ...emptyStats('im', 'P7D'), handled: 5000, files: 5000, bytes: 5e6 };
    const line = progressLine('node_1', s, { files: 100_000 }, 50_000, 20, { step: step!, maxFilesPerSecond: 100 });
    // 5,000 of the step's 20,000 (a quarter of the bar); 15,000 left at 100/s = 2m30s;
    // 95,000 left in the backlog = 15m50s of removing.
    expect(line).toContain('[#####...............] 5,000/20,000 files');
    expect(line).toContain('ETA 2m30s');
    expect(line).toContain('backlog 95,000 left (15m50s of removing)');
  });

  it('without a cap the bar is the backlog, as before', () => {
    const [step] = planStep([{ chatType: 'im', files: 1000, bytes: 1e6 }], {});
    const s = { ...emptyStats('im', 'P7D'), handled: 500, files: 500 };
    const line = progressLine('node_1', s, { files: 1000 }, 5_000, 20, { step: step! });
    expect(line).toContain('500/1,000 files');
    expect(line).not.toContain('backlog');
  });
});
