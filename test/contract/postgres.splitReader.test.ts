// The PostgreSQL reader on a backlog large enough to be computed in two parts, on two
// connections at once, against a real server: the two parts together give exactly the files
// one query gives, in order and with all their rows; rows deleted batch by batch while the
// second part is read are the ones expected; and where no second connection can be had, the
// backlog is read whole on one.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillAftLog } from '../../bench/dataset.js';
import { PostgresCatalog } from '../../src/adapters/postgres/postgresCatalog.js';
import { ConnectError } from '../../src/errors.js';
import type { ResolvedPostgresDatabase } from '../../src/config/loadConfig.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';

const DATABASE = 'split';
// 120,000 rows with 30,000 expired uploads: above the size from which the reader splits.
const SPEC = { rows: 120_000, expired: 30_000 };
const NOW = new Date();
const CUTOFF = new Date(NOW.getTime() - 7 * 86_400_000);
const ENV = { SPLIT_PG_PASSWORD: 's3cret-pw' };

let server: PgServer;
let admin: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase(DATABASE);
  admin = new pg.Client(server.connectionConfig(DATABASE));
  await admin.connect();
  await fillAftLog(admin, '/srv/mft/node_1', SPEC, NOW);
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

const database = (): ResolvedPostgresDatabase => ({
  type: 'postgres',
  host: server.tcpHost,
  port: server.port,
  database: DATABASE,
  user: server.mftUser.user,
  password: { kind: 'env', name: 'SPLIT_PG_PASSWORD' },
  schema: 'public',
  table: 'aft_log',
  timestampZone: 'UTC',
  connectTimeout: 'PT15S',
  statementTimeout: 'PT5M',
  connectTimeoutMs: 15_000,
  statementTimeoutMs: 300_000,
});

/** Each expired upload with its other rows, as one query over the whole table says. */
async function expected(): Promise<Array<{ post: string; companions: string[] }>> {
  const r = await admin.query<{ post: string; companions: string[] | null }>(
    `SELECT p.aft_index::text AS post,
            array_agg(c.aft_index::text ORDER BY c.aft_index) FILTER (WHERE c.aft_index <> p.aft_index) AS companions
       FROM aft_log p LEFT JOIN aft_log c ON c.file_path = p.file_path
      WHERE p.method = 'Post' AND p.chat_type = 'im' AND p.timestampvalue < $1::timestamp
      GROUP BY p.aft_index ORDER BY p.aft_index`,
    [CUTOFF.toISOString().replace('T', ' ').replace('Z', '')],
  );
  return r.rows.map((x) => ({ post: x.post, companions: x.companions ?? [] }));
}

