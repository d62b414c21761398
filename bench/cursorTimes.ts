// `node dist/bench/cursorTimes.js [rows]`: how long the database's part of a purge takes (the
// blast-radius count, and the expired-uploads cursor computed at its COMMIT) on the same data
// with fresh, missing and stale planner statistics, with the purge's transaction settings and,
// for comparison, without them (under a 60 s statement_timeout: without them the
// never-analyzed table loops over the whole table once per expired upload). The figures size
// database.statementTimeout (see docs/database.md). Not part of `npm test`.
import pg from 'pg';
import * as sql from '../src/adapters/postgres/sql.js';
import { startPostgres } from '../test/helpers/pgServer.js';
import { fillAftLog } from './dataset.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 3;
const now = new Date();
const cutoff = new Date(now.getTime() - 7 * 86_400_000).toISOString().replace('T', ' ').replace('Z', '');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function timed(c: pg.Client, fn: () => Promise<unknown>): Promise<number | 'timeout'> {
  const t = performance.now();
  try {
    await fn();
  } catch (err) {
    if ((err as { code?: string }).code === '57014') return 'timeout';
    throw err;
  }
  return (performance.now() - t) / 1000;
}

const server = await startPostgres();
try {
  for (const statistics of ['analyzed', 'never', 'stale'] as const) {
    const db = `cursor_${statistics}`;
    await server.createDatabase(db);
    const c = new pg.Client(server.connectionConfig(db));
    await c.connect();
    try {
      const data = await fillAftLog(c, '/srv/mft/node_1', { rows, expired: rows / 10, statistics }, now);
      await c.query('CHECKPOINT');
      const count = sql.countExpiredUploadsByChatType('public.aft_log', 1, true);
      const cursor = async (tuned: boolean): Promise<void> => {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        try {
          if (tuned) await c.query(sql.tuneCursorTransaction);
          else await c.query(`SET LOCAL statement_timeout = '60s'`);
          await c.query(sql.declareExpiredCursor('public.aft_log'), ['im', cutoff]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        await c.query(sql.closeExpiredCursor).catch(() => undefined);
      };
      const counts: number[] = [];
      const tuned: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        counts.push((await timed(c, () => c.query(count, ['im', cutoff, now.toISOString().replace('T', ' ').replace('Z', '')]))) as number);
        tuned.push((await timed(c, () => cursor(true))) as number);
      }
      // Without the settings, once: the COMMIT has no statement_timeout, so the watchdog's role is
      // played here by a cancel after 60 s.
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const admin = new pg.Client(server.connectionConfig(db));
      await admin.connect();
      const watchdog = setTimeout(() => void admin.query('SELECT pg_cancel_backend($1)', [pid]), 60_000);
      const untuned = await timed(c, () => cursor(false));
      clearTimeout(watchdog);
      await admin.end();
      process.stdout.write(
        `${statistics.padEnd(8)} ${data.rows.toLocaleString('en-US')} rows, ${data.expired.toLocaleString('en-US')} expired: ` +
          `count ${median(counts).toFixed(2)} s, cursor ${median(tuned).toFixed(2)} s (rounds ${tuned.map((x) => x.toFixed(2)).join(', ')}); ` +
          `without the settings ${untuned === 'timeout' ? 'over 60 s (cancelled)' : `${untuned.toFixed(2)} s`}\n`,
      );
    } finally {
      await c.end();
    }
  }
} finally {
  await server.destroy();
}
