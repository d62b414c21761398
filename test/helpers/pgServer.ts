// A private, throw-away PostgreSQL server for integration tests, built from Debian's
// binaries (/usr/lib/postgresql/<v>/bin). As root, initdb/pg_ctl run as `postgres` via
// `runuser -u postgres --`. Never touches the system cluster (no pg_ctlcluster).
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, appendFileSync, chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, onProcessExit, rmrf, run, shq, Watchdog, pidAlive, killQuietly, waitForPidExit } from './procUtil.js';

export const MFT_DB_USER = 'mft';
export const MFT_DB_PASSWORD = 's3cret-pw';

export interface PgServer {
  /** Unix socket directory (pass as `host` to pg). */
  host: string;
  /** TCP host the server also listens on. */
  tcpHost: '127.0.0.1';
  port: number;
  /** Superuser, trusted on the socket and on 127.0.0.1. */
  user: 'postgres';
  /** Password-authenticated (scram-sha-256 over TCP) role. */
  mftUser: { user: 'mft'; password: 's3cret-pw' };
  /** Temp dir holding data dir, socket and log. */
  dir: string;
  dataDir: string;
  logFile: string;
  /** Superuser over the unix socket; database defaults to 'postgres'. */
  connectionConfig(database?: string): pg.ClientConfig;
  /** Role `mft` with its password over TCP 127.0.0.1 (scram-sha-256). */
  mftConnectionConfig(database?: string): pg.ClientConfig;
  /** CREATE DATABASE; role mft gets full rights on it, its public schema and on tables/sequences postgres creates there. */
  createDatabase(name: string): Promise<void>;
  /** Fast shutdown AND removal of the temp dir (final teardown; start() is impossible afterwards). */
  stop(): Promise<void>;
  /** Same as stop(). */
  destroy(): Promise<void>;
  /** Fast shutdown keeping the data dir: start() brings it back. */
  halt(): Promise<void>;
  /** Immediate shutdown (like a crash: clients dropped, crash recovery on start), keeping the data. */
  stopImmediate(): Promise<void>;
  /** (Re)start after halt()/stopImmediate(), same data dir and port. */
  start(): Promise<void>;
  /** Whether the postmaster is running now. */
  isRunning(): boolean;
  /** Content of the server log. */
  log(): string;
}

/** The newest /usr/lib/postgresql/<v>/bin that has initdb, pg_ctl and postgres; throws if none. */
export function findPostgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const bin = join(base, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((p) => existsSync(join(bin, p)))) return bin;
  }
  throw new Error(
    `PostgreSQL server binaries not found (looked for ${base}/<version>/bin/{initdb,pg_ctl,postgres}). ` +
      'Install them: run scripts/install-test-deps.sh (as root).',
  );
}

const isRoot = (): boolean => process.getuid?.() === 0;

