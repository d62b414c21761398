// `node dist/bench/liveTraffic.js [expired]`: MFT's inserts while a purge runs. A writer logs
// uploads at Cisco's sizing rate (12,000 users x 2 files an hour: about 7 a second), each with
// a download, plus a burst of 50 uploads every 5 s, one transaction a row as MFT does; the
// latency of each insert (BEGIN to COMMIT) is recorded while the database is idle and while a
// purge of `expired` files (a table of 10 times as many rows) runs. Goal: p99 during the purge
// at most 2x idle (the purge takes no lock that blocks an insert). Not part of `npm test`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import YAML from 'yaml';
import { startPostgres } from '../test/helpers/pgServer.js';
import { startSshd } from '../test/helpers/sshdServer.js';
import { fillAftLog, RETENTION, writeFiles } from './dataset.js';
import { runPurgeCli } from './sides.js';

const expired = Number(process.argv[2] ?? 100_000);
const IDLE_SECONDS = 20;
const RATE = 12_000 * 2 / 3600;
const BURST = 50;
const BURST_EVERY_MS = 5000;

const pct = (xs: number[], p: number): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
};

interface Latencies {
  /** BEGIN to COMMIT, ms. */
  total: number[];
  /** The COMMIT alone (its WAL flush), ms. */
  commit: number[];
}

/** Inserts at RATE a second (a Post and a Get each), bursts included, until stopped; latencies in ms. */
function writer(c: pg.Client, nodeDir: string): { stop(): Promise<Latencies> } {
  const latencies: Latencies = { total: [], commit: [] };
  let stopped = false;
  let n = 0;
  const one = async (): Promise<void> => {
    const path = `${nodeDir}/files/im/${new Date().toISOString().slice(0, 10).replace(/-/g, '')}/${new Date().toISOString().slice(11, 13)}/live-${n++}.dat`;
    for (const method of ['Post', 'Get']) {
      const t = performance.now();
      await c.query('BEGIN');
      await c.query(
        `INSERT INTO aft_log (jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
         VALUES ('u@example.com', 'v@example.com', $1, 'f', 'f', 'dat', 'im', 'files.example.com', $2, 1000, 1000, now() AT TIME ZONE 'UTC')`,
        [method, path],
      );
      const beforeCommit = performance.now();
      await c.query('COMMIT');
      const end = performance.now();
      latencies.total.push(end - t);
      latencies.commit.push(end - beforeCommit);
    }
  };
  const loop = (async () => {
    const start = performance.now();
    let nextBurst = start + BURST_EVERY_MS;
    let due = start;
    while (!stopped) {
      const now = performance.now();
      if (now >= nextBurst) {
        for (let i = 0; i < BURST; i++) await one();
        nextBurst += BURST_EVERY_MS;
      }
      if (now >= due) {
        await one();
        due += 1000 / RATE;
      } else await new Promise((r) => setTimeout(r, Math.min(due - now, 20)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return latencies;
    },
  };
}

/**
 * What the writer's backend waits on, sampled every few ms while it runs a statement:
 * `Lock:*` would mean the purge blocks MFT; `LWLock:WAL*` and `IO:WAL*` that the two share the
 * WAL flush; `CPU` (no wait event) that they share the cores.
 */
function waitSampler(c: pg.Client, pid: number): { stop(): Promise<Map<string, number>> } {
  const seen = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await c.query<{ w: string | null }>(
        `SELECT CASE WHEN wait_event IS NULL THEN 'CPU' ELSE wait_event_type || ':' || wait_event END AS w FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`,
        [pid],
      );
      const w = r.rows[0]?.w;
      if (w) seen.set(w, (seen.get(w) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, 2));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

const waits = (m: Map<string, number>): string => {
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${k} ${((100 * n) / total).toFixed(0)}%`).join(', ') || 'none seen';
};

const [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
try {
  const db = 'live';
  await pgServer.createDatabase(db);
  const nodeDir = join(sshd.rootDir, 'node_1');
  const admin = new pg.Client(pgServer.connectionConfig(db));
  await admin.connect();
  const now = new Date();
  const data = await fillAftLog(admin, nodeDir, { rows: expired * 10, expired }, now);
  await writeFiles(admin, nodeDir, [nodeDir], 0, data.expired);
  await admin.query('CHECKPOINT');
  const dir = join(sshd.dir, 'live-bench');
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'im.yaml'), `chatType: im\nretention: ${RETENTION}\n`);
  writeFileSync(join(dir, 'db.password'), `${pgServer.mftUser.password}\n`, { mode: 0o600 });
  const cfg = join(dir, 'config.yaml');
  writeFileSync(
    cfg,
    YAML.stringify({
      policiesDirectory: 'policies',
      log: { level: 'info' },
      daemon: { stateDirectory: 'state' },
      nodes: [
        {
          name: 'node_1',
          database: { type: 'postgres', host: pgServer.tcpHost, port: pgServer.port, database: db, user: pgServer.mftUser.user, passwordFile: 'db.password' },
          fileServer: { type: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.username, privateKeyFile: sshd.clientPrivateKeyPath, hostKey: sshd.hostKeyFingerprint, directory: nodeDir },
        },
      ],
    }),
  );
  const mft = new pg.Client({ ...pgServer.mftConnectionConfig(db) });
  await mft.connect();
  const pid = (await mft.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const idleWriter = writer(mft, nodeDir);
  const idleWaits = waitSampler(admin, pid);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const idle = await idleWriter.stop();
  const idleSeen = await idleWaits.stop();
  const busyWriter = writer(mft, nodeDir);
  const busyWaits = waitSampler(admin, pid);
  const purge = await runPurgeCli(cfg, [], join(dir, 'purge'));
  const busy = await busyWriter.stop();
  const busySeen = await busyWaits.stop();
  await mft.end();
  await admin.end();
  const line = (what: string, l: Latencies): string =>
    `${what.padEnd(26)} ${String(l.total.length).padStart(6)} inserts  p50 ${pct(l.total, 50).toFixed(2)} ms  p99 ${pct(l.total, 99).toFixed(2)} ms  max ${Math.max(...l.total).toFixed(2)} ms  (COMMIT alone: p99 ${pct(l.commit, 99).toFixed(2)} ms)`;
  process.stdout.write(
    [
      `MFT's inserts (one transaction a row, ${RATE.toFixed(1)} uploads/s with a download each, bursts of ${BURST} every ${BURST_EVERY_MS / 1000} s):`,
      line(`idle (${IDLE_SECONDS} s)`, idle),
      line(`during the purge (${(purge.summary.durationMs / 1000).toFixed(1)} s)`, busy),
      `what the insert's backend waited on, idle: ${waits(idleSeen)}`,
      `what the insert's backend waited on, during the purge: ${waits(busySeen)}`,
      `purge: ${data.expired.toLocaleString('en-US')} files, ${data.rows.toLocaleString('en-US')}-row AFT_LOG, status ${purge.summary.status}`,
      `p99 during the purge / idle: ${(pct(busy.total, 99) / pct(idle.total, 99)).toFixed(2)}x (goal <= 2x)`,
    ].join('\n') + '\n',
  );
} finally {
  await Promise.all([pgServer.destroy(), sshd.destroy()]);
}
