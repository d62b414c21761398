// `purge --dry-run`: changes nothing, reports what a purge would do (text and --json),
// honours --node / --chat-type / --as-of; it logs in to the file server read-only, or not at all with --offline.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  avoidHourEdge,
  fileRecords,
  hourLabel,
  HOUR_MS,
  hourStart,
  parseJsonLines,
  present,
  show,
  summaryRecord,
  usePurgeEnv,
  type Fixture,
  type PurgeEnv,
  type Upload,
} from '../helpers/purgeFixture.js';
import { freePort } from '../helpers/procUtil.js';

const env = usePurgeEnv();

const ago = (hours: number, plusMs = 0) => new Date(hourStart().getTime() - hours * HOUR_MS + plusMs);

interface Seeded {
  f: Fixture;
  im: Upload[];
  gc: Upload[];
  kept: Upload[];
}

/**
 * im PT1H: 2 expired files (1000 B with 2 Gets at H-3h, 2000 B in HH.1 at H-5h), groupchat P1D:
 * 1 expired file (500 B, 1 Get, H-30h); kept: an im file of the current hour, a groupchat
 * file of 2 h ago, a canary outside the node directory, a persistent file (no policy).
 */
async function seed(extra: Parameters<PurgeEnv['fixture']>[0] = {}): Promise<Seeded> {
  const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'P1D' }, ...extra });
  const im = [
    await f.node.upload({ at: ago(3, 5_000), size: 1000, gets: [ago(2), ago(1)] }),
    await f.node.upload({ at: ago(5, 7_000), size: 2000, rollover: 1 }),
  ];
  const gc = [await f.node.upload({ chatType: 'groupchat', at: ago(30, 1), size: 500, gets: [ago(29)] })];
  const kept = [
    await f.node.upload({ at: ago(0), size: 111 }),
    await f.node.upload({ chatType: 'groupchat', at: ago(2), size: 222 }),
    await f.node.upload({ at: ago(10), path: join(f.outsideDir, 'canary.txt'), size: 333 }),
    await f.node.upload({ chatType: 'persistent', at: ago(24 * 800), size: 444 }),
  ];
  return { f, im, gc, kept };
}

/** The rows of a text report's per-chat-type table, as cells. */
function reportTable(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s{2,}/);
    if (['im', 'groupchat', 'persistent'].includes(cells[0]!)) out[cells[0]!] = cells;
  }
  return out;
}