interface RunAsPg {
  (file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function pgRunner(cwd: string): RunAsPg {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' };
  delete env.PGHOST;
  delete env.PGPORT;
  delete env.PGDATA;
  if (isRoot()) {
    if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) {
      throw new Error('runuser not found (package util-linux): run scripts/install-test-deps.sh');
    }
    return (file, args) => run('runuser', ['-u', 'postgres', '--', file, ...args], { cwd, env });
  }
  return (file, args) => run(file, args, { cwd, env });
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const first = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function startPostgres(): Promise<PgServer> {
  const bin = findPostgresBinDir();
  // Short path: the socket (<dir>/.s.PGSQL.<port>) must fit in ~107 bytes.
  const dir = mkdtempSync('/tmp/pg-');
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log file)';
    }
  };

  chmodSync(dir, 0o755);
  if (isRoot()) {
    const pw = await run('id', ['-u', 'postgres']);
    const gw = await run('id', ['-g', 'postgres']);
    if (pw.code !== 0) {
      rmrf(dir);
      throw new Error('system user "postgres" does not exist (package postgresql): run scripts/install-test-deps.sh');
    }
    chownSync(dir, Number(pw.stdout.trim()), Number(gw.stdout.trim()));
  } // else (not root): initdb/pg_ctl run as the current user, which is fine.
  const asPg = pgRunner(dir);

  // Cleanup if this worker dies without calling stop(): kill the postmaster, remove the dir.
  const watchdog = new Watchdog(
    `pid=$(head -n1 ${shq(join(dataDir, 'postmaster.pid'))} 2>/dev/null); ` +
      `if [ -n "$pid" ]; then kill -QUIT "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL "$pid" 2>/dev/null; fi; ` +
      `rm -rf ${shq(dir)}`,
  );
  const unhookExit = onProcessExit(() => {
    const pid = postmasterPid(dataDir);
    if (pid) killQuietly(pid, 'SIGQUIT');
  });

  const fail = (msg: string): never => {
    const log = readLog();
    throw new Error(`${msg}\n--- postgres log (${logFile}) ---\n${log}`);
  };

  try {
    const init = await asPg(join(bin, 'initdb'), [
      '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync',
    ]);
    if (init.code !== 0) fail(`initdb failed (exit ${init.code}):\n${init.stdout}\n${init.stderr}`);

    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        '# written by test/helpers/pgServer.ts',
        '# TYPE  DATABASE  USER      ADDRESS        METHOD',
        'local   all       all                      trust',
        `host    all       ${MFT_DB_USER}       127.0.0.1/32   scram-sha-256`,
        'host    all       postgres  127.0.0.1/32   trust',
        'host    all       all       127.0.0.1/32   trust',
        '',
      ].join('\n'),
    );
    appendFileSync(join(dataDir, 'postgresql.conf'), "\ninclude_if_exists = 'harness.conf'\n");
  } catch (e) {
    watchdog.disarm();
    unhookExit();
    rmrf(dir);
    throw e;
  }

  let port = 0;
  let destroyed = false;

  const writeHarnessConf = (): void => {
    writeFileSync(
      join(dataDir, 'harness.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        "password_encryption = 'scram-sha-256'",
        "timezone = 'UTC'",
        "log_timezone = 'UTC'",
        '',
      ].join('\n'),
    );
  };

  const pgCtlStart = async (): Promise<{ ok: boolean; output: string }> => {
    const r = await asPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']);
    return { ok: r.code === 0, output: `${r.stdout}\n${r.stderr}` };
  };

  const start = async (): Promise<void> => {
    if (destroyed) throw new Error('PgServer.start(): the server was stop()ped and its data dir removed; use halt()/stopImmediate() for a restartable stop');
    if (postmasterPid(dataDir) && isRunning()) return;
    const r = await pgCtlStart();
    if (!r.ok) fail(`pg_ctl start failed on port ${port}:\n${r.output}`);
  };

  const isRunning = (): boolean => {
    const pid = postmasterPid(dataDir);
    return pid !== undefined && pidAlive(pid);
  };

  const pgCtlStop = async (mode: 'fast' | 'immediate'): Promise<void> => {
    const pid = postmasterPid(dataDir);
    if (!pid || !pidAlive(pid)) return;
    const r = await asPg(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    if (r.code !== 0 && pidAlive(pid)) {
      killQuietly(pid, 'SIGQUIT');
      if (!(await waitForPidExit(pid, 10_000))) killQuietly(pid, 'SIGKILL');
    }
    await waitForPidExit(pid, 10_000);
  };

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    try {
      await pgCtlStop('fast');
    } finally {
      watchdog.disarm();
      unhookExit();
      rmrf(dir);
    }
  };

  // First start: pick a free port, retry when somebody else grabbed it meanwhile.
  let lastOutput = '';
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    writeHarnessConf();
    const r = await pgCtlStart();
    if (r.ok) break;
    lastOutput = `${r.output}\n${readLog()}`;
    if (attempt >= 5 || !/Address already in use|could not (create|bind)/i.test(lastOutput)) {
      watchdog.disarm();
      unhookExit();
      const err = new Error(`pg_ctl start failed (port ${port}, attempt ${attempt}):\n${lastOutput}`);
      rmrf(dir);
      throw err;
    }
  }

  const connectionConfig = (database = 'postgres'): pg.ClientConfig => ({
    host: dir,
    port,
    user: 'postgres',
    database,
  });

  // Password-authenticated role for auth tests.
  const admin = new pg.Client(connectionConfig());
  try {
    await admin.connect();
    await admin.query(`CREATE ROLE ${MFT_DB_USER} LOGIN PASSWORD '${MFT_DB_PASSWORD}'`);
    await grantToMft(admin);
  } catch (e) {
    await admin.end().catch(() => {});
    await destroy();
    throw e;
  }
  await admin.end();

  const server: PgServer = {
    host: dir,
    tcpHost: '127.0.0.1',
    get port() {
      return port;
    },
    user: 'postgres',
    mftUser: { user: 'mft', password: 's3cret-pw' },
    dir,
    dataDir,
    logFile,
    connectionConfig,
    mftConnectionConfig: (database = 'postgres') => ({
      host: '127.0.0.1',
      port,
      user: MFT_DB_USER,
      password: MFT_DB_PASSWORD,
      database,
    }),
    async createDatabase(name: string): Promise<void> {
      const c = new pg.Client(connectionConfig());
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        await c.query(`GRANT ALL ON DATABASE ${pg.escapeIdentifier(name)} TO ${MFT_DB_USER}`);
      } finally {
        await c.end();
      }
      const d = new pg.Client(connectionConfig(name));
      await d.connect();
      try {
        await grantToMft(d);
      } finally {
        await d.end();
      }
    },
    stop: destroy,
    destroy,
    halt: () => pgCtlStop('fast'),
    stopImmediate: () => pgCtlStop('immediate'),
    start,
    isRunning,
    log: readLog,
  };
  return server;
}

async function grantToMft(c: pg.Client): Promise<void> {
  await c.query(`GRANT ALL ON SCHEMA public TO ${MFT_DB_USER}`);
  await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON TABLES TO ${MFT_DB_USER}`);
  await c.query(`ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT ALL ON SEQUENCES TO ${MFT_DB_USER}`);
}
