// The benchmark's data: an AFT_LOG in Cisco's schema, filled in SQL (generate_series), and the
// matching file trees in Cisco's layout <node>/files/im/YYYYMMDD/HH/<name>.
//
// Upload i (0-based) has i % 3 `Get` rows: on average one, so the table has about two rows per
// upload. Uploads 0 .. expired-1 are older than the retention (P7D), at 500 an hour, ending 8
// days ago; the others spread over the last 7 days, never in the last 2 hours. One `Get` in
// three comes 3 days after its upload (a late download), so the Get rows of expired files lie
// deep in the table, far (in aft_index) from their `Post` rows, as they do in real life.
// aft_index follows time, as Cisco's sequence does.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { AFT_LOG_DDL } from '../test/helpers/aftLogSchema.js';

export const RETENTION = 'P7D';
const EXPIRED_PER_HOUR = 500;

export interface DatasetSpec {
  /** Rows in AFT_LOG (rounded to a multiple of 6). */
  rows: number;
  /** Expired uploads (files to purge). */
  expired: number;
  /**
   * The planner statistics the table is left with: `analyzed` (as autovacuum keeps them, the
   * default), `never` (never analyzed, autovacuum off: after a restore or a bulk load), or
   * `stale` (analyzed when it held its first STALE_ROWS rows, then grown, autovacuum off).
   */
  statistics?: 'analyzed' | 'never' | 'stale';
}

/** Rows the `stale` table held when it was last analyzed. */
export const STALE_ROWS = 1000;

export interface Dataset {
  uploads: number;
  expired: number;
  rows: number;
  /** Rows of the expired files (Post + Get): what the purge must delete. */
  expiredRows: number;
}

/** `f<i>-<hash>.dat`: the upload number is in the name, so a listing says which files are expired. */
export const uploadNumber = (name: string): number => Number(/^f(\d+)-/.exec(name)?.[1] ?? NaN);

export async function fillAftLog(client: pg.Client, nodeDir: string, spec: DatasetSpec, now: Date): Promise<Dataset> {
  const uploads = Math.max(3, Math.round(spec.rows / 6) * 3);
  const expired = Math.min(spec.expired, uploads);
  const wall = now.toISOString().replace('T', ' ').replace('Z', '');
  await client.query(AFT_LOG_DDL);
  await client.query(
    `INSERT INTO aft_log (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type,
                          file_server, file_path, file_size, bytes_transferred, timestampvalue)
     SELECT row_number() OVER (ORDER BY x.ts, x.i, x.k), 'user' || (x.i % 12000) || '@example.com',
            'user' || ((x.i * 7 + 1) % 12000) || '@example.com', x.method, x.name, x.name, 'dat', 'im',
            'files.example.com', x.path, 1000, 1000, x.ts
       FROM (SELECT u.i, k, CASE WHEN k = 0 THEN 'Post' ELSE 'Get' END AS method, u.name,
                    $2 || '/files/im/' || to_char(u.ts, 'YYYYMMDD') || '/' || to_char(u.ts, 'HH24') || '/' || u.name AS path,
                    CASE k WHEN 0 THEN u.ts
                           WHEN 1 THEN u.ts + interval '10 minutes'
                           ELSE CASE WHEN u.ts + interval '3 days' < $1::timestamp - interval '2 hours'
                                     THEN u.ts + interval '3 days' ELSE u.ts + interval '20 minutes' END
                    END AS ts
               FROM (SELECT i, 'f' || i || '-' || substr(md5(i::text), 1, 8) || '.dat' AS name,
                            CASE WHEN i < $3
                                 THEN $1::timestamp - interval '8 days' - (($3 - 1 - i) * (3600.0 / $5)) * interval '1 second'
                                 ELSE $1::timestamp - interval '7 days' + interval '1 hour'
                                      + ((i - $3) * ((7 * 24 - 3) * 3600.0 / greatest($4 - $3, 1))) * interval '1 second'
                            END AS ts
                       FROM generate_series(0, $4 - 1) AS i) u
              CROSS JOIN LATERAL generate_series(0, u.i % 3) AS k) x`,
    [wall, nodeDir, expired, uploads, EXPIRED_PER_HOUR],
  );
  await client.query(`SELECT setval('aft_log_aft_index_seq', (SELECT max(aft_index) FROM aft_log))`);
  const statistics = spec.statistics ?? 'analyzed';
  if (statistics === 'analyzed') {
    // As autovacuum would have done on a table this size.
    await client.query('VACUUM ANALYZE aft_log');
  } else {
    await client.query('ALTER TABLE aft_log SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)');
    if (statistics === 'stale') await makeStale(client);
  }
  const counts = await client.query<{ rows: string; expired_rows: string }>(
    `SELECT count(*)::text AS rows,
            (SELECT count(*) FROM aft_log WHERE file_path IN
               (SELECT file_path FROM aft_log WHERE method = 'Post' AND timestampvalue < $1::timestamp - interval '7 days'))::text AS expired_rows
       FROM aft_log`,
    [wall],
  );
  return { uploads, expired, rows: Number(counts.rows[0]!.rows), expiredRows: Number(counts.rows[0]!.expired_rows) };
}

/**
 * Leaves aft_log with the statistics of its first STALE_ROWS rows (the oldest, as when it was
 * young): the rows are moved aside, the first ones put back and analyzed, then the rest put back.
 */
async function makeStale(client: pg.Client): Promise<void> {
  await client.query('CREATE TEMPORARY TABLE aft_log_rest AS SELECT * FROM aft_log');
  await client.query('TRUNCATE aft_log');
  await client.query(`INSERT INTO aft_log SELECT * FROM aft_log_rest WHERE aft_index <= ${STALE_ROWS}`);
  await client.query('ANALYZE aft_log');
  await client.query(`INSERT INTO aft_log SELECT * FROM aft_log_rest WHERE aft_index > ${STALE_ROWS}`);
  await client.query('DROP TABLE aft_log_rest');
}

/**
 * Writes the listed uploads' files (empty, as in the measured baselines) into each of the
 * given node directories, reading the paths from AFT_LOG in chunks: [from, to) upload numbers.
 */
export async function writeFiles(client: pg.Client, sourceDir: string, targets: string[], from: number, to: number): Promise<number> {
  const made = new Set<string>();
  let written = 0;
  let after = -1n;
  for (;;) {
    const r = await client.query<{ idx: string; file_path: string }>(
      `SELECT aft_index::text AS idx, file_path FROM aft_log
        WHERE method = 'Post' AND aft_index > $1 ORDER BY aft_index LIMIT 20000`,
      [after.toString()],
    );
    if (r.rows.length === 0) break;
    after = BigInt(r.rows[r.rows.length - 1]!.idx);
    for (const row of r.rows) {
      const rel = row.file_path.slice(sourceDir.length);
      const n = uploadNumber(rel.slice(rel.lastIndexOf('/') + 1));
      if (n < from || n >= to) continue;
      for (const t of targets) {
        const p = join(t, rel);
        const d = dirname(p);
        if (!made.has(d)) {
          mkdirSync(d, { recursive: true });
          made.add(d);
        }
        writeFileSync(p, '');
      }
      written++;
    }
  }
  return written;
}

/** Runs `fn` on a client connected with `config`, and ends the connection. */
export async function withClient<T>(config: pg.ClientConfig, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client(config);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
