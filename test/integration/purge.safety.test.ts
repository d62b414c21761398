// Safety of the purge against a real OpenSSH SFTP server and a real PostgreSQL: files go
// first and rows only for files confirmed gone; nothing outside the node directory is ever
// deleted; the pinned host key is enforced; a second run is a no-op. How the purge works
// through its batches, and which folders it removes, is tested in process:
// test/unit/purgeNode.batches.test.ts and purgeNode.rules.test.ts.
import { describe, expect, it } from 'vitest';
import { chmodSync, chownSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  avoidHourEdge,
  fileRecords,
  hourFolders,
  HOUR_MS,
  hourStart,
  present,
  show,
  summaryRecord,
  usePurgeEnv,
} from '../helpers/purgeFixture.js';
import { freePort } from '../helpers/procUtil.js';

const env = usePurgeEnv();
/** Same PostgreSQL, an sshd whose login user is the unprivileged `mfttest` (destroyed before env). */
const userEnv = usePurgeEnv(() => ({ pg: env.pg, sshdOptions: { user: 'mfttest' } }));

const ago = (hours: number, plusMs = 0) => new Date(hourStart().getTime() - hours * HOUR_MS + plusMs);
const recordFor = (stdout: string, path: string) => fileRecords(stdout).filter((r) => r.filePath === path);

