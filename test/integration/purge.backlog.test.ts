// The backlog a purge reports as it goes (the progress bar) is the count taken
// before the run for the blast-radius limits: AFT_LOG is not counted a second time. The purge
// runs in process, with the real PostgresCatalog and SftpFileStore, so that the catalog's calls
// can be counted; nothing is simulated.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '../../src/config/loadConfig.js';
import { openCatalog, openFileStore } from '../../src/purge/openPorts.js';
import { purgeNode } from '../../src/purge/purgeNode.js';
import type { Catalog } from '../../src/ports.js';
import { avoidHourEdge, HOUR_MS, hourStart, present, usePurgeEnv } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

/** The catalog, with every method call counted by name. */
function counting(catalog: Catalog): { catalog: Catalog; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(catalog, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { catalog: proxy, calls };
}

describe('purge backlog', () => {
  it('reports the blast-radius count as the backlog, without counting AFT_LOG again', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const H = hourStart(new Date());
    const expired = [
      await f.node.upload({ chatType: 'im', at: new Date(H.getTime() - 5 * HOUR_MS), size: 100, gets: [new Date(H.getTime() - 4 * HOUR_MS)] }),
      await f.node.upload({ chatType: 'im', at: new Date(H.getTime() - 6 * HOUR_MS), size: 20 }),
      await f.node.upload({ chatType: 'im', at: new Date(H.getTime() - 7 * HOUR_MS), size: 3 }),
    ];
    const fresh = await f.node.upload({ chatType: 'im', at: new Date(Date.now() - 10 * 60_000), size: 5 });

    const config = await loadConfig(f.configPath);
    const node = config.nodes[0]!;
    const { catalog, calls } = counting(await openCatalog(node));
    const files = await openFileStore(node);
    const backlogs: Array<{ files: number; bytes: number }> = [];
    try {
      const result = await purgeNode(node, { catalog, files, log: pino({ level: 'silent' }) }, {
        dryRun: false,
        batchSize: 2,
        maxClockSkewMs: config.purge.maxClockSkewMs,
        removeEmptyFolders: config.purge.removeEmptyFolders,
        hostNow: () => new Date(),
        onProgress: (_node, _stats, backlog) => backlogs.push({ ...backlog }),
      });
      expect(result.status).toBe('ok');
      expect(result.chatTypes[0]).toMatchObject({ chatType: 'im', files: 3, bytes: 123 });
    } finally {
      await files.close();
      await catalog.close();
    }
    for (const u of expired) expect(present(u.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);
    // Once before the first batch and once after each of the two batches, always the same count.
    expect(backlogs).toEqual([
      { files: 3, bytes: 123 },
      { files: 3, bytes: 123 },
      { files: 3, bytes: 123 },
    ]);
    expect(calls.get('countExpiredUploadsByChatType')).toBe(1);
    expect(calls.get('openExpiredUploads')).toBe(1);
  });
});
