// One node's world for the fault-injection suite, on the real PostgreSQL and OpenSSH sshd of
// test/helpers: the node directory in Cisco's layout, its AFT_LOG database, a config, and a
// canary tree around the node directory (an outside folder, a second node's directory, a
// sibling whose name starts with the node's, and a folder elsewhere in /tmp), all owned by the
// SFTP login user: only the purge's own rules stand between them and deletion.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { AFT_LOG_DDL, insertAftRows, type AftRow } from '../helpers/aftLogSchema.js';
import type { PgServer } from '../helpers/pgServer.js';
import { rmrf } from '../helpers/procUtil.js';
import { CLI, REPO_ROOT, hourFolders, runCli, type CliResult } from '../helpers/purgeFixture.js';
import type { SshdServer } from '../helpers/sshdServer.js';

export type ChatType = 'im' | 'groupchat' | 'persistent';
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface WorldOptions {
  /** Policy files: chat type -> retention (default im PT1H, groupchat P1D, no persistent policy). */
  policies?: Partial<Record<ChatType, string>>;
  batchSize?: number;
  /** The port the purge connects to (a proxy in front of sshd); default sshd's own. */
  sshPort?: number;
  /** The pinned host key; default sshd's fingerprint. */
  hostKey?: string;
  /** Uploaders under a legal hold (holds.yaml). */
  heldJids?: string[];
}

export interface UploadSpec {
  chatType?: ChatType;
  /** The Post row's timestampvalue. */
  at: Date;
  /** Instant whose UTC hour names the folder (default `at`). */
  folderAt?: Date;
  rollover?: number;
  name?: string;
  /** Explicit file_path instead of the layout path. */
  path?: string;
  /** chat_type of the rows (default chatType). */
  rowChatType?: string;
  gets?: Date[];
  /** Create the file (default true). */
  createFile?: boolean;
  jid?: string;
  size?: number;
}

export interface Row {
  aft_index: string;
  method: string;
  chat_type: string;
  file_path: string;
  jid: string;
  /** timestampvalue read as UTC. */
  at: Date;
}

/** A running purge process (the real CLI) whose log lines are watched, to kill it at a chosen point. */
export interface RunningCli {
  child: ChildProcess;
  /** Output lines so far, in arrival order: `out <stdout line>` or `log <stderr line>` (pino JSON). */
  lines: string[];
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `pred` matches a log line (or the process has exited: then with undefined). */
  waitForLine(pred: (line: string, index: number) => boolean): Promise<string | undefined>;
}

let worldCounter = 0;

export class World {
  readonly id: string;
  /** Per-world folder under sshd's root: the node directory and the canaries beside it. */
  readonly base: string;
  readonly nodeDir: string;
  /** A folder elsewhere on the file server, named by no configured node. */
  readonly farDir: string;
  readonly configDir: string;
  readonly configPath: string;
  readonly database: string;
  readonly policies: Partial<Record<ChatType, string>>;
  readonly heldJids: string[];
  config: Record<string, any>;
  private nameCounter = 0;
  private readonly owner: { uid: number; gid: number };

  private constructor(
    readonly pgServer: PgServer,
    readonly sshd: SshdServer,
    readonly pool: pg.Pool,
    opts: WorldOptions,
    id: string,
    database: string,
  ) {
    this.id = id;
    this.database = database;
    const st = statSync(sshd.rootDir);
    this.owner = { uid: st.uid, gid: st.gid };
    this.base = join(sshd.rootDir, id);
    this.nodeDir = join(this.base, 'node_1');
    this.farDir = mkdtempSync('/tmp/mft-far-');
    this.own(this.farDir);
    this.configDir = mkdtempSync('/tmp/mft-faultcfg-');
    this.configPath = join(this.configDir, 'config.yaml');
    this.policies = opts.policies ?? { im: 'PT1H', groupchat: 'P1D' };
    this.heldJids = opts.heldJids ?? [];
    this.config = {
      policiesDirectory: 'policies',
      purge: { batchSize: opts.batchSize ?? 5, maxClockSkew: 'PT2M' },
      log: { level: 'info' },
      nodes: [
        {
          name: 'node_1',
          database: {
            type: 'postgres',
            host: pgServer.tcpHost,
            port: pgServer.port,
            database,
            user: pgServer.mftUser.user,
            passwordFile: 'db.password',
            timestampZone: 'UTC',
            connectTimeout: 'PT5S',
          },
          fileServer: {
            type: 'sftp',
            host: sshd.host,
            port: opts.sshPort ?? sshd.port,
            username: sshd.username,
            privateKeyFile: sshd.clientPrivateKeyPath,
            hostKey: opts.hostKey ?? sshd.hostKeyFingerprint,
            directory: this.nodeDir,
            connectTimeout: 'PT5S',
          },
        },
      ],
    };
  }

