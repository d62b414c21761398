// `npm run bench`: how fast a purge goes at scale, side by side with the other ways of deleting
// the same files, on a real PostgreSQL and a real OpenSSH sshd on loopback.
//
//   npm run bench                 10k and 100k expired files (100k- and 1M-row AFT_LOG)
//   npm run bench -- --full       also 1M expired files in a 10M-row AFT_LOG (takes long)
//   npm run bench -- --sizes 10k  only the given sizes (expired files; the table has 10x rows)
//   npm run bench -- --rounds 5   rounds of the loopback sides (default 3 up to 100k, 1 above)
//
// Not part of `npm test`: it measures speed, which depends on the machine.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import YAML from 'yaml';
import { startPostgres, type PgServer } from '../test/helpers/pgServer.js';
import { startSshd, type SshdServer } from '../test/helpers/sshdServer.js';
import { fillAftLog, RETENTION, uploadNumber, withClient, writeFiles, type Dataset } from './dataset.js';
import { hostStealSeconds, TreeCpuSampler } from './cpuTime.js';
import { measureRoundTripMs, startDelayProxy, type DelayProxy } from './delayProxy.js';
import { sshCryptoBindingLoaded } from '../src/doctor/sshCrypto.js';
import { findDelete, listFiles, runPurgeCli, sftpBatchRm, type PurgeRun, type SftpTarget, UNIT_NODE_OPTIONS } from './sides.js';

const execFileAsync = promisify(execFile);
const ONE_WAY_DELAY_MS = 1;
/** Files `sftp -b` removes for its rate (it is slow: the rest is extrapolated from the rate). */
const SFTP_SAMPLE = 5000;
const SFTP_SAMPLE_DELAYED = 1000;

interface Row {
  side: string;
  files: number;
  rows?: number;
  /** The side's own time: for the purge, select + remove + delete, as its summary line says. */
  seconds: number;
  /** The purge's whole process: Node.js start, config, logins, the purge, exit. */
  processSeconds?: number;
  rssMiB?: number;
  note?: string;
  /** Each round's seconds, when the side ran in rounds (`seconds` is their median). */
  rounds?: number[];
}

interface ScaleResult {
  data: Dataset;
  rows: Row[];
  purge: Row;
  purgeDelayed: Row;
  find: Row;
  sftp: Row;
  sftpDelayed: Row;
  /** The purge of the same data in a table never analyzed, and in one analyzed at 1,000 rows (autovacuum off). */
  purgeNever: Row;
  purgeStale: Row;
  dryRun: Row & { fileServerLogins: number };
  /** CPU seconds each process used in each purge round. */
  purgeCpu: PurgeCpu[];
  checks: string[];
}

/** CPU seconds (user and system) spent while one purge process ran. */
interface PurgeCpu {
  purge: number;
  postgres: number;
  sshd: number;
  /** CPU time the hypervisor gave other guests meanwhile, all cores together. */
  steal: number;
  /** The purge process's wall time, start to exit. */
  wall: number;
}

const rate = (n: number, s: number): number => n / s;
/** The middle value (the mean of the two middle ones for an even count). */
const median = (xs: number[]): number => {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const label = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const parseSize = (s: string): number => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`--sizes: "${s}" is not a number like 10000, 10k or 1M`);
  return Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1);
};

function digest(paths: Iterable<string>): string {
  return createHash('sha256').update([...paths].sort().join('\n')).digest('hex').slice(0, 16);
}

/**
 * Earlier writes flushed, so that a timed side does not pay for them: PostgreSQL's (a
 * checkpoint: the table build and the database copies would otherwise trigger one during the
 * purge), then the page cache's (sync).
 */
async function settle(pgServer: PgServer): Promise<void> {
  await withClient(pgServer.connectionConfig(), (c) => c.query('CHECKPOINT'));
  await execFileAsync('sync');
}

/** Hard links to every file of `from` under `to` (merged into what is there). */
async function linkTree(from: string, to: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  await execFileAsync('cp', ['-al', `${from}/.`, `${to}/`]);
}

