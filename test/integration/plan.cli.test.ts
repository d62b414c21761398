// Plans through the real CLI, on the real PostgreSQL and OpenSSH SFTP server: what a saved plan
// holds, the blast-radius limits on a plan and approval tokens bound to it, the audit export
// naming the plan, and the command line's refusals of what does not make sense.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import { exportFileName } from '../../src/purge/auditExport.js';
import { tryAcquireNodeLock } from '../../src/purge/openPorts.js';
import { avoidHourEdge, HOUR_MS, parseJsonLines, present, show, usePurgeEnv, type Fixture } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (ms: number) => new Date(Date.now() - ms);
const planPath = (f: Fixture) => join(f.configDir, 'change-4711.plan.json');

describe('purge --dry-run --save-plan', () => {
  it('writes every file that would go with its rows, size, upload time, state on the server and the rules, and changes nothing', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H', groupchat: 'P1D' } });
    const a = await f.node.upload({ at: ago(5 * HOUR_MS), gets: [ago(4 * HOUR_MS)], size: 1234 });
    const g = await f.node.upload({ chatType: 'groupchat', at: ago(30 * HOUR_MS) });
    await f.node.upload({ at: ago(30 * 60_000) });
    const missing = await f.node.upload({ at: ago(6 * HOUR_MS), createFile: false });
    const before = await f.snapshot();
    const file = planPath(f);
    const r = await f.purge('--dry-run', '--save-plan', file);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toContain('DRY-RUN as of');
    expect(r.stdout).toMatch(/Plan written to .*change-4711\.plan\.json: 3 files, .*, 4 AFT_LOG rows; checksum sha256:[0-9a-f]{64}\./);
    expect(r.stdout).toContain(`--plan ${file}`);
    const after = await f.snapshot();
    expect(after.tables).toEqual(before.tables);
    expect(after.files.filter((x) => !x.includes('change-4711'))).toEqual(before.files);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    expect(plan).toMatchObject({ format: 'mft-retention-plan', version: 1, node: 'node_1', simulated: false, configFile: f.configPath, checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), configFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(plan.rules.nodeDirectory).toBe(f.node.dir);
    expect(plan.rules.chatTypes.map((c: any) => [c.chatType, c.retention, c.files]).sort()).toEqual([
      ['groupchat', 'P1D', 1],
      ['im', 'PT2H', 2],
    ]);
    expect(plan.rules.limits).toMatchObject({ minFiles: 100, minRetentionText: 'PT2H' });
    const byPath = Object.fromEntries(plan.files.map((x: any) => [x.path, x]));
    expect(Object.keys(byPath).sort()).toEqual([a.path, g.path, missing.path].sort());
    const mtime = new Date(Math.floor(statSync(a.path).mtimeMs / 1000) * 1000).toISOString();
    expect(byPath[a.path]).toMatchObject({ chatType: 'im', size: 1234, aftIndex: a.postIndex, onServer: { type: 'file', size: 1234, mtime } });
    expect(byPath[a.path].rows.map((x: any) => [x.aftIndex, x.method])).toEqual([
      [a.postIndex, 'Post'],
      [a.getIndexes[0], 'Get'],
    ]);
    expect(byPath[missing.path].onServer).toBeNull();
    // No JID in the plan: rows are vouched for by digest.
    expect(readFileSync(file, 'utf8')).not.toContain('alice@example.com');
  });

  it('--json adds a plan record after the summary', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    await f.node.upload({ at: ago(5 * HOUR_MS) });
    const r = await f.purge('--dry-run', '--json', '--save-plan', planPath(f));
    expect(r.code, show(r)).toBe(0);
    const records = parseJsonLines(r.stdout);
    expect(records.map((x) => x.type)).toEqual(['file', 'summary', 'plan']);
    expect(records[2]).toMatchObject({ type: 'plan', file: planPath(f), node: 'node_1', files: 1, leftOut: [], refused: [] });
  });

  it('refuses what makes no sense, naming the option', async () => {
    const f = await env.fixture({ nodes: [{ name: 'node_1' }, { name: 'node_2' }] });
    const cases: Array<[string[], RegExp]> = [
      [['--save-plan', planPath(f)], /--save-plan writes what a dry-run finds: use it with --dry-run/],
      [['--dry-run', '--save-plan', planPath(f)], /a plan is for one node; .* has 2 \(node_1, node_2\): add --node NAME/],
      [['--dry-run', '--plan', planPath(f)], /--plan applies a plan/],
      [['--plan', join(f.configDir, 'nope.json')], /cannot read the plan .*nope\.json \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const r = await f.purge(...args);
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const ok = await f.purge('--dry-run', '--node', 'node_2', '--save-plan', planPath(f));
    expect(ok.code, show(ok)).toBe(0);
    const wrong = await f.purge('--plan', planPath(f), '--node', 'node_1');
    expect(wrong.code, show(wrong)).toBe(2);
    expect(wrong.stderr).toContain('is for node "node_2", which --node node_1 leaves out');
    const bad = await f.purge('--plan', planPath(f), '--as-of', '2030-01-01');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--as-of is only for a dry-run');
  });
});

describe('blast-radius limits on a plan', () => {
  it('a plan above a limit is refused until approved with a token bound to its checksum; a run token does not do', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { maxFiles: 2 }) });
    const ups = [];
    for (let i = 0; i < 3; i++) ups.push(await f.node.upload({ at: ago(5 * HOUR_MS + i * 1000), size: 1000 }));
    const file = planPath(f);
    const d = await f.purge('--dry-run', '--save-plan', file);
    expect(d.code, show(d)).toBe(4);
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    const short = plan.checksum.slice('sha256:'.length, 'sha256:'.length + 16);
    expect(d.stdout).toContain('Applying this plan WOULD BE REFUSED for every chat type (limit maxFiles)');
    const token = new RegExp(`--plan ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --approve (node_1:all:3:3000:\\d{8}T\\d{6}Z:plan-${short})`).exec(d.stdout)?.[1];
    expect(token, d.stdout).toBeDefined();
    const before = await f.snapshot();

    const refused = await f.purge('--plan', file);
    expect(refused.code, show(refused)).toBe(4);
    expect(refused.stdout).toContain('REFUSED every chat type (limit maxFiles)');
    expect((await f.snapshot()).tables).toEqual(before.tables);
    for (const u of ups) expect(present(u.path)).toBe(true);
    expect(JSON.parse(readFileSync(`${file}.result.json`, 'utf8')).chatTypes[0]).toMatchObject({ planned: 3, removed: 0, notReached: 3, refused: { limit: 'maxFiles' } });

    // A run's own token is not a plan's; a plan's token is not a run's.
    const runToken = token!.replace(/:plan-[0-9a-f]+$/, '');
    const withRunToken = await f.purge('--plan', file, '--approve', runToken);
    expect(withRunToken.code, show(withRunToken)).toBe(4);
    const runWithPlanToken = await f.purge('--approve', token!);
    expect(runWithPlanToken.code, show(runWithPlanToken)).toBe(4);
    expect(runWithPlanToken.stderr).toContain('approves only purge --plan with that plan');
    for (const u of ups) expect(present(u.path)).toBe(true);

    const approved = await f.purge('--plan', file, '--approve', token!);
    expect(approved.code, show(approved)).toBe(0);
    for (const u of ups) expect(present(u.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([]);
  });
});

