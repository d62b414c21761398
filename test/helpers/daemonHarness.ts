// Runs the real daemon (`node bin/mft-retention.js daemon`) against the harness's PostgreSQL
// and sshd: one node's database and directory, seeded files, a config file, and a handle on
// the spawned process (its JSON log lines, signals, exit).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, statfsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AFT_LOG_DDL, insertAftRows, type AftRow } from './aftLogSchema.js';
import { MFT_DB_PASSWORD, type PgServer } from './pgServer.js';
import { rmrf, sleep } from './procUtil.js';
import type { SshdServer } from './sshdServer.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(ROOT, 'bin/mft-retention.js');

/** Fails fast with the fix when the compiled daemon is missing. */
export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist/src/cli/daemonCommand.js'))) {
    throw new Error('dist/src/cli/daemonCommand.js is missing: run `npx tsc -p .` before these tests');
  }
}

/** Polls `check` every `intervalMs` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  node?: string;
  path?: string;
  [key: string]: unknown;
}

/** One node: its database (AFT_LOG) and its directory on the sshd's file system. */
export class NodeFixture {
  private constructor(
    readonly name: string,
    readonly pg: PgServer,
    readonly sshd: SshdServer,
    readonly dbName: string,
    readonly directory: string,
    readonly admin: pg.Client,
  ) {}

  static async create(pgServer: PgServer, sshd: SshdServer, name: string): Promise<NodeFixture> {
    const dbName = `mft_${name.toLowerCase().replace(/[^a-z0-9]/g, '_')}_${randomUUID().slice(0, 6)}`;
    await pgServer.createDatabase(dbName);
    const admin = new pg.Client(pgServer.connectionConfig(dbName));
    admin.on('error', () => undefined);
    await admin.connect();
    await admin.query(AFT_LOG_DDL);
    const directory = join(sshd.rootDir, name);
    mkdirSync(directory, { recursive: true });
    return new NodeFixture(name, pgServer, sshd, dbName, directory, admin);
  }

  /** Expired uploads (`ageHours` old): a file on disk and a `Post` row each. Returns their paths. */
  async seed(count: number, opts: { chatType?: string; ageHours?: number; tag?: string; bytesTransferred?: number } = {}): Promise<string[]> {
    const chatType = opts.chatType ?? 'im';
    const at = new Date(Date.now() - (opts.ageHours ?? 72) * 3_600_000);
    const iso = at.toISOString();
    const hourDir = join(this.directory, 'files', chatType, iso.slice(0, 10).replace(/-/g, ''), iso.slice(11, 13));
    mkdirSync(hourDir, { recursive: true });
    const tag = opts.tag ?? randomUUID().slice(0, 6);
    const rows: AftRow[] = [];
    for (let i = 0; i < count; i++) {
      const path = join(hourDir, `${tag}-${i}.txt`);
      writeFileSync(path, 'x');
      rows.push({ method: 'Post', chatType, filePath: path, fileSize: 1, bytesTransferred: opts.bytesTransferred, timestamp: at });
    }
    await insertAftRows(this.admin, rows);
    return rows.map((r) => r.filePath);
  }

  /**
   * The node directory as a 4 MiB file system of its own, over 90 % full of expired files (for
   * the free-space alarm). The mount is added to `mounts`, for the test's afterEach to undo.
   */
  async fillSmallFileSystem(mounts: string[]): Promise<string[]> {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', this.directory]);
    mounts.push(this.directory);
    const paths = await this.seed(32, { ageHours: 72 });
    for (const p of paths) writeFileSync(p, Buffer.alloc(120 * 1024, 1));
    const fs = statfsSync(this.directory);
    if (fs.bavail / fs.blocks > 0.1) throw new Error(`test setup: ${this.directory} must start at or below 10 % free, has ${((100 * fs.bavail) / fs.blocks).toFixed(1)} %`);
    return paths;
  }

  async rowCount(where = 'true'): Promise<number> {
    const r = await this.admin.query<{ n: string }>(`SELECT count(*) AS n FROM aft_log WHERE ${where}`);
    return Number(r.rows[0]!.n);
  }

  async rowsFor(paths: string[]): Promise<Set<string>> {
    const r = await this.admin.query<{ p: string }>('SELECT file_path AS p FROM aft_log WHERE file_path = ANY($1)', [paths]);
    return new Set(r.rows.map((x) => x.p));
  }

  async close(): Promise<void> {
    await this.admin.end().catch(() => undefined);
  }
}

export interface ConfigOptions {
  schedule?: string;
  batchSize?: number;
  drainTimeout?: string;
  /** Retention per chat type (policy files); default im P1D, groupchat P1D, persistent forever. */
  policies?: Record<string, string>;
  /** Anything else merged into the top level (a `daemon:` key is merged into the daemon section). */
  extra?: Record<string, unknown>;
}

