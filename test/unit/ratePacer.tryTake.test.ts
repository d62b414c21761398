import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunkSizeFor, RatePacer } from '../../src/core/ratePacer.js';

/** Drives a pacer with a fake clock: each chunk is sent when the pacer says, after `lateness` ms. */
function simulate(perSecond: number, chunks: number[], lateness: (i: number) => number = () => 0, gaps: (i: number) => number = () => 0): Array<[number, number]> {
  let t = 1_000_000;
  const pacer = new RatePacer(perSecond, () => t);
  const sent: Array<[number, number]> = [];
  chunks.forEach((n, i) => {
    t += gaps(i);
    // As takeWhenAllowed does, with timers that fire `lateness` ms late.
    for (let wait = pacer.tryTake(n); wait > 0; wait = pacer.tryTake(n)) t += wait + lateness(i);
    sent.push([t, Math.min(n, Math.max(1, perSecond))]);
  });
  return sent;
}

/** The most files sent in any half-open second [s, s + 1000), starting at each send. */
function maxPerSlidingSecond(sent: Array<[number, number]>): number {
  let max = 0;
  for (const [s] of sent) {
    const n = sent.filter(([t]) => t >= s && t < s + 1000).reduce((a, [, k]) => a + k, 0);
    max = Math.max(max, n);
  }
  return max;
}

describe('RatePacer.tryTake', () => {
  it('spreads chunks over the second instead of sending them at its start', () => {
    const sent = simulate(100, Array(10).fill(20));
    const starts = sent.map(([t]) => t - sent[0]![0]);
    expect(starts).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
  });

  it('keeps the rate over a long run, exactly, when the caller waits as told', () => {
    const sent = simulate(250, Array(500).fill(50));
    const span = sent[sent.length - 1]![0] - sent[0]![0];
    // 500 chunks of 50 = 25,000 files; the last chunk starts 24,950 files' time after the first.
    expect(span).toBe((24_950 / 250) * 1000);
  });

  it('keeps the rate when every timer fires a little late', () => {
    const sent = simulate(250, Array(500).fill(50), () => 3);
    const span = sent[sent.length - 1]![0] - sent[0]![0];
    const achieved = (24_950 / span) * 1000;
    expect(achieved).toBeGreaterThan(250 * 0.98);
    expect(maxPerSlidingSecond(sent)).toBeLessThanOrEqual(250);
  });

  it('never sends more than the rate in any sliding second, however late or irregular the caller', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2000 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 60, maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 1500 }), { minLength: 60, maxLength: 60 }),
        (rate, chunks, late, gaps) => {
          const sent = simulate(rate, chunks, (i) => late[i]!, (i) => gaps[i]!);
          expect(maxPerSlidingSecond(sent)).toBeLessThanOrEqual(rate);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('saves no credit during a pause: after idling, it does not burst', () => {
    // Idle for 10 s, then chunks of a fifth of the rate: they are still 200 ms apart.
    const sent = simulate(50, [10, 10, 10, 10], () => 0, (i) => (i === 1 ? 10_000 : 0));
    expect(sent[2]![0] - sent[1]![0]).toBe(200);
    expect(sent[3]![0] - sent[2]![0]).toBe(200);
  });

  it('chunks are a fifth of a second of the budget, at least one file', () => {
    expect(chunkSizeFor(1000)).toBe(200);
    expect(chunkSizeFor(3)).toBe(1);
    expect(new RatePacer(0.5, () => 0).chunkSize).toBe(1);
  });

  it('paces below one file a second too', () => {
    const sent = simulate(0.5, [1, 1, 1]);
    expect(sent.map(([t]) => t - sent[0]![0])).toEqual([0, 2000, 4000]);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new RatePacer(0, () => 0)).toThrow(/positive/);
  });
});
