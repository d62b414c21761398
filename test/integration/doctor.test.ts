// `mft-retention doctor` as an admin runs it: the compiled CLI spawned as a real process
// against a real PostgreSQL and a real OpenSSH sshd, its exit code and output asserted.
// Needs `npx tsc -p .` first (npm test builds).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AFT_LOG_DDL } from '../helpers/aftLogSchema.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';
import { freePort, run, type RunResult } from '../helpers/procUtil.js';
import { startSshd, type SshdServer } from '../helpers/sshdServer.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/mft-retention.js');
const DATABASE = 'mft_doctor';
const WRONG_PASSWORD = 'Wr0ng-doctor-pw-7781';

interface JsonCheck {
  group: 'file-server' | 'database';
  name: string;
  status: 'pass' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}
interface JsonReport {
  nodes: Array<{ node: string; checks: JsonCheck[] }>;
  ok: boolean;
}

type Node = Record<string, unknown> & { name: string; database: Record<string, unknown>; fileServer: Record<string, unknown> };

let pgServer: PgServer;
let sshd: SshdServer;
let work: string;
let n = 0;

function goodNode(name = 'node_1'): Node {
  return {
    name,
    database: {
      type: 'postgres',
      host: pgServer.tcpHost,
      port: pgServer.port,
      database: DATABASE,
      user: pgServer.mftUser.user,
      passwordFile: join(work, 'db.password'),
      connectTimeout: 'PT5S',
    },
    fileServer: {
      type: 'sftp',
      host: sshd.host,
      port: sshd.port,
      username: sshd.username,
      privateKeyFile: sshd.clientPrivateKeyPath,
      hostKey: sshd.hostPublicKeyLine,
      directory: join(sshd.rootDir, 'node_1'),
      connectTimeout: 'PT5S',
    },
  };
}

/** Writes a config naming these nodes (JSON is YAML) and returns its path. */
function writeConfig(...nodes: Node[]): string {
  const file = join(work, `config-${++n}.yaml`);
  writeFileSync(file, JSON.stringify({ policiesDirectory: 'policies', nodes }, null, 2));
  return file;
}

function doctor(config: string, ...extra: string[]): Promise<RunResult> {
  return run(process.execPath, [BIN, 'doctor', '--config', config, ...extra], { cwd: work, timeoutMs: 30_000 });
}

async function doctorJson(config: string, ...extra: string[]): Promise<{ code: number | null; report: JsonReport; raw: RunResult }> {
  const raw = await doctor(config, '--json', ...extra);
  try {
    return { code: raw.code, report: JSON.parse(raw.stdout) as JsonReport, raw };
  } catch {
    throw new Error(`doctor --json printed no JSON (exit ${raw.code}):\n${raw.stdout}\n${raw.stderr}`);
  }
}

const find = (r: JsonReport, group: JsonCheck['group'], name: string, node = 0): JsonCheck => {
  const c = r.nodes[node]!.checks.find((x) => x.group === group && x.name === name);
  if (!c) throw new Error(`no ${group} check "${name}" in ${JSON.stringify(r, null, 2)}`);
  return c;
};
/** The report line of a check, with the column padding squeezed to one space. */
function line(stdout: string, name: string): string {
  const l = stdout.split('\n').find((x) => new RegExp(`^ {4}[A-Z]{4}  ${name} `).test(x));
  if (!l) throw new Error(`no line for "${name}" in:\n${stdout}`);
  return l.trim().replace(new RegExp(`(?<=^[A-Z]{4}  ${name}) +`), ' ');
}

const statuses = (r: JsonReport): Record<string, string> => Object.fromEntries(r.nodes[0]!.checks.map((c) => [`${c.group}/${c.name}`, c.status]));

/** What the free-space check must say about the disk the test runs on (Cisco's 10 % / 15 %). */
async function expectedFreeSpace(dir: string): Promise<'pass' | 'warn' | 'fail'> {
  const s = await statfs(dir);
  const percent = (s.bavail / s.blocks) * 100;
  return percent <= 10 ? 'fail' : percent < 15 ? 'warn' : 'pass';
}

async function asSuperuser(sql: string): Promise<void> {
  const c = new pg.Client(pgServer.connectionConfig(DATABASE));
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/src/cli/doctorCommand.js'))) throw new Error('dist/ is missing or stale: run `npx tsc -p .` first');
  [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
  work = mkdtempSync(join(tmpdir(), 'mft-doctor-'));
  mkdirSync(join(work, 'policies'));
  writeFileSync(join(work, 'policies/im.yaml'), 'chatType: im\nretention: P7D\n');
  writeFileSync(join(work, 'db.password'), `${pgServer.mftUser.password}\n`, { mode: 0o600 });
  writeFileSync(join(work, 'wrong.password'), `${WRONG_PASSWORD}\n`, { mode: 0o600 });
  for (const t of ['im', 'groupchat']) mkdirSync(join(sshd.rootDir, 'node_1/files', t, '20250101/10'), { recursive: true });
  await pgServer.createDatabase(DATABASE);
  await asSuperuser(AFT_LOG_DDL);
});

