// What a purge batch costs the database, from PostgreSQL's own plans on Cisco-shaped tables of
// two sizes. Cisco's AFT_LOG has no index on file_path: the statement that deletes a batch's
// rows (and the downloads logged since the reader opened, found by path) must still reach
// every row through the primary key, so that a batch costs the same whatever the table holds.
// It asserts plan shapes and buffer counts, never durations.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sql from '../../src/adapters/postgres/sql.js';
import { fillAftLog } from '../../bench/dataset.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';

const BATCH_FILES = 1000;
// Both large enough for the planner to prefer the index for a batch: on a table of some tens of
// thousands of rows it rightly reads the whole (small) table instead.
const SIZES = [
  { db: 'plans_small', rows: 240_000, expired: 24_000 },
  { db: 'plans_large', rows: 960_000, expired: 96_000 },
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

const nodesOf = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodesOf)];

let server: PgServer;
const clients = new Map<string, pg.Client>();

beforeAll(async () => {
  server = await startPostgres();
  for (const s of SIZES) {
    await server.createDatabase(s.db);
    const c = new pg.Client(server.connectionConfig(s.db));
    await c.connect();
    clients.set(s.db, c);
    await fillAftLog(c, '/srv/mft/node_1', { rows: s.rows, expired: s.expired }, new Date());
  }
}, 180_000);

afterAll(async () => {
  for (const c of clients.values()) await c.end().catch(() => undefined);
  await server?.stop();
});

/** The DELETE a purge sends for the oldest BATCH_FILES expired uploads, as the catalog writes it. */
async function batchDelete(c: pg.Client, newerThan: 'max' | 'recent'): Promise<string> {
  const posts = await c.query<{ idx: string }>(
    `SELECT aft_index::text AS idx FROM aft_log WHERE method = 'Post' ORDER BY aft_index LIMIT ${BATCH_FILES}`,
  );
  const rows = await c.query<{ idx: string }>(
    `SELECT aft_index::text AS idx FROM aft_log WHERE file_path IN (SELECT file_path FROM aft_log WHERE aft_index = ANY($1::bigint[]))`,
    [posts.rows.map((r) => r.idx)],
  );
  // 'recent': as if the newest thousand rows had been logged after the reader opened.
  const hw = await c.query<{ idx: string }>(`SELECT (max(aft_index) - ${newerThan === 'max' ? 0 : 1000})::text AS idx FROM aft_log`);
  const text = sql.beginAndDeleteRows('public.aft_log', rows.rows.map((r) => r.idx), hw.rows[0]!.idx, false);
  expect(text.startsWith('BEGIN; ')).toBe(true);
  return text.slice('BEGIN; '.length);
}

/** The statement's plan, run (EXPLAIN ANALYZE) in a transaction that is rolled back. */
async function plan(c: pg.Client, statement: string): Promise<PlanNode> {
  await c.query('BEGIN');
  try {
    const r = await c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${statement}`);
    return r.rows[0]!['QUERY PLAN'][0]!.Plan;
  } finally {
    await c.query('ROLLBACK');
  }
}

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Bitmap Heap Scan'];

const blocks = (root: PlanNode): number => (root['Shared Hit Blocks'] ?? 0) + (root['Shared Read Blocks'] ?? 0);

describe('PostgreSQL: the per-batch DELETE on a table without an index on file_path', () => {
  for (const s of SIZES) {
    for (const newerThan of ['max', 'recent'] as const) {
      it(`${s.rows.toLocaleString('en-US')} rows, high-water mark ${newerThan}: every scan of aft_log goes through the primary key, none reads the whole table`, async () => {
        const c = clients.get(s.db)!;
        const root = await plan(c, await batchDelete(c, newerThan));
        const shown = JSON.stringify(root, null, 1);
        const scans = nodesOf(root).filter((n) => n['Node Type'].endsWith('Scan'));
        expect(scans.length, shown).toBeGreaterThan(0);
        for (const n of scans) {
          expect(INDEX_SCANS, shown).toContain(n['Node Type']);
          if (n['Index Name'] !== undefined) expect(n['Index Name'], shown).toBe('aft_log_pkey');
        }
      });
    }
  }

  it('the batch touches about as many pages in a table four times as large (a scan would touch four times as many)', async () => {
    const touched: number[] = [];
    for (const s of SIZES) {
      const c = clients.get(s.db)!;
      touched.push(blocks(await plan(c, await batchDelete(c, 'max'))));
    }
    const [small, large] = touched as [number, number];
    const tablePages = async (db: string): Promise<number> =>
      Number((await clients.get(db)!.query<{ p: string }>(`SELECT relpages::text AS p FROM pg_class WHERE relname = 'aft_log'`)).rows[0]!.p);
    const [smallPages, largePages] = [await tablePages(SIZES[0]!.db), await tablePages(SIZES[1]!.db)];
    // The tables really differ as much as intended: a scan per batch would grow with them.
    expect(largePages).toBeGreaterThan(3.5 * smallPages);
    expect(small).toBeGreaterThan(0);
    expect(large, `pages touched: ${small} (table of ${smallPages} pages) and ${large} (table of ${largePages} pages)`).toBeLessThan(1.5 * small);
  });
});