describe('one purge of a node at a time', () => {
  it('a plan is not applied while another instance (the daemon) holds the node lock; once it is free, it is', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const a = await f.node.upload({ at: ago(5 * HOUR_MS) });
    const file = planPath(f);
    expect((await f.purge('--dry-run', '--save-plan', file)).code).toBe(0);
    const config = await loadConfig(f.configPath);
    const lock = await tryAcquireNodeLock(config.nodes[0]!);
    expect(lock).toBeDefined();
    try {
      const r = await f.purge('--plan', file);
      expect(r.code, show(r)).toBe(4);
      expect(r.stderr).toContain('plan refused, nothing was changed: node "node_1" is being purged by another mft-retention instance (it holds the node lock');
      expect(present(a.path)).toBe(true);
    } finally {
      await lock!.release();
    }
    const r = await f.purge('--plan', file);
    expect(r.code, show(r)).toBe(0);
    expect(present(a.path)).toBe(false);
  });
});

describe('audit export of an applied plan', () => {
  it('records the plan checksum with each exported row', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const dir = join(f.configDir, 'audit');
    f.config.nodes[0].auditExport = { directory: dir };
    f.writeConfig();
    const a = await f.node.upload({ at: ago(5 * HOUR_MS), gets: [ago(4 * HOUR_MS)] });
    const file = planPath(f);
    expect((await f.purge('--dry-run', '--save-plan', file)).code).toBe(0);
    const checksum = JSON.parse(readFileSync(file, 'utf8')).checksum;
    const r = await f.purge('--plan', file);
    expect(r.code, show(r)).toBe(0);
    const lines = gunzipSync(readFileSync(join(dir, 'node_1', exportFileName(new Date())))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.aft_index, l.plan_checksum])).toEqual(a.indexes.map((i) => [i, checksum]));
  });
});
