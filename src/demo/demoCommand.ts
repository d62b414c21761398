import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startOfUtcHour } from '../core/clock.js';
import { EXIT, type ExitCode } from '../cli/exitCodes.js';
import type { Io } from '../cli/io.js';
import { purgeCommand } from '../cli/purgeCommand.js';
import { AFT_LOG_DDL } from './aftLogDdl.js';
import { makeDemoTraffic, type DemoUpload } from './demoTraffic.js';
import { startEmbeddedPostgres } from './embeddedPostgres.js';

const RETENTION_HOURS = { im: 24, groupchat: 36, persistent: 30 * 24 } as const;
const POLICIES = {
  im: 'chatType: im\n# One-to-one IM files: a day, long enough for offline users to fetch them.\nretention: PT24H\n',
  groupchat: 'chatType: groupchat\nretention: PT36H\n',
  persistent: 'chatType: persistent\n# Persistent chat rooms keep their files much longer.\nretention: P30D\n',
};

const wall = (t: Date) => t.toISOString().replace('T', ' ').replace('Z', '');
const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * `mft-retention demo`: a sandbox with an embedded PostgreSQL (PGlite behind a socket, so the
 * production `pg` code path runs) and a local file store in Cisco's layout; a dry-run, a purge,
 * then a check that exactly the expired files went and everything recent stayed.
 */
export async function demoCommand(opts: { keep: boolean }, io: Io): Promise<ExitCode> {
  const sandbox = await mkdtemp(path.join(os.tmpdir(), 'mft-retention-demo-'));
  const nodeDir = path.join(sandbox, 'mftFileStore', 'node_1');
  const db = await startEmbeddedPostgres();
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, database: db.database });
  try {
    const now = new Date();
    io.out(`mft-retention demo: a sandbox in ${sandbox}\n`);
    const uploads = makeDemoTraffic(now);
    await client.connect();
    await client.query(AFT_LOG_DDL);
    const canary = path.join(sandbox, 'outside', 'do-not-delete.txt');
    const trap = await seed(client, nodeDir, uploads, canary, now);
    await client.end();
    const configFile = await writeSandboxConfig(sandbox, nodeDir, db);
    const gets = uploads.reduce((n, u) => n + u.downloads.length, 0);
    io.out(`Filled it with ${uploads.length} uploads over ${50} hours (all three chat types, a busy hour rolled over into an HH.1 folder, ${gets} downloads, files of the current UTC hour),`);
    io.out(`plus two rows that must never be purged: one pointing outside the node directory, one whose file sits in the current hour's folder.`);
    io.out(`Policies: im ${RETENTION_HOURS.im} h, groupchat ${RETENTION_HOURS.groupchat} h, persistent 30 days. Config: ${configFile}\n`);

    io.out('== 1. Dry-run: mft-retention purge --config ' + configFile + ' --dry-run\n');
    await purgeCommand({ config: configFile, dryRun: true, json: false, logLevel: 'warn' }, io);
    io.out('\n== 2. Purge: mft-retention purge --config ' + configFile + '\n');
    const code = await purgeCommand({ config: configFile, dryRun: false, json: false, logLevel: 'warn' }, io);
    io.out('\n== 3. What is left\n');
    const ok = await verify(io, db, nodeDir, uploads, now, canary, trap);
    if (code !== EXIT.ok || !ok) {
      io.err(`demo: the purge did not behave as expected (exit code ${code})${opts.keep ? `; the sandbox is kept in ${sandbox}` : '; run "mft-retention demo --keep" to keep the sandbox for a look'}`);
      return EXIT.partial;
    }
    io.out(`\nDemo complete.${opts.keep ? ` The sandbox is kept in ${sandbox}.` : ''} Next: write your own config (docs/configuration.md) and dry-run it.`);
    return EXIT.ok;
  } finally {
    await client.end().catch(() => undefined);
    await db.stop();
    if (!opts.keep) await rm(sandbox, { recursive: true, force: true });
  }
}