describe('purge safety', () => {
  it('file first: with the file server unreachable, no row is deleted (exit 3)', async () => {
    const closed = await freePort();
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1', fileServer: { port: closed, connectTimeout: 'PT5S' } }] });
    const a = await f.node.upload({ at: ago(10), gets: [ago(9)] });
    const b = await f.node.upload({ at: ago(20) });
    const before = await f.snapshot();

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(3);
    expect(present(a.path)).toBe(true);
    expect(present(b.path)).toBe(true);
    expect(await f.snapshot()).toEqual(before);
    const s = summaryRecord(r.stdout);
    expect(s.nodes[0]).toMatchObject({ node: 'node_1', status: 'failed' });
    expect(s.nodes[0].error).toContain(String(closed));
    expect(s).toMatchObject({ files: 0, rows: 0 });
  });

  it('file first: when the rows cannot be deleted no file goes (exit 6); once granted, the next run purges both', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const a = await f.node.upload({ at: ago(10), gets: [ago(9), ago(8)] });
    const b = await f.node.upload({ at: ago(12) });
    const keep = await f.node.upload({ at: ago(0) }); // current hour
    await f.node.sql('REVOKE DELETE ON aft_log FROM mft');

    const r1 = await f.purge('--json');
    expect(r1.code, show(r1)).toBe(6);
    // Checked before any removal: every file and every row stays.
    expect(present(a.path)).toBe(true);
    expect(present(b.path)).toBe(true);
    expect((await f.node.indexes()).sort()).toEqual([...a.indexes, ...b.indexes, ...keep.indexes].sort());
    expect(summaryRecord(r1.stdout).nodes[0].error).toContain('GRANT DELETE ON public.aft_log TO mft;');

    await f.node.sql('GRANT DELETE ON aft_log TO mft');
    const r2 = await f.purge('--json');
    expect(r2.code, show(r2)).toBe(0);
    expect(await f.node.indexes()).toEqual(keep.indexes);
    expect(present(a.path)).toBe(false);
    expect(present(b.path)).toBe(false);
    expect(recordFor(r2.stdout, a.path)[0]).toMatchObject({ decision: 'delete', outcome: 'removed', rows: 3 });
    expect(summaryRecord(r2.stdout)).toMatchObject({ files: 2, rows: 4, failed: 0 });
  });

  it('an already-missing file (or a whole missing hour folder) counts as removed and its rows are deleted', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const present1 = await f.node.upload({ at: ago(6), size: 100 });
    // Same hour folder, file never created.
    const missingFile = await f.node.upload({ at: ago(6, 1000), createFile: false, size: 200, gets: [ago(5)] });
    // Hour folder that does not exist at all.
    const missingHour = await f.node.upload({ at: ago(30), createFile: false, size: 300 });
    expect(present(missingHour.hourDir)).toBe(false);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(present1.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([]);
    expect(recordFor(r.stdout, missingFile.path)[0]).toMatchObject({ outcome: 'missing', rows: 2 });
    expect(recordFor(r.stdout, missingHour.path)[0]).toMatchObject({ outcome: 'missing', rows: 1 });
    const s = summaryRecord(r.stdout);
    expect(s).toMatchObject({ files: 3, bytes: 600, rows: 4, failed: 0 });
    expect(s.nodes[0].chatTypes[0]).toMatchObject({ chatType: 'im', files: 3, alreadyMissing: 2 });
  });

  it('a file the SFTP user may not remove keeps all its rows, exit 1, the rest of the batch is purged', async () => {
    const f = await userEnv.fixture({ policies: { im: 'PT1H' } });
    expect(userEnv.sshd.username).toBe('mfttest');
    const locked = await f.node.upload({ at: ago(5), gets: [ago(4), ago(3)] });
    const sameBatch = [await f.node.upload({ at: ago(6) }), await f.node.upload({ at: ago(7), gets: [ago(6)] }), await f.node.upload({ at: ago(4, 10) })];
    // The hour folder of `locked` belongs to root, 0755: mfttest cannot unlink in it.
    chownSync(locked.hourDir, 0, 0);
    chmodSync(locked.hourDir, 0o755);
    // A file mfttest cannot even see: its date folder is root's, 0700. It still exists, so its
    // rows must stay (it must not be taken for an already-missing file).
    const hidden = await f.node.upload({ at: ago(24 * 5), gets: [ago(24 * 4)] });
    const hiddenDateDir = dirname(hidden.hourDir);
    chownSync(hiddenDateDir, 0, 0);
    chmodSync(hiddenDateDir, 0o700);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(1);
    expect(present(locked.path)).toBe(true);
    expect(present(hidden.path)).toBe(true);
    for (const u of sameBatch) expect(present(u.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...locked.indexes, ...hidden.indexes]);
    expect(recordFor(r.stdout, locked.path)[0]).toMatchObject({ decision: 'delete', outcome: 'failed:permission-denied' });
    expect(recordFor(r.stdout, hidden.path)[0]).toMatchObject({ decision: 'delete', outcome: 'failed:permission-denied' });
    const s = summaryRecord(r.stdout);
    expect(s).toMatchObject({ files: 3, rows: 4, failed: 2 });
    expect(s.nodes[0]).toMatchObject({ status: 'partial' });
    expect(s.nodes[0].chatTypes[0].failed).toEqual({ 'permission-denied': 2 });

    // The text report says so too.
    const again = await f.purge();
    expect(again.code, show(again)).toBe(1);
    expect(again.stdout).toMatch(/permission-denied: 2/);
    expect(again.stdout).toMatch(/2 files failed and keep their rows/);
    expect(present(locked.path)).toBe(true);
    expect(present(hidden.path)).toBe(true);
    expect(await f.node.indexes()).toEqual([...locked.indexes, ...hidden.indexes]);
  });

  it('never deletes through a folder replaced by a symlink out of the node directory (symlink-escape)', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    // Hour folder -> outside.
    const hourAt = ago(10);
    const { date, hour } = hourFolders(hourAt);
    const evilHour = join(f.outsideDir, 'evil-hour');
    const victim1 = f.writeFile(join(evilHour, 'victim.txt'));
    const hourDir = join(f.node.dir, 'files', 'im', date, hour);
    f.mkdir(dirname(hourDir));
    symlinkSync(evilHour, hourDir);
    const viaHour = await f.node.upload({ at: hourAt, path: join(hourDir, 'victim.txt'), createFile: false, gets: [ago(9)] });
    // Date folder -> outside.
    const dateAt = ago(24 * 3);
    const d2 = hourFolders(dateAt);
    const evilDate = join(f.outsideDir, 'evil-date');
    const victim2 = f.writeFile(join(evilDate, d2.hour, 'victim2.txt'));
    symlinkSync(evilDate, join(f.node.dir, 'files', 'im', d2.date));
    const viaDate = await f.node.upload({ at: dateAt, path: join(f.node.dir, 'files', 'im', d2.date, d2.hour, 'victim2.txt'), createFile: false });
    // The file itself is a symlink to a file outside: only the link may go.
    const linkAt = ago(30);
    const linkTarget = f.writeFile(join(f.outsideDir, 'link-target.txt'));
    const linkPath = f.node.layoutPath('im', linkAt, 'link.txt');
    f.mkdir(dirname(linkPath));
    symlinkSync(linkTarget, linkPath);
    const viaLink = await f.node.upload({ at: linkAt, path: linkPath, createFile: false });
    const control = await f.node.upload({ at: ago(11) });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(1);
    expect(present(victim1)).toBe(true);
    expect(present(victim2)).toBe(true);
    expect(present(linkTarget)).toBe(true);
    expect(readdirSync(f.outsideDir).sort()).toEqual(['evil-date', 'evil-hour', 'link-target.txt']);
    expect(present(linkPath)).toBe(false);
    expect(present(control.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...viaHour.indexes, ...viaDate.indexes].sort());
    expect(recordFor(r.stdout, viaHour.path)[0]).toMatchObject({ outcome: 'failed:symlink-escape' });
    expect(recordFor(r.stdout, viaDate.path)[0]).toMatchObject({ outcome: 'failed:symlink-escape' });
    expect(recordFor(r.stdout, viaLink.path)[0]).toMatchObject({ outcome: 'removed' });
    expect(summaryRecord(r.stdout).nodes[0].chatTypes[0].failed).toEqual({ 'symlink-escape': 2 });
  });

  it('a "file" that is a directory is not removed and keeps its rows', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const dirAt = ago(8);
    const dirPath = f.node.layoutPath('im', dirAt, 'actually-a-dir.txt');
    const inner = f.writeFile(join(dirPath, 'inner.bin'));
    const asDir = await f.node.upload({ at: dirAt, path: dirPath, createFile: false, gets: [ago(7)] });
    const sibling = await f.node.upload({ at: dirAt });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(1);
    expect(present(inner)).toBe(true);
    expect(present(sibling.path)).toBe(false);
    expect(await f.node.indexes()).toEqual(asDir.indexes);
    const rec = recordFor(r.stdout, dirPath)[0];
    expect(rec?.outcome).toMatch(/^failed:/);
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 1, failed: 1 });
  });

  it('refuses a file server whose host key is not the pinned one: exit 3, nothing deleted, both fingerprints named, no secrets', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1', fileServer: { hostKey: env.sshd.otherHostKeyFingerprint } }] });
    const a = await f.node.upload({ at: ago(10), gets: [ago(9)] });
    const before = await f.snapshot();

    for (const args of [[], ['--json']]) {
      const r = await f.purge(...args);
      expect(r.code, show(r)).toBe(3);
      const out = r.stdout + r.stderr;
      // The report itself (not only the log) says what was seen and what was pinned.
      const said = args.length ? summaryRecord(r.stdout).nodes[0].error : r.stdout;
      expect(said).toContain(`host key ${env.sshd.hostKeyFingerprint} does not match the pinned key ${env.sshd.otherHostKeyFingerprint}`);
      expect(out).not.toContain(env.pg.mftUser.password);
      for (const line of env.sshd.clientPrivateKey.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) {
        expect(out).not.toContain(line);
      }
    }
    expect(present(a.path)).toBe(true);
    expect(await f.snapshot()).toEqual(before);
  });

  it('a second run after a purge is a no-op with exit 0', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'P1D' } });
    await f.node.upload({ at: ago(3), gets: [ago(2)] });
    await f.node.upload({ chatType: 'groupchat', at: ago(48) });
    const kept = [
      await f.node.upload({ at: ago(0) }),
      await f.node.upload({ chatType: 'groupchat', at: ago(2) }),
      await f.node.upload({ at: ago(3), path: join(f.outsideDir, 'canary.txt') }),
    ];

    const r1 = await f.purge('--json');
    expect(r1.code, show(r1)).toBe(0);
    expect(summaryRecord(r1.stdout)).toMatchObject({ files: 2, rows: 3 });
    const after1 = await f.snapshot();
    for (const k of kept) expect(present(k.path)).toBe(true);

    const r2 = await f.purge('--json');
    expect(r2.code, show(r2)).toBe(0);
    expect(summaryRecord(r2.stdout)).toMatchObject({ files: 0, rows: 0, failed: 0 });
    expect(fileRecords(r2.stdout).every((x) => x.decision === 'keep')).toBe(true);
    expect(await f.snapshot()).toEqual(after1);
    const r3 = await f.purge();
    expect(r3.code, show(r3)).toBe(0);
    expect(r3.stdout).toMatch(/Purged: 0 files, 0 B, 0 AFT_LOG rows\./);
    expect(await f.snapshot()).toEqual(after1);
  });
  it('one node failing does not stop the others: node_b is purged, node_a untouched, exit 3', async () => {
    const closed = await freePort();
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_a', fileServer: { port: closed, connectTimeout: 'PT5S' } }, { name: 'node_b' }] });
    const [a, b] = f.nodes as [typeof f.node, typeof f.node];
    const ua = await a.upload({ at: ago(5), gets: [ago(4)] });
    const ub = await b.upload({ at: ago(5), gets: [ago(4)] });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(3);
    expect(present(ua.path)).toBe(true);
    expect(await a.indexes()).toEqual(ua.indexes);
    expect(present(ub.path)).toBe(false);
    expect(await b.indexes()).toEqual([]);
    const s = summaryRecord(r.stdout);
    expect(s.nodes.map((n: { node: string; status: string }) => [n.node, n.status])).toEqual([
      ['node_a', 'failed'],
      ['node_b', 'ok'],
    ]);
  });

  it('a node directory that is itself a symlink (e.g. /opt/mftFileStore -> /data) is purged normally', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1', dirName: 'real_node_1' }] });
    const link = join(f.base, 'node_1');
    symlinkSync(f.node.dir, link);
    f.config.nodes[0].fileServer.directory = link;
    f.writeConfig();
    const old = ago(7);
    const viaLink = f.writeFile(join(f.node.dir, 'files', 'im', ...Object.values(hourFolders(old)), 'a.txt'));
    const linkPath = viaLink.replace(f.node.dir, link);
    const rows = await f.node.insertRows([
      { method: 'Post', chatType: 'im', filePath: linkPath, timestamp: old },
      { method: 'Get', chatType: 'im', filePath: linkPath, timestamp: old },
    ]);
    // A row naming the real directory is outside the configured one: kept.
    const realNamed = await f.node.upload({ at: old, name: 'b.txt' });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(viaLink)).toBe(false);
    expect(present(realNamed.path)).toBe(true);
    expect(await f.node.indexes()).toEqual(realNamed.indexes);
    expect(recordFor(r.stdout, linkPath)[0]).toMatchObject({ outcome: 'removed', rows: rows.length });
    expect(recordFor(r.stdout, realNamed.path)[0]).toMatchObject({ decision: 'keep', reason: 'outside-directory' });
  });

  it('a node directory missing on the file server fails the node (exit 3) and deletes no row', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const u = await f.node.upload({ at: ago(5), createFile: false });
    f.config.nodes[0].fileServer.directory = join(f.base, 'no_such_node');
    f.writeConfig();
    // Rows naming the missing directory: they would all look "already missing".
    const ghost = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: join(f.base, 'no_such_node', 'files', 'im', ...Object.values(hourFolders(ago(5))), 'x.txt'), timestamp: ago(5) }]);
    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(3);
    expect(summaryRecord(r.stdout).nodes[0].error).toMatch(/no_such_node.*does not exist/);
    expect(await f.node.indexes()).toEqual([...u.indexes, ...ghost]);
  });
  it('a file that cannot be removed is reported once per run, even when its duplicate Post rows fall in different batches', async () => {
    const f = await userEnv.fixture({ policies: { im: 'PT1H' }, batchSize: 2 });
    const locked = await f.node.upload({ at: ago(9), gets: [ago(8)] });
    const others = [await f.node.upload({ at: ago(7) }), await f.node.upload({ at: ago(6) })];
    const dupPost = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: locked.path, timestamp: ago(5) }]);
    chownSync(locked.hourDir, 0, 0);
    chmodSync(locked.hourDir, 0o755);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(1);
    expect(present(locked.path)).toBe(true);
    for (const u of others) expect(present(u.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...locked.indexes, ...dupPost]);
    expect(recordFor(r.stdout, locked.path).map((x) => x.outcome)).toEqual(['failed:permission-denied']);
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 2, rows: 2, failed: 1 });
  });
});