/** A config directory (config.yaml, policies/, state/) for one daemon instance. */
export function writeDaemonConfig(nodes: NodeFixture[], opts: ConfigOptions = {}, dir = mkdtempSync('/tmp/mftd-')): { dir: string; file: string } {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  const policies = opts.policies ?? { im: 'P1D', groupchat: 'P1D', persistent: 'forever' };
  for (const [chatType, retention] of Object.entries(policies)) {
    // The harness seeds expired files only, so a purge empties the chat type: say that is meant
    // (the blast-radius limit on removing everything would refuse it otherwise).
    writeFileSync(join(dir, 'policies', `${chatType}.yaml`), `chatType: ${chatType}\nretention: ${retention}\nallowPurgeAll: true\n`);
  }
  const { daemon: extraDaemon, ...extra } = (opts.extra ?? {}) as { daemon?: Record<string, unknown> };
  const config = {
    policiesDirectory: 'policies',
    purge: { batchSize: opts.batchSize ?? 1000 },
    log: { level: 'info' },
    daemon: {
      schedule: opts.schedule ?? '* * * * * *',
      drainTimeout: opts.drainTimeout ?? 'PT20S',
      http: { listen: '127.0.0.1:0' },
      stateDirectory: 'state',
      ...extraDaemon,
    },
    nodes: nodes.map((n) => ({
      name: n.name,
      database: { type: 'postgres', host: n.pg.tcpHost, port: n.pg.port, database: n.dbName, user: 'mft', passwordEnv: 'MFT_TEST_DB_PASSWORD' },
      fileServer: {
        type: 'sftp',
        host: n.sshd.host,
        port: n.sshd.port,
        username: n.sshd.username,
        privateKeyFile: n.sshd.clientPrivateKeyPath,
        hostKey: n.sshd.hostKeyFingerprint,
        directory: n.directory,
      },
    })),
    ...extra,
  };
  const file = join(dir, 'config.yaml');
  // JSON is YAML: no serializer needed.
  writeFileSync(file, JSON.stringify(config, null, 2));
  return { dir, file };
}

/** A spawned daemon process and its stdout, parsed as JSON log lines. */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(configFile: string, readonly label = 'daemon') {
    assertBuilt();
    this.child = spawn(process.execPath, [BIN, 'daemon', '--config', configFile], {
      cwd: ROOT,
      env: { ...process.env, MFT_TEST_DB_PASSWORD: MFT_DB_PASSWORD, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ level: 0, msg: `(not JSON) ${line}` });
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  find(pred: (l: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(pred);
  }

  count(pred: (l: LogLine) => boolean): number {
    return this.lines.filter(pred).length;
  }

  waitForLog(what: string, pred: (l: LogLine) => boolean, timeoutMs = 15_000, after = 0): Promise<LogLine> {
    return waitFor(`${this.label}: ${what}\n--- log ---\n${this.dump()}`, () => {
      if (!this.running && !this.lines.slice(after).some(pred)) throw new Error(`${this.label} exited while waiting for ${what}\n${this.dump()}`);
      return this.lines.slice(after).find(pred);
    }, timeoutMs);
  }

  /** The /healthz and /metrics base URL, from the "daemon started" line. */
  async url(): Promise<string> {
    const l = await this.waitForLog('daemon started', (x) => x.msg === 'daemon started');
    return l.url as string;
  }

  /** Paths of the "removed" events this instance logged. */
  removed(): string[] {
    return this.lines.filter((l) => l.msg === 'removed').map((l) => l.path as string);
  }

  dump(): string {
    return [...this.lines.slice(-60).map((l) => JSON.stringify(l)), ...this.stderr].join('\n');
  }

  /** Cleanup: SIGKILL if still running. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export async function getText(url: string): Promise<{ status: number; body: string; contentType: string | null }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), contentType: r.headers.get('content-type') };
}

/** A sample's value from Prometheus text, e.g. metric('mft_purge_files_total{node="n1",chat_type="im"}'). */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}


/**
 * What a daemon test file needs: its own PostgreSQL and sshd, nodes, config directories and
 * spawned daemons, all cleaned up. Call killDaemons() in afterEach so that none outlives its test.
 */
export class DaemonTestBed {
  private readonly daemons: DaemonProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly nodes: NodeFixture[] = [];

  private constructor(
    readonly pg: PgServer,
    readonly sshd: SshdServer,
  ) {}

  static async start(startPg: () => Promise<PgServer>, startSsh: () => Promise<SshdServer>): Promise<DaemonTestBed> {
    const [p, s] = await Promise.all([startPg(), startSsh()]);
    return new DaemonTestBed(p, s);
  }

  async node(name: string): Promise<NodeFixture> {
    const n = await NodeFixture.create(this.pg, this.sshd, name);
    this.nodes.push(n);
    return n;
  }

  config(nodes: NodeFixture[], opts?: ConfigOptions): string {
    const c = writeDaemonConfig(nodes, opts);
    this.dirs.push(c.dir);
    return c.file;
  }

  daemon(configFile: string, label?: string): DaemonProcess {
    const d = new DaemonProcess(configFile, label);
    this.daemons.push(d);
    return d;
  }

  async killDaemons(): Promise<void> {
    await Promise.all(this.daemons.splice(0).map((d) => d.kill()));
  }

  async close(): Promise<void> {
    await this.killDaemons();
    await Promise.all(this.nodes.map((n) => n.close()));
    this.dirs.forEach(rmrf);
    await Promise.all([this.pg.stop(), this.sshd.destroy()]);
  }
}