async function seed(client: pg.Client, nodeDir: string, uploads: DemoUpload[], canary: string, now: Date): Promise<string> {
  const rows: unknown[][] = [[], [], [], [], [], [], [], []];
  const push = (jid: string, toJid: string, method: string, chatType: string, filePath: string, size: number, at: Date) => {
    const v = [jid, toJid, method, chatType, filePath, String(size), wall(at), path.basename(filePath)];
    v.forEach((x, i) => rows[i]!.push(x));
  };
  const dirs = new Set<string>();
  for (const u of uploads) dirs.add(path.dirname(path.join(nodeDir, u.relPath)));
  await Promise.all([...dirs].map((d) => mkdir(d, { recursive: true })));
  for (const u of uploads) {
    const full = path.join(nodeDir, u.relPath);
    await writeFile(full, Buffer.alloc(u.size, 0x2e));
    push(u.jid, u.toJid, 'Post', u.chatType, full, u.size, u.uploadedAt);
    for (const d of u.downloads) push(u.toJid, u.jid, 'Get', u.chatType, full, u.size, d);
  }
  // A hostile row: old enough to purge, but its path is outside the node directory.
  await mkdir(path.dirname(canary), { recursive: true });
  await writeFile(canary, 'the purge must never touch this file\n');
  push('mallory@example.com', 'bob@example.com', 'Post', 'im', canary, 38, new Date(now.getTime() - 40 * 3_600_000));
  // A row with an old timestamp whose file is in the current hour's folder (clocks disagree).
  const hour = startOfUtcHour(now);
  const pad = (n: number) => String(n).padStart(2, '0');
  const trap = path.join(nodeDir, `files/im/${hour.getUTCFullYear()}${pad(hour.getUTCMonth() + 1)}${pad(hour.getUTCDate())}/${pad(hour.getUTCHours())}/clock-skew.txt`);
  await mkdir(path.dirname(trap), { recursive: true });
  await writeFile(trap, 'uploaded this hour\n');
  push('erin@example.com', 'frank@example.com', 'Post', 'im', trap, 19, new Date(now.getTime() - 40 * 3_600_000));
  await client.query(
    `INSERT INTO aft_log (jid, to_jid, method, chat_type, file_path, file_size, bytes_transferred, timestampvalue, filename, real_filename, file_type, file_server)
     SELECT jid, to_jid, method, chat_type, file_path, size::bigint, size::bigint, ts::timestamp, name, name, split_part(name, '.', 2), 'localhost'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS t(jid, to_jid, method, chat_type, file_path, size, ts, name)`,
    rows,
  );
  return trap;
}

async function writeSandboxConfig(sandbox: string, nodeDir: string, db: { host: string; port: number; user: string; database: string }): Promise<string> {
  const policies = path.join(sandbox, 'policies');
  await mkdir(policies, { recursive: true });
  for (const [chatType, text] of Object.entries(POLICIES)) await writeFile(path.join(policies, `${chatType}.yaml`), text);
  const file = path.join(sandbox, 'config.yaml');
  await writeFile(
    file,
    `# Written by mft-retention demo. The embedded database needs no password.
policiesDirectory: policies
daemon:
  stateDirectory: state   # the purge history stays in the sandbox
nodes:
  - name: node_1
    database:
      type: postgres
      host: ${db.host}
      port: ${db.port}
      database: ${db.database}
      user: ${db.user}
    fileServer:
      type: local
      directory: ${nodeDir}
`,
  );
  return file;
}

async function verify(io: Io, db: { host: string; port: number; user: string; database: string }, nodeDir: string, uploads: DemoUpload[], now: Date, canary: string, trap: string): Promise<boolean> {
  const client = new pg.Client({ host: db.host, port: db.port, user: db.user, database: db.database });
  await client.connect();
  try {
    const { rows } = await client.query<{ file_path: string }>(`SELECT DISTINCT file_path FROM aft_log`);
    const withRows = new Set(rows.map((r) => r.file_path));
    // The purge ran a little after the traffic was made: an upload that came within that
    // while of its retention (or of the hour's end) may have gone or stayed, and either is right.
    const later = new Date();
    const expiredAt = (u: DemoUpload, t: Date): boolean =>
      u.uploadedAt.getTime() < t.getTime() - RETENTION_HOURS[u.chatType] * 3_600_000 && u.uploadedAt.getTime() < startOfUtcHour(t).getTime();
    const currentHour = startOfUtcHour(now).getTime();
    let gone = 0;
    let kept = 0;
    let currentHourKept = 0;
    const problems: string[] = [];
    for (const u of uploads) {
      const full = path.join(nodeDir, u.relPath);
      const present = await exists(full);
      const expired = expiredAt(u, now) || (expiredAt(u, later) && !present && !withRows.has(full));
      if (expired) {
        gone++;
        if (present || withRows.has(full)) problems.push(`expired ${u.relPath} still ${present ? 'exists' : 'has rows'}`);
      } else {
        kept++;
        if (u.uploadedAt.getTime() >= currentHour) currentHourKept++;
        if (!present || !withRows.has(full)) problems.push(`unexpired ${u.relPath} ${present ? 'lost its rows' : 'was removed'}`);
      }
    }
    for (const p of [canary, trap]) if (!(await exists(p)) || !withRows.has(p)) problems.push(`${p} was touched`);
    io.out(`  expired files removed with their rows:  ${gone}`);
    io.out(`  unexpired files still there with rows:  ${kept} (of them ${currentHourKept} from the current UTC hour)`);
    io.out(`  file outside the node directory:        ${(await exists(canary)) ? 'untouched' : 'DELETED'}`);
    io.out(`  current-hour file with an old row:      ${(await exists(trap)) ? 'untouched' : 'DELETED'}`);
    for (const p of problems.slice(0, 20)) io.err(`  PROBLEM: ${p}`);
    return problems.length === 0;
  } finally {
    await client.end();
  }
}
