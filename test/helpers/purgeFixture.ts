// Shared fixture for the purge / CLI integration tests: a real PostgreSQL and a real OpenSSH
// sshd on loopback (test/helpers/pgServer.ts, sshdServer.ts), a config directory with a
// config YAML and policy files, node directories in Cisco's layout under the sshd rootDir,
// AFT_LOG rows to match, and a runner for the real CLI (`node bin/mft-retention.js`).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import YAML from 'yaml';
import { startPostgres, type PgServer } from './pgServer.js';
import { startSshd, type SshdServer, type StartSshdOptions } from './sshdServer.js';
import { AFT_LOG_DDL, insertAftRows, type AftRow } from './aftLogSchema.js';
import { startedForFile } from './fileHooks.js';
import { rmrf, sleep } from './procUtil.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO_ROOT, 'bin', 'mft-retention.js');

export type ChatType = 'im' | 'groupchat' | 'persistent';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour containing `t`. */
export function hourStart(t: Date = new Date()): Date {
  return new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
}

/** `YYYYMMDD` and `HH` of the UTC hour containing `t` (Cisco's folder names). */
export function hourFolders(t: Date): { date: string; hour: string } {
  const iso = t.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), hour: iso.slice(11, 13) };
}

/** `2024-05-01T13:00Z`-style label as the text report prints hours. */
export function hourLabel(t: Date): string {
  return `${hourStart(t).toISOString().slice(0, 13)}:00Z`;
}

/**
 * Tests whose expectations depend on which UTC hour "now" is in call this first: when the
 * next hour starts within `marginMs`, it waits until that hour has begun, so that the hour
 * computed by the test is the hour the purge (which reads the real clock) runs in.
 */
export async function avoidHourEdge(marginMs = 25_000): Promise<void> {
  const now = Date.now();
  const next = hourStart(new Date(now)).getTime() + HOUR_MS;
  if (next - now < marginMs) await sleep(next - now + 250);
}

// ---------------------------------------------------------------------------------------
// CLI runner

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock run time. */
  ms: number;
}

/** The environment the CLI runs with: ours minus anything libpq/pg would pick up on its own. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^PG[A-Z]+$/.test(k)) delete env[k];
  delete env.CREDENTIALS_DIRECTORY;
  return env;
}

type RunOptions = { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string };

/** Spawns `node bin/mft-retention.js ...args` and collects its output; never throws for a non-zero exit. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return runNodeScript(CLI, args, opts);
}

/** Spawns `node script ...args` as runCli does (its environment, SIGKILL at the timeout). */
export function runNodeScript(script: string, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: cliEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Parses `--json` output (JSON Lines on stdout). */
export function parseJsonLines(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        throw new Error(`not a JSON line in --json output: ${l}`);
      }
    });
}

export function fileRecords(stdout: string): Array<Record<string, any>> {
  return parseJsonLines(stdout).filter((r) => r.type === 'file');
}

export function summaryRecord(stdout: string): Record<string, any> {
  const all = parseJsonLines(stdout);
  const s = all.filter((r) => r.type === 'summary');
  if (s.length !== 1) throw new Error(`expected one summary record, got ${s.length}:\n${stdout}`);
  if (all[all.length - 1] !== s[0]) throw new Error('the summary record is not the last line');
  return s[0]!;
}

