// `npm run bench:log`: the same purge with its log going to different readers, side by side:
// a file (as `npm run bench` runs it), a pipe read by `cat` (`purge 2>&1 | tee`, cron), a pipe
// read by a program that parses every line (a log shipper), and journald in a booted systemd 252
// (mft-retention-purge.service, as installed), where it also counts the lines the journal kept.
//
//   npm run bench:log                      100,000 expired files in a 1,000,000-row AFT_LOG
//   npm run bench:log -- --expired 10000   another size
//   npm run bench:log -- --no-journald     without the container
//
// Not part of `npm test`: it measures speed, which depends on the machine.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import YAML from 'yaml';
import { startPostgres, type PgServer } from '../test/helpers/pgServer.js';
import { startSshd, type SshdServer } from '../test/helpers/sshdServer.js';
import { bindApp, installMftRetention } from '../test/helpers/mftInContainer.js';
import { bootSystemdContainer } from '../test/helpers/systemdContainer.js';
import { fillAftLog, RETENTION, withClient, writeFiles } from './dataset.js';
import { REPO_ROOT, UNIT_NODE_OPTIONS } from './sides.js';

const execFileAsync = promisify(execFile);
const CLI = join(REPO_ROOT, 'bin', 'mft-retention.js');

interface Side {
  side: string;
  /** The purge's own time (its summary line's durationMs). */
  seconds: number;
  /** Spawn to exit, log reader included. */
  processSeconds: number;
  lines: number;
  dropped: number;
}

function nodeConfig(pgServer: PgServer, database: string, sshd: SshdServer, nodeDir: string, secrets: 'files' | 'credentials', dir: string): Record<string, unknown> {
  return {
    policiesDirectory: 'policies',
    log: { level: 'info' },
    ...(secrets === 'files' ? { daemon: { stateDirectory: join(dir, `state-${database}`) } } : {}),
    nodes: [
      {
        name: 'node_1',
        database: { type: 'postgres', host: pgServer.tcpHost, port: pgServer.port, database, user: pgServer.mftUser.user, ...(secrets === 'files' ? { passwordFile: join(dir, 'db.password') } : { passwordCredential: 'db-node_1' }) },
        fileServer: { type: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.username, hostKey: sshd.hostKeyFingerprint, directory: nodeDir, ...(secrets === 'files' ? { privateKeyFile: sshd.clientPrivateKeyPath } : { privateKeyCredential: 'ssh-key' }) },
      },
    ],
  };
}

/** Runs `sh -c script` and returns its wall-clock seconds. */
async function timedShell(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`side exited ${code}: ${script}`))));
  });
  return (performance.now() - t0) / 1000;
}

