import { Duration } from 'luxon';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/config/limits.js';
import type { RetentionPolicy } from '../../src/config/policies.js';
import type { ChatType } from '../../src/core/chatType.js';
import type { Catalog, ChatTypeCount, ExpiredCount } from '../../src/ports.js';
import { checkBlastRadius, type LimitTarget } from '../../src/purge/blastRadius.js';

const H = 3_600_000;
const NOW = new Date('2026-11-21T12:30:00.000Z');
const times = { now: NOW, currentHourStart: new Date('2026-11-21T12:00:00.000Z'), skewMs: 0 };
const log = pino({ level: 'silent' });

const policy = (chatType: ChatType, retention: string): RetentionPolicy => ({
  chatType,
  retention: retention === 'forever' ? 'forever' : Duration.fromISO(retention),
  retentionText: retention,
  source: `/etc/mft-retention/policies/${chatType}.yaml`,
  allowShortRetention: false,
  allowPurgeAll: false,
});

const nodeWith = (policies: RetentionPolicy[], limits = resolveLimits({ maxFiles: 100 }, undefined)): LimitTarget => ({
  name: 'node_1',
  policies: Object.fromEntries(policies.map((p) => [p.chatType, p])),
  limits,
});

/** A catalog that only counts, answering from a table of files per chat type, and records each call. */
function countingCatalog(files: Partial<Record<ChatType, number>>) {
  const calls: Array<{ counts: ExpiredCount[]; totalBefore?: Date }> = [];
  const catalog = {
    async countExpiredUploadsByChatType(counts: ReadonlyArray<ExpiredCount>, totalBefore?: Date): Promise<ChatTypeCount[]> {
      calls.push({ counts: [...counts], totalBefore });
      return counts.map((c) => ({ files: files[c.chatType] ?? 0, bytes: (files[c.chatType] ?? 0) * 10, total: 1_000 }));
    },
  } as unknown as Catalog;
  return { catalog, calls };
}

describe('checkBlastRadius', () => {
  it('counts every purged chat type in one call, each against its own cutoff, and skips those kept forever', async () => {
    const { catalog, calls } = countingCatalog({ im: 10, groupchat: 20 });
    const node = nodeWith([policy('im', 'P7D'), policy('groupchat', 'PT36H'), policy('persistent', 'forever')]);
    const gate = await checkBlastRadius(node, catalog, times, ['im', 'groupchat', 'persistent'], {}, log, false);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.counts).toEqual([
      { chatType: 'im', before: new Date(NOW.getTime() - 7 * 24 * H) },
      { chatType: 'groupchat', before: new Date(NOW.getTime() - 36 * H) },
    ]);
    // The total of each chat type is every Post row of it, whatever its time.
    expect(calls[0]!.totalBefore!.getUTCFullYear()).toBe(9999);
    expect(gate.refusals).toEqual([]);
  });

  it('gives each chat type its own count: a node-wide cap sees their sum', async () => {
    const { catalog } = countingCatalog({ im: 60, groupchat: 50 });
    const node = nodeWith([policy('im', 'P7D'), policy('groupchat', 'PT36H')]);
    const gate = await checkBlastRadius(node, catalog, times, ['im', 'groupchat'], {}, log, true);
    expect(gate.refusals.map((r) => [r.chatType, r.limit, r.measured])).toEqual([['all', 'maxFiles', 110]]);
    // The purge's backlog, and whether it reads a chat type at all, come from these.
    expect(gate.expired('im')).toEqual({ files: 60, bytes: 600 });
    expect(gate.expired('groupchat')).toEqual({ files: 50, bytes: 500 });
  });

  it('refuses only the chat type whose own count breaks a per-chat-type limit', async () => {
    // Of 1,000 Post rows each (the stand-in's total): im 6 %, groupchat 0.5 %.
    const { catalog } = countingCatalog({ im: 60, groupchat: 5 });
    const node = nodeWith([policy('im', 'P7D'), policy('groupchat', 'PT36H')], resolveLimits({ maxPercentOfChatType: 5, minFiles: 1 }, undefined));
    const gate = await checkBlastRadius(node, catalog, times, ['im', 'groupchat'], {}, log, true);
    expect(gate.refusals.map((r) => [r.chatType, r.limit, r.measured])).toEqual([['im', 'maxPercentOfChatType', 6]]);
    expect(gate.refusalFor('im')?.chatType).toBe('im');
    expect(gate.refusalFor('groupchat')).toBeUndefined();
  });

  it('says so when asked for a chat type it did not count, rather than answer nothing expired', async () => {
    const { catalog } = countingCatalog({ im: 1 });
    const node = nodeWith([policy('im', 'P7D'), policy('persistent', 'forever')]);
    const gate = await checkBlastRadius(node, catalog, times, ['im', 'persistent'], {}, log, true);
    expect(() => gate.expired('persistent')).toThrow('the expired uploads of chat type persistent were not counted before the run');
  });

  it('counts an approved chat type as of its approval, the others as of now', async () => {
    const { catalog, calls } = countingCatalog({ im: 10, groupchat: 20 });
    const node = nodeWith([policy('im', 'P7D'), policy('groupchat', 'PT36H')]);
    const asOf = new Date(NOW.getTime() - 2 * H);
    await checkBlastRadius(node, catalog, times, ['im', 'groupchat'], { approvals: [{ node: 'node_1', scope: 'groupchat', files: 20, bytes: 200, asOf }] }, log, false);
    expect(calls[0]!.counts).toEqual([
      { chatType: 'im', before: new Date(NOW.getTime() - 7 * 24 * H) },
      { chatType: 'groupchat', before: new Date(asOf.getTime() - 36 * H) },
    ]);
  });

  it('tells the purge the instant each chat type was counted as of, so that it reads with the same cutoff', async () => {
    const { catalog, calls } = countingCatalog({ im: 10, groupchat: 20 });
    const node = nodeWith([policy('im', 'P7D'), policy('groupchat', 'PT36H')]);
    const at = { ...times, now: new Date('2026-11-21T12:30:00.750Z') };
    const asOf = new Date(NOW.getTime() - 2 * H);
    const gate = await checkBlastRadius(node, catalog, at, ['im', 'groupchat'], { approvals: [{ node: 'node_1', scope: 'groupchat', files: 20, bytes: 200, asOf }] }, log, false);
    // The run's instant to the second, as approvals are; an approved chat type, its approval's.
    expect(gate.countedAsOf('im')).toEqual(new Date('2026-11-21T12:30:00.000Z'));
    expect(gate.countedAsOf('groupchat')).toEqual(asOf);
    expect(calls[0]!.counts).toEqual([
      { chatType: 'im', before: new Date(gate.countedAsOf('im').getTime() - 7 * 24 * H) },
      { chatType: 'groupchat', before: new Date(asOf.getTime() - 36 * H) },
    ]);
  });

  it('asks nothing of the database when no chat type is purged', async () => {
    const { catalog, calls } = countingCatalog({});
    const node = nodeWith([policy('persistent', 'forever')]);
    const gate = await checkBlastRadius(node, catalog, times, ['persistent'], {}, log, false);
    expect(gate.refusals).toEqual([]);
    expect(calls).toEqual([]);
  });
});