afterAll(async () => {
  await Promise.all([pgServer?.stop(), sshd?.destroy()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('mft-retention doctor', () => {
  it('passes every check on a good setup but warns that AFT_LOG has no file_path index, printing the CREATE INDEX', async () => {
    const config = writeConfig(goodNode());
    const free = await expectedFreeSpace(sshd.rootDir);
    const human = await doctor(config);
    expect(human.stderr).toBe('');
    expect(human.code, human.stdout).toBe(free === 'fail' ? 1 : 0);
    expect(human.stdout).toMatch(/^Node node_1\n {2}File server {2}sftp root@127\.0\.0\.1:\d+ /);
    expect(human.stdout).toMatch(/ {4}PASS {2}reachable +TCP connect to 127\.0\.0\.1:\d+ in \d+ ms/);
    expect(human.stdout).toMatch(/PASS {2}SSH banner +listening for SSH: SSH-2\.0-OpenSSH/);
    expect(line(human.stdout, 'host key')).toBe(`PASS  host key ${sshd.hostKeyFingerprint} (ssh-ed25519) matches the pinned key`);
    expect(line(human.stdout, 'index')).toMatch(/^WARN  index no index on public\.aft_log starts with file_path; optional, but one speeds up/);
    // The statement stands on a line of its own, ready to paste.
    expect(human.stdout).toMatch(/\n {4,}CREATE INDEX CONCURRENTLY aft_log_file_path_idx ON public\.aft_log \(file_path\);\n/);
    expect(human.stdout).toMatch(/Result: OK with warnings/);

    const { code, report } = await doctorJson(config);
    expect(code).toBe(human.code);
    expect(report.ok).toBe(free !== 'fail');
    expect(statuses(report)).toEqual({
      'file-server/reachable': 'pass',
      'file-server/SSH banner': 'pass',
      'file-server/host key': 'pass',
      'file-server/key accepted': 'pass',
      'file-server/SSH crypto': 'pass',
      'file-server/directory': 'pass',
      'file-server/writable': 'pass',
      'file-server/layout': 'pass',
      'file-server/free space': free,
      'database/reachable': 'pass',
      'database/login': 'pass',
      'database/AFT_LOG table': 'pass',
      'database/privileges': 'pass',
      'database/clock skew': 'pass',
      'database/capacity': 'pass',
      'database/index': 'warn',
    });
    expect(find(report, 'file-server', 'layout').detail).toBe('files/im, files/groupchat found (no persistent files yet)');
    // The install built ssh2's binding, and the session's cipher is named.
    expect(find(report, 'file-server', 'SSH crypto').detail).toMatch(/^native ssh2 crypto binding; cipher (aes\d+-gcm@openssh\.com|chacha20-poly1305@openssh\.com|aes\d+-ctr)$/);
    expect(find(report, 'file-server', 'free space').detail).toMatch(/free of .* \(\d+\.\d %; warn below 15 %, fail at or below 10 %\)/);
    expect(find(report, 'database', 'capacity').detail).toMatch(/^database \d+(\.\d+)? MiB; public\.aft_log \d+(\.\d+)? KiB/);
    expect(find(report, 'database', 'index').fix).toMatch(/\nCREATE INDEX CONCURRENTLY aft_log_file_path_idx ON public\.aft_log \(file_path\);$/);
    // The write test cleans up after itself.
    expect(readdirSync(join(sshd.rootDir, 'node_1')).filter((f) => f.startsWith('.mft-retention-doctor-'))).toEqual([]);
  });

  it('passes the index check once the suggested index exists', async () => {
    await asSuperuser('CREATE INDEX CONCURRENTLY aft_log_file_path_idx ON public.aft_log (file_path)');
    const { code, report } = await doctorJson(writeConfig(goodNode()));
    const free = await expectedFreeSpace(sshd.rootDir);
    expect(code).toBe(free === 'fail' ? 1 : 0);
    expect(find(report, 'database', 'index')).toMatchObject({ status: 'pass', detail: expect.stringContaining('aft_log_file_path_idx') });
    const notPassing = report.nodes[0]!.checks.filter((c) => c.status !== 'pass' && c.name !== 'free space');
    expect(notPassing).toEqual([]);
    const human = await doctor(writeConfig(goodNode()));
    if (free === 'pass') expect(human.stdout).toMatch(/Result: OK\. The purge can run\./);
  });

  it('fails on a wrong host key, printing the fingerprint seen and the pinned one, without logging in (exit 3)', async () => {
    const node = goodNode();
    node.fileServer.hostKey = sshd.otherHostKeyFingerprint;
    const r = await doctor(writeConfig(node));
    expect(r.code, r.stdout).toBe(3);
    expect(line(r.stdout, 'host key')).toBe(`FAIL  host key saw ${sshd.hostKeyFingerprint} (ssh-ed25519), pinned ${sshd.otherHostKeyFingerprint}`);
    expect(r.stdout).toContain('-> verify the key on the server itself: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\n');
    expect(r.stdout).toContain(`pin the whole line from "ssh-keyscan -t ed25519 -p ${sshd.port} 127.0.0.1"`);
    expect(r.stdout).toMatch(/SKIP {2}key accepted +not checked: the host key did not match, so no credentials were sent/);
    expect(r.stdout).toMatch(/Result: FAILED/);
  });

  it('fails "key accepted" when our key is not in authorized_keys, naming the key to add (exit 3)', async () => {
    const node = goodNode();
    node.fileServer.privateKeyFile = join(sshd.dir, 'other_host_ed25519_key'); // a valid key sshd does not know
    const { code, report } = await doctorJson(writeConfig(node));
    expect(code).toBe(3);
    expect(find(report, 'file-server', 'host key').status).toBe('pass');
    expect(find(report, 'file-server', 'key accepted')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^root refused our key SHA256:\S+ \(ssh-ed25519\): All configured authentication methods failed/),
      fix: expect.stringContaining('to ~root/.ssh/authorized_keys on 127.0.0.1'),
    });
    expect(find(report, 'file-server', 'directory').status).toBe('skip');
  });

  it('fails the login on a wrong database password and never prints the password (exit 3)', async () => {
    const node = goodNode();
    node.database.passwordFile = join(work, 'wrong.password');
    const human = await doctor(writeConfig(node));
    const { code, report, raw } = await doctorJson(writeConfig(node));
    for (const r of [human, raw]) {
      expect(r.code).toBe(3);
      expect(r.stdout + r.stderr).not.toContain(WRONG_PASSWORD);
      expect(r.stdout + r.stderr).not.toContain(pgServer.mftUser.password);
    }
    expect(code).toBe(3);
    expect(find(report, 'database', 'login')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/password authentication failed for user "mft".*SQLSTATE 28P01/),
      fix: expect.stringContaining(`file ${join(work, 'wrong.password')}`),
    });
    expect(find(report, 'database', 'reachable').status).toBe('pass');
    expect(find(report, 'database', 'AFT_LOG table').status).toBe('skip');
    expect(find(report, 'file-server', 'key accepted').status).toBe('pass');
  });

  it('fails when the node directory does not exist (exit 1)', async () => {
    const node = goodNode();
    const missing = join(sshd.rootDir, 'node_9');
    node.fileServer.directory = missing;
    const { code, report } = await doctorJson(writeConfig(node));
    expect(code).toBe(1);
    expect(find(report, 'file-server', 'directory')).toMatchObject({
      status: 'fail',
      detail: `${missing} does not exist on 127.0.0.1`,
      fix: expect.stringContaining(`mkdir -p ${missing}`),
    });
    expect(find(report, 'file-server', 'writable').status).toBe('skip');
    expect(existsSync(missing)).toBe(false);
  });

  it('fails when AFT_LOG lacks a column the purge needs, naming it (exit 1)', async () => {
    await asSuperuser(`CREATE TABLE aft_log_nopath AS SELECT aft_index, jid, to_jid, method, filename, real_filename, file_type,
                         chat_type, file_server, file_size, bytes_transferred, timestampvalue FROM aft_log`);
    const node = goodNode();
    node.database.table = 'aft_log_nopath';
    const r = await doctor(writeConfig(node));
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}AFT_LOG table +public\.aft_log_nopath lacks column file_path\n/);
    expect(r.stdout).toMatch(/SKIP {2}index +not checked: no file_path column/);
  });

  it('fails when the user may not DELETE, printing the GRANT (exit 1)', async () => {
    await asSuperuser(`CREATE ROLE mft_reader LOGIN; GRANT SELECT ON public.aft_log TO mft_reader`);
    const node = goodNode();
    node.database.user = 'mft_reader'; // trusted on 127.0.0.1 by the harness's pg_hba.conf
    const { code, report } = await doctorJson(writeConfig(node));
    expect(code).toBe(1);
    expect(find(report, 'database', 'privileges')).toMatchObject({
      status: 'fail',
      detail: 'mft_reader lacks DELETE on public.aft_log',
      fix: 'as the table owner, run:\nGRANT DELETE ON public.aft_log TO mft_reader;',
    });
  });

  it('fails as unreachable when nothing listens on the ports (exit 3)', async () => {
    const [sshPort, dbPort] = [await freePort(), await freePort()];
    const node = goodNode();
    node.fileServer.port = sshPort;
    node.database.port = dbPort;
    const started = Date.now();
    const r = await doctor(writeConfig(node));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stdout).toContain(`cannot open TCP to 127.0.0.1:${sshPort}: connection refused: nothing listens on that port, or a firewall rejects it (ECONNREFUSED)`);
    expect(r.stdout).toMatch(new RegExp(`FAIL {2}reachable +cannot open TCP to 127\\.0\\.0\\.1:${sshPort}: `));
    expect(r.stdout).toMatch(new RegExp(`FAIL {2}reachable +cannot connect to 127\\.0\\.0\\.1:${dbPort}: connection refused`));
    expect(r.stdout).toMatch(/SKIP {2}host key +not checked: the server is not reachable/);
    expect(r.stdout).toMatch(/SKIP {2}login +not checked: the database is not reachable/);
  });

  it('fails "SSH banner" when the port answers but is not SSH (exit 3)', async () => {
    const node = goodNode();
    node.fileServer.port = pgServer.port; // PostgreSQL waits for the client to speak first
    node.fileServer.connectTimeout = 'PT1S';
    const { code, report } = await doctorJson(writeConfig(node));
    expect(code).toBe(3);
    expect(find(report, 'file-server', 'reachable').status).toBe('pass');
    expect(find(report, 'file-server', 'SSH banner')).toMatchObject({
      status: 'fail',
      detail: `127.0.0.1:${pgServer.port} is not an SSH server: the server sent nothing within 1000 ms`,
    });
    expect(find(report, 'file-server', 'host key').status).toBe('skip');
  });

  it('checks a local store too, and only the nodes named with --node', async () => {
    const local = join(work, 'local-store');
    mkdirSync(join(local, 'files/persistent'), { recursive: true });
    const other = goodNode('node_2');
    other.fileServer = { type: 'local', directory: local };
    const config = writeConfig(goodNode(), other);
    const { code, report } = await doctorJson(config, '--node', 'node_2');
    expect(report.nodes.map((x) => x.node)).toEqual(['node_2']);
    expect(code).toBe((await expectedFreeSpace(local)) === 'fail' ? 1 : 0);
    expect(report.nodes[0]!.checks.filter((c) => c.group === 'file-server').map((c) => [c.name, c.status])).toEqual([
      ['directory', 'pass'],
      ['writable', 'pass'],
      ['layout', 'pass'],
      ['free space', await expectedFreeSpace(local)],
    ]);
    expect(find(report, 'file-server', 'layout').detail).toBe('files/persistent found (no im, groupchat files yet)');

    const unknown = await doctor(config, '--node', 'node_7');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('node "node_7" is not in');
  });
});