  static async create(servers: { pg: PgServer; sshd: SshdServer }, opts: WorldOptions = {}): Promise<World> {
    const id = `w${process.pid}_${++worldCounter}_${randomBytes(3).toString('hex')}`;
    const database = id.toLowerCase();
    await servers.pg.createDatabase(database);
    // The test server runs with synchronous_commit off (speed): a crash (-m immediate) would
    // lose the scenario's own last inserts, and the check would blame the purge for them.
    const pool = new pg.Pool({ ...servers.pg.connectionConfig(database), max: 2, idleTimeoutMillis: 2_000, options: '-c synchronous_commit=on' });
    // Idle connections die when a scenario stops PostgreSQL: the pool drops them and reconnects.
    pool.on('error', () => undefined);
    await pool.query(AFT_LOG_DDL);
    const w = new World(servers.pg, servers.sshd, pool, opts, id, database);
    w.layout();
    w.writeConfig();
    mkdirSync(join(w.configDir, 'policies'));
    writeFileSync(join(w.configDir, 'db.password'), `${servers.pg.mftUser.password}\n`, { mode: 0o600 });
    for (const [ct, retention] of Object.entries(w.policies)) {
      // Minute-long retentions keep the scenarios fast; the safety limits would refuse them
      // (and a run removing every expired file of a quiet chat type) without these overrides.
      const overrides = retention === 'forever' ? '' : 'allowShortRetention: true\nallowPurgeAll: true\n';
      writeFileSync(join(w.configDir, 'policies', `${ct}.yaml`), `chatType: ${ct}\nretention: ${retention}\n${overrides}`);
    }
    if (w.heldJids.length) {
      writeFileSync(
        join(w.configDir, 'policies', 'holds.yaml'),
        `holds:\n  - name: fault-suite-hold\n    reason: kept by the fault suite\n    uploaders: [${w.heldJids.join(', ')}]\n`,
      );
    }
    return w;
  }

  /** The node directory with its files/ folder, and the canary tree around it. */
  private layout(): void {
    this.mkdir(join(this.nodeDir, 'files'));
    // Canaries: each holds files in Cisco's layout, old enough to be purged were they ours.
    const old = new Date(Date.now() - 30 * DAY);
    const { date, hour } = hourFolders(old);
    for (const dir of [join(this.base, 'node_2'), join(this.base, 'node_1x'), join(this.base, 'outside'), this.farDir]) {
      this.writeFile(join(dir, 'files', 'im', date, hour, 'canary.txt'));
      this.writeFile(join(dir, 'files', 'groupchat', date, hour, 'canary.txt'));
      this.writeFile(join(dir, 'victim.txt'));
    }
  }

  own(p: string): void {
    chownSync(p, this.owner.uid, this.owner.gid);
  }

  /** Creates a directory and its missing parents, owned by the SFTP login user, 0755. */
  mkdir(p: string): void {
    const missing: string[] = [];
    for (let cur = p; !existsSync(cur); cur = dirname(cur)) missing.unshift(cur);
    for (const d of missing) {
      mkdirSync(d, { mode: 0o755 });
      chmodSync(d, 0o755);
      this.own(d);
    }
  }

  /** Creates a file with random content (so a change shows in its hash), owned by the SFTP user. */
  writeFile(p: string, size = 64): string {
    this.mkdir(dirname(p));
    writeFileSync(p, randomBytes(size), { mode: 0o644 });
    this.own(p);
    return p;
  }

  writeConfig(): void {
    // JSON is YAML.
    writeFileSync(this.configPath, JSON.stringify(this.config, null, 2));
  }

  /** Sets nodes[0].fileServer.port (e.g. to a proxy) and rewrites the config. */
  setSshPort(port: number): void {
    this.config.nodes[0].fileServer.port = port;
    this.writeConfig();
  }

  /** Sets nodes[0].database.port (e.g. to a proxy) and rewrites the config. */
  setDbPort(port: number): void {
    this.config.nodes[0].database.port = port;
    this.writeConfig();
  }

  layoutPath(chatType: string, folderAt: Date, name: string, rollover?: number): string {
    const f = hourFolders(folderAt);
    return join(this.nodeDir, 'files', chatType, f.date, rollover ? `${f.hour}.${rollover}` : f.hour, name);
  }

  /** Creates the file (unless told not to) and inserts its Post row and Get rows. Returns the path. */
  async upload(u: UploadSpec): Promise<string> {
    const chatType = u.chatType ?? 'im';
    const name = u.name ?? `f${++this.nameCounter}-${randomBytes(3).toString('hex')}.txt`;
    const path = u.path ?? this.layoutPath(chatType, u.folderAt ?? u.at, name, u.rollover);
    if (u.createFile !== false) this.writeFile(path, u.size ?? 64);
    const rowChatType = u.rowChatType ?? chatType;
    const rows: AftRow[] = [
      { method: 'Post', chatType: rowChatType, filePath: path, fileSize: u.size ?? 64, timestamp: u.at, jid: u.jid ?? 'alice@example.com' },
      ...(u.gets ?? []).map((t): AftRow => ({ method: 'Get', chatType: rowChatType, filePath: path, fileSize: u.size ?? 64, timestamp: t, jid: 'bob@example.com' })),
    ];
    await insertAftRows(this.pool, rows);
    return path;
  }

