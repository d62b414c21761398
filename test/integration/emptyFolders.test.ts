// After a purge, hour and date folders it emptied are removed; never today's, never a
// non-empty one. Real PostgreSQL, local file store.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { startOfUtcHour } from '../../src/core/clock.js';
import type { FileStore } from '../../src/ports.js';
import { openCatalog, openFileStore } from '../../src/purge/openPorts.js';
import { purgeNode } from '../../src/purge/purgeNode.js';
import { AFT_LOG_DDL, insertAftRows } from '../helpers/aftLogSchema.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';

let server: PgServer;
let client: pg.Client;
let dir: string;
const io: Io = { out: () => undefined, err: () => undefined, env: process.env };

const HOUR = 3_600_000;
const folderOf = (t: Date) => `${t.toISOString().slice(0, 10).replaceAll('-', '')}/${t.toISOString().slice(11, 13)}`;

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase('folders');
  client = new pg.Client(server.connectionConfig('folders'));
  await client.connect();
  await client.query(AFT_LOG_DDL);
  dir = mkdtempSync(join(tmpdir(), 'mft-folders-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies/im.yaml'), 'chatType: im\nretention: PT1H\nallowShortRetention: true\n');
  writeFileSync(
    join(dir, 'config.yaml'),
    `nodes:\n  - name: n1\n    database: { type: postgres, host: ${server.host}, port: ${server.port}, database: folders, user: postgres }\n    fileServer: { type: local, directory: ${join(dir, 'store')} }\n`,
  );
});

afterAll(async () => {
  await client?.end();
  await server?.destroy();
});

async function upload(at: Date, name: string): Promise<string> {
  return (await uploads([[at, name]]))[0]!;
}

/** Files with their Post rows, the rows in the order given (aft_index order). */
async function uploads(list: Array<[Date, string]>): Promise<string[]> {
  const paths: string[] = [];
  for (const [at, name] of list) {
    const hourDir = join(dir, 'store/files/im', folderOf(at));
    mkdirSync(hourDir, { recursive: true });
    const filePath = join(hourDir, name);
    writeFileSync(filePath, 'x');
    await insertAftRows(client, [{ method: 'Post', chatType: 'im', filePath, timestamp: at }]);
    paths.push(filePath);
  }
  return paths;
}