/** The catalog's open connections to the database. */
async function connections(): Promise<number> {
  const r = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1 AND usename = 'mft'`, [DATABASE]);
  return Number(r.rows[0]!.n);
}

/** Reads the whole backlog in batches of `batch` files, as the purge does; `each` sees every batch. */
async function readAll(
  catalog: PostgresCatalog,
  batch: number,
  each?: (uploads: Array<{ post: string; rows: string[] }>, highWater: string) => Promise<void>,
): Promise<{ files: Array<{ post: string; companions: string[] }>; connectionsWhileReading: number; highWater: string }> {
  const reader = await catalog.openExpiredUploads('im', CUTOFF);
  const files: Array<{ post: string; companions: string[] }> = [];
  let connectionsWhileReading = 0;
  try {
    for (;;) {
      const uploads = await reader.next(batch);
      connectionsWhileReading = Math.max(connectionsWhileReading, await connections());
      if (uploads.length === 0) break;
      for (const u of uploads) {
        files.push({ post: u.upload.aftIndex, companions: u.companions.map((c) => c.aftIndex).sort((a, b) => Number(a) - Number(b)) });
      }
      await each?.(
        uploads.map((u) => ({ post: u.upload.aftIndex, rows: [u.upload.aftIndex, ...u.companions.map((c) => c.aftIndex)] })),
        reader.highWaterIndex,
      );
    }
  } finally {
    await reader.close();
  }
  return { files, connectionsWhileReading, highWater: reader.highWaterIndex };
}

describe('PostgreSQL reader on a large backlog', () => {
  it('computes it in two parts on two connections, which together give every expired file once, in order, with all its rows', async () => {
    const want = await expected();
    expect(want.length).toBe(SPEC.expired);
    const catalog = await PostgresCatalog.open('node_1', database(), ENV);
    try {
      // 777: batches that do not line up with the fetches or with the cut between the parts.
      const got = await readAll(catalog, 777);
      expect(got.connectionsWhileReading).toBe(2);
      expect(got.files).toEqual(want);
      const max = await admin.query<{ m: string }>('SELECT max(aft_index)::text AS m FROM aft_log');
      expect(got.highWater).toBe(max.rows[0]!.m);
    } finally {
      await catalog.close();
    }
    expect(await connections()).toBe(0);
  });

  it('deletes batch by batch while both parts are read, leaving exactly the rows of unexpired files', async () => {
    await admin.query('CREATE TABLE aft_log_saved AS SELECT * FROM aft_log');
    const catalog = await PostgresCatalog.open('node_1', database(), ENV);
    try {
      const want = await expected();
      const before = Number((await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM aft_log')).rows[0]!.n);
      const expiredRows = want.reduce((n, f) => n + 1 + f.companions.length, 0);
      let deleted = 0;
      const got = await readAll(catalog, 1000, async (uploads, highWater) => {
        deleted += await catalog.deleteRows(
          uploads.flatMap((u) => u.rows),
          [],
          highWater,
        );
      });
      expect(got.connectionsWhileReading).toBe(2);
      expect(got.files.map((f) => f.post)).toEqual(want.map((f) => f.post));
      expect(deleted).toBe(expiredRows);
      const after = await admin.query<{ n: string; expired: string }>(
        `SELECT count(*)::text AS n,
                count(*) FILTER (WHERE method = 'Post' AND timestampvalue < $1::timestamp)::text AS expired
           FROM aft_log`,
        [CUTOFF.toISOString().replace('T', ' ').replace('Z', '')],
      );
      expect(Number(after.rows[0]!.n)).toBe(before - expiredRows);
      expect(after.rows[0]!.expired).toBe('0');
    } finally {
      await catalog.close();
      await admin.query('TRUNCATE aft_log; INSERT INTO aft_log SELECT * FROM aft_log_saved; DROP TABLE aft_log_saved');
    }
  });

  it('reads the backlog whole on one connection when the server allows no second one', async () => {
    const want = await expected();
    await admin.query('ALTER ROLE mft CONNECTION LIMIT 1');
    try {
      const catalog = await PostgresCatalog.open('node_1', database(), ENV);
      try {
        const got = await readAll(catalog, 1000);
        expect(got.connectionsWhileReading).toBe(1);
        expect(got.files).toEqual(want);
        // Once refused, the catalog does not try again (the next chat type's read), even
        // though a second connection could now be had.
        await admin.query('ALTER ROLE mft CONNECTION LIMIT -1');
        const again = await readAll(catalog, 1000);
        expect(again.connectionsWhileReading).toBe(1);
        expect(again.files).toEqual(want);
      } finally {
        await catalog.close();
      }
    } finally {
      await admin.query('ALTER ROLE mft CONNECTION LIMIT -1');
    }
  });

  it('reads both parts in one snapshot: an expired upload committed between the two parts being declared is in neither', async () => {
    const want = await expected();
    const max = (await admin.query<{ m: string }>('SELECT max(aft_index)::text AS m FROM aft_log')).rows[0]!.m;
    const late = String(BigInt(max) + 1n);
    let inserted = false;
    const catalog = await PostgresCatalog.open('node_1', database(), ENV, {
      // Committed by another session after the first part's snapshot was taken and before the
      // second connection imports it: a second part with a snapshot of its own would see it
      // (its aft_index is above the cut, its upload time long expired).
      beforeSecondPart: async () => {
        await admin.query(
          `INSERT INTO aft_log (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
           VALUES ($1, 'a@example.com', 'b@example.com', 'Post', 'late.dat', 'late.dat', 'dat', 'im', 'files.example.com', '/srv/mft/node_1/files/im/20200101/00/late.dat', 1, 1, '2020-01-01 00:00:00')`,
          [late],
        );
        inserted = true;
      },
    });
    try {
      const got = await readAll(catalog, 1000);
      expect(inserted).toBe(true);
      expect(got.connectionsWhileReading).toBe(2);
      expect(got.highWater).toBe(max);
      expect(got.files.map((f) => f.post)).not.toContain(late);
      expect(got.files).toEqual(want);
    } finally {
      await catalog.close();
      await admin.query('DELETE FROM aft_log WHERE aft_index = $1', [late]);
    }
  });

  it('reports a lost second connection as a lost database when the second part is read', async () => {
    const catalog = await PostgresCatalog.open('node_1', database(), ENV);
    try {
      const reader = await catalog.openExpiredUploads('im', CUTOFF);
      expect(await connections()).toBe(2);
      expect((await reader.next(1000)).length).toBe(1000);
      // The second part's connection sits idle until the first part is read: the one of the
      // two whose last statement was its COMMIT, not a FETCH.
      const idle = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND usename = 'mft' AND query = 'COMMIT'`,
        [DATABASE],
      );
      expect(idle.rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [idle.rows[0]!.pid]);
      let error: unknown;
      try {
        for (let b = await reader.next(1000); b.length > 0; b = await reader.next(1000));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as Error).message).toMatch(/lost the connection to PostgreSQL/);
      expect((error as Error).message).not.toContain(server.mftUser.password);
      await reader.close();
      // The next read opens a new second connection and reads everything again.
      const again = await readAll(catalog, 1000);
      expect(again.connectionsWhileReading).toBe(2);
      expect(again.files.length).toBe(SPEC.expired);
    } finally {
      await catalog.close();
    }
  });

  it('reads a small backlog in one part, on one connection', async () => {
    // The oldest 10 hours of uploads (500 an hour): well under the size from which it splits.
    const small = new Date(NOW.getTime() - (8 * 24 + 50) * 3_600_000);
    const count = await admin.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM aft_log WHERE method = 'Post' AND chat_type = 'im' AND timestampvalue < $1::timestamp`,
      [small.toISOString().replace('T', ' ').replace('Z', '')],
    );
    expect(Number(count.rows[0]!.n)).toBeGreaterThan(4000);
    const catalog = await PostgresCatalog.open('node_1', database(), ENV);
    try {
      const reader = await catalog.openExpiredUploads('im', small);
      let n = 0;
      for (let b = await reader.next(1000); b.length > 0; b = await reader.next(1000)) n += b.length;
      expect(await connections()).toBe(1);
      await reader.close();
      expect(n).toBe(Number(count.rows[0]!.n));
    } finally {
      await catalog.close();
    }
  });
});