  async insertRows(rows: AftRow[]): Promise<void> {
    await insertAftRows(this.pool, rows);
  }

  async rows(): Promise<Row[]> {
    const r = await this.pool.query<{ aft_index: string; method: string; chat_type: string; file_path: string; jid: string; ts: string }>(
      `SELECT aft_index::text AS aft_index, method, chat_type, file_path, jid,
              to_char(timestampvalue, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ts
         FROM aft_log ORDER BY aft_index`,
    );
    return r.rows.map((x) => ({ aft_index: x.aft_index, method: x.method, chat_type: x.chat_type, file_path: x.file_path, jid: x.jid, at: new Date(x.ts) }));
  }

  async sql(text: string, values?: unknown[]): Promise<any[]> {
    return (await this.pool.query(text, values)).rows;
  }

  /** Empties the node directory's files/ and the table, for the next iteration of a loop. */
  async reset(): Promise<void> {
    rmrf(join(this.configDir, 'state'));
    const files = join(this.nodeDir, 'files');
    for (const name of readdirSync(files)) rmSync(join(files, name), { recursive: true, force: true });
    await this.pool.query('TRUNCATE aft_log');
  }

  /** The real CLI: `node bin/mft-retention.js purge --config <configPath> ...args`, to completion. */
  purge(...args: string[]): Promise<CliResult> {
    return runCli(['purge', '--config', this.configPath, ...args], { timeoutMs: 60_000 });
  }

  /** The real CLI's purge, started and watched, to be killed at a chosen point. */
  startPurge(...args: string[]): RunningCli {
    return this.startCli(['purge', '--config', this.configPath, ...args]);
  }

  /**
   * The real daemon, purging every second (its log is JSON on stdout). The config gets a
   * `daemon:` section with its state in the config directory and an ephemeral HTTP port
   * (`daemon` adds or replaces keys of it).
   */
  startDaemon(daemon: Record<string, unknown> = {}): RunningCli {
    this.config.daemon = { schedule: '* * * * * *', drainTimeout: 'PT10S', http: { listen: '127.0.0.1:0' }, stateDirectory: join(this.configDir, 'state'), ...daemon };
    this.writeConfig();
    return this.startCli(['daemon', '--config', this.configPath]);
  }

  private startCli(argv: string[]): RunningCli {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (/^PG[A-Z]+$/.test(k)) delete env[k];
    const child = spawn(process.execPath, [CLI, ...argv], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let out = '';
    let partial = '';
    const waiters: Array<{ pred: (l: string, i: number) => boolean; resolve: (l: string | undefined) => void }> = [];
    let done = false;
    let partialOut = '';
    // Both streams feed one list of lines, in arrival order: the --json file records (stdout;
    // a kept file's record comes before the batch's removals) and the log (stderr; a
    // "removed" line comes after the batch's rows are deleted).
    const feed = (chunk: string, rest: string, tag: string): string => {
      rest += chunk;
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = `${tag} ${rest.slice(0, nl)}`;
        rest = rest.slice(nl + 1);
        lines.push(line);
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.pred(line, lines.length - 1)) waiters.splice(i, 1)[0]!.resolve(line);
        }
      }
      return rest;
    };
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      partialOut = feed(s, partialOut, 'out');
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      partial = feed(s, partial, 'log');
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => {
        done = true;
        for (const w of waiters.splice(0)) w.resolve(undefined);
        resolve({ code, signal });
      }),
    );
    return {
      child,
      lines,
      stdout: () => out,
      exited,
      waitForLine(pred) {
        const i = lines.findIndex((l, idx) => pred(l, idx));
        if (i >= 0) return Promise.resolve(lines[i]);
        if (done) return Promise.resolve(undefined);
        return new Promise((resolve) => waiters.push({ pred, resolve }));
      },
    };
  }

  async dispose(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    rmrf(this.configDir);
    rmrf(this.farDir);
    rmrf(this.base);
  }
}

/** Start of the UTC hour containing `t`. */
export function hourStartOf(t: Date | number): Date {
  const ms = typeof t === 'number' ? t : t.getTime();
  return new Date(Math.floor(ms / HOUR) * HOUR);
}

/** The version strings the results table names: PostgreSQL's and the SSH server's banner. */
export async function serverVersions(servers: { pg: PgServer; sshd: SshdServer }): Promise<{ postgres: string; sshd: string }> {
  const c = new pg.Client(servers.pg.connectionConfig());
  await c.connect();
  const v = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  await c.end();
  const banner = await new Promise<string>((resolve, reject) => {
    const s = net.connect(servers.sshd.port, servers.sshd.host);
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) {
        s.destroy();
        resolve(buf.split('\r\n')[0]!.split('\n')[0]!);
      }
    });
    s.on('error', reject);
  });
  return { postgres: `PostgreSQL ${v.rows[0]!.v}`, sshd: banner.replace(/^SSH-2\.0-/, '') };
}
