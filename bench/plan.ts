// `node dist/bench/plan.js [--expired N]`: what a reviewed plan costs next to a purge that
// decides for itself, on the same data (bench/dataset.ts: N expired files in a 10N-row
// AFT_LOG, each file's rows spread as in real life), on a real PostgreSQL and OpenSSH sshd on
// loopback. Measured: the dry-run, the dry-run that writes the plan (it also reads each file's
// rows again and lstats it on the file server), applying the plan (a row check and an lstat
// per file before the purge's own removal), and a plain purge. Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import YAML from 'yaml';
import { startPostgres } from '../test/helpers/pgServer.js';
import { startSshd } from '../test/helpers/sshdServer.js';
import { fillAftLog, RETENTION, writeFiles } from './dataset.js';

// From dist/bench/ or bench/: the repository's own command.
const CLI = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../bin/mft-retention.js' : '../bin/mft-retention.js', import.meta.url));
const { values } = parseArgs({ options: { expired: { type: 'string', default: '10000' } } });
const expired = Number(values.expired);

function run(args: string[]): Promise<{ seconds: number; code: number | null; out: string; err: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir>: a CPU profile of each command, to see where its time goes.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
    const child = spawn(process.execPath, [...prof, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code, out, err }));
  });
}

function countFiles(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else n++;
    }
  };
  walk(dir);
  return n;
}

async function main(): Promise<void> {
  const [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
  const work = mkdtempSync(join(tmpdir(), 'mft-bench-plan-'));
  const rows: Array<[string, number, string]> = [];
  try {
    const database = 'bench_plan';
    await pgServer.createDatabase(database);
    const client = new pg.Client(pgServer.connectionConfig(database));
    await client.connect();
    client.on('error', () => undefined);
    const nodeDir = join(sshd.rootDir, 'node_1');
    const now = new Date();
    const fill = async (): Promise<void> => {
      await client.query('DROP TABLE IF EXISTS aft_log; DROP SEQUENCE IF EXISTS aft_log_aft_index_seq');
      rmSync(nodeDir, { recursive: true, force: true });
      mkdirSync(join(nodeDir, 'files'), { recursive: true });
      await fillAftLog(client, nodeDir, { rows: expired * 10, expired }, now);
      await writeFiles(client, nodeDir, [nodeDir], 0, expired * 5);
    };
    mkdirSync(join(work, 'policies'));
    writeFileSync(join(work, 'policies', 'im.yaml'), `chatType: im\nretention: ${RETENTION}\n`);
    writeFileSync(join(work, 'db.password'), `${pgServer.mftUser.password}\n`, { mode: 0o600 });
    const config = join(work, 'config.yaml');
    writeFileSync(
      config,
      YAML.stringify({
        policiesDirectory: 'policies',
        log: { level: 'info' },
        daemon: { stateDirectory: join(work, 'state') },
        nodes: [
          {
            name: 'node_1',
            database: { type: 'postgres', host: pgServer.tcpHost, port: pgServer.port, database, user: pgServer.mftUser.user, passwordFile: 'db.password' },
            fileServer: { type: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.username, privateKeyFile: sshd.clientPrivateKeyPath, hostKey: sshd.hostKeyFingerprint, directory: nodeDir },
          },
        ],
      }),
    );
    const plan = join(work, 'plan.json');
    const step = async (label: string, args: string[]): Promise<void> => {
      const r = await run(['purge', '--config', config, ...args]);
      if (r.code !== 0) throw new Error(`${label}: exit ${r.code}\n${r.out}\n${r.err.slice(-2000)}`);
      rows.push([label, r.seconds, `${countFiles(nodeDir)} files left`]);
    };
    await fill();
    const total = countFiles(nodeDir);
    await step('purge --dry-run', ['--dry-run']);
    await step('purge --dry-run --save-plan', ['--dry-run', '--save-plan', plan]);
    rows[rows.length - 1]![2] += `, plan ${(statSync(plan).size / 2 ** 20).toFixed(1)} MiB`;
    await step('purge --plan', ['--plan', plan]);
    await fill();
    await step('purge (deciding for itself)', []);
    await client.end();
    console.log(`${expired.toLocaleString('en-US')} expired files of ${total.toLocaleString('en-US')} in a ${(expired * 10).toLocaleString('en-US')}-row AFT_LOG, loopback, whole process each:`);
    for (const [label, s, note] of rows) console.log(`  ${label.padEnd(30)} ${s.toFixed(2).padStart(7)} s  ${Math.round(expired / s).toLocaleString('en-US').padStart(8)} files/s  (${note})`);
  } catch (err) {
    console.error(err);
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
    await Promise.all([pgServer.destroy(), sshd.destroy()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
