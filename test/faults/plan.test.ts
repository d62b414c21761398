// A reviewed plan applied exactly, against the real PostgreSQL and OpenSSH sshd: the plan
// written by `purge --dry-run --save-plan`, the world changed in each way that matters between
// plan and apply, and `purge --plan` run by the real CLI. After each, the fault suite's
// invariants hold, and one normal purge finishes what is eligible.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import { sleep } from '../helpers/procUtil.js';
import { avoidHourEdge, present, show } from '../helpers/purgeFixture.js';
import { holdLock, waitUntilBlocked } from './blocking.js';
import { checkAfterFault, safetyProblems, snapshot } from './invariants.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { HOUR, World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

const ago = (ms: number): Date => new Date(Date.now() - ms);

/** Polls until the query returns a row (30 s at most). */
async function until(w: World, query: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(5)) {
    if ((await w.sql(query)).length > 0) return;
  }
  throw new Error(`timed out waiting for: ${query}`);
}

interface PlanJson {
  checksum: string;
  node: string;
  files: Array<{ path: string; rows: Array<{ aftIndex: string }> }>;
  [k: string]: unknown;
}

const readJson = <T = any>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

async function savePlan(w: World, ...extra: string[]): Promise<{ file: string; plan: PlanJson }> {
  const file = join(w.configDir, `plan-${Date.now()}.json`);
  const r = await w.purge('--dry-run', '--save-plan', file, ...extra);
  expect(r.code, show(r)).toBe(0);
  expect(r.stdout).toContain(`Plan written to ${file}`);
  return { file, plan: readJson<PlanJson>(file) };
}

scenario(
  'a plan applied unchanged removes exactly its files and rows',
  async (rec) => {
    await avoidHourEdge(30_000);
    const w = await World.create(servers, { batchSize: 3 });
    try {
      const planned: string[] = [];
      for (let i = 0; i < 5; i++) planned.push(await w.upload({ at: ago(3 * HOUR + i * 60_000), gets: i % 2 ? [ago(2 * HOUR)] : [] }));
      const young = await w.upload({ at: ago(10 * 60_000) });
      const { file, plan } = await savePlan(w);
      expect(plan.files.map((f) => f.path).sort()).toEqual([...planned].sort());
      // Expired after the plan was made (or simply not in it): never removed by the plan.
      const notPlanned = await w.upload({ at: ago(4 * HOUR) });
      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge('--plan', file);
      expect(r.code, show(r)).toBe(0);
      for (const p of planned) expect(present(p), p).toBe(false);
      expect(present(notPlanned)).toBe(true);
      expect(present(young)).toBe(true);
      const left = await w.rows();
      expect(left.filter((x) => planned.includes(x.file_path))).toEqual([]);
      expect(left.filter((x) => x.file_path === notPlanned)).toHaveLength(1);
      const result = readJson(`${file}.result.json`);
      expect(result).toMatchObject({ format: 'mft-retention-plan-result', version: 1, status: 'ok', plan: { checksum: plan.checksum, node: 'node_1' } });
      expect(result.chatTypes.find((c: any) => c.chatType === 'im')).toMatchObject({ planned: 5, removed: 5, skipped: {}, failed: {}, rowsDeleted: 7 });
      expect(r.stdout).toContain(`applied to node node_1: ok`);
      // The invariants, on the file removed only because the plan said so; the normal run after it takes the rest.
      const problems = safetyProblems(w, before, await snapshot(w), { nowMin, nowMax: new Date() });
      expect(problems).toEqual([]);
      await checkAfterFault(w, before, { label: 'plan applied unchanged', window: { nowMin, nowMax: new Date() }, faultyRun: show(r) });
      rec.note('5 planned files removed with their 7 rows; a file expired but not in the plan, and a young one, untouched');
    } finally {
      await w.dispose();
    }
  },
  120_000,
);

