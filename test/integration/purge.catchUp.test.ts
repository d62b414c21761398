// Catch-up in capped steps, on the real PostgreSQL and OpenSSH sshd through the real CLI: a
// backlog far larger than purge.limits.maxFiles is cleared over successive runs of
// purge.limits.maxFilesPerRun each, the oldest files first, every run exactly continuing the one
// before, with the fault suite's invariants (test/faults/invariants.ts) holding after each.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avoidHourEdge, show, summaryRecord } from '../helpers/purgeFixture.js';
import { eligiblePaths, safetyProblems, snapshot } from '../faults/invariants.js';
import { useFaultServers } from '../faults/servers.js';
import { World } from '../faults/world.js';
import { seedBacklog } from './catchUpSeed.js';

const servers = useFaultServers();

const exists = (s: Awaited<ReturnType<typeof snapshot>>, p: string): boolean => s.fs.has(p);

describe('catch-up in capped steps', () => {
  it('clears a backlog over successive capped runs, oldest first, each run continuing exactly where the last stopped', async () => {
    await avoidHourEdge(120_000);
    const w = await World.create(servers, { batchSize: 200, policies: { im: 'PT1H' }, heldJids: ['held@example.com'] });
    try {
      const stateDirectory = join(w.configDir, 'state');
      // A whole-backlog run would be refused (maxFiles); a step of 750 is judged on its own.
      w.config.purge.limits = { maxFiles: 1000, maxFilesPerRun: 750 };
      w.config.daemon = { stateDirectory, schedule: '5 * * * *' };
      w.writeConfig();
      // The usual run removes 10 files: the first step (750) is "unusually large" and needs an
      // approval; the steps after it continue a known catch-up and do not.
      mkdirSync(stateDirectory, { recursive: true });
      writeFileSync(join(stateDirectory, 'purge-history.json'), JSON.stringify({ version: 1, nodes: { node_1: { im: [10, 10, 10] } } }));
      const { paths, held, fresh } = await seedBacklog(w, 3040, 76); // 3,000 to purge, 40 held
      expect(paths).toHaveLength(3000);

      // The dry-run's plan: four runs; nothing changes.
      const before = await snapshot(w);
      const dry = await w.purge('--dry-run', '--json');
      const plan = summaryRecord(dry.stdout).catchUp;
      expect(plan, show(dry)).toEqual([expect.objectContaining({ node: 'node_1', backlog: { files: 3040, bytes: 3040 * 32 }, runs: 5, firstRun: { files: 750, bytes: 750 * 32 } })]);
      const dryText = await w.purge('--dry-run');
      expect(dryText.stdout).toMatch(/Clearing it takes 5 runs/);
      expect((await snapshot(w)).rows).toEqual(before.rows);

      // Step 1 is refused by maxTimesUsual (750 > 10 x 10), not by maxFiles (the step is 750, not 3,040).
      const refused = await w.purge('--json');
      expect(refused.code, show(refused)).toBe(4);
      const refusals = summaryRecord(refused.stdout).nodes[0].refused;
      expect(refusals.map((r: any) => [r.limit, r.files])).toEqual([['maxTimesUsual', 750]]);
      expect((await snapshot(w)).rows).toEqual(before.rows);

      let removedSoFar = 0;
      let approve: string[] = ['--approve', refusals[0].approval.token];
      for (let run = 1; run <= 5; run++) {
        const s0 = await snapshot(w);
        const nowMin = new Date();
        const r = await w.purge('--json', ...approve);
        approve = [];
        const s1 = await snapshot(w);
        expect(safetyProblems(w, s0, s1, { nowMin, nowMax: new Date() }), show(r)).toEqual([]);
        expect(r.code, show(r)).toBe(0);
        const summary = summaryRecord(r.stdout);
        // 3,040 expired: the held ones are read, kept and cost nothing; 750 a step.
        const expected = Math.min(750, 3000 - removedSoFar);
        expect(summary.files, show(r)).toBe(expected);
        // The count a step is planned on includes the held files (read, then kept): 790 > 750
        // even before the fourth run, which is capped too.
        expect(summary.nodes[0].ended).toBe('cap');
        // Exactly the next oldest files went, and rows went with them.
        const gone = paths.filter((p) => exists(s0, p) && !exists(s1, p));
        expect(gone).toEqual(paths.slice(removedSoFar, removedSoFar + expected));
        removedSoFar += expected;
        const rowPaths = new Set(s1.rows.map((x) => x.file_path));
        for (const p of paths.slice(0, removedSoFar)) expect(rowPaths.has(p)).toBe(false);
        for (const p of paths.slice(removedSoFar)) expect(exists(s1, p) && rowPaths.has(p)).toBe(true);
        if (removedSoFar === 3000) break;
      }
      expect(removedSoFar).toBe(3000);
      // What is left is held: the next run removes nothing and is not capped.
      const last = await w.purge('--json');
      expect(last.code, show(last)).toBe(0);
      expect(summaryRecord(last.stdout)).toMatchObject({ files: 0, kept: 40 });
      expect(summaryRecord(last.stdout).nodes[0].ended).toBeUndefined();
      const final = await snapshot(w);
      expect([...eligiblePaths(final.rows, new Date(), w)]).toEqual([]);
      for (const p of [...held, ...fresh]) expect(exists(final, p)).toBe(true);
    } finally {
      await w.dispose();
    }
  }, 300_000);

  it('--max-duration stops a rate-limited run between batches, rows of removed files deleted; the next run finishes', async () => {
    await avoidHourEdge(60_000);
    const w = await World.create(servers, { batchSize: 50, policies: { im: 'PT1H' } });
    try {
      w.config.purge.maxFilesPerSecond = 40;
      w.config.daemon = { stateDirectory: join(w.configDir, 'state') };
      w.writeConfig();
      const { paths } = await seedBacklog(w, 400);
      const s0 = await snapshot(w);
      const nowMin = new Date();
      const started = Date.now();
      const r = await w.purge('--json', '--max-duration', '3s');
      const tookMs = Date.now() - started;
      const s1 = await snapshot(w);
      expect(safetyProblems(w, s0, s1, { nowMin, nowMax: new Date() }), show(r)).toEqual([]);
      expect(r.code, show(r)).toBe(0);
      const summary = summaryRecord(r.stdout);
      expect(summary.nodes[0].ended).toBe('max-duration');
      // At 40 files/s for 3 s (after the start-up), at most 3 s of files plus the batch in flight.
      expect(summary.files).toBeGreaterThan(0);
      expect(summary.files).toBeLessThanOrEqual(40 * Math.ceil(tookMs / 1000));
      expect(summary.files).toBeLessThan(400);
      // Every file gone has lost its rows; every file still there has them.
      const rowPaths = new Set(s1.rows.map((x) => x.file_path));
      for (const p of paths) expect(exists(s1, p)).toBe(rowPaths.has(p));
      // The log said what the run was about to do and what would end it.
      expect(r.stderr).toMatch(/"stopReason":"max-duration"/);
      expect(r.stderr).toMatch(/time to stop reached/);

      w.config.purge.maxFilesPerSecond = 0;
      w.writeConfig();
      const next = await w.purge('--json');
      expect(next.code, show(next)).toBe(0);
      expect(summaryRecord(next.stdout).files).toBe(400 - summary.files);
      expect([...eligiblePaths((await snapshot(w)).rows, new Date(), w)]).toEqual([]);
    } finally {
      await w.dispose();
    }
  }, 120_000);
});
