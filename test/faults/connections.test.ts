// Connection faults on the real servers: the SFTP connection cut at random points (a TCP proxy
// between the purge and sshd), sshd killed mid-purge, PostgreSQL stopped with `-m immediate`
// mid-batch, a full database (SQLSTATE 53100), and a server presenting another host key. After
// each: the invariants, then the servers recover and one normal run finishes the work.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { SftpFileStore } from '../../src/adapters/sftpFileStore.js';
import { ConnectError, HostKeyMismatchError } from '../../src/errors.js';
import { avoidHourEdge, parseJsonLines, show, summaryRecord } from '../helpers/purgeFixture.js';
import { startSshd, type SshdServer } from '../helpers/sshdServer.js';
import { startHeldPurge } from './blocking.js';
import { AlarmReceiver } from './alarmReceiver.js';
import { checkAfterFault, snapshot } from './invariants.js';
import { freshMix, populateMix } from './mix.js';
import { CuttingProxy } from './proxy.js';
import { faultRecorder } from './results.js';
import { iterations, Rng, suiteSeed } from './seed.js';
import { useFaultServers } from './servers.js';
import { World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });
/** Another OpenSSH server on this machine, with a host key of its own: it sees the same files. */
let impostor: SshdServer;

beforeAll(async () => {
  impostor = await startSshd();
});
afterAll(async () => {
  await impostor?.destroy();
});

const SEED = suiteSeed();

scenario(
  'SFTP connection cut at random points (TCP proxy)',
  async (rec) => {
    const n = iterations(12);
    rec.seed = SEED;
    rec.iterations = n;
    console.log(`[faults] connection cuts: seed ${SEED}, ${n} iterations (replay with FAULT_SEED=${SEED})`);
    const rng = new Rng(SEED).fork(1);
    const proxy = await CuttingProxy.start(servers.sshd.port);
    const w = await World.create(servers, { batchSize: 4, sshPort: proxy.port });
    const landed = { duringConnect: 0, midPurge: 0, afterWork: 0 };
    try {
      // Calibration: how many bytes and how long an uninterrupted purge takes through the proxy.
      await w.reset();
      await populateMix(w, rng.fork(-1), 16);
      proxy.arm({});
      const t0 = Date.now();
      const cal = await w.purge('--json');
      expect(cal.code, show(cal)).toBe(0);
      const totalBytes = proxy.bytes;
      const totalMs = Date.now() - t0;
      console.log(`[faults] connection cuts: an uninterrupted purge moves ${totalBytes} bytes in ${totalMs} ms`);

      for (let i = 0; i < n; i++) {
        const it = rng.fork(i);
        const { before, nowMin } = await freshMix(w, it, it.int(10, 20));
        // Mostly by bytes (independent of the machine's speed), some by time; the last quarter
        // of an uninterrupted run is mostly the removal of emptied folders and the goodbye.
        const plan = it.chance(0.75) ? { afterBytes: it.int(1, Math.round(totalBytes * 0.75)) } : { afterMs: it.int(50, Math.round(totalMs * 0.75)) };
        proxy.arm(plan);
        const r = await w.purge('--json');
        const label = `cut ${JSON.stringify(plan)} (iteration ${i}, seed ${SEED})`;
        // A cut is a lost connection (3), unless it came after the work was done.
        expect([0, 3], `${label}\n${show(r)}`).toContain(r.code);
        if (r.code === 0) landed.afterWork++;
        else if (/cannot connect|node directory/.test(summaryRecord(r.stdout).nodes[0].error ?? '')) landed.duringConnect++;
        else landed.midPurge++;
        await checkAfterFault(w, before, {
          label,
          window: { nowMin, nowMax: new Date() },
          faultyRun: show(r),
          faultyExit: r.code,
          heal: async () => proxy.arm({}),
        });
      }
    } finally {
      await w.dispose();
      await proxy.close();
    }
    rec.note(`cut while connecting ${landed.duringConnect}, mid-purge ${landed.midPurge}, after the work was done ${landed.afterWork}`);
    console.log(`[faults] connection cuts landed: ${JSON.stringify(landed)}`);
    expect(landed.midPurge, JSON.stringify(landed)).toBeGreaterThan(0);
  },
  300_000,
);

