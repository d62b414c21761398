// The blast-radius limits judge a capped run (purge.limits.maxFilesPerRun / maxBytesPerRun) as
// a run of its own: by what the step removes, not by the whole backlog; and a step that
// continues a known catch-up is not "unusually large" because the runs before the catch-up
// were small.
import { Duration } from 'luxon';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/config/limits.js';
import type { RetentionPolicy } from '../../src/config/policies.js';
import type { Catalog, ChatTypeCount, ExpiredCount } from '../../src/ports.js';
import { checkBlastRadius, type LimitTarget } from '../../src/purge/blastRadius.js';
import type { CatchUpStep, RunHistory } from '../../src/purge/runHistory.js';

const NOW = new Date('2026-11-21T12:30:00.000Z');
const times = { now: NOW, currentHourStart: new Date('2026-11-21T12:00:00.000Z'), skewMs: 0 };
const log = pino({ level: 'silent' });
const im: RetentionPolicy = { chatType: 'im', retention: Duration.fromISO('P7D'), retentionText: 'P7D', source: 'im.yaml', allowShortRetention: false, allowPurgeAll: false };
const node = (limits: Parameters<typeof resolveLimits>[0]): LimitTarget => ({ name: 'node_1', policies: { im }, limits: resolveLimits(limits, undefined) });
const catalog = (files: number): Catalog =>
  ({
    async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>): Promise<ChatTypeCount[]> {
      return counts.map(() => ({ files, bytes: files * 10, total: files * 2 }));
    },
  }) as unknown as Catalog;

/** A history in memory: `recent` runs, and the last capped step if any. */
function history(recent: number[], step?: CatchUpStep): RunHistory & { steps: Array<CatchUpStep | undefined>; runs: number[] } {
  let last = step;
  const h = {
    steps: [] as Array<CatchUpStep | undefined>,
    runs: [...recent],
    recent: () => [...h.runs],
    record: (_n: string, _c: string, files: number) => void h.runs.push(files),
    problem: () => undefined,
    catchUp: () => last,
    recordCatchUp: (_n: string, _c: string, s: CatchUpStep | undefined) => {
      last = s;
      h.steps.push(s);
    },
    save: async () => undefined,
  };
  return h;
}

describe('capped steps and the blast-radius limits', () => {
  it('a backlog above maxFiles goes ahead in steps of maxFilesPerRun, judged by the step', async () => {
    const gate = await checkBlastRadius(node({ maxFiles: 1000, maxFilesPerRun: 750 }), catalog(100_000), times, ['im'], {}, log, false);
    expect(gate.refusals).toEqual([]);
    expect(gate.expired('im')).toEqual({ files: 100_000, bytes: 1_000_000 });
    // With a file cap only, the bytes judged are the backlog's (a bound: the oldest files may be
    // the largest); the estimate is in proportion.
    expect(gate.step('im')).toMatchObject({ files: 750, bytes: 1_000_000, estimatedBytes: 7500, capped: true });
    const both = await checkBlastRadius(node({ maxBytes: 10_000, maxFilesPerRun: 750, maxBytesPerRun: 7500 }), catalog(100_000), times, ['im'], {}, log, false);
    expect(both.refusals).toEqual([]);
    expect(both.step('im')).toMatchObject({ files: 750, bytes: 7500 });
  });

  it('a step larger than maxFiles is refused with the step\'s numbers', async () => {
    const gate = await checkBlastRadius(node({ maxFiles: 500, maxFilesPerRun: 750 }), catalog(100_000), times, ['im'], {}, log, false);
    expect(gate.refusals.map((r) => [r.limit, r.measured, r.files])).toEqual([['maxFiles', 750, 750]]);
    // The approval covers that step.
    expect(gate.refusals[0]!.approval!.token).toMatch(/^node_1:all:750:1000000:/);
  });

  it('the first step after small runs is unusually large; the steps of the known catch-up after it are not', async () => {
    const limits = { maxFilesPerRun: 750, maxTimesUsual: 10 as const };
    const h = history([10, 10, 10]);
    const first = await checkBlastRadius(node(limits), catalog(3000), times, ['im'], { history: h }, log, false);
    expect(first.refusals.map((r) => [r.limit, r.files])).toEqual([['maxTimesUsual', 750]]);

    // Approved, it ran: the history knows it was a capped step that left 2,250.
    h.recordCatchUp('node_1', 'im', { files: 750, left: 2250 });
    h.record('node_1', 'im', 750);
    const second = await checkBlastRadius(node(limits), catalog(2250 + 40), times, ['im'], { history: h }, log, false);
    expect(second.refusals).toEqual([]);
    second.record();
    expect(h.steps.at(-1)).toEqual({ files: 750, left: 1540 });
  });

  it('a backlog that grew by more than a step since is judged as ever (a mass expiry in the middle of a catch-up)', async () => {
    const limits = { maxFilesPerRun: 750, maxTimesUsual: 10 as const };
    const h = history([10, 10, 10], { files: 750, left: 2250 });
    const gate = await checkBlastRadius(node(limits), catalog(2250 + 751), times, ['im'], { history: h }, log, false);
    expect(gate.refusals.map((r) => r.limit)).toEqual(['maxTimesUsual']);
  });

  it('the last step, under the cap, ends the catch-up in the history', async () => {
    const h = history([10, 10, 10], { files: 750, left: 700 });
    const gate = await checkBlastRadius(node({ maxFilesPerRun: 750 }), catalog(700), times, ['im'], { history: h }, log, false);
    expect(gate.refusals).toEqual([]);
    expect(gate.step('im').capped).toBe(false);
    gate.record();
    expect(h.steps.at(-1)).toBeUndefined();
  });

  it('maxPercentOfChatType judges the step against the chat type', async () => {
    // The step is 750 of 200,000 Post rows (0.4 %), the backlog half of them.
    const gate = await checkBlastRadius(node({ maxPercentOfChatType: 5, maxFilesPerRun: 750 }), catalog(100_000), times, ['im'], {}, log, false);
    expect(gate.refusals).toEqual([]);
    const whole = await checkBlastRadius(node({ maxPercentOfChatType: 5 }), catalog(100_000), times, ['im'], {}, log, false);
    expect(whole.refusals.map((r) => r.limit)).toEqual(['maxPercentOfChatType']);
  });
});
