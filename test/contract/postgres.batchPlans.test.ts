// What a purge costs the database, from PostgreSQL's own plans on Cisco-shaped tables, whatever
// the planner statistics: freshly analyzed (two sizes), never analyzed (after a restore or a
// bulk load, autovacuum off), and stale (analyzed when the table held 1,000 rows, then grown
// about 1,000 times, autovacuum off). Cisco's AFT_LOG has no index on file_path: the statement
// that deletes a batch's rows (and the downloads logged since the reader opened, found by
// path) must still reach every row through the primary key, so that a batch costs the same
// whatever the table holds; the query that reads the expired uploads must never loop over a
// scan of the table. It asserts plan shapes and buffer counts, never durations.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sql from '../../src/adapters/postgres/sql.js';
import { fillAftLog, STALE_ROWS } from '../../bench/dataset.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';

const BATCH_FILES = 1000;
type Statistics = 'analyzed' | 'never' | 'stale';
// The analyzed ones large enough for the planner to prefer the index for a batch: on a table of
// some tens of thousands of rows it rightly reads the whole (small) table instead.
const SIZES: Array<{ db: string; rows: number; expired: number; statistics: Statistics }> = [
  { db: 'plans_small', rows: 240_000, expired: 24_000, statistics: 'analyzed' },
  { db: 'plans_large', rows: 960_000, expired: 96_000, statistics: 'analyzed' },
  { db: 'plans_never', rows: 240_000, expired: 24_000, statistics: 'never' },
  { db: 'plans_stale', rows: STALE_ROWS * 960, expired: 96_000, statistics: 'stale' },
];
const NOW = new Date();
const CUTOFF = new Date(NOW.getTime() - 7 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Parent Relationship'?: string;
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
    await fillAftLog(c, '/srv/mft/node_1', { rows: s.rows, expired: s.expired, statistics: s.statistics }, NOW);
  }
}, 300_000);

afterAll(async () => {
  for (const c of clients.values()) await c.end().catch(() => undefined);
  await server?.stop();
});

/** The DELETE a purge sends for the oldest BATCH_FILES expired uploads, as the catalog writes it. */
async function batchDelete(c: pg.Client, newerThan: 'max' | 'recent'): Promise<string[]> {
  const posts = await c.query<{ idx: string }>(
    `SELECT aft_index::text AS idx FROM aft_log WHERE method = 'Post' ORDER BY aft_index LIMIT ${BATCH_FILES}`,
  );
  const rows = await c.query<{ idx: string }>(
    `SELECT aft_index::text AS idx FROM aft_log WHERE file_path IN (SELECT file_path FROM aft_log WHERE aft_index = ANY($1::bigint[]))`,
    [posts.rows.map((r) => r.idx)],
  );
  // 'recent': as if the newest thousand rows had been logged after the reader opened.
  const hw = await c.query<{ idx: string }>(`SELECT (max(aft_index) - ${newerThan === 'max' ? 0 : 1000})::text AS idx FROM aft_log`);
  // The message as the catalog sends it: BEGIN, the transaction's settings, the DELETE.
  const [begin, ...rest] = sql.beginAndDeleteRows('public.aft_log', rows.rows.map((r) => r.idx), hw.rows[0]!.idx, false).split('; ');
  expect(begin).toBe('BEGIN');
  expect(rest).toHaveLength(sql.RESULTS_BEFORE_DELETE);
  return rest;
}

/**
 * The last statement's plan (EXPLAIN, with ANALYZE and BUFFERS when `run`), in a transaction
 * that runs the others first and is rolled back.
 */