scenario(
  'sshd killed mid-purge, restarted later',
  async (rec) => {
    const rng = new Rng(SEED).fork(2);
    rec.seed = SEED;
    rec.iterations = 3;
    const w = await World.create(servers, { batchSize: 3 });
    try {
      for (let i = 0; i < rec.iterations; i++) {
        const it = rng.fork(i);
        const { before, nowMin } = await freshMix(w, it, 18);
        // Held (by a lock on AFT_LOG) after a batch's files are removed, or before the next
        // batch is read; sshd dies there, then the purge goes on into the dead connection.
        const { run, k, lock, point } = await startHeldPurge(w, it, i);
        await servers.sshd.kill();
        await lock.release();
        const res = await run.exited;
        const label = `sshd killed at ${point} after output line ${k} (iteration ${i}, seed ${SEED})`;
        expect(res.code, `${label}\n${run.lines.join('\n')}`).toBe(3);
        await checkAfterFault(w, before, {
          label,
          window: { nowMin, nowMax: new Date() },
          faultyRun: run.lines.join('\n'),
          heal: () => servers.sshd.start(),
        });
      }
    } finally {
      await servers.sshd.start();
      await w.dispose();
    }
    rec.note('killed while the purge was held after removing a batch\'s files, or before reading the next batch: each run exits 3 (file server lost); after restart one run finishes with exit 0');
  },
  120_000,
);

scenario(
  'PostgreSQL stopped with -m immediate mid-batch, restarted later',
  async (rec) => {
    const rng = new Rng(SEED).fork(3);
    rec.seed = SEED;
    rec.iterations = 4;
    const w = await World.create(servers, { batchSize: 3 });
    let blockedCount = 0;
    try {
      for (let i = 0; i < rec.iterations; i++) {
        const it = rng.fork(i);
        const { before, nowMin } = await freshMix(w, it, 15);
        // Held after a batch's files are removed and before its rows are deleted (the worst
        // moment), or before the next batch is read; PostgreSQL dies there.
        const { run, k, lock, point } = await startHeldPurge(w, it, i);
        if (point === 'rows-pending') blockedCount++;
        await servers.pg.stopImmediate();
        await lock.release();
        const res = await run.exited;
        const label = `PostgreSQL stopped at ${point} after output line ${k} (iteration ${i}, seed ${SEED})`;
        expect(res.code, `${label}\n${run.lines.join('\n')}`).toBe(3);
        expect(run.lines.join('\n')).toMatch(/PostgreSQL/);
        await servers.pg.start();
        await checkAfterFault(w, before, { label, window: { nowMin, nowMax: new Date() }, faultyRun: run.lines.join('\n') });
      }
    } finally {
      if (!servers.pg.isRunning()) await servers.pg.start();
      await w.dispose();
    }
    rec.note(`each run exits 3 (database lost); ${blockedCount} of them with a batch's files removed and its rows not yet deleted, the others before the next batch was read; after restart one run finishes with exit 0`);
  },
  120_000,
);

scenario(
  'database connection reset mid-batch (TCP proxy in front of PostgreSQL)',
  async (rec) => {
    const rng = new Rng(SEED).fork(6);
    rec.seed = SEED;
    rec.iterations = 2;
    const proxy = await CuttingProxy.start(servers.pg.port);
    const w = await World.create(servers, { batchSize: 3 });
    w.setDbPort(proxy.port);
    try {
      for (let i = 0; i < rec.iterations; i++) {
        const it = rng.fork(i);
        proxy.arm({});
        const { before, nowMin } = await freshMix(w, it, 12);
        const { run, k, lock, point } = await startHeldPurge(w, it, i);
        proxy.cutNow();
        const res = await run.exited;
        await lock.release();
        proxy.arm({});
        const label = `connection reset at ${point} after output line ${k} (iteration ${i}, seed ${SEED})`;
        // A connection reset is a lost database (3), named as such, not a partial purge (1).
        expect(res.code, `${label}\n${run.lines.join('\n')}`).toBe(3);
        expect(summaryRecord(run.stdout()).nodes[0].error, label).toMatch(/PostgreSQL/);
        await checkAfterFault(w, before, { label, window: { nowMin, nowMax: new Date() }, faultyRun: run.lines.join('\n') });
      }
    } finally {
      await w.dispose();
      await proxy.close();
    }
    rec.note('a reset connection (ECONNRESET) is reported as the database lost, exit 3; the next run finishes with exit 0');
  },
  120_000,
);