describe('purge --dry-run', () => {
  it('changes nothing: the file tree and the whole table are identical afterwards', async () => {
    await avoidHourEdge();
    const { f } = await seed();
    const before = await f.snapshot();
    for (const args of [['--dry-run'], ['--dry-run', '--json'], ['--dry-run', '--as-of', new Date(Date.now() + 400 * 24 * HOUR_MS).toISOString()]]) {
      const r = await f.purge(...args);
      expect(r.code, show(r)).toBe(0);
      expect(await f.snapshot()).toEqual(before);
    }
  });

  it('prints per chat type the files, bytes and rows that would go and the oldest and newest hour', async () => {
    await avoidHourEdge();
    const { f } = await seed();
    const r = await f.purge('--dry-run');
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/DRY-RUN as of .*nothing was changed/);
    const t = reportTable(r.stdout);
    // chat type, retention, files, bytes, rows, oldest hour, newest hour, kept (why)
    expect(t.im!.slice(0, 7)).toEqual(['im', 'PT1H', '2', '2.93 KiB', '4', hourLabel(ago(5)), hourLabel(ago(3))]);
    expect(t.im![7]).toMatch(/outside-directory: 1/);
    expect(t.groupchat!.slice(0, 7)).toEqual(['groupchat', 'P1D', '1', '500 B', '2', hourLabel(ago(30)), hourLabel(ago(30))]);
    expect(t.persistent).toBeUndefined();
    expect(r.stdout).toMatch(/Would purge: 3 files, 3.42 KiB, 6 AFT_LOG rows\./);
  });

  it('--json: one file object per considered file, then a summary whose totals match', async () => {
    await avoidHourEdge();
    const { f, im, gc, kept } = await seed();
    const r = await f.purge('--dry-run', '--json');
    expect(r.code, show(r)).toBe(0);
    const lines = parseJsonLines(r.stdout);
    const files = fileRecords(r.stdout);
    expect(lines.filter((x) => x.type === 'file-server-check')).toEqual([expect.objectContaining({ node: 'node_1', status: 'ok' })]);
    expect(lines.slice(0, -1).filter((x) => x.type !== 'file-server-check')).toEqual(files);
    for (const rec of files) {
      expect(Object.keys(rec)).toEqual(expect.arrayContaining(['type', 'node', 'chatType', 'filePath', 'fileSize', 'decision', 'reason']));
      expect(rec.node).toBe('node_1');
      expect(rec).not.toHaveProperty('outcome');
    }
    const byPath = new Map(files.map((x) => [x.filePath, x]));
    expect(byPath.get(im[0]!.path)).toMatchObject({ chatType: 'im', fileSize: 1000, decision: 'delete', reason: 'expired', rows: 3 });
    expect(byPath.get(im[1]!.path)).toMatchObject({ chatType: 'im', fileSize: 2000, decision: 'delete', reason: 'expired', rows: 1, hour: ago(5).toISOString() });
    expect(byPath.get(gc[0]!.path)).toMatchObject({ chatType: 'groupchat', fileSize: 500, decision: 'delete', reason: 'expired', rows: 2 });
    expect(byPath.get(kept[2]!.path)).toMatchObject({ chatType: 'im', fileSize: 333, decision: 'keep', reason: 'outside-directory', rows: 0 });
    expect(files).toHaveLength(4);

    const s = summaryRecord(r.stdout);
    const deletes = files.filter((x) => x.decision === 'delete');
    expect(s).toMatchObject({ type: 'summary', dryRun: true });
    expect(s.files).toBe(deletes.length);
    expect(s.bytes).toBe(deletes.reduce((a, x) => a + x.fileSize, 0));
    expect(s.rows).toBe(deletes.reduce((a, x) => a + x.rows, 0));
    expect(s.kept).toBe(files.length - deletes.length);
    expect({ files: s.files, bytes: s.bytes, rows: s.rows }).toEqual({ files: 3, bytes: 3500, rows: 6 });
  });

  it('--node and --chat-type narrow what is considered', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'PT1H' }, nodes: [{ name: 'alpha' }, { name: 'beta' }] });
    const [a, b] = f.nodes as [typeof f.node, typeof f.node];
    await a.upload({ at: ago(5) });
    await a.upload({ chatType: 'groupchat', at: ago(5) });
    await b.upload({ at: ago(5) });
    await b.upload({ chatType: 'groupchat', at: ago(5) });
    const before = await f.snapshot();

    const all = await f.purge('--dry-run', '--json');
    expect(all.code, show(all)).toBe(0);
    expect(fileRecords(all.stdout)).toHaveLength(4);

    const onlyBeta = await f.purge('--dry-run', '--json', '--node', 'beta');
    expect(onlyBeta.code, show(onlyBeta)).toBe(0);
    expect(fileRecords(onlyBeta.stdout).map((x) => x.node)).toEqual(['beta', 'beta']);
    expect(summaryRecord(onlyBeta.stdout).nodes.map((n: { node: string }) => n.node)).toEqual(['beta']);

    const onlyIm = await f.purge('--dry-run', '--json', '--chat-type', 'im');
    expect(onlyIm.code, show(onlyIm)).toBe(0);
    expect(fileRecords(onlyIm.stdout).map((x) => `${x.node}/${x.chatType}`).sort()).toEqual(['alpha/im', 'beta/im']);
    for (const n of summaryRecord(onlyIm.stdout).nodes) expect(n.chatTypes.map((c: { chatType: string }) => c.chatType)).toEqual(['im']);

    const both = await f.purge('--dry-run', '--json', '--node', 'alpha', '--chat-type', 'groupchat');
    expect(both.code, show(both)).toBe(0);
    expect(fileRecords(both.stdout).map((x) => `${x.node}/${x.chatType}`)).toEqual(['alpha/groupchat']);
    expect(summaryRecord(both.stdout)).toMatchObject({ files: 1, rows: 1 });

    // Unknown names are usage errors.
    const badNode = await f.purge('--dry-run', '--node', 'gamma');
    expect(badNode.code, show(badNode)).toBe(2);
    expect(badNode.stderr).toMatch(/gamma.*alpha, beta/);
    const badType = await f.purge('--dry-run', '--chat-type', 'video');
    expect(badType.code, show(badType)).toBe(2);
    expect(badType.stderr).toMatch(/video.*im, groupchat, persistent/);
    expect(await f.snapshot()).toEqual(before);
  });

  it('--as-of a later date makes more files eligible (still changing nothing)', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'P2D' } });
    const old = await f.node.upload({ at: ago(24 * 3) });
    const dayOld = await f.node.upload({ at: ago(24), gets: [ago(20)] });
    const current = await f.node.upload({ at: ago(0) });
    const before = await f.snapshot();

    const today = await f.purge('--dry-run', '--json');
    expect(today.code, show(today)).toBe(0);
    expect(fileRecords(today.stdout).filter((x) => x.decision === 'delete').map((x) => x.filePath)).toEqual([old.path]);

    const asOf = new Date(Date.now() + 3 * 24 * HOUR_MS);
    const later = await f.purge('--dry-run', '--json', '--as-of', asOf.toISOString());
    expect(later.code, show(later)).toBe(0);
    expect(fileRecords(later.stdout).filter((x) => x.decision === 'delete').map((x) => x.filePath)).toEqual([old.path, dayOld.path, current.path]);
    const s = summaryRecord(later.stdout);
    expect(s).toMatchObject({ dryRun: true, asOf: asOf.toISOString(), files: 3, rows: 4 });

    const text = await f.purge('--dry-run', '--as-of', asOf.toISOString());
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain(`DRY-RUN as of ${asOf.toISOString()}`);
    expect(await f.snapshot()).toEqual(before);
  });

  it('--as-of without --dry-run is refused with exit 2 and changes nothing; a bad --as-of too', async () => {
    const { f } = await seed();
    const before = await f.snapshot();
    const r = await f.purge('--as-of', new Date(Date.now() + 24 * HOUR_MS).toISOString());
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--as-of.*--dry-run/);
    const bad = await f.purge('--dry-run', '--as-of', 'next tuesday');
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toMatch(/next tuesday/);
    // Not rolled over into March.
    const feb30 = await f.purge('--dry-run', '--as-of', '2026-02-30');
    expect(feb30.code, show(feb30)).toBe(2);
    expect(feb30.stderr).toContain('--as-of "2026-02-30"');
    // Without an offset: UTC, and said so.
    const local = await f.purge('--dry-run', '--json', '--as-of', '2030-06-01T08:00');
    expect(local.code, show(local)).toBe(0);
    expect(local.stderr).toContain('--as-of 2030-06-01T08:00 has no offset: read as UTC, 2030-06-01T08:00:00.000Z');
    expect(summaryRecord(local.stdout).asOf).toBe('2030-06-01T08:00:00.000Z');
    expect(await f.snapshot()).toEqual(before);
  });

  it('--offline never connects to the file server: a closed SFTP port still gives exit 0 (and a real purge would fail with 3)', async () => {
    const closed = await freePort();
    const { f } = await seed({ nodes: [{ name: 'node_1', fileServer: { port: closed, connectTimeout: 'PT5S' } }] });
    const before = await f.snapshot();
    const r = await f.purge('--dry-run', '--offline', '--json');
    expect(r.code, show(r)).toBe(0);
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 3, rows: 6 });
    expect(summaryRecord(r.stdout).nodes[0]).toMatchObject({ status: 'ok' });
    expect(parseJsonLines(r.stdout).filter((x) => x.type === 'file-server-check')).toEqual([]);
    const text = await f.purge('--dry-run', '--offline');
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain('The file servers were not contacted (--offline)');
    const real = await f.purge();
    expect(real.code, show(real)).toBe(3);
    expect(await f.snapshot()).toEqual(before);
  });

  it('logs in to the file server read-only and reports what it checked; an unreachable one is exit 3', async () => {
    const { f } = await seed();
    const before = await f.snapshot();
    const ok = await f.purge('--dry-run');
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toMatch(/File servers \(read-only checks; nothing was changed\):\n  node_1: ok\n    logged in to .*; its host key matches the pinned one\n    .* exists, with files\/ \(im, groupchat, persistent\)/);
    expect(await f.snapshot()).toEqual(before);

    const closed = await freePort();
    const g = (await seed({ nodes: [{ name: 'node_1', fileServer: { port: closed, connectTimeout: 'PT5S' } }] })).f;
    const r = await g.purge('--dry-run', '--json');
    expect(r.code, show(r)).toBe(3);
    expect(parseJsonLines(r.stdout).find((x) => x.type === 'file-server-check')).toMatchObject({ node: 'node_1', status: 'failed', connectionFailed: true });
  });

  it('says so when the directory is the parent of the node directories (every row would be kept as outside-directory)', async () => {
    const { f } = await seed();
    const parent = join(f.node.dir, '..');
    const g = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1', fileServer: { directory: parent } }] });
    const before = await g.snapshot();
    const r = await g.purge('--dry-run');
    expect(r.code, show(r)).toBe(3);
    expect(r.stdout).toMatch(/node_1: FAILED\n    .*: the node directory .* cannot be used: it has no files\/ folder/);
    expect(await g.snapshot()).toEqual(before);
  });

  it('its totals are what the purge then does, also when duplicate Post rows of a file fall in different batches', async () => {
    await avoidHourEdge();
    // Batches of 2 rows: the two Post rows of `dup` (indexes far apart, as a re-upload record
    // would be) land in different keyset batches.
    const f = await env.fixture({ policies: { im: 'PT1H' }, batchSize: 2 });
    const dup = await f.node.upload({ at: ago(9), size: 4000, gets: [ago(8)] });
    const others = [await f.node.upload({ at: ago(7), size: 10 }), await f.node.upload({ at: ago(6), size: 20 })];
    const dupPost = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: dup.path, fileSize: 4000, timestamp: ago(5) }]);
    const before = await f.snapshot();

    const dry = await f.purge('--dry-run', '--json');
    expect(dry.code, show(dry)).toBe(0);
    expect(await f.snapshot()).toEqual(before);
    const drySummary = summaryRecord(dry.stdout);

    const real = await f.purge('--json');
    expect(real.code, show(real)).toBe(0);
    expect(present(dup.path)).toBe(false);
    for (const u of others) expect(present(u.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([]);
    const realSummary = summaryRecord(real.stdout);
    expect({ files: realSummary.files, bytes: realSummary.bytes, rows: realSummary.rows }).toEqual({ files: 3, bytes: 4030, rows: 5 });
    expect(dupPost).toHaveLength(1);

    // What the dry-run announced is what the purge did: one file for `dup`, counted once.
    expect(fileRecords(dry.stdout).filter((x) => x.filePath === dup.path && x.decision === 'delete')).toHaveLength(1);
    expect({ files: drySummary.files, bytes: drySummary.bytes, rows: drySummary.rows }).toEqual({ files: 3, bytes: 4030, rows: 5 });
  });
});
