// Blast-radius limits end to end: the real CLI against a real PostgreSQL AFT_LOG and a real
// OpenSSH SFTP server. A refused run removes nothing, exits 4, says which limit, the numbers
// and how to approve; an approval lets exactly that run (or a smaller one) go ahead once.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOUR_MS, present, show, summaryRecord, usePurgeEnv, type Fixture } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (ms: number) => new Date(Date.now() - ms);
const tokenIn = (stdout: string): string => {
  const m = /--approve (\S+)/.exec(stdout);
  if (!m) throw new Error(`no approval command in:\n${stdout}`);
  return m[1]!;
};

async function expiredUploads(f: Fixture, n: number, chatType: 'im' | 'groupchat' = 'im') {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await f.node.upload({ chatType, at: ago(5 * HOUR_MS + i * 1000), size: 1000 }));
  return out;
}

describe('absolute caps per node run', () => {
  it('refuses a run above purge.limits.maxFiles: nothing removed, exit 4, the limit, the numbers and the approve command', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { maxFiles: 2 }) });
    const ups = await expiredUploads(f, 3);
    const before = await f.snapshot();

    const r = await f.purge();
    expect(r.code, show(r)).toBe(4);
    expect(await f.snapshot()).toEqual(before);
    expect(r.stdout).toContain('REFUSED every chat type (limit maxFiles)');
    expect(r.stdout).toContain('would remove 3 files from the node, more than purge.limits.maxFiles (2)');
    expect(r.stdout).toContain(`mft-retention purge --config ${f.configPath} --node node_1 --approve node_1:all:3:3000:`);
    // Logged for whoever watches the journal, with the structured refusal.
    const logged = r.stderr.split('\n').filter((l) => l.includes('"refused"')).map((l) => JSON.parse(l));
    expect(logged[0]).toMatchObject({ level: 50, refused: { node: 'node_1', chatType: 'all', limit: 'maxFiles', measured: 3, threshold: 2 } });

    // The dry-run shows the same refusal (and the files it would concern).
    const d = await f.purge('--dry-run', '--json');
    expect(d.code, show(d)).toBe(4);
    const node = summaryRecord(d.stdout).nodes[0];
    expect(node.status).toBe('refused');
    expect(node.refused).toEqual([expect.objectContaining({ node: 'node_1', chatType: 'all', limit: 'maxFiles', measured: 3, threshold: 2, unit: 'files', files: 3, bytes: 3000 })]);
    expect(node.chatTypes[0].refused).toMatchObject({ limit: 'maxFiles' });

    // The admin approves exactly that run.
    const a = await f.purge('--approve', tokenIn(r.stdout));
    expect(a.code, show(a)).toBe(0);
    for (const u of ups) expect(present(u.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([]);
  });

  it('an approval never covers a larger run, another node or another scope, nor an expired one', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { maxBytes: 2500 }) });
    await expiredUploads(f, 3);
    const r = await f.purge();
    expect(r.code, show(r)).toBe(4);
    expect(r.stdout).toContain('3,000 bytes from the node, more than purge.limits.maxBytes (2,500)');
    const token = tokenIn(r.stdout);
    // One more expired file, uploaded before the instant the token counted at.
    const late = await f.node.upload({ at: ago(6 * HOUR_MS), size: 1000 });
    const before = await f.snapshot();

    const bigger = await f.purge('--approve', token);
    expect(bigger.code, show(bigger)).toBe(4);
    expect(bigger.stdout).toContain(`approval ${token} covers only 3 files and 3000 bytes`);
    expect(await f.snapshot()).toEqual(before);

    const otherScope = await f.purge('--approve', token.replace(':all:', ':im:'));
    expect(otherScope.code, show(otherScope)).toBe(4);
    const expired = await f.purge('--approve', `node_1:all:99:999999:20200101T000000Z`);
    expect(expired.code, show(expired)).toBe(4);
    expect(expired.stderr).toContain('approval expired');
    const wrongNode = await f.purge('--approve', token.replace('node_1:', 'node_9:'));
    expect(wrongNode.code, show(wrongNode)).toBe(2);
    expect(wrongNode.stderr).toContain('is for node "node_9", which is not in');
    expect(await f.snapshot()).toEqual(before);
    expect(present(late.path)).toBe(true);
  });
});