describe('mft-retention doctor as a non-root file server user', () => {
  let mftSshd: SshdServer;

  beforeAll(async () => {
    mftSshd = await startSshd({ user: 'mfttest' });
  });
  afterAll(async () => {
    await mftSshd?.destroy();
  });

  it('fails "writable" on a directory the user cannot write, saying what to chown (exit 1)', async () => {
    const dir = join(mftSshd.rootDir, 'root_owned');
    mkdirSync(join(dir, 'files/im'), { recursive: true }); // created by root, mode 0755
    chmodSync(dir, 0o755);
    const node = goodNode();
    node.fileServer = { ...node.fileServer, port: mftSshd.port, username: 'mfttest', privateKeyFile: mftSshd.clientPrivateKeyPath, hostKey: mftSshd.hostPublicKeyLine, directory: dir };
    const { code, report } = await doctorJson(writeConfig(node));
    expect(code).toBe(1);
    expect(find(report, 'file-server', 'key accepted').detail).toMatch(/^logged in as mfttest with key SHA256:\S+ \(ssh-ed25519\)$/);
    expect(find(report, 'file-server', 'writable')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^cannot create .*\.mft-retention-doctor-[0-9a-f]{12}: Permission denied$/),
      fix: expect.stringContaining(`chown -R mfttest ${dir}`),
    });
    expect(find(report, 'file-server', 'layout').status).toBe('pass');
  });
});