function writeConfig(dir: string, name: string, pgServer: PgServer, database: string, sshd: SshdServer, port: number, nodeDir: string): string {
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'im.yaml'), `chatType: im\nretention: ${RETENTION}\n`);
  writeFileSync(join(dir, 'db.password'), `${pgServer.mftUser.password}\n`, { mode: 0o600 });
  const config = {
    policiesDirectory: 'policies',
    log: { level: 'info' },
    // The purge history (blast-radius limits) of this run only, never the host's.
    daemon: { stateDirectory: `state-${name}` },
    nodes: [
      {
        name: 'node_1',
        database: { type: 'postgres', host: pgServer.tcpHost, port: pgServer.port, database, user: pgServer.mftUser.user, passwordFile: 'db.password' },
        fileServer: { type: 'sftp', host: '127.0.0.1', port, username: sshd.username, privateKeyFile: sshd.clientPrivateKeyPath, hostKey: sshd.hostKeyFingerprint, directory: nodeDir },
      },
    ],
  };
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, YAML.stringify(config));
  return path;
}

/** What is left in the table after a purge: must be exactly the rows of unexpired files. */
async function checkTable(pgServer: PgServer, database: string, data: Dataset, now: Date): Promise<string> {
  return withClient(pgServer.connectionConfig(database), async (c) => {
    const wall = now.toISOString().replace('T', ' ').replace('Z', '');
    const r = await c.query<{ left: string; expired: string }>(
      `SELECT count(*)::text AS left,
              count(*) FILTER (WHERE method = 'Post' AND timestampvalue < $1::timestamp - interval '7 days')::text AS expired
         FROM aft_log`,
      [wall],
    );
    const left = Number(r.rows[0]!.left);
    const expired = Number(r.rows[0]!.expired);
    if (left !== data.rows - data.expiredRows || expired !== 0) {
      throw new Error(`${database}: ${fmtInt(left)} rows left (expected ${fmtInt(data.rows - data.expiredRows)}), ${expired} expired Post rows left (expected 0)`);
    }
    return `${database}: ${fmtInt(left)} rows left, all unexpired`;
  });
}

/** Files a side removed from a tree: the listing before minus the listing after. */
function removedFiles(before: string[], root: string): string[] {
  const after = new Set(listFiles(root));
  return before.filter((p) => !after.has(p));
}

/** The pids of the servers' first processes: their trees do all the servers' work. */
function serverPids(pgServer: PgServer, sshd: SshdServer): { postgres: number; sshd: number } {
  const firstLine = (file: string): number => Number(readFileSync(file, 'utf8').split('\n')[0]);
  return { postgres: firstLine(join(pgServer.dataDir, 'postmaster.pid')), sshd: firstLine(join(sshd.dir, 'sshd.pid')) };
}

/**
 * Where the CPU went in the median purge round: the purge process (all its threads), every
 * PostgreSQL process and every sshd process, against what the cores had while it ran.
 */
function cpuLines(h: ScaleResult): string[] {
  if (h.purgeCpu.length === 0) return [];
  // The round whose purge time is the median one (the middle round of an odd count).
  const seconds = h.purge.rounds ?? [h.purge.seconds];
  const order = seconds.map((s, i) => ({ s, i })).sort((a, b) => a.s - b.s);
  const c = h.purgeCpu[order[(order.length - 1) >> 1]!.i]!;
  const cores = cpus().length;
  const total = c.purge + c.postgres + c.sshd;
  return [
    `CPU in the median purge round (user + system seconds): mft-retention ${c.purge.toFixed(2)} (all its threads), PostgreSQL ${c.postgres.toFixed(2)}, sshd ${c.sshd.toFixed(2)}; ` +
      `${total.toFixed(2)} in all, of the ${(cores * c.wall).toFixed(2)} that ${cores} cores had while the purge process ran (${c.wall.toFixed(2)} s)` +
      (c.steal >= 0.01 ? `, and of which the hypervisor gave ${c.steal.toFixed(2)} to other guests (steal time).` : '.'),
  ];
}

function sshdLogins(sshd: SshdServer): number {
  return (sshd.log().match(/Accepted publickey/g) ?? []).length;
}

