import { describe, expect, it } from 'vitest';
import { planCatchUp, planStep } from '../../src/core/catchUp.js';
import { StepBudget } from '../../src/purge/pacing.js';
import type { FileDecision } from '../../src/purge/planBatch.js';

describe('planStep', () => {
  it('without caps, a run takes the whole backlog', () => {
    expect(planStep([{ chatType: 'im', files: 500, bytes: 9000 }], {})).toEqual([{ chatType: 'im', files: 500, bytes: 9000, estimatedBytes: 9000, maxFiles: Infinity, maxBytes: Infinity, capped: false }]);
  });

  it('splits a file cap between the chat types in proportion to their backlogs', () => {
    const s = planStep(
      [
        { chatType: 'im', files: 9000, bytes: 90_000 },
        { chatType: 'groupchat', files: 1000, bytes: 10_000 },
        { chatType: 'persistent', files: 0, bytes: 0 },
      ],
      { maxFilesPerRun: 1000 },
    );
    expect(s.map((x) => [x.chatType, x.maxFiles, x.files, x.capped])).toEqual([
      ['im', 900, 900, true],
      ['groupchat', 100, 100, true],
      ['persistent', 0, 0, false],
    ]);
  });

  it('gives every chat type with a backlog at least one file a step', () => {
    const s = planStep(
      [
        { chatType: 'im', files: 100_000, bytes: 1 },
        { chatType: 'groupchat', files: 1, bytes: 1 },
      ],
      { maxFilesPerRun: 10 },
    );
    expect(s.map((x) => x.maxFiles)).toEqual([10, 1]);
  });

  it('a byte cap bounds the bytes and, in proportion, the files the step is judged by', () => {
    const [s] = planStep([{ chatType: 'im', files: 1000, bytes: 1_000_000 }], { maxBytesPerRun: 250_000 });
    expect(s).toMatchObject({ maxBytes: 250_000, bytes: 250_000, files: 250, capped: true });
  });

  it('a backlog under the caps is not capped', () => {
    const [s] = planStep([{ chatType: 'im', files: 10, bytes: 100 }], { maxFilesPerRun: 50, maxBytesPerRun: 1000 });
    expect(s).toMatchObject({ files: 10, bytes: 100, capped: false });
  });
});

describe('planCatchUp', () => {
  const hourly = (after: Date) => new Date((Math.floor(after.getTime() / 3_600_000) + 1) * 3_600_000);
  const now = new Date('2026-12-02T10:30:00Z');

  it('counts the runs a cap needs (without a rate, no time is estimated)', () => {
    const p = planCatchUp({ files: 100_000, bytes: 1e9 }, now, { maxFilesPerRun: 30_000, nextStart: hourly, stopBy: () => undefined });
    expect(p).toEqual({ runs: 4, firstRun: { files: 30_000, bytes: 3e8 } });
  });

  it('with a rate and a cap: one run an hour, each as long as its step takes', () => {
    const p = planCatchUp({ files: 100_000, bytes: 1e9 }, now, { maxFilesPerRun: 30_000, maxFilesPerSecond: 10, nextStart: hourly, stopBy: () => undefined });
    // 30,000 files at 10/s = 50 min: runs at 11:00, 12:00, 13:00 and 14:00 (10,000 files: 16m40s).
    expect(p.runs).toBe(4);
    expect(p.clearedBy).toEqual(new Date('2026-12-02T14:16:40Z'));
    expect(p.removingSeconds).toBe(10_000);
  });

  it('a run longer than the schedule interval makes the next run start later', () => {
    const p = planCatchUp({ files: 20_000, bytes: 1 }, now, { maxFilesPerSecond: 2, nextStart: hourly, stopBy: () => undefined });
    // One run, 10,000 s (2h46m40s), from 11:00.
    expect(p.runs).toBe(1);
    expect(p.clearedBy).toEqual(new Date('2026-12-02T13:46:40Z'));
  });

  it('with a window that ends each run', () => {
    // Runs start at 01:00 each day and stop at 05:00: 4 h at 1 file/s = 14,400 files a night.
    const day = 86_400_000;
    const nextStart = (after: Date) => {
      const d = Math.floor(after.getTime() / day) * day + 3_600_000;
      return new Date(d > after.getTime() ? d : d + day);
    };
    const stopBy = (start: Date) => new Date(start.getTime() + 4 * 3_600_000);
    const p = planCatchUp({ files: 30_000, bytes: 1 }, now, { maxFilesPerSecond: 1, nextStart, stopBy });
    expect(p.runs).toBe(3);
    // Third night: 1,200 files left after two nights of 14,400: from 01:00 to 01:20.
    expect(p.clearedBy).toEqual(new Date('2026-12-05T01:20:00Z'));
  });

  it('says when the runs never get through', () => {
    const p = planCatchUp({ files: 10, bytes: 1 }, now, { maxFilesPerSecond: 1, nextStart: () => undefined, stopBy: () => undefined });
    expect(p.unbounded).toBe(true);
  });
});

describe('StepBudget', () => {
  const file = (i: number, size = 10, decision: 'delete' | 'keep' = 'delete'): FileDecision =>
    ({ filePath: `/n/files/im/20260101/00/f${i}`, chatType: 'im', fileSize: size, failedTransfer: false, uploadedAt: new Date(0), aftIndex: String(i), decision, reason: decision === 'delete' ? 'expired' : 'hold', rowIndexes: [String(i)] }) as FileDecision;

  it('takes files in order up to the file share and stops there; kept files cost nothing', () => {
    const [step] = planStep([{ chatType: 'im', files: 10, bytes: 100 }], { maxFilesPerRun: 3 });
    const b = new StepBudget(step!, undefined);
    expect(b.readSize(1000)).toBe(3);
    const r = b.take([file(1), file(2, 10, 'keep'), file(3), file(4), file(5)], true);
    expect(r.files.map((f) => f.aftIndex)).toEqual(['1', '2', '3', '4']);
    expect(r.last).toBe(true);
    expect(b.capped).toBe(true);
    expect(b.exhausted).toBe(true);
  });

  it('stops before the first file that would go over the byte share, except a step\'s first file', () => {
    const [step] = planStep([{ chatType: 'im', files: 10, bytes: 1000 }], { maxBytesPerRun: 25 });
    const b = new StepBudget(step!, undefined);
    expect(b.take([file(1, 10), file(2, 10), file(3, 10)], true).files.map((f) => f.aftIndex)).toEqual(['1', '2']);
    const big = new StepBudget(step!, undefined);
    expect(big.take([file(1, 100), file(2, 1)], true).files.map((f) => f.aftIndex)).toEqual(['1']);
  });

  it('without a cap takes everything and reads the batch size', () => {
    const [step] = planStep([{ chatType: 'im', files: 10, bytes: 100 }], {});
    const b = new StepBudget(step!, undefined);
    expect(b.readSize(1000)).toBe(1000);
    expect(b.take([file(1), file(2)], true)).toMatchObject({ last: false });
    expect(b.capped).toBe(false);
  });
});
