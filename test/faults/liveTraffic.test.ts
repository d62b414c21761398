// The real purge CLI while MFT keeps logging: a concurrent writer on its own connections
// uploads about 7 files a second (Cisco's sizing: 12,000 users x 2 files an hour) with bursts of
// 20, and logs downloads of the files being purged, each in a transaction held open 0-300 ms
// (commits out of order, some after the purge's snapshot, some after its DELETE). Checked: no
// row of a file still on the file server is deleted, and no download row of a removed file is
// left behind once a later run has been (its search for downloads of purged files).
import { existsSync } from 'node:fs';
import pg from 'pg';
import { expect } from 'vitest';
import { sleep } from '../helpers/procUtil.js';
import { avoidHourEdge } from '../helpers/purgeFixture.js';
import { faultRecorder } from './results.js';
import { Rng, suiteSeed } from './seed.js';
import { useFaultServers } from './servers.js';
import { DAY, HOUR, hourStartOf, World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

const COLUMNS = `(jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)`;
const wall = (t: Date): string => t.toISOString().replace('T', ' ').replace('Z', '');

/** MFT as seen from AFT_LOG: uploads and downloads, each in its own transaction. */
class Writer {
  private readonly clients: pg.Client[] = [];
  private stopped = false;
  private loops: Array<Promise<void>> = [];
  /** aft_index of every row the writer logged, by path. */
  readonly logged = new Map<string, string[]>();
  uploads = 0;
  downloads = 0;

  constructor(
    private readonly w: World,
    private readonly rng: Rng,
    private readonly downloadable: string[],
  ) {}

  async start(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const c = new pg.Client(this.w.pgServer.connectionConfig(this.w.database));
      await c.connect();
      this.clients.push(c);
    }
    // One loop a connection: ~7 uploads a second in all, a burst of 20 every 2 s, and a
    // download of a file being purged for every upload.
    this.loops = this.clients.map((c, i) => this.loop(c, i));
  }

  private async loop(c: pg.Client, i: number): Promise<void> {
    let n = 0;
    while (!this.stopped) {
      const burst = i === 0 && n % 14 === 13 ? 20 : 1;
      for (let b = 0; b < burst && !this.stopped; b++) {
        await this.tx(c, async () => {
          const name = `live-${i}-${n}-${b}.txt`;
          const path = this.w.layoutPath('im', new Date(), name);
          this.w.writeFile(path);
          await this.insert(c, 'Post', path, new Date());
          this.uploads++;
        });
        // A download of an expired file, dated when it started: in the previous hour, over 20
        // minutes ago (a download logged when it completes).
        const path = this.downloadable[this.rng.int(0, this.downloadable.length - 1)]!;
        await this.tx(c, async () => {
          await this.insert(c, 'Get', path, new Date(Math.min(Date.now() - 20 * 60_000, hourStartOf(Date.now()).getTime() - 1000)));
          this.downloads++;
        });
      }
      n++;
      await sleep(Math.max(0, 3 * 140 - 300 * 2));
    }
  }

  private async tx(c: pg.Client, fn: () => Promise<void>): Promise<void> {
    await c.query('BEGIN');
    await fn();
    // Held open a while: commits land out of order, around the purge's snapshot and DELETEs.
    await sleep(this.rng.int(0, 300));
    await c.query('COMMIT');
  }

  private async insert(c: pg.Client, method: 'Post' | 'Get', path: string, at: Date): Promise<void> {
    const r = await c.query<{ idx: string }>(
      `INSERT INTO aft_log ${COLUMNS} VALUES ('u@example.com', 'v@example.com', $1, 'f', 'f', 'txt', 'im', 'files.example.com', $2, 64, 64, $3::timestamp) RETURNING aft_index::text AS idx`,
      [method, path, wall(at)],
    );
    const list = this.logged.get(path) ?? [];
    list.push(r.rows[0]!.idx);
    this.logged.set(path, list);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    for (const c of this.clients) await c.end();
  }
}

scenario(
  'purge under live MFT traffic: uploads, downloads of the files being purged, commits out of order',
  async (rec) => {
    const seed = suiteSeed();
    rec.seed = seed;
    const w = await World.create(servers, { batchSize: 20 });
    try {
      await avoidHourEdge(120_000);
      // 300 expired uploads with a download each; a few unexpired ones.
      const expired: string[] = [];
      for (let i = 0; i < 300; i++) expired.push(await w.upload({ at: new Date(Date.now() - 2 * DAY - (i % 24) * HOUR), gets: [new Date(Date.now() - DAY)] }));
      const before = new Map<string, string[]>();
      for (const r of await w.rows()) before.set(r.file_path, [...(before.get(r.file_path) ?? []), r.aft_index]);

      const writer = new Writer(w, new Rng(seed), expired);
      await writer.start();
      await sleep(1000);
      const first = await w.purge('--json');
      await sleep(1000);
      await writer.stop();
      expect(first.code, first.stdout.slice(-2000) + first.stderr.slice(-2000)).toBe(0);

      // 1. No row of a file still on the file server was deleted: its rows from before the run
      //    and every row the writer logged for it are all there.
      const rowsNow = new Set((await w.rows()).map((r) => r.aft_index));
      const paths = new Set([...before.keys(), ...writer.logged.keys()]);
      let present = 0;
      for (const p of paths) {
        if (!existsSync(p)) continue;
        present++;
        const missing = [...(before.get(p) ?? []), ...(writer.logged.get(p) ?? [])].filter((i) => !rowsNow.has(i));
        expect(missing, `rows deleted of ${p}, which is still on the file server`).toEqual([]);
      }
      const removed = expired.filter((p) => !existsSync(p));
      expect(removed.length).toBe(expired.length);

      // 2. A later run that removes files deletes the downloads logged after their file went.
      await w.upload({ at: new Date(Date.now() - 2 * DAY) });
      const second = await w.purge('--json');
      expect(second.code, second.stdout.slice(-2000) + second.stderr.slice(-2000)).toBe(0);
      const left = await w.rows();
      const leftOfRemoved = left.filter((r) => removed.includes(r.file_path));
      expect(leftOfRemoved, 'rows of removed files left after the later run').toEqual([]);
      for (const r of left) expect(existsSync(r.file_path), `a row of ${r.file_path}, whose file is gone`).toBe(true);
      const swept = JSON.parse(second.stdout.trim().split('\n').at(-1)!).nodes[0].orphanDownloads?.rows ?? 0;
      rec.iterations = 1;
      rec.note(
        `writer logged ${writer.uploads} uploads and ${writer.downloads} downloads of the files being purged during the run; ` +
          `${removed.length} files removed, ${present} files still present kept every row; the later run deleted ${swept} download rows logged after their file's rows`,
      );
    } finally {
      await w.dispose();
    }
  },
  600_000,
);