describe('relative limits per chat type', () => {
  it('refuses a run more than maxTimesUsual times the median of recent runs, and records the runs it lets through', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' }, mutate: (c) => (c.purge.limits = { minFiles: 0, maxTimesUsual: 3 }) });
    const state = join(f.configDir, 'state');
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'purge-history.json'), JSON.stringify({ version: 1, nodes: { node_1: { im: [1, 2, 1, 1] } } }));
    await expiredUploads(f, 4);
    const before = await f.snapshot();
    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(4);
    expect(summaryRecord(r.stdout).nodes[0].refused[0]).toMatchObject({ chatType: 'im', limit: 'maxTimesUsual', measured: 4, threshold: 3 });
    expect(await f.snapshot()).toEqual(before);
    const history = () => JSON.parse(readFileSync(join(state, 'purge-history.json'), 'utf8')).nodes.node_1.im;
    expect(history()).toEqual([1, 2, 1, 1]); // a refused run is not "usual"

    const text = await f.purge('--dry-run');
    expect(text.stdout).toContain('WOULD BE REFUSED im (limit maxTimesUsual): the run would remove 4 im files, more than 3 times the usual 1 (median of the last 4 runs');
    // The totals count what the purge would do: nothing of the refused chat type.
    expect(text.stdout).toMatch(/Would purge: 0 files, 0 B, 0 AFT_LOG rows\./);
    expect(text.stdout).toMatch(/Would be refused \(not in the total above until approved\): 4 files, /);
    const dryJson = await f.purge('--dry-run', '--json');
    expect(summaryRecord(dryJson.stdout)).toMatchObject({ files: 0, refusedFiles: 4 });
    const a = await f.purge('--approve', tokenIn(text.stdout));
    expect(a.code, show(a)).toBe(0);
    expect(await f.node.indexes()).toEqual([]);
    expect(history()).toEqual([1, 2, 1, 1, 4]);
  });

  it('refuses a run that would remove every file of a chat type unless the policy says allowPurgeAll', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H', groupchat: 'PT2H' }, mutate: (c) => (c.purge.limits = { minFiles: 2 }) });
    const im = await expiredUploads(f, 2);
    const gc = await expiredUploads(f, 2, 'groupchat');
    const fresh = await f.node.upload({ chatType: 'groupchat', at: ago(60_000) });
    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(4);
    const refused = summaryRecord(r.stdout).nodes[0].refused;
    expect(refused).toEqual([expect.objectContaining({ chatType: 'im', limit: 'purgeAll', measured: 2, threshold: 2 })]);
    expect(refused[0].fix).toContain(`add "allowPurgeAll: true" to ${join(f.policiesDir, 'im.yaml')}`);
    // The refused chat type is untouched, the other one purged as usual.
    for (const u of im) expect(present(u.path)).toBe(true);
    for (const u of gc) expect(present(u.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);

    f.writePolicy('im', 'PT2H', 'allowPurgeAll: true\n');
    const ok = await f.purge();
    expect(ok.code, show(ok)).toBe(0);
    for (const u of im) expect(present(u.path)).toBe(false);
  });

  it('refuses a retention shorter than minRetention without allowShortRetention, and no token can lift it', async () => {
    const f = await env.fixture({ policies: {} });
    f.writePolicy('im', 'PT1H', 'allowShortRetention: false\n');
    const u = await f.node.upload({ at: ago(5 * HOUR_MS) });
    const r = await f.purge();
    expect(r.code, show(r)).toBe(4);
    expect(r.stdout).toContain('REFUSED im (limit minRetention): the im policy keeps files PT1H, shorter than purge.limits.minRetention (PT2H)');
    expect(r.stdout).toContain(`add "allowShortRetention: true" to ${join(f.policiesDir, 'im.yaml')}`);
    expect(r.stdout).not.toContain('--approve');
    expect(present(u.path)).toBe(true);
    f.writePolicy('im', 'PT1H', 'allowShortRetention: true\n');
    expect((await f.purge()).code).toBe(0);
    expect(present(u.path)).toBe(false);
  });
});