scenario(
  'changes between plan and apply: each changed file skipped with its reason, the rest removed',
  async (rec) => {
    await avoidHourEdge(60_000);
    const w = await World.create(servers, { batchSize: 2 });
    try {
      const at = ago(3 * HOUR);
      const downloaded = await w.upload({ at });
      const held = await w.upload({ at, jid: 'carol@example.com' });
      const replaced = await w.upload({ at, size: 64 });
      const rowGone = await w.upload({ at, gets: [ago(2 * HOUR)] });
      const unchanged = await w.upload({ at });
      // In the current hour: only a plan made --as-of a later time lists it.
      const thisHour = await w.upload({ at: new Date(Math.max(Date.now() - 60_000, Math.floor(Date.now() / HOUR) * HOUR)) });
      const asOf = new Date(Date.now() + 2 * HOUR).toISOString();
      const { file, plan } = await savePlan(w, '--as-of', asOf);
      expect(plan.files.map((f) => f.path).sort()).toEqual([downloaded, held, replaced, rowGone, unchanged, thisHour].sort());

      // The world changes.
      await w.insertRows([{ method: 'Get', chatType: 'im', filePath: downloaded, fileSize: 64, timestamp: new Date(), jid: 'bob@example.com' }]);
      writeFileSync(join(w.configDir, 'policies', 'holds.yaml'), 'holds:\n  - name: case-4711\n    reason: legal hold after the plan\n    uploaders: [carol@example.com]\n');
      w.heldJids.push('carol@example.com');
      w.writeFile(replaced, 128);
      const download = (await w.rows()).find((r) => r.file_path === rowGone && r.method === 'Get')!;
      await w.sql('DELETE FROM aft_log WHERE aft_index = $1', [download.aft_index]);

      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge('--plan', file, '--json');
      expect(r.code, show(r)).toBe(1);
      expect(present(unchanged)).toBe(false);
      for (const p of [downloaded, held, replaced, rowGone, thisHour]) expect(present(p), p).toBe(true);
      const result = readJson(`${file}.result.json`);
      const im = result.chatTypes.find((c: any) => c.chatType === 'im');
      expect(im).toMatchObject({ planned: 6, removed: 1, skipped: { 'new-download': 1, 'hold:case-4711': 1, 'file-changed': 1, 'row-deleted': 1, 'current-hour': 1 } });
      const why = Object.fromEntries(result.notRemoved.map((n: any) => [n.path, n.reason]));
      expect(why).toEqual({ [downloaded]: 'new-download', [held]: 'hold:case-4711', [replaced]: 'file-changed', [rowGone]: 'row-deleted', [thisHour]: 'current-hour' });
      expect(result.notRemoved.find((n: any) => n.path === replaced).detail).toBe('planned 64 bytes, now 128');
      // Every row of a skipped file is still there.
      const rows = await w.rows();
      for (const p of [downloaded, held, replaced, thisHour]) expect(rows.some((x) => x.file_path === p && x.method === 'Post'), p).toBe(true);
      await checkAfterFault(w, before, { label: 'plan with changes', window: { nowMin, nowMax: new Date() }, faultyRun: show(r), faultyExit: r.code });
      rec.iterations = 5;
      rec.note('new download, new hold, file replaced by another size, a row deleted by someone else, the current hour: each skipped with its reason; the unchanged file removed');
    } finally {
      await w.dispose();
    }
  },
  120_000,
);

scenario(
  'plans refused whole: edited by hand, for another node or config, too old',
  async (rec) => {
    await avoidHourEdge(30_000);
    const w = await World.create(servers, { batchSize: 5 });
    try {
      for (let i = 0; i < 3; i++) await w.upload({ at: ago(3 * HOUR) });
      const { file, plan } = await savePlan(w);
      // Not expired: an edited plan must not be able to slip it in.
      const extra = await w.upload({ at: ago(30 * 60_000) });
      const before = await snapshot(w);
      const unchanged = async (label: string, args: string[], code: number, message: RegExp) => {
        const r = await w.purge(...args);
        expect(r.code, `${label}\n${show(r)}`).toBe(code);
        expect(r.stderr, label).toMatch(message);
        expect(safetyProblems(w, before, await snapshot(w), { nowMin: new Date(), nowMax: new Date() }), label).toEqual([]);
        expect((await snapshot(w)).rows, label).toEqual(before.rows);
      };
      // Edited by hand: one more file, and the checksum no longer matches.
      const edited = join(w.configDir, 'edited.json');
      const text = readFileSync(file, 'utf8').replace(plan.files[0]!.path, extra);
      writeFileSync(edited, text);
      await unchanged('edited', ['--plan', edited], 2, /was changed after it was written: its checksum is sha256:/);
      expect(present(extra)).toBe(true);
      const broken = join(w.configDir, 'broken.json');
      writeFileSync(broken, text.slice(0, 100));
      await unchanged('not JSON', ['--plan', broken], 2, /is not a plan file: not JSON/);
      // Another node (the config's node renamed), then another config (a policy changed).
      w.config.nodes[0].name = 'node_9';
      w.writeConfig();
      await unchanged('other node', ['--plan', file], 4, /is for node "node_1", which is not in/);
      w.config.nodes[0].name = 'node_1';
      w.writeConfig();
      writeFileSync(join(w.configDir, 'policies', 'im.yaml'), 'chatType: im\nretention: PT2H\nallowShortRetention: true\nallowPurgeAll: true\n');
      await unchanged('other config', ['--plan', file], 4, /was made under another configuration of node "node_1"/);
      writeFileSync(join(w.configDir, 'policies', 'im.yaml'), `chatType: im\nretention: ${w.policies.im}\nallowShortRetention: true\nallowPurgeAll: true\n`);
      // Too old.
      w.config.purge.planMaxAge = 'PT1S';
      w.writeConfig();
      await sleep(1200);
      await unchanged('too old', ['--plan', file], 4, /older than purge\.planMaxAge \(PT1S\)/);
      delete w.config.purge.planMaxAge;
      w.writeConfig();
      // And the same plan, unedited, still applies.
      const ok = await w.purge('--plan', file);
      expect(ok.code, show(ok)).toBe(0);
      for (const f of plan.files) expect(present(f.path)).toBe(false);
      expect(present(extra)).toBe(true);
      rec.iterations = 5;
      rec.note('a hand-edited plan (checksum) and a truncated one: exit 2; another node, another policy, older than purge.planMaxAge: exit 4; nothing touched by any');
    } finally {
      await w.dispose();
    }
  },
  120_000,
);