describe('empty folder cleanup', () => {
  it('removes emptied hour and date folders of past days, keeps non-empty and today\'s folders', async () => {
    const current = startOfUtcHour(new Date());
    const todayStart = new Date(Math.floor(current.getTime() / 86_400_000) * 86_400_000);
    const threeDaysAgo = new Date(current.getTime() - 72 * HOUR + 60_000);
    const oldGone = await upload(threeDaysAgo, 'gone.txt');
    // An expired file next to a file without any row: the folder stays (not empty).
    const twoDaysAgo = new Date(current.getTime() - 48 * HOUR + 60_000);
    const sharedGone = await upload(twoDaysAgo, 'gone-too.txt');
    const stranger = join(dir, 'store/files/im', folderOf(twoDaysAgo), 'no-row.txt');
    writeFileSync(stranger, 'x');
    // Expired (two hours ago) but possibly today: its folder must stay if it is today's.
    const recent = new Date(current.getTime() - 2 * HOUR + 60_000);
    const recentGone = await upload(recent, 'recent.txt');

    expect(await main(['purge', '--config', join(dir, 'config.yaml')], io)).toBe(0);

    for (const f of [oldGone, sharedGone, recentGone]) expect(existsSync(f)).toBe(false);
    expect(existsSync(join(dir, 'store/files/im', folderOf(threeDaysAgo)))).toBe(false);
    expect(existsSync(join(dir, 'store/files/im', folderOf(threeDaysAgo).slice(0, 8)))).toBe(false);
    expect(existsSync(stranger)).toBe(true);
    expect(existsSync(join(dir, 'store/files/im', folderOf(recent)))).toBe(recent.getTime() < todayStart.getTime() ? false : true);
    expect(existsSync(join(dir, 'store/files/im'))).toBe(true);
  });

  it('removes every hour folder it emptied, also one first offered while a later batch still had a file in it', async () => {
    const current = startOfUtcHour(new Date());
    const day = (h: number): Date => new Date(current.getTime() - 96 * HOUR + h * HOUR + 60_000);
    const config = join(dir, 'config-batches.yaml');
    writeFileSync(config, `${readFileSync(join(dir, 'config.yaml'), 'utf8')}purge:\n  batchSize: 2\n`);
    // Batches of 2: [p1 q1] [s1 t1] [u1 p2]. P's second file comes two batches after its
    // first, beyond the two batches in flight: the first batch offers P while p2 is still in it.
    // S keeps a file without a row.
    const files = await uploads([
      [day(0), 'p1'],
      [day(1), 'q1'],
      [day(3), 's1'],
      [day(4), 't1'],
      [day(5), 'u1'],
      [day(0), 'p2'],
    ]);
    const stranger = join(dir, 'store/files/im', folderOf(day(3)), 'no-row.txt');
    writeFileSync(stranger, 'x');

    expect(await main(['purge', '--config', config], io)).toBe(0);

    for (const f of files) expect(existsSync(f), f).toBe(false);
    for (const h of [0, 1, 4, 5]) expect(existsSync(join(dir, 'store/files/im', folderOf(day(h)))), folderOf(day(h))).toBe(false);
    expect(existsSync(stranger)).toBe(true);
    const remaining = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM aft_log WHERE file_path = ANY($1)`, [files]);
    expect(remaining.rows[0]!.n).toBe('0');
  });

  it('offers a finished hour folder while later batches are still being removed, not only at the end', async () => {
    const current = startOfUtcHour(new Date());
    const day = (h: number): Date => new Date(current.getTime() - 144 * HOUR + h * HOUR + 60_000);
    // Batches of 2: [a b] [c d] [e]. A is finished once the first batch is done with it (b is
    // in a later hour), C once the second is.
    const files = await uploads([
      [day(0), 'a'],
      [day(1), 'b'],
      [day(2), 'c'],
      [day(3), 'd'],
      [day(4), 'e'],
    ]);
    const config = await loadConfig(join(dir, 'config.yaml'));
    const node = config.nodes[0]!;
    const catalog = await openCatalog(node);
    const store = await openFileStore(node);
    // Every call to the file store, in order: 'files' for a batch's removal, the folder list for a folder removal.
    const calls: Array<'files' | string[]> = [];
    const recording = new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (key === 'removeFiles') calls.push('files');
          if (key === 'removeEmptyFolders') calls.push([...(args[0] as string[])]);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as FileStore;
    try {
      const result = await purgeNode(node, { catalog, files: recording, log: pino({ level: 'silent' }) }, {
        dryRun: false,
        batchSize: 2,
        maxClockSkewMs: config.purge.maxClockSkewMs,
        removeEmptyFolders: true,
        hostNow: () => new Date(),
      });
      expect(result.status).toBe('ok');
    } finally {
      await store.close();
      await catalog.close();
    }
    const folderA = join(dir, 'store/files/im', folderOf(day(0)));
    const lastRemoval = calls.lastIndexOf('files');
    const firstOfferOfA = calls.findIndex((c) => Array.isArray(c) && c.includes(folderA));
    expect(calls.filter((c) => c === 'files')).toHaveLength(3);
    expect(firstOfferOfA, JSON.stringify(calls)).toBeGreaterThanOrEqual(0);
    expect(firstOfferOfA, JSON.stringify(calls)).toBeLessThan(lastRemoval);
    for (const f of files) expect(existsSync(f), f).toBe(false);
    for (const h of [0, 1, 2, 3, 4]) expect(existsSync(join(dir, 'store/files/im', folderOf(day(h)))), folderOf(day(h))).toBe(false);
  });
});