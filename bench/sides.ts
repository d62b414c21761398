// The ways of deleting files the benchmark puts side by side: local `find -delete`, OpenSSH
// `sftp -b` with one `rm` a file (what an admin's script does), and the real `mft-retention
// purge` command, each run as its own process and timed from spawn to exit.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'mft-retention.js');
const GNU_TIME = '/usr/bin/time';

export interface Timed {
  seconds: number;
  code: number | null;
  /** Peak resident set size in MiB (GNU time's "Maximum resident set size"), when measured. */
  peakRssMiB?: number;
  /** CPU seconds, user and system, all threads (GNU time), when measured. */
  cpuSeconds?: number;
  stdoutFile: string;
  stderrFile: string;
}

/** Runs a program with stdout/stderr to files (a 100,000-line log must not go through us). */
export async function runTimed(file: string, args: string[], outBase: string, opts: { measureRss?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const stdoutFile = `${outBase}.out`;
  const stderrFile = `${outBase}.err`;
  const timeFile = `${outBase}.time`;
  if (opts.measureRss && !existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} not found: the benchmark reads peak memory with GNU time. Install it: apt-get install time (or run scripts/install-test-deps.sh as root)`);
  }
  const [cmd, cmdArgs] = opts.measureRss ? [GNU_TIME, ['-v', '-o', timeFile, file, ...args]] : [file, args];
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const started = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', out, err], env: opts.env ?? process.env });
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const seconds = (performance.now() - started) / 1000;
  closeSync(out);
  closeSync(err);
  let peakRssMiB: number | undefined;
  let cpuSeconds: number | undefined;
  if (opts.measureRss) {
    const report = readFileSync(timeFile, 'utf8');
    const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1];
    if (kb) peakRssMiB = Number(kb) / 1024;
    const user = /User time \(seconds\): ([\d.]+)/.exec(report)?.[1];
    const system = /System time \(seconds\): ([\d.]+)/.exec(report)?.[1];
    if (user && system) cpuSeconds = Number(user) + Number(system);
  }
  return { seconds, code, peakRssMiB, cpuSeconds, stdoutFile, stderrFile };
}

export function assertExit0(what: string, t: Timed): void {
  if (t.code !== 0) {
    const tail = (f: string): string => readFileSync(f, 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`${what} exited with ${t.code}\n--- stdout (end) ---\n${tail(t.stdoutFile)}\n--- stderr (end) ---\n${tail(t.stderrFile)}`);
  }
}

/** Every regular file under root, as paths relative to it. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  if (existsSync(root)) walk(root, '');
  return out;
}

export function findDelete(root: string, outBase: string): Promise<Timed> {
  return runTimed('find', [root, '-mindepth', '1', '-delete'], outBase);
}

export interface SftpTarget {
  port: number;
  user: string;
  keyFile: string;
  knownHostsFile: string;
}

/**
 * OpenSSH `sftp -b` with one `rm` line a file. The time of an empty batch (connection and
 * login) is measured too, so the rate can leave it out: the comparison favours the script.
 */
export async function sftpBatchRm(target: SftpTarget, absPaths: string[], outBase: string): Promise<{ seconds: number; connectSeconds: number }> {
  const args = (batch: string): string[] => [
    '-b', batch, '-i', target.keyFile, '-P', String(target.port),
    '-o', `UserKnownHostsFile=${target.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes',
    `${target.user}@127.0.0.1`,
  ];
  const empty = `${outBase}.empty.batch`;
  writeFileSync(empty, 'pwd\n');
  const connect = await runTimed('sftp', args(empty), `${outBase}.empty`);
  assertExit0('sftp -b (empty batch)', connect);
  const batch = `${outBase}.batch`;
  // Paths are generated (no spaces or quotes); quoted anyway, as a careful script would.
  writeFileSync(batch, absPaths.map((p) => `rm "${p}"\n`).join(''));
  const t = await runTimed('sftp', args(batch), outBase);
  assertExit0('sftp -b', t);
  return { seconds: t.seconds, connectSeconds: connect.seconds };
}

export interface PurgeRun extends Timed {
  /** The CLI's own summary line ("purge of node finished"). */
  summary: { durationMs: number; status: string; chatTypes: Record<string, { files: number; rows: number; failed: Record<string, number> }> };
}

/** The heap cap the systemd units set (Environment=NODE_OPTIONS=...): the purge runs as they run it. */
export const UNIT_NODE_OPTIONS = '--max-old-space-size=128';

/** The real command, `node bin/mft-retention.js purge --config FILE [args]`, as the systemd units run it. */
export async function runPurgeCli(configPath: string, args: string[], outBase: string): Promise<PurgeRun> {
  const env = { ...process.env, NODE_OPTIONS: [process.env.NODE_OPTIONS, UNIT_NODE_OPTIONS].filter(Boolean).join(' ') };
  const t = await runTimed(process.execPath, [CLI, 'purge', '--config', configPath, ...args], outBase, { measureRss: true, env });
  assertExit0(`mft-retention purge ${args.join(' ')}`, t);
  const summaryLine = readFileSync(t.stderrFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"purge of node finished"') || l.includes('"msg":"dry-run of node finished"'))
    .pop();
  if (!summaryLine) throw new Error(`no summary line in the purge's log ${t.stderrFile}`);
  return { ...t, summary: JSON.parse(summaryLine) };
}
