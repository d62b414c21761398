// The real purge CLI killed with SIGKILL at random points of a purge, many times over, against
// the real PostgreSQL and OpenSSH sshd. After each kill the invariants must hold, and one
// normal run must finish the work with exit 0.
import { expect } from 'vitest';
import { sleep } from '../helpers/procUtil.js';
import { holdLock, waitUntilBlocked, type HeldLock, type LockPoint } from './blocking.js';
import { checkAfterFault } from './invariants.js';
import { freshMix, populateMix } from './mix.js';
import { faultRecorder } from './results.js';
import { iterations, Rng, suiteSeed } from './seed.js';
import { useFaultServers } from './servers.js';
import { World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const SEED = suiteSeed();
const servers = useFaultServers({ server });

scenario(
  'purge killed with SIGKILL at random points',
  async (rec) => {
    const seed = SEED;
    const n = iterations(50);
    rec.seed = seed;
    rec.iterations = n;
    console.log(`[faults] SIGKILL: seed ${seed}, ${n} iterations (replay with FAULT_SEED=${seed})`);
    const rng = new Rng(seed);
    const w = await World.create(servers, { batchSize: 4 });
    const landed = { beforeAnyRemoval: 0, filesGoneRowsPending: 0, betweenBatches: 0, finishedFirst: 0 };
    try {
      // Calibration (not counted): when the output lines of an uninterrupted run come, so that
      // delays land inside the purge rather than in the process start-up.
      await w.reset();
      await populateMix(w, rng.fork(-1), 18);
      const cal = w.startPurge('--json');
      const t0 = Date.now();
      const stamps: number[] = [];
      await cal.waitForLine(() => {
        stamps.push(Date.now() - t0);
        return false;
      });
      expect((await cal.exited).code, cal.lines.join('\n')).toBe(0);
      const first = stamps[0] ?? 400;
      const last = stamps[stamps.length - 1] ?? first;
      const lineCount = stamps.length;
      console.log(`[faults] SIGKILL calibration: ${lineCount} output lines between ${first} and ${last} ms`);

      for (let i = 0; i < n; i++) {
        const it = rng.fork(i);
        const { before, nowMin } = await freshMix(w, it, it.int(12, 24));
        const run = w.startPurge('--json');
        // Kill points: (a) while the purge is held by a lock on AFT_LOG, either after removing
        // a batch's files and before deleting their rows, or before reading the next batch, (b)
        // after a random output line (a kept file's record comes before its batch's removals,
        // a "removed" log line after its rows are deleted) plus a few ms, (c) a random time
        // after the first output line, (d) during start-up and connecting.
        let how: string;
        let lock: HeldLock | undefined;
        const draw = it.next();
        if (draw < 0.35) {
          const k = it.chance(0.3) ? -1 : it.int(0, Math.floor(lineCount * 0.7));
          const mode: LockPoint = it.chance(0.6) ? 'rows-pending' : 'between-batches';
          if (k >= 0) await run.waitForLine((_l, idx) => idx >= k);
          lock = await holdLock(w, mode);
          const point = await waitUntilBlocked(w, run);
          how = `held at ${point ?? 'nothing (it had finished)'} by a lock taken ${k < 0 ? 'at the start' : `after output line ${k}`}`;
        } else if (draw < 0.7) {
          const k = it.int(0, Math.floor(lineCount * 0.8));
          const extraMs = it.int(0, 10);
          how = `after output line ${k} + ${extraMs} ms`;
          await run.waitForLine((_l, idx) => idx >= k);
          if (extraMs) await sleep(extraMs);
        } else if (draw < 0.9) {
          const ms = it.int(0, Math.max(10, Math.round((last - first) * 1.2)));
          how = `${ms} ms after the first output line`;
          await run.waitForLine(() => true);
          await sleep(ms);
        } else {
          const ms = it.int(30, Math.floor(first * 0.9));
          how = `${ms} ms after the start`;
          await sleep(ms);
        }
        run.child.kill('SIGKILL');
        const res = await run.exited;
        await lock?.release();
        if (res.signal !== 'SIGKILL') expect(res.code, run.lines.join('\n')).toBe(0);
        const { after } = await checkAfterFault(w, before, {
          label: `SIGKILL iteration ${i} (${how}; seed ${seed})`,
          window: { nowMin, nowMax: new Date() },
          faultyExit: res.code,
          faultyRun: `exit ${res.code} signal ${res.signal}\n${run.lines.slice(-20).join('\n')}`,
        });
        // Where the kill landed, read from the state it left.
        const rowPaths = new Set(after.rows.map((r) => r.file_path));
        const removed = [...before.fs.keys()].filter((p) => !after.fs.has(p) && before.fs.get(p)!.type === 'F');
        const pending = removed.filter((p) => rowPaths.has(p)).length;
        if (res.signal !== 'SIGKILL') landed.finishedFirst++;
        else if (pending > 0) landed.filesGoneRowsPending++;
        else if (removed.length > 0 || after.rows.length < before.rows.length) landed.betweenBatches++;
        else landed.beforeAnyRemoval++;
      }
    } finally {
      await w.dispose();
    }
    rec.note(
      `kills left: nothing done yet ${landed.beforeAnyRemoval}, files removed with their rows not yet deleted ${landed.filesGoneRowsPending}, ` +
        `between batches ${landed.betweenBatches}; run finished before the kill ${landed.finishedFirst}`,
    );
    console.log(`[faults] SIGKILL landed: ${JSON.stringify(landed)}`);
    // The kills must mostly land inside the purge, or the scenario tests little.
    expect(landed.filesGoneRowsPending + landed.betweenBatches, JSON.stringify(landed)).toBeGreaterThanOrEqual(Math.ceil(n / 4));
  },
  600_000,
);


scenario(
  'daemon killed with SIGKILL mid-purge',
  async (rec) => {
    const seed = SEED;
    const n = Math.max(3, Math.round(iterations(50) / 6));
    rec.seed = seed;
    rec.iterations = n;
    console.log(`[faults] daemon SIGKILL: seed ${seed}, ${n} iterations (replay with FAULT_SEED=${seed})`);
    const rng = new Rng(seed).fork(1000);
    const w = await World.create(servers, { batchSize: 3 });
    let midPurge = 0;
    try {
      for (let i = 0; i < n; i++) {
        const it = rng.fork(i);
        const { before, nowMin } = await freshMix(w, it, 15);
        // The daemon purges at once (no state yet: overdue); kill it after its k-th removal.
        const d = w.startDaemon();
        const k = it.int(1, 12);
        const seen = await d.waitForLine((l) => l.includes('"msg":"removed"') && d.lines.filter((x) => x.includes('"msg":"removed"')).length >= k);
        if (seen && !d.lines.some((l) => l.includes('"msg":"purge finished"'))) midPurge++;
        d.child.kill('SIGKILL');
        const res = await d.exited;
        expect(res.signal, d.lines.join('\n')).toBe('SIGKILL');
        await checkAfterFault(w, before, {
          label: `daemon SIGKILL after removal ${k} (iteration ${i}; seed ${seed})`,
          window: { nowMin, nowMax: new Date() },
          faultyRun: d.lines.slice(-20).join('\n'),
        });
      }
    } finally {
      await w.dispose();
    }
    rec.note(`${midPurge} of ${n} kills before the daemon's purge finished; its node lock (a PostgreSQL session) died with it and the next run finished the work`);
    expect(midPurge).toBeGreaterThan(0);
  },
  300_000,
);
