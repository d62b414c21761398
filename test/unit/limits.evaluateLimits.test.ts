import { describe, expect, it } from 'vitest';
import { limitsSchema, resolveLimits } from '../../src/config/limits.js';
import { evaluateLimits, median, type ChatTypeMeasure } from '../../src/core/limits.js';

const H = 3_600_000;
const base = (over: Partial<ChatTypeMeasure> = {}): ChatTypeMeasure => ({
  chatType: 'im',
  files: 150,
  bytes: 150_000,
  total: 100_000,
  retentionMs: 7 * 24 * H,
  retentionText: 'P7D',
  allowShortRetention: false,
  allowPurgeAll: false,
  recent: [],
  source: '/etc/mft-retention/policies/im.yaml',
  ...over,
});
const defaults = resolveLimits(undefined, undefined);

describe('evaluateLimits', () => {
  it('lets an ordinary run go: no caps by default, no history yet, far from everything', () => {
    expect(evaluateLimits('n1', [base()], defaults)).toEqual([]);
  });

  it('refuses the node when the files or bytes of all chat types together pass the caps, with the numbers', () => {
    const limits = resolveLimits(limitsSchema.parse({ maxFiles: 200, maxBytes: '250KB' }), undefined);
    const r = evaluateLimits('n1', [base(), base({ chatType: 'groupchat', files: 100, bytes: 120_000 })], limits);
    expect(r.map((x) => [x.chatType, x.limit, x.measured, x.threshold, x.unit])).toEqual([
      ['all', 'maxFiles', 250, 200, 'files'],
      ['all', 'maxBytes', 270_000, 250_000, 'bytes'],
    ]);
    expect(r[0]).toMatchObject({ node: 'n1', files: 250, bytes: 270_000 });
    expect(r[0]!.message).toContain('250 files');
  });

  it('a node override replaces the shared cap key by key', () => {
    const limits = resolveLimits({ maxFiles: 10, maxBytes: 5 }, { maxFiles: 1000 });
    expect(limits.maxFiles).toBe(1000);
    expect(limits.maxBytes).toBe(5);
  });

  it('refuses a chat type above maxTimesUsual times the median of its recent runs, only with 3 runs of history', () => {
    expect(evaluateLimits('n1', [base({ files: 5000, recent: [100, 120] })], defaults)).toEqual([]);
    const r = evaluateLimits('n1', [base({ files: 5000, recent: [100, 120, 400, 90] })], defaults);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ chatType: 'im', limit: 'maxTimesUsual', measured: 5000, threshold: 1100 });
    // 10 x the median (110) is allowed, one more is not.
    expect(evaluateLimits('n1', [base({ files: 1100, recent: [100, 120, 400, 90] })], defaults)).toEqual([]);
    expect(evaluateLimits('n1', [base({ files: 1101, recent: [100, 120, 400, 90] })], defaults)).toHaveLength(1);
  });

  it('does not apply relative limits below minFiles', () => {
    expect(evaluateLimits('n1', [base({ files: 99, total: 99, recent: [1, 1, 1] })], defaults)).toEqual([]);
    expect(evaluateLimits('n1', [base({ files: 100, total: 100, recent: [1, 1, 1] })], defaults).map((r) => r.limit)).toEqual(['maxTimesUsual', 'purgeAll']);
  });

  it('refuses a run that would remove every file of the chat type unless the policy allows it', () => {
    const r = evaluateLimits('n1', [base({ files: 500, total: 500 })], defaults);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ limit: 'purgeAll', measured: 500, threshold: 500 });
    expect(r[0]!.fix).toContain('allowPurgeAll: true');
    expect(r[0]!.fix).toContain('/etc/mft-retention/policies/im.yaml');
    expect(evaluateLimits('n1', [base({ files: 500, total: 500, allowPurgeAll: true })], defaults)).toEqual([]);
  });

  it('refuses more than maxPercentOfChatType percent of a chat type', () => {
    const limits = resolveLimits({ maxPercentOfChatType: 50 }, undefined);
    expect(evaluateLimits('n1', [base({ files: 500, total: 1000 })], limits)).toEqual([]);
    const r = evaluateLimits('n1', [base({ files: 501, total: 1000 })], limits);
    expect(r[0]).toMatchObject({ limit: 'maxPercentOfChatType', measured: 50.1, threshold: 50, unit: 'percent' });
  });

  it('refuses a retention under the floor (PT2H by default) unless allowShortRetention, whatever the counts', () => {
    const r = evaluateLimits('n1', [base({ files: 0, retentionMs: H, retentionText: 'PT1H' })], defaults);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ limit: 'minRetention', measured: H, threshold: 2 * H });
    expect(r[0]!.fix).toContain('allowShortRetention: true');
    expect(evaluateLimits('n1', [base({ retentionMs: 2 * H, retentionText: 'PT2H' })], defaults)).toEqual([]);
    expect(evaluateLimits('n1', [base({ retentionMs: H, allowShortRetention: true })], defaults)).toEqual([]);
  });

  it('maxTimesUsual: off disables the relative limit', () => {
    expect(evaluateLimits('n1', [base({ files: 5000, recent: [1, 1, 1] })], resolveLimits({ maxTimesUsual: 'off' }, undefined))).toEqual([]);
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