function measureLog(file: string, processSeconds: number, side: string, prefix = ''): Side {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith(prefix + '{'));
  const json = lines.map((l) => JSON.parse(l.slice(prefix.length)) as Record<string, unknown>);
  const summary = json.filter((l) => l.msg === 'purge of node finished').pop();
  if (!summary) throw new Error(`${side}: no summary line in ${file}`);
  const dropped = json.filter((l) => typeof l.droppedLines === 'number').reduce((a, l) => a + (l.droppedLines as number), 0);
  return { side, seconds: (summary.durationMs as number) / 1000, processSeconds, lines: json.filter((l) => l.msg === 'removed').length, dropped };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { expired: { type: 'string', default: '100000' }, 'no-journald': { type: 'boolean', default: false } } });
  const expired = Number(values.expired);
  const work = join('/tmp', `mft-bench-log-${process.pid}`);
  mkdirSync(join(work, 'policies'), { recursive: true });
  writeFileSync(join(work, 'policies', 'im.yaml'), `chatType: im\nretention: ${RETENTION}\n`);
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
  writeFileSync(join(work, 'db.password'), `${pgServer.mftUser.password}\n`, { mode: 0o600 });
  const sides = ['file', 'cat', 'parser', ...(values['no-journald'] ? [] : ['journald'])];
  const results: Side[] = [];
  let journalNote = '';
  try {
    say(`building a ${expired * 10}-row AFT_LOG with ${expired} expired files`);
    const base = join(sshd.rootDir, 'log-bench');
    const nodeDir = join(base, 'node_1');
    const master = join(base, 'master');
    await pgServer.createDatabase('logbench');
    const now = new Date();
    const data = await withClient(pgServer.connectionConfig('logbench'), (c) => fillAftLog(c, nodeDir, { rows: expired * 10, expired }, now));
    await withClient(pgServer.connectionConfig('logbench'), (c) => writeFiles(c, nodeDir, [master], 0, data.expired));
    for (const s of sides) {
      await withClient(pgServer.connectionConfig(), async (c) => {
        await c.query(`CREATE DATABASE logbench_${s} TEMPLATE logbench`);
        await c.query(`GRANT ALL ON DATABASE logbench_${s} TO ${pgServer.mftUser.user}`);
      });
    }
    const env = { ...process.env, NODE_OPTIONS: UNIT_NODE_OPTIONS };
    const prepare = async (s: string): Promise<string> => {
      mkdirSync(nodeDir, { recursive: true });
      await execFileAsync('cp', ['-al', `${master}/.`, `${nodeDir}/`]);
      await withClient(pgServer.connectionConfig(), (c) => c.query('CHECKPOINT'));
      await execFileAsync('sync');
      const cfg = join(work, `config-${s}.yaml`);
      writeFileSync(cfg, YAML.stringify(nodeConfig(pgServer, `logbench_${s}`, sshd, nodeDir, 'files', work)));
      return cfg;
    };
    const purge = (cfg: string): string => `"${process.execPath}" "${CLI}" purge --config "${cfg}"`;
    for (const s of sides.filter((x) => x !== 'journald')) {
      const cfg = await prepare(s);
      const log = join(work, `${s}.log`);
      say(`side: log to ${s}`);
      const script =
        s === 'file'
          ? `${purge(cfg)} >/dev/null 2>"${log}"`
          : s === 'cat'
            ? `${purge(cfg)} 2>&1 >/dev/null | cat >"${log}"`
            : `${purge(cfg)} 2>&1 >/dev/null | "${process.execPath}" -e 'const rl = require("readline").createInterface({ input: process.stdin }); const out = require("fs").createWriteStream(process.argv[1]); rl.on("line", (l) => { JSON.parse(l); out.write(l + "\\n"); }); rl.on("close", () => out.end());' "${log}"`;
      results.push(measureLog(log, await timedShell(script, env), s === 'file' ? 'file' : s === 'cat' ? 'pipe read by cat' : 'pipe read by a line parser'));
    }
    if (sides.includes('journald')) {
      await prepare('journald');
      say('side: journald in a booted systemd 252 (mft-retention-purge.service)');
      const ct = await bootSystemdContainer({ binds: [bindApp()], name: 'mftb-journal' });
      try {
        await installMftRetention(ct, { nodes: [], sshKey: sshd.clientPrivateKey, dbPassword: pgServer.mftUser.password });
        await ct.writeFile('/etc/mft-retention/db-node_1.password', pgServer.mftUser.password, { mode: 0o600 });
        await ct.writeFile('/etc/mft-retention/policies/im.yaml', `chatType: im\nretention: ${RETENTION}\n`, { mode: 0o640, owner: 'root:mft-retention' });
        await ct.writeFile('/etc/mft-retention/config.yaml', YAML.stringify(nodeConfig(pgServer, 'logbench_journald', sshd, nodeDir, 'credentials', work)), { mode: 0o640, owner: 'root:mft-retention' });
        // The shipped unit names one credential per node: the key and node_1's password.
        const unit = (await ct.execOk(['cat', '/etc/systemd/system/mft-retention-purge.service'])).stdout.replace(/^LoadCredential=.*\n(LoadCredential=.*\n)*/m, 'LoadCredential=ssh-key:/etc/mft-retention/id_ed25519\nLoadCredential=db-node_1:/etc/mft-retention/db-node_1.password\n');
        await ct.writeFile('/etc/systemd/system/mft-retention-purge.service', unit);
        await ct.systemctlOk('daemon-reload');
        const t0 = performance.now();
        const r = await ct.exec(['systemctl', 'start', 'mft-retention-purge.service'], { timeoutMs: 600_000 });
        const processSeconds = (performance.now() - t0) / 1000;
        const journal = join(work, 'journald.log');
        writeFileSync(journal, await ct.journal('mft-retention-purge.service'));
        if (r.code !== 0) throw new Error(`the purge unit failed:\n${readFileSync(journal, 'utf8').slice(-3000)}`);
        results.push(measureLog(journal, processSeconds, 'journald (unit in systemd 252)'));
        const usage = (await ct.exec(['journalctl', '--disk-usage'])).stdout.trim();
        const header = (await ct.exec(['/bin/sh', '-c', 'journalctl --header | grep -E "^(File path|Disk usage|Entries)" | head -6; df -h /run /var/log | tail -2'])).stdout.trim();
        const suppressed = (await ct.exec(['/bin/sh', '-c', 'journalctl -u systemd-journald --no-pager -o cat | grep -iE "suppress|rotat|vacuum|limit" | tail -5'])).stdout.trim();
        journalNote = [usage, header, suppressed].filter(Boolean).join('\n');
      } finally {
        await ct.stop();
      }
    }
  } finally {
    await Promise.all([pgServer.destroy(), sshd.destroy()]);
  }
  const file = results.find((r) => r.side === 'file')!;
  const out = [
    `Purge of ${expired.toLocaleString('en-US')} expired files, its log going to:`,
    '',
    '| log goes to | purge (s) | process (s) | vs file | removed lines kept | dropped (counted) |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.side} | ${r.seconds.toFixed(2)} | ${r.processSeconds.toFixed(2)} | ${(r.seconds / file.seconds).toFixed(2)}x | ${r.lines.toLocaleString('en-US')} | ${r.dropped.toLocaleString('en-US')} |`),
  ];
  if (journalNote) out.push('', 'journald in the container after the run:', '```', journalNote, '```');
  console.log(out.join('\n'));
}

await main();