scenario(
  'applying a plan killed with SIGKILL, then applied again',
  async (rec) => {
    const w = await World.create(servers, { batchSize: 3 });
    const landed: string[] = [];
    try {
      for (const point of ['rows-pending', 'between-batches'] as const) {
        await avoidHourEdge(30_000);
        await w.reset();
        const paths: string[] = [];
        for (let i = 0; i < 10; i++) paths.push(await w.upload({ at: ago(3 * HOUR + i * 1000), gets: i % 3 ? [] : [ago(2 * HOUR)] }));
        const { file } = await savePlan(w);
        const before = await snapshot(w);
        const nowMin = new Date();
        // Held at an exact point: a lock against DELETE taken before the start stops the
        // application with its first batch's files removed and their rows not yet deleted. For
        // the second point a lock against every read queues behind that DELETE: the first
        // batch's rows go, and the application stops before its next statement on AFT_LOG.
        const first = await holdLock(w, 'rows-pending');
        const run = w.startPurge('--plan', file);
        const at = await waitUntilBlocked(w, run);
        let second: pg.Client | undefined;
        if (point === 'between-batches') {
          second = new pg.Client(w.pgServer.connectionConfig(w.database));
          await second.connect();
          await second.query('BEGIN');
          const granted = second.query('LOCK TABLE aft_log IN ACCESS EXCLUSIVE MODE');
          const pid = (second as unknown as { processID: number }).processID;
          await until(w, `SELECT 1 FROM pg_locks WHERE pid = ${pid} AND NOT granted`);
          await first.release();
          await granted;
          await until(w, `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid NOT IN (pg_backend_pid(), ${pid})`);
        }
        run.child.kill('SIGKILL');
        await run.exited;
        await first.release();
        await second?.end();
        const mid = await snapshot(w);
        // Read from the state the kill left: files removed whose rows are still there.
        const rowPaths = new Set(mid.rows.map((r) => r.file_path));
        const pending = paths.filter((p) => !mid.fs.has(p) && rowPaths.has(p)).length;
        const purged = paths.filter((p) => !mid.fs.has(p) && !rowPaths.has(p)).length;
        expect(at, 'the application was held').toBeDefined();
        if (point === 'rows-pending') expect(pending, 'a lock against DELETE holds the application with files removed').toBeGreaterThan(0);
        else expect(purged, 'the first batch went before the kill').toBeGreaterThan(0);
        landed.push(`${point}: ${purged} files purged, ${pending} removed with rows pending`);
        console.log(`[faults] plan SIGKILL ${landed[landed.length - 1]}`);
        expect(safetyProblems(w, before, mid, { nowMin, nowMax: new Date() }), `killed at ${point}`).toEqual([]);
        // The same plan again finishes it.
        const again = await w.purge('--plan', file);
        expect(again.code, show(again)).toBe(0);
        for (const p of paths) expect(present(p), p).toBe(false);
        expect((await w.rows()).filter((r) => paths.includes(r.file_path))).toEqual([]);
        const result = readJson(`${file}.result.json`);
        const im = result.chatTypes.find((c: any) => c.chatType === 'im');
        expect(im.planned).toBe(10);
        expect(im.removed + (im.skipped['already-purged'] ?? 0)).toBe(10);
        expect(Object.keys(im.skipped).filter((k) => k !== 'already-purged')).toEqual([]);
        await checkAfterFault(w, before, { label: `plan killed at ${point}`, window: { nowMin, nowMax: new Date() }, faultyRun: again.stdout, faultyExit: again.code });
      }
      rec.iterations = 2;
      rec.note(`killed once with a batch's files removed and their rows not yet deleted, once before reading the next batch (${landed.join('; ')}); applying the same plan again finished it with exit 0`);
    } finally {
      await w.dispose();
    }
  },
  180_000,
);