/** Human-readable dump of a CLI result for assertion messages. */
export function show(r: CliResult): string {
  return `exit ${r.code}${r.signal ? ` (signal ${r.signal})` : ''} after ${r.ms} ms\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}

// ---------------------------------------------------------------------------------------
// Environment: servers + fixtures

export interface PurgeEnv {
  pg: PgServer;
  sshd: SshdServer;
  /** A fresh config dir, database(s) and node directory(ies) for one test. */
  fixture(opts?: FixtureOptions): Promise<Fixture>;
  /** Stops what this env started and removes the fixtures' config dirs. */
  destroy(): Promise<void>;
}

export interface PurgeEnvOptions {
  pg?: PgServer;
  sshd?: SshdServer;
  sshdOptions?: StartSshdOptions;
}

/** Starts PostgreSQL and sshd (either may be given instead, then it is not destroyed by this env). */
export async function startPurgeEnv(opts: PurgeEnvOptions = {}): Promise<PurgeEnv> {
  const [pgServer, sshd] = await Promise.all([opts.pg ?? startPostgres(), opts.sshd ?? startSshd(opts.sshdOptions)]);
  const ownPg = !opts.pg;
  const ownSshd = !opts.sshd;
  const fixtures: Fixture[] = [];
  const env: PurgeEnv = {
    pg: pgServer,
    sshd,
    async fixture(fo = {}) {
      const f = await makeFixture(env, fo);
      fixtures.push(f);
      return f;
    },
    async destroy() {
      for (const f of fixtures) await f.dispose().catch(() => undefined);
      await Promise.all([ownPg ? pgServer.destroy() : undefined, ownSshd ? sshd.destroy() : undefined]);
    },
  };
  return env;
}

/**
 * A test file's PurgeEnv: registers the beforeAll that starts it (startPurgeEnv) and the afterAll
 * that destroys it, and returns it. Read it inside the tests and later hooks: before it is up (or
 * when it failed to start) reading it throws. Options given as a function are read when the env
 * starts, so they can name the servers of an env registered before this one.
 */
export function usePurgeEnv(opts: PurgeEnvOptions | (() => PurgeEnvOptions) = {}): PurgeEnv {
  const env = startedForFile(
    'the purge env (usePurgeEnv)',
    () => startPurgeEnv(typeof opts === 'function' ? opts() : opts),
    (e) => e.destroy(),
  );
  return {
    get pg() {
      return env().pg;
    },
    get sshd() {
      return env().sshd;
    },
    fixture: (fo) => env().fixture(fo),
    destroy: () => env().destroy(),
  };
}

export interface NodeSpec {
  name: string;
  /** Folder name of the node directory under the fixture's base dir (default: the node name). */
  dirName?: string;
  /** Per-node policy overrides in the config (nodes[i].policies). */
  policies?: Partial<Record<ChatType, string>>;
  /** Merged into nodes[i].fileServer (e.g. { port: closedPort }, { hostKey: ... }). */
  fileServer?: Record<string, unknown>;
  /** Merged into nodes[i].database. */
  database?: Record<string, unknown>;
}

export interface FixtureOptions {
  /** Policy files to write: chat type -> retention text. A chat type left out has no policy file. */
  policies?: Partial<Record<ChatType, string>>;
  /** Default: one node "node_1". */
  nodes?: NodeSpec[];
  /** Content of the passwordFile (default: the mft role's real password). */
  password?: string;
  /** Default: use sshd.hostPublicKeyLine; 'fingerprint' pins sshd.hostKeyFingerprint. */
  hostKeyForm?: 'line' | 'fingerprint';
  batchSize?: number;
  logLevel?: string;
  /** Last chance to edit the config object before it is written. */
  mutate?: (config: Record<string, any>) => void;
}

export interface UploadSpec {
  /** Folder chat type and (unless rowChatType) the rows' chat_type. Default 'im'. */
  chatType?: ChatType;
  /** The Post row's timestampvalue. */
  at: Date;
  /** Instant whose UTC hour names the folder (default `at`). */
  folderAt?: Date;
  /** Roll-over folder `HH.n`. */
  rollover?: number;
  /** File name (default: generated, unique). */
  name?: string;
  /** File size in bytes; the file gets that many bytes and the rows say so. Default 1000. */
  size?: number;
  /** Timestamps of Get rows. */
  gets?: Date[];
  /** chat_type written into the rows (default chatType). */
  rowChatType?: string;
  /** Explicit file_path (instead of the Cisco layout path); the file is created there if createFile. */
  path?: string;
  /** Create the file on disk (default true). */
  createFile?: boolean;
}

export interface Upload {
  path: string;
  hourDir: string;
  size: number;
  postIndex: string;
  getIndexes: string[];
  /** Post + Get indexes. */
  indexes: string[];
}

export interface TableRow {
  aft_index: string;
  method: string;
  chat_type: string;
  file_path: string;
  file_size: string;
  ts: string;
  jid: string;
  to_jid: string;
  filename: string;
}

export interface NodeFixture {
  name: string;
  /** Node directory on the file server (absolute, under sshd.rootDir). */
  dir: string;
  database: string;
  /** Layout path of a file: <dir>/files/<chatType>/YYYYMMDD/HH[.n]/<name>. */
  layoutPath(chatType: string, folderAt: Date, name: string, rollover?: number): string;
  /** Creates the file (and its parents, owned like the sshd rootDir) and inserts its Post and Get rows. */
  upload(spec: UploadSpec): Promise<Upload>;
  /** Inserts raw rows (aftIndex assigned when missing). Returns the indexes. */
  insertRows(rows: AftRow[]): Promise<string[]>;
  /** Full table dump, ordered by aft_index. */
  rows(): Promise<TableRow[]>;
  /** aft_index values currently in the table. */
  indexes(): Promise<string[]>;
  /** Runs SQL as the superuser in this node's database. */
  sql<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<R[]>;
}

export interface Fixture {
  id: string;
  env: PurgeEnv;
  /** Per-test directory under sshd.rootDir: node directories and `outside/` live here. */
  base: string;
  /** Files that must never be deleted go under here (outside every node directory). */
  outsideDir: string;
  configDir: string;
  configPath: string;
  policiesDir: string;
  passwordFile: string;
  /** The config object as written. */
  config: Record<string, any>;
  nodes: NodeFixture[];
  /** nodes[0]. */
  node: NodeFixture;
  /** Creates a file (parents owned like the sshd rootDir); returns its path. */
  writeFile(path: string, size?: number): string;
  /** Creates a directory (and parents) owned like the sshd rootDir. */
  mkdir(path: string): void;
  /** Rewrites the config file (after editing `config`) or a policy file. */
  writeConfig(config?: Record<string, any>): void;
  writePolicy(chatType: string, retention: string | null, extra?: string): void;
  /** `node bin/mft-retention.js purge --config <configPath> ...args`. */
  purge(...args: string[]): Promise<CliResult>;
  /** Recursive lstat listing of `base` (path relative to base, type, size, symlink target). */
  listing(): string[];
  /** listing() plus every node's table dump: to compare "nothing changed". */
  snapshot(): Promise<{ files: string[]; tables: Record<string, TableRow[]> }>;
  dispose(): Promise<void>;
}

let fixtureCounter = 0;

async function makeFixture(env: PurgeEnv, opts: FixtureOptions): Promise<Fixture> {
  const { pg: pgServer, sshd } = env;
  const id = `f${process.pid}_${++fixtureCounter}_${randomBytes(3).toString('hex')}`;
  const owner = statSync(sshd.rootDir);
  const own = (p: string): void => chownSync(p, owner.uid, owner.gid);
  const mkdirOwned = (p: string): void => {
    // Create each missing ancestor under rootDir with the rootDir owner (sftp user must unlink in them).
    const missing: string[] = [];
    let cur = p;
    while (!existsSync(cur)) {
      missing.unshift(cur);
      cur = dirname(cur);
    }
    for (const d of missing) {
      mkdirSync(d, { mode: 0o755 });
      chmodSync(d, 0o755);
      own(d);
    }
  };
  const writeOwned = (p: string, size = 1000): string => {
    mkdirOwned(dirname(p));
    const buf = Buffer.alloc(size, 0x61);
    writeFileSync(p, buf, { mode: 0o644 });
    own(p);
    return p;
  };

  const base = join(sshd.rootDir, id);
  mkdirOwned(base);
  const outsideDir = join(base, 'outside');
  mkdirOwned(outsideDir);

  const configDir = mkdtempSync('/tmp/mftcfg-');
  const policiesDir = join(configDir, 'policies');
  mkdirSync(policiesDir);
  const passwordFile = join(configDir, 'db.password');
  writeFileSync(passwordFile, `${opts.password ?? pgServer.mftUser.password}\n`, { mode: 0o600 });
  const configPath = join(configDir, 'config.yaml');

  const specs = opts.nodes ?? [{ name: 'node_1' }];
  const admins: pg.Client[] = [];
  const nodes: NodeFixture[] = [];
  for (const spec of specs) {
    const database = `${id}_${spec.name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await pgServer.createDatabase(database);
    const admin = new pg.Client(pgServer.connectionConfig(database));
    await admin.connect();
    admins.push(admin);
    await admin.query(AFT_LOG_DDL);
    const dir = join(base, spec.dirName ?? spec.name);
    mkdirOwned(join(dir, 'files'));
    let nextIndex = 1000;
    let nameCounter = 0;
    const layoutPath = (chatType: string, folderAt: Date, name: string, rollover?: number): string => {
      const f = hourFolders(folderAt);
      return join(dir, 'files', chatType, f.date, rollover ? `${f.hour}.${rollover}` : f.hour, name);
    };
    const insertRows = async (rows: AftRow[]): Promise<string[]> => {
      const withIdx = rows.map((r) => ({ ...r, aftIndex: r.aftIndex ?? nextIndex++ }));
      await insertAftRows(admin, withIdx);
      return withIdx.map((r) => String(r.aftIndex));
    };
    const node: NodeFixture = {
      name: spec.name,
      dir,
      database,
      layoutPath,
      insertRows,
      async upload(u) {
        const chatType = u.chatType ?? 'im';
        const size = u.size ?? 1000;
        const name = u.name ?? `file-${++nameCounter}-${randomBytes(4).toString('hex')}.txt`;
        const path = u.path ?? layoutPath(chatType, u.folderAt ?? u.at, name, u.rollover);
        if (u.createFile !== false) writeOwned(path, size);
        const rowChatType = u.rowChatType ?? chatType;
        const rows: AftRow[] = [
          { method: 'Post', chatType: rowChatType, filePath: path, fileSize: size, timestamp: u.at, jid: 'alice@example.com', toJid: 'bob@example.com' },
          ...(u.gets ?? []).map((t, i): AftRow => ({
            method: 'Get',
            chatType: rowChatType,
            filePath: path,
            fileSize: size,
            timestamp: t,
            jid: `reader${i}@example.com`,
            toJid: 'bob@example.com',
          })),
        ];
        const idx = await insertRows(rows);
        return { path, hourDir: dirname(path), size, postIndex: idx[0]!, getIndexes: idx.slice(1), indexes: idx };
      },
      async rows() {
        const r = await admin.query<TableRow>(
          `SELECT aft_index::text AS aft_index, method, chat_type, file_path, file_size::text AS file_size,
                  to_char(timestampvalue, 'YYYY-MM-DD HH24:MI:SS.US') AS ts, jid, to_jid, filename
             FROM aft_log ORDER BY aft_index`,
        );
        return r.rows;
      },
      async indexes() {
        return (await node.rows()).map((r) => r.aft_index);
      },
      async sql(text, values) {
        return (await admin.query(text, values)).rows;
      },
    };
    nodes.push(node);
  }

  const hostKey = opts.hostKeyForm === 'fingerprint' ? sshd.hostKeyFingerprint : sshd.hostPublicKeyLine;
  const config: Record<string, any> = {
    policiesDirectory: 'policies',
    purge: { batchSize: opts.batchSize ?? 1000, maxClockSkew: 'PT2M' },
    log: { level: opts.logLevel ?? 'info' },
    // The purge history (blast-radius limits) of this fixture only, never the host's.
    daemon: { stateDirectory: join(configDir, 'state') },
    nodes: specs.map((spec, i) => ({
      name: spec.name,
      database: {
        type: 'postgres',
        host: pgServer.tcpHost,
        port: pgServer.port,
        database: nodes[i]!.database,
        user: pgServer.mftUser.user,
        passwordFile: 'db.password',
        timestampZone: 'UTC',
        connectTimeout: 'PT10S',
        ...spec.database,
      },
      fileServer: {
        type: 'sftp',
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        privateKeyFile: sshd.clientPrivateKeyPath,
        hostKey,
        directory: nodes[i]!.dir,
        connectTimeout: 'PT10S',
        ...spec.fileServer,
      },
      ...(spec.policies ? { policies: Object.fromEntries(Object.entries(spec.policies).map(([k, v]) => [k, { retention: v }])) } : {}),
    })),
  };
  opts.mutate?.(config);

  const fixture: Fixture = {
    id,
    env,
    base,
    outsideDir,
    configDir,
    configPath,
    policiesDir,
    passwordFile,
    config,
    nodes,
    node: nodes[0]!,
    writeFile: writeOwned,
    mkdir: mkdirOwned,
    writeConfig(c = config) {
      writeFileSync(configPath, `# written by test/helpers/purgeFixture.ts (${id})\n${YAML.stringify(c)}`);
    },
    writePolicy(chatType, retention, extra = '') {
      const file = join(policiesDir, `${chatType}.yaml`);
      // Many tests use PT1H on purpose (the current-hour rule at its edge): such a policy must
      // say it means it (purge.limits.minRetention, PT2H by default).
      const short = retention !== null && /^PT(\d+)[HM]$/.test(retention) && !/allowShortRetention/.test(extra) && (retention.endsWith('M') ? true : Number(/\d+/.exec(retention)![0]) < 2);
      if (retention === null) rmrf(file);
      else writeFileSync(file, `chatType: ${chatType}\nretention: ${retention}\n${short ? 'allowShortRetention: true\n' : ''}${extra}`);
    },
    purge: (...args) => runCli(['purge', '--config', configPath, ...args]),
    listing: () => listTree(base),
    async snapshot() {
      const tables: Record<string, TableRow[]> = {};
      for (const n of nodes) tables[n.name] = await n.rows();
      return { files: listTree(base), tables };
    },
    async dispose() {
      for (const a of admins) await a.end().catch(() => undefined);
      rmrf(configDir);
    },
  };
  fixture.writeConfig();
  for (const [chatType, retention] of Object.entries(opts.policies ?? { im: 'PT1H' })) fixture.writePolicy(chatType, retention);
  return fixture;
}

/** Every entry under `root` (lstat: symlinks are not followed), sorted, with type and size. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p).split(sep).join('/');
      if (st.isSymbolicLink()) out.push(`L ${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`D ${rel} ${(st.mode & 0o7777).toString(8)} ${st.uid}`);
        walk(p);
      } else out.push(`F ${rel} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(root);
  return out;
}

/** Whether anything (file, dir, symlink, even dangling) exists at the path. */
export function present(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
