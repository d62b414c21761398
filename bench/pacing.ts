// `npm run bench:pacing`: how closely a rate-limited purge keeps to purge.maxFilesPerSecond,
// what it costs a writer logging transfers into AFT_LOG meanwhile, and a 100,000-file backlog
// cleared in capped steps with the fault suite's invariants checked after every step, all on a
// real PostgreSQL and a real OpenSSH sshd on loopback.
//
//   npm run bench:pacing                           rates 50, 200, 1000 files/s; 100k backlog in 4 steps
//   npm run bench:pacing -- --rates 100,500 --seconds 20 --backlog 20k --steps 2
//
// Not part of `npm test`: it measures speed, which depends on the machine.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '../src/config/loadConfig.js';
import type { FileStore } from '../src/ports.js';
import { openCatalog, openFileStore } from '../src/purge/openPorts.js';
import { purgeNode } from '../src/purge/purgeNode.js';
import { eligiblePaths, safetyProblems, snapshot } from '../test/faults/invariants.js';
import { World } from '../test/faults/world.js';
import { startPostgres, type PgServer } from '../test/helpers/pgServer.js';
import { startSshd, type SshdServer } from '../test/helpers/sshdServer.js';
import { seedBacklog } from '../test/integration/catchUpSeed.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'mft-retention.js');

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const parseCount = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)([kM]?)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not a number like 100000, 100k or 1M`);
  return Math.round(Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'k' ? 1e3 : 1));
};
const percentile = (xs: number[], p: number): number => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]! : NaN;
};

/** The most timestamps in any half-open second starting at one of them. */
function maxPerSlidingSecond(stamps: number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < stamps.length; i++) {
    while (stamps[j]! < stamps[i]! - 999) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/**
 * A writer doing what MFT does while the purge runs: one AFT_LOG insert every 20 ms on its own
 * connection, each timed. Returns the latencies in ms when stopped.
 */
function startWriter(w: World): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const client = new pg.Client(w.pgServer.connectionConfig(w.database));
  const done = (async () => {
    await client.connect();
    let i = 0;
    while (running) {
      const t = performance.now();
      await client.query(
        `INSERT INTO aft_log (jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
         VALUES ('writer@example.com', 'bob@example.com', 'Get', $1, $1, 'txt', 'im', 'files.example.com', $2, 10, 10, now() AT TIME ZONE 'UTC')`,
        [`w${i}.txt`, `${w.nodeDir}/files/im/writer/w${i++}.txt`],
      );
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    await client.end();
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return latencies;
    },
  };
}

interface RateResult {
  limit: number;
  files: number;
  achieved: number;
  maxInSecond: number;
  seconds: number;
  writer: { p50: number; p99: number; max: number; count: number };
}

/** One rate-limited purge of `limit * seconds` files, in process (to time each removal request). */
async function measureRate(servers: { pg: PgServer; sshd: SshdServer }, limit: number, seconds: number): Promise<RateResult> {
  const w = await World.create(servers, { batchSize: 1000, policies: { im: 'PT1H' } });
  try {
    w.config.purge.maxFilesPerSecond = limit;
    w.config.daemon = { stateDirectory: join(w.configDir, 'state') };
    w.writeConfig();
    const files = Math.round(limit * seconds);
    await seedBacklog(w, files);
    const node = (await loadConfig(w.configPath)).nodes[0]!;
    const catalog = await openCatalog(node);
    const store = await openFileStore(node);
    const stamps: number[] = [];
    const stamping = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'removeFiles') {
          return (list: Parameters<FileStore['removeFiles']>[0]) => {
            const t = performance.now();
            for (let i = 0; i < list.length; i++) stamps.push(t);
            return target.removeFiles(list);
          };
        }
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const writer = startWriter(w);
    const started = performance.now();
    let result;
    try {
      result = await purgeNode(node, { catalog, files: stamping, log: pino({ level: 'silent' }) }, { dryRun: false, batchSize: 1000, maxClockSkewMs: 120_000, hostNow: () => new Date(), removeEmptyFolders: true });
    } finally {
      await store.close();
      await catalog.close();
    }
    const wall = (performance.now() - started) / 1000;
    const latencies = await writer.stop();
    if (result.status !== 'ok' || result.chatTypes[0]!.files !== files) throw new Error(`the rate-limited purge at ${limit}/s ended ${result.status} with ${result.chatTypes[0]?.files} of ${files} files: ${result.error?.message ?? ''}`);
    // The rate between the first and the last request: the files sent before the last chunk over the time they took.
    const lastChunk = stamps.filter((t) => t === stamps[stamps.length - 1]).length;
    const achieved = ((stamps.length - lastChunk) / (stamps[stamps.length - 1]! - stamps[0]!)) * 1000;
    return { limit, files, achieved, maxInSecond: maxPerSlidingSecond(stamps), seconds: wall, writer: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), count: latencies.length } };
  } finally {
    await w.dispose();
  }
}

/** The writer alone, for the baseline of its latency. */
async function writerBaseline(servers: { pg: PgServer; sshd: SshdServer }, seconds: number): Promise<RateResult['writer']> {
  const w = await World.create(servers, { policies: { im: 'PT1H' } });
  try {
    const writer = startWriter(w);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const l = await writer.stop();
    return { p50: percentile(l, 50), p99: percentile(l, 99), max: Math.max(...l), count: l.length };
  } finally {
    await w.dispose();
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s.length > 1e6 ? '' : s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr.slice(-4000), seconds: (performance.now() - started) / 1000 }));
  });
}

interface StepResult {
  run: number;
  files: number;
  seconds: number;
  ended?: string;
  problems: number;
}

/** A backlog cleared in capped steps by the real CLI, the invariants checked after every step. */
async function catchUp(servers: { pg: PgServer; sshd: SshdServer }, backlog: number, steps: number): Promise<{ steps: StepResult[]; left: number; seedSeconds: number; cap: number }> {
  const w = await World.create(servers, { batchSize: 1000, policies: { im: 'PT1H' }, heldJids: ['held@example.com'] });
  try {
    const cap = Math.ceil(backlog / steps);
    w.config.purge.limits = { maxFiles: cap, maxFilesPerRun: cap };
    w.config.daemon = { stateDirectory: join(w.configDir, 'state') };
    w.config.log = { level: 'warn' };
    w.writeConfig();
    const seeded = performance.now();
    const { paths } = await seedBacklog(w, backlog);
    const seedSeconds = (performance.now() - seeded) / 1000;
    const out: StepResult[] = [];
    let removed = 0;
    for (let run = 1; run <= steps + 1 && removed < paths.length; run++) {
      const s0 = await snapshot(w);
      const nowMin = new Date();
      const r = await runCli(['purge', '--config', w.configPath, '--json']);
      const s1 = await snapshot(w);
      const problems = safetyProblems(w, s0, s1, { nowMin, nowMax: new Date() });
      const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { files: number; nodes: Array<{ ended?: string }> };
      const gone = paths.slice(removed, removed + summary.files);
      // Oldest first, exactly continuing the step before.
      for (const p of gone) if (s1.fs.has(p)) problems.push(`step ${run}: ${p} should have gone`);
      for (const p of paths.slice(removed + summary.files)) if (!s1.fs.has(p)) problems.push(`step ${run}: ${p} went out of order`);
      if (r.code !== 0) problems.push(`step ${run} exited ${r.code}: ${r.stderr}`);
      removed += summary.files;
      out.push({ run, files: summary.files, seconds: r.seconds, ended: summary.nodes[0]?.ended, problems: problems.length });
      for (const p of problems.slice(0, 5)) process.stderr.write(`  invariant: ${p}\n`);
    }
    const left = eligiblePaths((await snapshot(w)).rows, new Date(), w).size;
    return { steps: out, left, seedSeconds, cap };
  } finally {
    await w.dispose();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rates: { type: 'string' }, seconds: { type: 'string' }, backlog: { type: 'string' }, steps: { type: 'string' } }, strict: true });
  const rates = (values.rates ?? '50,200,1000').split(',').map(parseCount);
  const seconds = Number(values.seconds ?? 10);
  const backlog = parseCount(values.backlog ?? '100k');
  const steps = Number(values.steps ?? 4);
  process.stderr.write('starting PostgreSQL and sshd on loopback\n');
  const [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
  const servers = { pg: pgServer, sshd };
  try {
    const lines: string[] = [];
    const base = await writerBaseline(servers, 5);
    const results: RateResult[] = [];
    for (const r of rates) {
      process.stderr.write(`rate ${r} files/s over ${seconds} s\n`);
      results.push(await measureRate(servers, r, seconds));
    }
    lines.push('## Rate limit (purge.maxFilesPerSecond): achieved rate, and a writer\'s AFT_LOG insert latency meanwhile', '');
    lines.push('| limit (files/s) | files | achieved (files/s) | off the limit | most in any second | purge took | writer p50 | writer p99 | writer max |');
    lines.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    lines.push(`| (no purge) | | | | | | ${fmt(base.p50, 2)} ms | ${fmt(base.p99, 2)} ms | ${fmt(base.max, 2)} ms |`);
    for (const r of results) {
      lines.push(`| ${fmt(r.limit)} | ${fmt(r.files)} | ${fmt(r.achieved, 1)} | ${fmt(((r.achieved - r.limit) / r.limit) * 100, 1)} % | ${fmt(r.maxInSecond)} | ${fmt(r.seconds, 1)} s | ${fmt(r.writer.p50, 2)} ms | ${fmt(r.writer.p99, 2)} ms | ${fmt(r.writer.max, 2)} ms |`);
    }
    const within = results.every((r) => Math.abs(r.achieved - r.limit) / r.limit <= 0.05);
    const never = results.every((r) => r.maxInSecond <= r.limit);
    lines.push('', `  ${within ? 'PASS' : 'FAIL'}  achieved rate within 5 % of the limit at every rate`, `  ${never ? 'PASS' : 'FAIL'}  no sliding second above the limit`);

    process.stderr.write(`catch-up of ${fmt(backlog)} files in ${steps} steps\n`);
    const c = await catchUp(servers, backlog, steps);
    lines.push('', `## Catch-up: ${fmt(backlog)} expired files, purge.limits.maxFilesPerRun ${fmt(c.cap)} (maxFiles ${fmt(c.cap)}), the real CLI, invariants after every step`, '');
    lines.push('| run | files removed | took | ended by | invariant problems |', '|---:|---:|---:|---|---:|');
    for (const s of c.steps) lines.push(`| ${s.run} | ${fmt(s.files)} | ${fmt(s.seconds, 1)} s | ${s.ended ?? 'backlog cleared'} | ${s.problems} |`);
    const ok = c.left === 0 && c.steps.every((s) => s.problems === 0);
    lines.push('', `  ${ok ? 'PASS' : 'FAIL'}  cleared in ${c.steps.length} runs, ${c.left} eligible files left, every invariant held (seeding took ${fmt(c.seedSeconds, 0)} s)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (!within || !never || !ok) process.exitCode = 1;
  } finally {
    await Promise.all([pgServer.destroy(), sshd.destroy()]);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