/**
 * One size: the data built once, then `rounds` rounds of find -delete, sftp -b and the purge
 * (each on fresh hard links and a fresh copy of the table), taken in turn so that a slow spell
 * of the machine falls on every side alike; the report gives each side's median. Then the
 * dry-run, and once each the two sides through the delay proxy.
 */
async function runScale(expired: number, rounds: number, pgServer: PgServer, sshd: SshdServer, proxy: DelayProxy, work: string): Promise<ScaleResult> {
  const tableRows = expired * 10;
  const tag = `s${label(expired).toLowerCase()}`;
  const base = join(sshd.rootDir, tag);
  const nodeDir = join(base, 'node_1');
  const findRoot = join(base, 'find-tree');
  const sftpRoot = join(base, 'sftp-tree');
  const cfgDir = join(work, tag);
  mkdirSync(cfgDir, { recursive: true });
  const now = new Date();
  const checks: string[] = [];
  const say = (s: string): void => {
    process.stderr.write(`[${label(expired)}] ${s}\n`);
  };

  say(`building a ${fmtInt(tableRows)}-row AFT_LOG with ${fmtInt(expired)} expired files`);
  let t0 = performance.now();
  const db = `bench_${tag}`;
  const dbDelayed = `bench_${tag}_delayed`;
  // One copy of the table a purge: the last round purges the original.
  const dbRounds = Array.from({ length: rounds }, (_, i) => (i === rounds - 1 ? db : `bench_${tag}_r${i + 1}`));
  await pgServer.createDatabase(db);
  const data = await withClient(pgServer.connectionConfig(db), (c) => fillAftLog(c, nodeDir, { rows: tableRows, expired }, now));
  // The copies are file-level copies of the same table, made while nothing is connected to it.
  for (const copy of [...dbRounds.filter((d) => d !== db), dbDelayed]) {
    await withClient(pgServer.connectionConfig(), async (c) => {
      await c.query(`CREATE DATABASE ${copy} TEMPLATE ${db}`);
      await c.query(`GRANT ALL ON DATABASE ${copy} TO ${pgServer.mftUser.user}`);
    });
  }
  say(`  table: ${fmtInt(data.rows)} rows, ${fmtInt(data.expired)} expired files with ${fmtInt(data.expiredRows)} rows (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  // Creating files is slow on this machine class (~2,000/s, against ~100,000/s deleting), so
  // the files are created once, in a master tree, and each side gets hard links to them
  // (cp -al): every side then deletes directory entries of the same files alike. The master,
  // and with it the inodes, is removed afterwards, outside the timing.
  const master = join(base, 'master');
  const masterExpired = join(master, 'expired');
  const masterUnexpired = join(master, 'unexpired');
  // Unexpired files on disk too (one for every 20 expired): the purge must leave them.
  const unexpiredOnDisk = Math.min(data.uploads - data.expired, Math.ceil(expired / 20));
  t0 = performance.now();
  await withClient(pgServer.connectionConfig(db), async (c) => {
    await writeFiles(c, nodeDir, [masterExpired], 0, data.expired);
    await writeFiles(c, nodeDir, [masterUnexpired], data.expired, data.expired + unexpiredOnDisk);
  });
  const makePurgeTree = async (): Promise<void> => {
    mkdirSync(nodeDir, { recursive: true });
    await linkTree(masterExpired, nodeDir);
    await linkTree(masterUnexpired, nodeDir);
  };
  await makePurgeTree();
  await linkTree(masterExpired, sftpRoot);
  say(`  file trees written (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const expectedRemoved = listFiles(nodeDir).filter((p) => uploadNumber(p.slice(p.lastIndexOf('/') + 1)) < data.expired);
  const expectedDigest = digest(expectedRemoved);
  if (expectedRemoved.length !== data.expired) throw new Error(`tree has ${expectedRemoved.length} expired files, expected ${data.expired}`);

  // The sftp -b samples: one slice a round, and one for the delay proxy.
  const sample = listFiles(sftpRoot).sort();
  const delayedSample = sample.slice(0, Math.min(SFTP_SAMPLE_DELAYED, Math.floor(sample.length / (rounds + 1))));
  const perRound = Math.min(SFTP_SAMPLE, Math.floor((sample.length - delayedSample.length) / rounds));
  const target: SftpTarget = { port: sshd.port, user: sshd.username, keyFile: sshd.clientPrivateKeyPath, knownHostsFile: sshd.knownHostsPath };

  // Dry-run over the full table, before any purge: seconds, and no login on the file server.
  say('  dry-run');
  const loginsBefore = sshdLogins(sshd);
  const dry = await runPurgeCli(writeConfig(cfgDir, 'config-dry-run', pgServer, db, sshd, sshd.port, nodeDir), ['--dry-run', '--offline', '--log-level', 'info'], join(cfgDir, 'dry-run'));
  const dryFiles = Object.values(dry.summary.chatTypes).reduce((a, s) => a + s.files, 0);
  if (dryFiles !== data.expired) throw new Error(`the dry-run would purge ${dryFiles} files, expected ${data.expired}`);
  const fileServerLogins = sshdLogins(sshd) - loginsBefore;

  const finds: number[] = [];
  const sftps: Array<{ seconds: number; connectSeconds: number }> = [];
  const purges: PurgeRun[] = [];
  const purgeCpu: PurgeCpu[] = [];
  const pids = serverPids(pgServer, sshd);
  for (let round = 1; round <= rounds; round++) {
    const r = rounds > 1 ? ` (round ${round} of ${rounds})` : '';
    // (a) local find -delete: the file system's own rate. Every timed side starts with the
    // database checkpointed and the page cache written back (settle), so none pays for the
    // writes of the data building or of the side before it.
    say(`  find -delete${r}`);
    rmSync(findRoot, { recursive: true, force: true });
    await linkTree(masterExpired, findRoot);
    await settle(pgServer);
    const findBefore = listFiles(findRoot);
    finds.push((await findDelete(findRoot, join(cfgDir, `find-${round}`))).seconds);
    const findRemoved = removedFiles(findBefore, findRoot);
    if (findRemoved.length !== data.expired || digest(findRemoved) !== expectedDigest) throw new Error('find -delete did not remove exactly the expired files');
    if (round === rounds) checks.push(`find -delete removed the ${fmtInt(findRemoved.length)} expired files (digest ${expectedDigest}), each of ${rounds} rounds`);

    // (b) sftp -b, one rm a file, on this round's slice of the sample.
    const slice = sample.slice(delayedSample.length + (round - 1) * perRound, delayedSample.length + round * perRound);
    say(`  sftp -b, ${slice.length} files${r}`);
    await settle(pgServer);
    sftps.push(await sftpBatchRm(target, slice.map((p) => join(sftpRoot, p)), join(cfgDir, `sftp-${round}`)));

    // (c) the real purge, on loopback, on a fresh tree and its own copy of the table.
    say(`  mft-retention purge${r}`);
    if (round > 1) {
      rmSync(nodeDir, { recursive: true, force: true });
      await makePurgeTree();
    }
    await settle(pgServer);
    const cfg = writeConfig(cfgDir, `config-${round}`, pgServer, dbRounds[round - 1]!, sshd, sshd.port, nodeDir);
    const servers = new TreeCpuSampler(pids);
    const stealBefore = hostStealSeconds();
    const purge = await runPurgeCli(cfg, [], join(cfgDir, `purge-${round}`));
    const steal = hostStealSeconds() - stealBefore;
    const spent = servers.stop();
    purgeCpu.push({
      purge: purge.cpuSeconds ?? NaN,
      postgres: spent.postgres!,
      sshd: spent.sshd!,
      steal,
      wall: purge.seconds,
    });
    checks.push(...verifyPurge(`purge${r}`, purge, data, nodeDir, expectedRemoved, expectedDigest, unexpiredOnDisk));
    checks.push(await checkTable(pgServer, dbRounds[round - 1]!, data, now));
    purges.push(purge);
  }

  // (d) sftp -b and the purge through the delay proxy, once each.
  const proxyKnownHosts = join(cfgDir, 'known_hosts_proxy');
  writeFileSync(proxyKnownHosts, `${sshd.hostPublicKeyLine.replace(/^\S+/, `[127.0.0.1]:${proxy.port}`)}\n`);
  say(`  sftp -b through the delay proxy, ${delayedSample.length} files`);
  await settle(pgServer);
  const sftpDelayed = delayedSample.length
    ? await sftpBatchRm({ ...target, port: proxy.port, knownHostsFile: proxyKnownHosts }, delayedSample.map((p) => join(sftpRoot, p)), join(cfgDir, 'sftp-delayed'))
    : { seconds: NaN, connectSeconds: 0 };
  const sampled = sample.slice(0, delayedSample.length + rounds * perRound);
  const sftpLeft = new Set(listFiles(sftpRoot));
  rmSync(sftpRoot, { recursive: true, force: true });
  if (sampled.some((p) => sftpLeft.has(p))) throw new Error('sftp -b left files of its sample');
  checks.push(`sftp -b removed its samples (${rounds} x ${perRound} + ${delayedSample.length} expired files)`);

  rmSync(nodeDir, { recursive: true, force: true });
  await makePurgeTree();
  say(`  mft-retention purge through the delay proxy`);
  await settle(pgServer);
  const cfgDelayed = writeConfig(cfgDir, 'config-delayed', pgServer, dbDelayed, sshd, proxy.port, nodeDir);
  const purgeDelayed = await runPurgeCli(cfgDelayed, [], join(cfgDir, 'purge-delayed'));
  checks.push(...verifyPurge('purge via proxy', purgeDelayed, data, nodeDir, expectedRemoved, expectedDigest, unexpiredOnDisk));
  checks.push(await checkTable(pgServer, dbDelayed, data, now));

  // (e) the purge of the same data in tables whose planner statistics are missing or stale,
  // as after a restore or a bulk load with autovacuum off: the plans must not degrade.
  const statsRuns: Record<'never' | 'stale', PurgeRun> = {} as never;
  const statsDbs: string[] = [];
  for (const statistics of ['never', 'stale'] as const) {
    const d = `bench_${tag}_${statistics}`;
    statsDbs.push(d);
    await pgServer.createDatabase(d);
    say(`  mft-retention purge, table with statistics ${statistics === 'never' ? 'never analyzed' : 'analyzed at 1,000 rows'}`);
    const same = await withClient(pgServer.connectionConfig(d), (c) => fillAftLog(c, nodeDir, { rows: tableRows, expired, statistics }, now));
    if (same.rows !== data.rows || same.expiredRows !== data.expiredRows) throw new Error(`${d}: not the same data (${same.rows} rows, ${same.expiredRows} expired rows)`);
    rmSync(nodeDir, { recursive: true, force: true });
    await makePurgeTree();
    await settle(pgServer);
    const run = await runPurgeCli(writeConfig(cfgDir, `config-${statistics}`, pgServer, d, sshd, sshd.port, nodeDir), [], join(cfgDir, `purge-${statistics}`));
    checks.push(...verifyPurge(`purge, statistics ${statistics}`, run, data, nodeDir, expectedRemoved, expectedDigest, unexpiredOnDisk));
    checks.push(await checkTable(pgServer, d, data, now));
    statsRuns[statistics] = run;
  }

  rmSync(base, { recursive: true, force: true });
  for (const d of [...dbRounds, dbDelayed, ...statsDbs]) await withClient(pgServer.connectionConfig(), (c) => c.query(`DROP DATABASE ${d}`));

  const purgeRow = (side: string, ps: PurgeRun[]): Row => {
    const rounds = ps.map((p) => p.summary.durationMs / 1000);
    return {
      side,
      files: data.expired,
      rows: data.expiredRows,
      seconds: median(rounds),
      processSeconds: median(ps.map((p) => p.seconds)),
      rssMiB: Math.max(...ps.map((p) => p.peakRssMiB ?? 0)),
      rounds: ps.length > 1 ? rounds : undefined,
    };
  };
  const sftpRow = (side: string, n: number, ss: Array<{ seconds: number; connectSeconds: number }>): Row => {
    const rounds = ss.map((s) => (data.expired * (s.seconds - s.connectSeconds)) / n);
    return {
      side,
      files: data.expired,
      seconds: median(rounds),
      note: `extrapolated from ${fmtInt(n)} files${ss.length > 1 ? ' a round' : ''} (login time left out)`,
      rounds: ss.length > 1 ? rounds : undefined,
    };
  };
  const result: ScaleResult = {
    data,
    rows: [],
    find: { side: 'find -delete (local)', files: data.expired, seconds: median(finds), rounds: rounds > 1 ? finds : undefined },
    sftp: sftpRow('sftp -b, one rm a file', perRound, sftps),
    purge: purgeRow('mft-retention purge', purges),
    sftpDelayed: sftpRow(`sftp -b, +${2 * ONE_WAY_DELAY_MS} ms RTT`, delayedSample.length, [sftpDelayed]),
    purgeDelayed: purgeRow(`mft-retention purge, +${2 * ONE_WAY_DELAY_MS} ms RTT`, [purgeDelayed]),
    purgeNever: purgeRow('mft-retention purge, table never analyzed', [statsRuns.never]),
    purgeStale: purgeRow('mft-retention purge, statistics of 1,000 rows', [statsRuns.stale]),
    dryRun: { side: 'mft-retention purge --dry-run', files: data.expired, rows: data.expiredRows, seconds: dry.seconds, rssMiB: dry.peakRssMiB, fileServerLogins },
    purgeCpu,
    checks,
  };
  result.rows = [result.find, result.sftp, result.purge, result.sftpDelayed, result.purgeDelayed, result.purgeNever, result.purgeStale, result.dryRun];
  return result;
}

function verifyPurge(what: string, p: PurgeRun, data: Dataset, nodeDir: string, expected: string[], expectedDigest: string, unexpiredOnDisk: number): string[] {
  const im = p.summary.chatTypes.im;
  if (p.summary.status !== 'ok' || !im || im.files !== data.expired || im.rows !== data.expiredRows) {
    throw new Error(`${what}: summary ${JSON.stringify(p.summary)}; expected ${data.expired} files and ${data.expiredRows} rows, status ok`);
  }
  const removed = removedFiles(expected, nodeDir);
  const left = listFiles(nodeDir);
  if (removed.length !== expected.length || digest(removed) !== expectedDigest) throw new Error(`${what}: removed ${removed.length} of the ${expected.length} expired files`);
  if (left.length !== unexpiredOnDisk) throw new Error(`${what}: ${left.length} files left, expected the ${unexpiredOnDisk} unexpired ones`);
  return [`${what} removed the same ${fmtInt(removed.length)} files (digest ${expectedDigest}), deleted ${fmtInt(im.rows)} rows, left the ${fmtInt(left.length)} unexpired files`];
}

function table(headers: string[], rows: string[][], right: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`, ...rows.map(line)].join('\n');
}

function report(results: Map<number, ScaleResult>, headline: number, rttMs: number): string {
  const out: string[] = [];
  const h = results.get(headline)!;
  const fr = rate(h.find.files, h.find.seconds);
  const sr = rate(h.sftp.files, h.sftp.seconds);
  const srd = rate(h.sftpDelayed.files, h.sftpDelayed.seconds);
  out.push(`Purge of ${fmtInt(h.data.expired)} expired files (${fmtInt(h.data.expiredRows)} rows) from a ${fmtInt(h.data.rows)}-row AFT_LOG, side by side:`, '');
  const processNote = (r: Row, delayed: boolean): string => {
    if (r.processSeconds === undefined) return r.note ?? '';
    const pr = rate(r.files, r.processSeconds);
    return `whole process ${r.processSeconds.toFixed(2)} s: ${fmtInt(pr)} files/s, ${(pr / fr).toFixed(2)}x find -delete, ${(pr / (delayed ? srd : sr)).toFixed(1)}x sftp -b`;
  };
  out.push(
    table(
      ['side', 'files', 'seconds', 'files/s', 'rows/s', 'peak RSS', 'vs find -delete', 'vs sftp -b', 'note'],
      h.rows.map((r) => {
        const delayed = r === h.purgeDelayed || r === h.sftpDelayed;
        return [
          r.side,
          fmtInt(r.files),
          r.seconds.toFixed(2),
          fmtInt(rate(r.files, r.seconds)),
          r.rows ? fmtInt(rate(r.rows, r.seconds)) : '-',
          r.rssMiB ? `${r.rssMiB.toFixed(0)} MiB` : '-',
          r === h.dryRun ? '-' : `${(rate(r.files, r.seconds) / fr).toFixed(2)}x`,
          r === h.dryRun ? '-' : `${(rate(r.files, r.seconds) / (delayed ? srd : sr)).toFixed(1)}x`,
          r === h.dryRun ? `whole process; reads the whole table; ${h.dryRun.fileServerLogins} logins on the file server` : processNote(r, delayed),
        ];
      }),
      [false, true, true, true, true, true, true, true, false],
    ),
  );
  out.push(
    '',
    `"seconds" is each side's own work: find from start to exit; sftp -b without its login; the purge from its start (database connected) to its summary line: reading the expired rows, the file server's login (it overlaps the first query), removing, deleting rows. The note gives the purge's whole process too (Node.js start, config, logins, exit).`,
    `"+${2 * ONE_WAY_DELAY_MS} ms RTT": through a TCP proxy holding each packet ${ONE_WAY_DELAY_MS} ms each way (measured round trip ${rttMs.toFixed(2)} ms); its "vs sftp -b" is against sftp -b through the same proxy.`,
  );
  if (h.purge.rounds) {
    // Each round's ratios against the same round's other sides: how much the machine moved.
    const n = h.purge.rounds.length;
    const secs = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
    const ratios = (other: number[], digits: number): string => h.purge.rounds!.map((p, i) => `${(other[i]! / p).toFixed(digits)}x`).join(', ');
    out.push(
      `find -delete, sftp -b and the purge ran in ${n} rounds, in turn; each row above is the median round. Per round (seconds):`,
      `  find -delete ${secs(h.find.rounds!)}; sftp -b ${secs(h.sftp.rounds!)}; purge ${secs(h.purge.rounds)}`,
      `  purge vs find -delete ${ratios(h.find.rounds!, 2)}; vs sftp -b ${ratios(h.sftp.rounds!, 1)}`,
    );
  }
  out.push(...cpuLines(h));

  const pr = rate(h.purge.files, h.purge.seconds);
  const prd = rate(h.purgeDelayed.files, h.purgeDelayed.seconds);
  const prWhole = rate(h.purge.files, h.purge.processSeconds!);
  const prdWhole = rate(h.purgeDelayed.files, h.purgeDelayed.processSeconds!);
  const maxRss = Math.max(...[...results.values()].flatMap((r) => [r.purge.rssMiB ?? 0, r.purgeDelayed.rssMiB ?? 0, r.dryRun.rssMiB ?? 0]));
  const targets: Array<[string, boolean]> = [
    [`purge >= 0.4x find -delete: ${(pr / fr).toFixed(2)}x (whole process ${(prWhole / fr).toFixed(2)}x)`, pr / fr >= 0.4],
    [`purge >= 10x sftp -b: ${(pr / sr).toFixed(1)}x (whole process ${(prWhole / sr).toFixed(1)}x)`, pr / sr >= 10],
    [`purge >= 50x sftp -b with +${2 * ONE_WAY_DELAY_MS} ms RTT: ${(prd / srd).toFixed(1)}x (whole process ${(prdWhole / srd).toFixed(1)}x)`, prd / srd >= 50],
    [`peak RSS < 200 MiB at every size: ${maxRss.toFixed(0)} MiB`, maxRss < 200],
    [
      `purge with stale statistics <= 1.5x the analyzed one: ${(h.purgeStale.seconds / h.purge.seconds).toFixed(2)}x (never analyzed ${(h.purgeNever.seconds / h.purge.seconds).toFixed(2)}x)`,
      h.purgeStale.seconds <= 1.5 * h.purge.seconds && h.purgeNever.seconds <= 1.5 * h.purge.seconds,
    ],
    [`dry-run over the table in seconds without the file server: ${h.dryRun.seconds.toFixed(2)} s, ${h.dryRun.fileServerLogins} logins`, h.dryRun.seconds < 10 && h.dryRun.fileServerLogins === 0],
  ];
  out.push('', 'Targets:', ...targets.map(([t, ok]) => `  ${ok ? 'PASS' : 'FAIL'}  ${t}`));

  out.push('', 'Scaling (table = 10 x expired files; the cost per file should stay flat):', '');
  const sizes = [...results.keys()].sort((a, b) => a - b);
  out.push(
    table(
      ['expired files', 'AFT_LOG rows', 'purge s', 'purge files/s', 'µs a file', 'process s', '+RTT files/s', 'find -delete files/s', 'dry-run s', 'peak RSS'],
      sizes.map((n) => {
        const r = results.get(n)!;
        return [
          fmtInt(r.data.expired),
          fmtInt(r.data.rows),
          r.purge.seconds.toFixed(2),
          fmtInt(rate(r.purge.files, r.purge.seconds)),
          ((r.purge.seconds * 1e6) / r.purge.files).toFixed(1),
          r.purge.processSeconds!.toFixed(2),
          fmtInt(rate(r.purgeDelayed.files, r.purgeDelayed.seconds)),
          fmtInt(rate(r.find.files, r.find.seconds)),
          r.dryRun.seconds.toFixed(2),
          `${Math.max(r.purge.rssMiB ?? 0, r.purgeDelayed.rssMiB ?? 0).toFixed(0)} MiB`,
        ];
      }),
      [true, true, true, true, true, true, true, true, true, true],
    ),
  );
  out.push('', 'Checks:', ...sizes.flatMap((n) => results.get(n)!.checks.map((c) => `  [${label(n)}] ${c}`)));
  out.push('', `Machine: ${cpus().length} CPUs (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, ${process.platform} ${process.version}; PostgreSQL and sshd on loopback, empty files on ${fsType()}; ssh2's native crypto binding ${sshCryptoBindingLoaded() ? 'loaded' : 'NOT built (see scripts/build-ssh-crypto.mjs)'}.`);
  out.push('Each side deletes hard links to the same empty files (cp -al of one master tree: creating files is far slower than deleting them here).');
  out.push(`Purge settings: the defaults (batchSize 1000, SFTP concurrency 256, log level info: one JSON line per file), spawned as \`mft-retention purge\` with NODE_OPTIONS=${UNIT_NODE_OPTIONS} as the systemd units set it; peak RSS by GNU time.`);
  return out.join('\n');
}

function fsType(): string {
  try {
    const line = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === '/');
    return line?.split(' ')[2] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { full: { type: 'boolean', default: false }, sizes: { type: 'string' }, rounds: { type: 'string' } }, strict: true });
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1 && rounds <= 9)) throw new Error(`--rounds: "${values.rounds}" is not a whole number from 1 to 9`);
  // Three rounds where a round takes seconds; one for a million files (minutes each).
  const roundsFor = (n: number): number => rounds ?? (n <= 100_000 ? 3 : 1);
  const sizes = values.sizes ? values.sizes.split(',').map(parseSize) : values.full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000];
  const headline = sizes.includes(100_000) ? 100_000 : sizes[sizes.length - 1]!;
  const started = performance.now();
  process.stderr.write(`starting PostgreSQL and sshd on loopback\n`);
  const [pgServer, sshd] = await Promise.all([startPostgres(), startSshd()]);
  const proxy = await startDelayProxy(sshd.port, ONE_WAY_DELAY_MS);
  const work = join(sshd.dir, 'bench');
  try {
    const rttMs = await measureRoundTripMs(ONE_WAY_DELAY_MS);
    const results = new Map<number, ScaleResult>();
    for (const n of [...sizes].sort((a, b) => a - b)) results.set(n, await runScale(n, roundsFor(n), pgServer, sshd, proxy, work));
    process.stdout.write(`${report(results, headline, rttMs)}\n`);
    process.stdout.write(`\nBenchmark took ${((performance.now() - started) / 1000).toFixed(0)} s.\n`);
  } finally {
    await proxy.close();
    await Promise.all([pgServer.destroy(), sshd.destroy()]);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
