// mft-retention reconcile: expired hour folders against AFT_LOG, over real OpenSSH SFTP and a
// real PostgreSQL. Read-only by default; --remove-orphans removes orphans under the purge's rules.
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { avoidHourEdge, hourStart, HOUR_MS, parseJsonLines, present, runCli, show, usePurgeEnv } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (ms: number) => new Date(Date.now() - ms);

async function scene() {
  await avoidHourEdge();
  const f = await env.fixture({ policies: { im: 'PT2H' } });
  const n = f.node;
  const old = ago(6 * HOUR_MS);
  const orphan = f.writeFile(n.layoutPath('im', old, 'orphan.txt'), 1234);
  const orphanWithGets = f.writeFile(n.layoutPath('im', old, 'orphan-gets.txt'));
  await n.insertRows([{ method: 'Get', chatType: 'im', filePath: orphanWithGets, timestamp: old }]);
  const held = f.writeFile(n.layoutPath('im', ago(7 * HOUR_MS), 'held.txt'));
  const normal = await n.upload({ at: old });
  const missing = await n.upload({ at: old, createFile: false });
  // Not expired (its hour ended less than PT2H ago) and the current hour: never walked.
  const recentOrphan = f.writeFile(n.layoutPath('im', ago(HOUR_MS), 'recent.txt'));
  const currentOrphan = f.writeFile(n.layoutPath('im', hourStart(), 'current.txt'));
  // Not regular files, in an expired hour: reported as skipped, never removed.
  const target = f.writeFile(join(f.outsideDir, 'target.txt'));
  const link = n.layoutPath('im', old, 'link.txt');
  symlinkSync(target, link);
  f.mkdir(n.layoutPath('im', old, 'a-folder'));
  writeFileSync(join(f.policiesDir, 'holds.yaml'), `holds:\n  - name: keep-held\n    paths: [${held}]\n`);
  return { f, orphan, orphanWithGets, held, normal, missing, recentOrphan, currentOrphan, target, link };
}

describe('reconcile', () => {
  it('reports orphans, Post rows whose file is missing and odd entries, and changes nothing (exit 1)', async () => {
    const s = await scene();
    const before = await s.f.snapshot();
    const r = await runCli(['reconcile', '--config', s.f.configPath, '--json']);
    expect(r.code, show(r)).toBe(1);
    expect(await s.f.snapshot()).toEqual(before);
    const recs = parseJsonLines(r.stdout);
    const orphans = recs.filter((x) => x.type === 'orphan');
    expect(orphans.map((o) => [o.path, o.action, o.getRows]).sort()).toEqual(
      [
        [s.held, 'kept:hold:keep-held', 0],
        [s.orphan, 'reported', 0],
        [s.orphanWithGets, 'reported', 1],
      ].sort(),
    );
    expect(orphans.find((o) => o.path === s.orphan)).toMatchObject({ node: 'node_1', chatType: 'im', size: 1234 });
    expect(recs.filter((x) => x.type === 'missing-file')).toEqual([expect.objectContaining({ aftIndex: s.missing.postIndex, path: s.missing.path })]);
    expect(recs.filter((x) => x.type === 'skipped').map((x) => [x.path, x.entryType]).sort()).toEqual(
      [
        [s.link, 'symlink'],
        [s.link.replace('link.txt', 'a-folder'), 'directory'],
      ].sort(),
    );
    const summary = recs.at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', removeOrphans: false });
    expect(summary.nodes[0].chatTypes[0]).toMatchObject({ chatType: 'im', orphans: 3, missingFiles: 1, skipped: 2, files: 4 });

    const text = await runCli(['reconcile', '--config', s.f.configPath]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('RECONCILE (read-only): nothing was changed.');
    expect(text.stdout).toContain(`${s.orphanWithGets}  1000 B  (1 Get rows)  reported`);
    expect(text.stdout).toContain(`aft_index ${s.missing.postIndex}`);
    expect(text.stdout).toContain('Orphans: 3 (remove them with --remove-orphans). Post rows whose file is missing: 1.');
  });

  it('--remove-orphans removes only unheld regular files of expired hours, inside the node directory', async () => {
    const s = await scene();
    const rowsBefore = await s.f.node.rows();
    const r = await runCli(['reconcile', '--config', s.f.configPath, '--remove-orphans', '--json']);
    expect(r.code, show(r)).toBe(1); // the missing file's Post row is still there
    expect(present(s.orphan)).toBe(false);
    expect(present(s.orphanWithGets)).toBe(false);
    for (const p of [s.held, s.normal.path, s.recentOrphan, s.currentOrphan, s.target, s.link, s.link.replace('link.txt', 'a-folder')]) expect(present(p), p).toBe(true);
    expect(await s.f.node.rows()).toEqual(rowsBefore); // reconcile never deletes rows
    const actions = Object.fromEntries(parseJsonLines(r.stdout).filter((x) => x.type === 'orphan').map((o) => [o.path, o.action]));
    expect(actions).toEqual({ [s.orphan]: 'removed', [s.orphanWithGets]: 'removed', [s.held]: 'kept:hold:keep-held' });
  });

  it('exits 0 when the file server and AFT_LOG agree, and 3 when the file server cannot be reached', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    await f.node.upload({ at: ago(6 * HOUR_MS) });
    const ok = await runCli(['reconcile', '--config', f.configPath]);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toContain('Orphans: 0. Post rows whose file is missing: 0.');
    f.config.nodes[0].fileServer.port = 1;
    f.writeConfig();
    const down = await runCli(['reconcile', '--config', f.configPath]);
    expect(down.code, show(down)).toBe(3);
  });
});