scenario(
  'database full (SQLSTATE 53100 on DELETE)',
  async (rec) => {
    rec.seed = SEED;
    await avoidHourEdge();
    const w = await World.create(servers, { batchSize: 4 });
    try {
      const mix = await populateMix(w, new Rng(SEED).fork(4), 12);
      // Every eligible file on disk: whichever batch comes first, its files exist, so the files
      // it removed before its DELETE failed can be seen (the mix leaves one in ten missing).
      for (const p of mix.eligible) if (!existsSync(p)) w.writeFile(p);
      await w.sql(`CREATE FUNCTION fault_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device' USING ERRCODE = '53100'; END $$`);
      await w.sql('CREATE TRIGGER fault_disk_full BEFORE DELETE ON aft_log FOR EACH STATEMENT EXECUTE FUNCTION fault_disk_full()');
      const alarms = await AlarmReceiver.start();
      alarms.attach(w);
      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge('--json', '--alarms');
      // Reported, not hidden: files removed with their rows pending are not a success for the
      // timer (exit 6), and the reason is in the report.
      expect(r.code, show(r)).toBe(6);
      const s = summaryRecord(r.stdout);
      expect(s.nodes[0].status).toBe('failed');
      expect(s.nodes[0].error).toMatch(/database is full \(SQLSTATE 53100\)/);
      expect(s.rows).toBe(0);
      // The purge stopped at the first failed delete: files of at most the two batches the
      // pipeline keeps in flight (this one and the next) went ahead of their rows.
      const after = await snapshot(w);
      const gone = mix.eligible.filter((p) => before.fs.has(p) && !after.fs.has(p));
      expect(gone.length).toBeGreaterThan(0);
      expect(gone.length).toBeLessThanOrEqual(2 * 4);
      expect(after.rows).toEqual(before.rows);
      expect(alarms.of('XcpMFTDBFullError')).toEqual(['raised']);
      await checkAfterFault(w, before, {
        label: 'database full',
        window: { nowMin, nowMax: new Date() },
        faultyRun: show(r),
        heal: async () => void (await w.sql('DROP TRIGGER fault_disk_full ON aft_log')),
      });
      // A purge with alarms after the heal clears it.
      expect((await w.purge('--alarms')).code).toBe(0);
      expect(alarms.of('XcpMFTDBFullError')).toEqual(['raised', 'cleared']);
      await alarms.stop();
      rec.note(`exit 6 with "database is full (SQLSTATE 53100)", XcpMFTDBFullError raised; ${gone.length} files removed ahead of their rows (reported with their rows pending), every row kept; the next run after space is back exits 0 and clears the alarm`);
    } finally {
      await w.dispose();
    }
  },
  60_000,
);

scenario(
  'a server presenting another host key',
  async (rec) => {
    rec.seed = SEED;
    await avoidHourEdge();
    // The impostor serves the same disk: only the host key check stands between it and the files.
    const w = await World.create(servers, { batchSize: 4 });
    try {
      await populateMix(w, new Rng(SEED).fork(5), 8);
      w.setSshPort(impostor.port);
      const alarms = await AlarmReceiver.start();
      alarms.attach(w);
      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge('--json', '--alarms');
      expect(r.code, show(r)).toBe(3);
      expect(alarms.of('XcpMFTExtFsMountError')).toEqual(['raised']);
      expect(alarms.events.find((e) => e.alarm === 'XcpMFTExtFsMountError')!.value).toContain('does not match the pinned key');
      await alarms.stop();
      expect(summaryRecord(r.stdout).nodes[0].error).toContain(
        `host key ${impostor.hostKeyFingerprint} does not match the pinned key ${servers.sshd.hostKeyFingerprint}`,
      );
      expect(parseJsonLines(r.stdout).filter((x) => x.type === 'file')).toEqual([]);
      // The adapter refuses before any credential or request: a HostKeyMismatchError, a ConnectError.
      const cfg = await loadConfig(w.configPath);
      const err = await SftpFileStore.open('node_1', cfg.nodes[0]!.fileServer as never).then(
        (s) => (s.close(), undefined),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(HostKeyMismatchError);
      expect(err).toBeInstanceOf(ConnectError);
      expect(await snapshot(w)).toEqual(before);
      await checkAfterFault(w, before, {
        label: 'another host key',
        window: { nowMin, nowMax: new Date() },
        faultyRun: show(r),
        heal: async () => w.setSshPort(servers.sshd.port),
      });
      rec.note('exit 3, both fingerprints named, XcpMFTExtFsMountError raised, nothing deleted; the real server afterwards: exit 0');
    } finally {
      await w.dispose();
    }
  },
  60_000,
);