async function plan(c: pg.Client, statements: string[], values: unknown[] = [], run = true): Promise<PlanNode> {
  await c.query('BEGIN');
  try {
    for (const s of statements.slice(0, -1)) await c.query(s);
    const r = await c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (${run ? 'ANALYZE, BUFFERS, ' : ''}FORMAT JSON) ${statements.at(-1)}`, values);
    return r.rows[0]!['QUERY PLAN'][0]!.Plan;
  } finally {
    await c.query('ROLLBACK');
  }
}

/** The expired-uploads query's plan, as the reader's transaction computes it (tuned, or not). */
const cursorPlan = (c: pg.Client, tuned = true): Promise<PlanNode> =>
  plan(c, [...(tuned ? [sql.tuneCursorTransaction] : []), sql.selectExpiredUploadsWithCompanions('public.aft_log')], ['im', CUTOFF], false);

const INDEX_SCANS = ['Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Bitmap Heap Scan'];

const blocks = (root: PlanNode): number => (root['Shared Hit Blocks'] ?? 0) + (root['Shared Read Blocks'] ?? 0);

describe('PostgreSQL: the per-batch DELETE on a table without an index on file_path', () => {
  for (const s of SIZES) {
    for (const newerThan of ['max', 'recent'] as const) {
      it(`${s.rows.toLocaleString('en-US')} rows, statistics ${s.statistics}, high-water mark ${newerThan}: every scan of aft_log goes through the primary key, none reads the whole table`, async () => {
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
    for (const s of SIZES.filter((x) => x.statistics === 'analyzed')) {
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

/** The table's scans that run more than once: the inner side of a nested loop. */
function loopedScans(root: PlanNode): PlanNode[] {
  return nodesOf(root)
    .filter((n) => n['Node Type'] === 'Nested Loop')
    .flatMap((n) => nodesOf(n.Plans![1]!))
    .filter((n) => n['Relation Name'] === 'aft_log');
}

describe('PostgreSQL: the expired-uploads query, whatever the planner statistics', () => {
  for (const s of SIZES) {
    it(`${s.rows.toLocaleString('en-US')} rows, statistics ${s.statistics}: no nested loop, two reads of aft_log`, async () => {
      const c = clients.get(s.db)!;
      const root = await cursorPlan(c);
      const shown = JSON.stringify(root, null, 1);
      const nodes = nodesOf(root);
      expect(nodes.filter((n) => n['Node Type'] === 'Nested Loop'), shown).toEqual([]);
      // One read finds the expired Posts, one the other rows of their paths: never one a Post.
      expect(nodes.filter((n) => n['Relation Name'] === 'aft_log').length, shown).toBe(2);
    });
  }

  for (const s of SIZES.filter((x) => x.statistics !== 'analyzed' || x.rows < 500_000)) {
    it(`${s.rows.toLocaleString('en-US')} rows, statistics ${s.statistics}: the search for downloads of purged files is no nested loop either`, async () => {
      const c = clients.get(s.db)!;
      const root = await plan(c, [sql.noNestedLoop, sql.selectOrphanDownloads('public.aft_log')], [CUTOFF, 10_000], false);
      const shown = JSON.stringify(root, null, 1);
      expect(nodesOf(root).filter((n) => n['Node Type'] === 'Nested Loop'), shown).toEqual([]);
      expect(nodesOf(root).filter((n) => n['Relation Name'] === 'aft_log').length, shown).toBeLessThanOrEqual(2);
    });
  }

  it('the case is real: untuned, the planner loops over a scan of the never-analyzed table', async () => {
    const root = await cursorPlan(clients.get('plans_never')!, false);
    expect(loopedScans(root).length, JSON.stringify(root, null, 1)).toBeGreaterThan(0);
  });

  it('the case is real: the never-analyzed and stale tables have the statistics they are said to have', async () => {
    const stats = async (db: string): Promise<{ analyzed: boolean; reltuples: number; autovacuum: string[] | null }> =>
      (
        await clients.get(db)!.query<{ analyzed: boolean; reltuples: number; autovacuum: string[] | null }>(
          `SELECT (s.last_analyze IS NOT NULL OR s.last_autoanalyze IS NOT NULL) AS analyzed, c.reltuples::float8 AS reltuples, c.reloptions AS autovacuum
             FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'aft_log'`,
        )
      ).rows[0]!;
    const never = await stats('plans_never');
    expect(never.analyzed).toBe(false);
    expect(never.reltuples).toBeLessThanOrEqual(0);
    expect(never.autovacuum).toContain('autovacuum_enabled=false');
    const stale = await stats('plans_stale');
    expect(stale.analyzed).toBe(true);
    expect(stale.reltuples).toBe(STALE_ROWS);
    expect(stale.autovacuum).toContain('autovacuum_enabled=false');
  });
});
