// The demo's embedded PostgreSQL (PGlite behind pglite-socket) must serve the SQL the
// production code sends through `pg`. Each feature the purge code relies on is checked
// here through a real pg.Client over TCP, plus the connection limits and clean shutdown.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_CONNECTIONS,
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../src/demo/embeddedPostgres.js';
import { run } from '../helpers/procUtil.js';

function clientFor(ep: EmbeddedPostgres): pg.Client {
  const c = new pg.Client({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    database: ep.database,
    // statement_timeout is not enforced by PGlite: a client-side timeout keeps a hang finite.
    query_timeout: 10_000,
    connectionTimeoutMillis: 5_000,
  });
  c.on('error', () => {}); // a server-side drop must fail the test, not crash the worker
  return c;
}

async function withClient<T>(ep: EmbeddedPostgres, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = clientFor(ep);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

describe('embedded PostgreSQL through pg.Client', () => {
  let ep: EmbeddedPostgres;
  let client: pg.Client;

  beforeAll(async () => {
    ep = await startEmbeddedPostgres();
    client = clientFor(ep);
    await client.connect();
    await client.query(`CREATE TABLE aft_log (
      id BIGINT PRIMARY KEY,
      file_name TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL
    )`);
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await ep?.stop();
  });

  it('listens on loopback with a real port and the postgres user/database', async () => {
    expect(ep.host).toBe('127.0.0.1');
    expect(ep.port).toBeGreaterThan(0);
    expect(ep.user).toBe('postgres');
    expect(ep.database).toBe('postgres');
    expect(ep.maxConnections).toBe(DEFAULT_MAX_CONNECTIONS);
    const r = await client.query('SELECT current_user AS u, current_database() AS d');
    expect(r.rows).toEqual([{ u: 'postgres', d: 'postgres' }]);
  });

  it('ignores the user/database names sent in the startup packet', async () => {
    const c = new pg.Client({ host: ep.host, port: ep.port, user: 'mft', database: 'mftdb' });
    await c.connect();
    try {
      const r = await c.query('SELECT current_user AS u, current_database() AS d');
      expect(r.rows).toEqual([{ u: 'postgres', d: 'postgres' }]);
    } finally {
      await c.end();
    }
  });

  it('runs parameterized queries', async () => {
    const r = await client.query('SELECT $1::int + $2::int AS sum, $3::text AS t', [2, 3, 'x']);
    expect(r.rows).toEqual([{ sum: 5, t: 'x' }]);
  });

  it('inserts with unnest($1::text[], $2::bigint[]) and returns BIGINT as string', async () => {
    const ins = await client.query(
      `INSERT INTO aft_log (id, file_name, created_at)
       SELECT u.id, u.name, TIMESTAMP '2024-01-02 03:04:05.678'
       FROM unnest($1::text[], $2::bigint[]) AS u(name, id)
       RETURNING id`,
      [
        ['a.txt', 'b.txt', 'c.txt'],
        ['1', '2', '9007199254740993'], // > 2^53: must round-trip exactly
      ],
    );
    expect(ins.rowCount).toBe(3);
    expect(ins.rows.map((r) => r.id)).toEqual(['1', '2', '9007199254740993']);
    expect(typeof ins.rows[0].id).toBe('string');
  });

  it('filters with = ANY($1::bigint[]) and = ANY($1::text[])', async () => {
    const byId = await client.query('SELECT file_name FROM aft_log WHERE id = ANY($1::bigint[]) ORDER BY id', [
      ['2', '9007199254740993', '404'],
    ]);
    expect(byId.rows.map((r) => r.file_name)).toEqual(['b.txt', 'c.txt']);
    const byName = await client.query('SELECT id FROM aft_log WHERE file_name = ANY($1::text[]) ORDER BY id', [
      ['a.txt', 'nope'],
    ]);
    expect(byName.rows).toEqual([{ id: '1' }]);
    const none = await client.query('SELECT count(*)::int AS n FROM aft_log WHERE id = ANY($1::bigint[])', [[]]);
    expect(none.rows).toEqual([{ n: 0 }]);
  });

  it('commits and rolls back transactions', async () => {
    await client.query('BEGIN');
    await client.query(`INSERT INTO aft_log VALUES (100, 'rolled.txt', now())`);
    await client.query('ROLLBACK');
    await client.query('BEGIN');
    await client.query(`INSERT INTO aft_log VALUES (101, 'kept.txt', now())`);
    await client.query('COMMIT');
    const r = await client.query('SELECT id FROM aft_log WHERE id IN (100, 101)');
    expect(r.rows).toEqual([{ id: '101' }]);
    // an error inside a transaction aborts it; ROLLBACK recovers the connection
    await client.query('BEGIN');
    await expect(client.query(`INSERT INTO aft_log VALUES (101, 'dup', now())`)).rejects.toMatchObject({
      code: '23505',
    });
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('takes $1::timestamp as "YYYY-MM-DD HH:MM:SS.mmm" and formats with to_char(..., US)', async () => {
    const r = await client.query(
      `SELECT to_char($1::timestamp, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS iso,
              $1::timestamp < $2::timestamp AS before`,
      ['2024-05-06 07:08:09.123', '2024-05-06 07:08:09.124'],
    );
    expect(r.rows).toEqual([{ iso: '2024-05-06T07:08:09.123000', before: true }]);
    const stored = await client.query(
      `SELECT to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS iso FROM aft_log WHERE id = 1`,
    );
    expect(stored.rows).toEqual([{ iso: '2024-01-02T03:04:05.678000' }]);
  });

  it('answers now(), pg_database_size(current_database()) and SHOW server_version', async () => {
    const now = await client.query('SELECT now() AS now');
    expect(now.rows[0].now).toBeInstanceOf(Date);
    expect(Math.abs((now.rows[0].now as Date).getTime() - Date.now())).toBeLessThan(60_000);
    const size = await client.query('SELECT pg_database_size(current_database()) AS size');
    expect(typeof size.rows[0].size).toBe('string'); // bigint
    expect(Number(size.rows[0].size)).toBeGreaterThan(0);
    const v = await client.query('SHOW server_version');
    expect(v.rows[0].server_version).toMatch(/^\d+\.\d+/);
  });

  it('accepts SET statement_timeout / application_name (not enforced: see module header)', async () => {
    await client.query(`SET application_name = 'mft-retention-test'`);
    await client.query(`SET statement_timeout = '30s'`);
    expect((await client.query('SHOW application_name')).rows).toEqual([
      { application_name: 'mft-retention-test' },
    ]);
    expect((await client.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '30s' }]);
    // settings are per *server* (one shared session), not per connection
    const seenByOther = await withClient(ep, async (c) => (await c.query('SHOW statement_timeout')).rows);
    expect(seenByOther).toEqual([{ statement_timeout: '30s' }]);
    await client.query('RESET statement_timeout');
    await client.query('RESET application_name');
  });

  it('serves a second concurrent connection, sharing the one session', async () => {
    await withClient(ep, async (second) => {
      const [a, b] = await Promise.all([
        client.query('SELECT $1::text AS who', ['first']),
        second.query('SELECT $1::text AS who', ['second']),
      ]);
      expect(a.rows).toEqual([{ who: 'first' }]);
      expect(b.rows).toEqual([{ who: 'second' }]);
      // one session: a session advisory lock does NOT exclude the other connection
      expect((await client.query('SELECT pg_try_advisory_lock(7) AS l')).rows).toEqual([{ l: true }]);
      expect((await second.query('SELECT pg_try_advisory_lock(7) AS l')).rows).toEqual([{ l: true }]);
      await client.query('SELECT pg_advisory_unlock_all()');
    });
  });

  it('interleaves many concurrent parameterized queries from several connections correctly', async () => {
    const others = [clientFor(ep), clientFor(ep)];
    await Promise.all(others.map((c) => c.connect()));
    try {
      const all = [client, ...others];
      const bad = await Promise.all(
        all.map(async (c, k) => {
          let wrong = 0;
          for (let i = 0; i < 100; i++) {
            // different statement text per connection: a mixed-up unnamed statement would show
            const r = await c.query(`SELECT $1::int + ${k * 1000} AS v, '${'x'.repeat(k * 500)}' AS pad`, [i]);
            if (r.rows[0].v !== i + k * 1000) wrong++;
          }
          return wrong;
        }),
      );
      expect(bad).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(others.map((c) => c.end()));
    }
  });

  it('makes other connections wait while one holds a transaction open', async () => {
    await withClient(ep, async (second) => {
      await client.query('BEGIN');
      await client.query(`INSERT INTO aft_log VALUES (200, 'tx.txt', now())`);
      let done = false;
      const waiting = second.query('SELECT count(*)::int AS n FROM aft_log WHERE id = 200').then((r) => {
        done = true;
        return r.rows;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(done).toBe(false);
      await client.query('COMMIT');
      expect(await waiting).toEqual([{ n: 1 }]);
    });
  });

  it('rolls back the transaction of a connection that drops mid-transaction', async () => {
    const c = clientFor(ep);
    await c.connect();
    await c.query('BEGIN');
    await c.query(`INSERT INTO aft_log VALUES (300, 'lost.txt', now())`);
    // kill the socket without COMMIT (what a crashed process would do)
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    await c.end().catch(() => {});
    const r = await client.query('SELECT count(*)::int AS n FROM aft_log WHERE id = 300');
    expect(r.rows).toEqual([{ n: 0 }]);
  });

  it('keeps named prepared statements across reconnects (pitfall: use unnamed queries)', async () => {
    const q = { name: 'embedded_pg_named', text: 'SELECT $1::int AS v', values: [1] };
    expect(await withClient(ep, async (c) => (await c.query(q)).rows)).toEqual([{ v: 1 }]);
    await expect(withClient(ep, (c) => c.query(q))).rejects.toMatchObject({ code: '42P05' });
    await client.query('DEALLOCATE embedded_pg_named');
  });

  it('rejects connections beyond maxConnections', async () => {
    const extra: pg.Client[] = [];
    try {
      for (let i = 1; i < ep.maxConnections; i++) {
        const c = clientFor(ep);
        await c.connect();
        extra.push(c);
      }
      const over = clientFor(ep);
      await expect(over.connect()).rejects.toThrow(/terminated|ECONNRESET/i);
    } finally {
      await Promise.all(extra.map((c) => c.end()));
    }
  });
});

describe('embedded PostgreSQL lifecycle', () => {
  it('with maxConnections 1: sequential connect/end/connect works, a second concurrent one is refused', async () => {
    const ep = await startEmbeddedPostgres({ maxConnections: 1 });
    try {
      expect(ep.maxConnections).toBe(1);
      for (let i = 0; i < 30; i++) {
        expect(await withClient(ep, async (c) => (await c.query('SELECT $1::int AS i', [i])).rows)).toEqual([{ i }]);
      }
      const first = clientFor(ep);
      await first.connect();
      try {
        await expect(clientFor(ep).connect()).rejects.toThrow(/terminated|ECONNRESET/i);
        expect((await first.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await first.end();
      }
    } finally {
      await ep.stop();
    }
  }, 60_000);

  it('persists to dataDir across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-embedded-pg-'));
    const dataDir = join(dir, 'pgdata'); // does not exist yet
    try {
      let ep = await startEmbeddedPostgres({ dataDir });
      await withClient(ep, (c) => c.query(`CREATE TABLE kept AS SELECT 42::bigint AS v`));
      await ep.stop();
      ep = await startEmbeddedPostgres({ dataDir });
      try {
        expect(await withClient(ep, async (c) => (await c.query('SELECT v FROM kept')).rows)).toEqual([{ v: '42' }]);
      } finally {
        await ep.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('stop() is idempotent, drops connected clients and frees the port', async () => {
    const ep = await startEmbeddedPostgres();
    const connected = clientFor(ep);
    await connected.connect();
    const ended = new Promise<void>((resolve) => connected.once('end', () => resolve()));
    await Promise.all([ep.stop(), ep.stop()]);
    await ep.stop();
    await ended; // the client still connected at stop() was dropped (it also gets 'error')
    await expect(clientFor(ep).connect()).rejects.toThrow(/ECONNREFUSED/);
  }, 60_000);

  it('leaves no handle behind: a process that uses it and calls stop() exits by itself', async () => {
    // Run the real module in a child Node process (transpiled with the TypeScript compiler,
    // next to a node_modules symlink so its imports resolve) and require a natural exit:
    // any server, socket or timer left open by PGlite/pglite-socket would keep it alive.
    const dir = mkdtempSync(join(tmpdir(), 'mft-embedded-pg-exit-'));
    try {
      symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      const src = readFileSync(resolve('src/demo/embeddedPostgres.ts'), 'utf8');
      const js = ts.transpileModule(src, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      writeFileSync(join(dir, 'embeddedPostgres.js'), js);
      writeFileSync(
        join(dir, 'main.js'),
        `import pg from 'pg';
import ts from 'typescript';
import { startEmbeddedPostgres } from './embeddedPostgres.js';
const ep = await startEmbeddedPostgres();
const opts = { host: ep.host, port: ep.port, user: ep.user, database: ep.database };
const a = new pg.Client(opts);
await a.connect();
await a.query('SELECT 1');
await a.end();
const b = new pg.Client(opts); // still connected at stop(): must not keep the process alive
b.on('error', () => {});
await b.connect();
await ep.stop();
console.log('stopped');
`,
      );
      const r = await run(process.execPath, [join(dir, 'main.js')], { cwd: dir, timeoutMs: 30_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('stopped');
      expect(r.code).toBe(0); // null would mean killed by the timeout: something kept it alive
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

