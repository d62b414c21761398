// The eligibility rule end to end: the real CLI against a real PostgreSQL AFT_LOG and a real
// OpenSSH SFTP server. Every test asserts on the file system and the table afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  avoidHourEdge,
  fileRecords,
  hourFolders,
  HOUR_MS,
  hourStart,
  present,
  show,
  startPurgeEnv,
  summaryRecord,
  type PurgeEnv,
} from '../helpers/purgeFixture.js';

let env: PurgeEnv;

beforeAll(async () => {
  env = await startPurgeEnv();
});
afterAll(async () => {
  await env?.destroy();
});

/** Current UTC hour start (H) and a helper for instants relative to it. */
function clock() {
  const H = hourStart(new Date());
  return { H, at: (ms: number) => new Date(H.getTime() + ms) };
}

/** An instant `ms` before now: recent whatever the minute, unlike an offset from the hour start. */
const ago = (ms: number) => new Date(Date.now() - ms);

const recordFor = (stdout: string, path: string) => fileRecords(stdout).filter((r) => r.filePath === path);

describe('purge eligibility, end to end', () => {
  it('removes an expired file with its Post and Get rows, keeps an unexpired one with its rows', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const { at } = clock();
    const now = new Date();
    // Expired: uploaded more than 3 h before the current hour, downloaded twice, once just now.
    const expired = await f.node.upload({ at: at(-3 * HOUR_MS - 10 * 60_000), size: 1234, gets: [at(-3 * HOUR_MS), at(-2 * HOUR_MS), now] });
    // Not expired: 30 min before the current hour is always within 2 h of now.
    const fresh = await f.node.upload({ at: at(-30 * 60_000), gets: [at(-20 * 60_000)] });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);

    expect(present(expired.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);
    const left = await f.node.indexes();
    expect(left).toEqual(fresh.indexes);
    for (const i of expired.indexes) expect(left).not.toContain(i);

    const rec = recordFor(r.stdout, expired.path);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ node: 'node_1', chatType: 'im', fileSize: 1234, decision: 'delete', reason: 'expired', outcome: 'removed', rows: 4 });
    // The unexpired upload is never even selected as a candidate.
    expect(recordFor(r.stdout, fresh.path)).toHaveLength(0);
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 1, bytes: 1234, rows: 4, failed: 0 });
  });

  it('never purges a file of the current UTC hour (PT1H), even when only its folder or only its timestamp is in the current hour', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const { H, at } = clock();
    // Folder and timestamp in the current hour (first ms of it), downloaded just now.
    const current = await f.node.upload({ at: H, gets: [new Date()] });
    // An old timestamp but the current hour's folder: the folder wins, the file stays.
    const oldRowCurrentFolder = await f.node.upload({ at: at(-5 * HOUR_MS), folderAt: H });
    // An old timestamp in a folder of the next hour: a time-zone or clock mistake, kept.
    const futureFolder = await f.node.upload({ at: at(-5 * HOUR_MS), folderAt: at(HOUR_MS) });
    // Control: really expired.
    const expired = await f.node.upload({ at: at(-5 * HOUR_MS) });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);

    for (const u of [current, oldRowCurrentFolder, futureFolder]) expect(present(u.path)).toBe(true);
    expect(present(expired.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...current.indexes, ...oldRowCurrentFolder.indexes, ...futureFolder.indexes]);

    expect(recordFor(r.stdout, current.path)).toHaveLength(0); // not a candidate at all
    expect(recordFor(r.stdout, oldRowCurrentFolder.path)[0]).toMatchObject({ decision: 'keep', reason: 'current-hour', rows: 0 });
    expect(recordFor(r.stdout, futureFolder.path)[0]).toMatchObject({ decision: 'keep', reason: 'future-timestamp' });
    expect(recordFor(r.stdout, expired.path)[0]).toMatchObject({ decision: 'delete', outcome: 'removed' });
  });

  it('at the hour boundary with PT1H: the last ms of the previous hour stays, its first ms goes', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const { H, at } = clock();
    // H - 1 ms is older than now - 1 h only once now >= H + 1 h - 1 ms: never within this hour.
    const lastMsPrev = await f.node.upload({ at: at(-1) });
    // H - 1 h is older than now - 1 h as soon as now > H: always during this hour.
    const firstMsPrev = await f.node.upload({ at: at(-HOUR_MS) });
    // And the last ms of the hour before.
    const lastMsBefore = await f.node.upload({ at: at(-HOUR_MS - 1) });
    expect(hourFolders(at(-1)).hour).toBe(hourFolders(at(-HOUR_MS)).hour);
    expect(hourFolders(at(-1)).hour).not.toBe(hourFolders(H).hour);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(lastMsPrev.path)).toBe(true);
    expect(present(firstMsPrev.path)).toBe(false);
    expect(present(lastMsBefore.path)).toBe(false);
    expect(await f.node.indexes()).toEqual(lastMsPrev.indexes);
    expect(recordFor(r.stdout, lastMsPrev.path)).toHaveLength(0);
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 2, rows: 2 });
  });

  it('purges roll-over folders HH.1 and HH.2 of an expired hour, keeps HH.1 of the current hour', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { groupchat: 'PT1H' } });
    const { H, at } = clock();
    const plain = await f.node.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 1000) });
    const r1 = await f.node.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 2000), rollover: 1, gets: [at(-3 * HOUR_MS)] });
    const r2 = await f.node.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 3000), rollover: 2 });
    const currentRoll = await f.node.upload({ chatType: 'groupchat', at: H, rollover: 1 });
    expect(r1.hourDir.endsWith(`/${hourFolders(at(-4 * HOUR_MS)).hour}.1`)).toBe(true);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    for (const u of [plain, r1, r2]) expect(present(u.path)).toBe(false);
    expect(present(currentRoll.path)).toBe(true);
    expect(await f.node.indexes()).toEqual(currentRoll.indexes);
    expect(recordFor(r.stdout, r1.path)[0]).toMatchObject({ chatType: 'groupchat', decision: 'delete', outcome: 'removed', rows: 2, hour: at(-4 * HOUR_MS).toISOString() });
  });

  it('keeps a canary outside the node directory (outside-directory) and its rows', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const { at } = clock();
    const canary = await f.node.upload({ at: at(-48 * HOUR_MS), path: join(f.outsideDir, 'canary.txt'), gets: [at(-47 * HOUR_MS)] });
    // The node directory itself (not under files/) and the file server's parent dir.
    const besideFiles = await f.node.upload({ at: at(-48 * HOUR_MS), path: join(f.node.dir, 'canary-beside-files.txt') });
    const control = await f.node.upload({ at: at(-48 * HOUR_MS) });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(canary.path)).toBe(true);
    expect(present(besideFiles.path)).toBe(true);
    expect(present(control.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...canary.indexes, ...besideFiles.indexes]);
    expect(recordFor(r.stdout, canary.path)[0]).toMatchObject({ decision: 'keep', reason: 'outside-directory', outcome: 'kept', rows: 0 });
    expect(recordFor(r.stdout, besideFiles.path)[0]).toMatchObject({ decision: 'keep', reason: 'outside-directory' });
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 1, kept: 2 });
  });

  it('keeps files named through ".." segments (bad-path), and malformed layout paths', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const { at } = clock();
    const old = at(-48 * HOUR_MS);
    const { date, hour } = hourFolders(old);
    const target = f.writeFile(join(f.outsideDir, 'dotdot.txt'));
    const dotdot = `${f.node.dir}/files/im/${date}/${hour}/../../../../../outside/dotdot.txt`;
    // A real file in the node directory reached by a path that climbs out and back in.
    const inside = await f.node.upload({ at: old, name: 'inside.txt' });
    const backIn = `${f.node.dir}/files/im/${date}/${hour}/../${hour}/inside.txt`;
    // Too deep, and a date folder that is not a date.
    const deep = await f.node.upload({ at: old, path: `${f.node.dir}/files/im/${date}/${hour}/sub/deep.txt` });
    const badDate = await f.node.upload({ at: old, path: `${f.node.dir}/files/im/20231340/${hour}/bad-date.txt` });
    const emptyPath = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: '', timestamp: old }]);
    const rows = await f.node.insertRows([
      { method: 'Post', chatType: 'im', filePath: dotdot, timestamp: old },
      { method: 'Get', chatType: 'im', filePath: dotdot, timestamp: old },
      { method: 'Post', chatType: 'im', filePath: backIn, timestamp: old },
    ]);
    // The inside.txt upload row itself is expired too: delete its own row pair so only the
    // ".." row refers to it.
    await f.node.sql('DELETE FROM aft_log WHERE aft_index = $1', [inside.postIndex]);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(target)).toBe(true);
    expect(present(inside.path)).toBe(true);
    expect(present(deep.path)).toBe(true);
    expect(present(badDate.path)).toBe(true);
    expect((await f.node.indexes()).sort()).toEqual([...deep.indexes, ...badDate.indexes, ...emptyPath, ...rows].sort());
    expect(recordFor(r.stdout, dotdot)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r.stdout, backIn)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r.stdout, deep.path)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r.stdout, badDate.path)[0]).toMatchObject({ decision: 'keep', reason: 'bad-date-folder' });
    expect(recordFor(r.stdout, '')[0]).toMatchObject({ decision: 'keep', reason: 'empty-path' });
    expect(summaryRecord(r.stdout)).toMatchObject({ files: 0, rows: 0 });
  });

  it("node_1 never touches node_10's directory, though node_10's path starts with node_1's", async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1' }, { name: 'node_10' }] });
    const [n1, n10] = f.nodes as [typeof f.node, typeof f.node];
    expect(n10.dir.startsWith(n1.dir)).toBe(true);
    const { at } = clock();
    const old = at(-30 * HOUR_MS);
    // node_1's AFT_LOG names a file in node_10's directory.
    const foreignPath = n10.layoutPath('im', old, 'foreign.txt');
    const foreign = await n1.upload({ at: old, path: foreignPath, gets: [old] });
    const own1 = await n1.upload({ at: old });
    const own10 = await n10.upload({ at: old });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(foreignPath)).toBe(true);
    expect(present(own1.path)).toBe(false);
    expect(present(own10.path)).toBe(false);
    expect(await n1.indexes()).toEqual(foreign.indexes);
    expect(await n10.indexes()).toEqual([]);
    const rec = fileRecords(r.stdout).filter((x) => x.filePath === foreignPath);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ node: 'node_1', decision: 'keep', reason: 'outside-directory' });
  });

  it('keeps a file whose row chat_type disagrees with its folder (both directions)', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'PT1H' } });
    const { at } = clock();
    const old = at(-10 * HOUR_MS);
    const imRowInGroupchat = await f.node.upload({ chatType: 'groupchat', rowChatType: 'im', at: old, gets: [old] });
    const gcRowInIm = await f.node.upload({ chatType: 'im', rowChatType: 'groupchat', at: old });
    const control = await f.node.upload({ chatType: 'groupchat', at: old });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(imRowInGroupchat.path)).toBe(true);
    expect(present(gcRowInIm.path)).toBe(true);
    expect(present(control.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([...imRowInGroupchat.indexes, ...gcRowInIm.indexes]);
    expect(recordFor(r.stdout, imRowInGroupchat.path)[0]).toMatchObject({ chatType: 'im', decision: 'keep', reason: 'chat-type-mismatch' });
    expect(recordFor(r.stdout, gcRowInIm.path)[0]).toMatchObject({ chatType: 'groupchat', decision: 'keep', reason: 'chat-type-mismatch' });
  });

  it('never purges a chat type that has no policy file', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const { at } = clock();
    const ancient = await f.node.upload({ chatType: 'persistent', at: at(-2000 * HOUR_MS), gets: [at(-1999 * HOUR_MS)] });
    const im = await f.node.upload({ chatType: 'im', at: at(-2000 * HOUR_MS) });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(ancient.path)).toBe(true);
    expect(present(im.path)).toBe(false);
    expect(await f.node.indexes()).toEqual(ancient.indexes);
    expect(fileRecords(r.stdout).filter((x) => x.chatType === 'persistent')).toHaveLength(0);
    const s = summaryRecord(r.stdout);
    expect(s.nodes[0].chatTypes.map((c: { chatType: string }) => c.chatType)).toEqual(['im']);
  });

  it('never purges a chat type whose retention is "forever"', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H', groupchat: 'forever' } });
    const { at } = clock();
    const ancient = await f.node.upload({ chatType: 'groupchat', at: at(-24 * 400 * HOUR_MS), gets: [at(-24 * 399 * HOUR_MS)] });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(ancient.path)).toBe(true);
    expect(await f.node.indexes()).toEqual(ancient.indexes);
    const gc = summaryRecord(r.stdout).nodes[0].chatTypes.find((c: { chatType: string }) => c.chatType === 'groupchat');
    expect(gc).toMatchObject({ retention: 'forever', files: 0, rows: 0 });
    expect(fileRecords(r.stdout)).toHaveLength(0);
  });

  it('does not read AFT_LOG for a chat type the count before the run found nothing expired in; still purges the others', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT2H', groupchat: 'PT2H', persistent: 'PT2H' }, logLevel: 'debug' });
    const { at } = clock();
    const expired = await f.node.upload({ chatType: 'im', at: at(-3 * HOUR_MS), gets: [at(-2 * HOUR_MS)] });
    const fresh = await f.node.upload({ chatType: 'groupchat', at: at(-30 * 60_000), gets: [at(-20 * 60_000)] });

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(expired.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);
    expect(await f.node.indexes()).toEqual(fresh.indexes);
    const skipped = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; chatType?: string })
      .filter((l) => l.msg === 'no expired uploads counted; AFT_LOG not read for this chat type')
      .map((l) => l.chatType);
    expect(skipped).toEqual(['groupchat', 'persistent']);
    const s = summaryRecord(r.stdout);
    expect(s.nodes[0].chatTypes.map((c: { chatType: string; files: number }) => [c.chatType, c.files])).toEqual([
      ['groupchat', 0],
      ['im', 1],
      ['persistent', 0],
    ]);
  });

  it('keeps a file with a duplicate Post row that is not expired (either order), across keyset batches of 1', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' }, batchSize: 1 });
    const { at } = clock();
    const old = at(-6 * HOUR_MS);
    // Old Post first, a recent re-upload of the same path afterwards.
    const a = await f.node.upload({ at: old, gets: [at(-5 * HOUR_MS)] });
    const aRecent = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: a.path, timestamp: ago(60_000) }]);
    // The recent Post has the lower aft_index this time.
    const bPath = f.node.layoutPath('im', old, 'b.txt');
    f.writeFile(bPath);
    const bRecent = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: bPath, timestamp: ago(60_000) }]);
    const bOld = await f.node.insertRows([
      { method: 'Post', chatType: 'im', filePath: bPath, timestamp: old },
      { method: 'Get', chatType: 'im', filePath: bPath, timestamp: old },
    ]);
    // Two expired Post rows of one file: one file removed, every row goes.
    const c = await f.node.upload({ at: old, gets: [old] });
    const cDup = await f.node.insertRows([{ method: 'Post', chatType: 'im', filePath: c.path, timestamp: at(-5 * HOUR_MS) }]);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(a.path)).toBe(true);
    expect(present(bPath)).toBe(true);
    expect(present(c.path)).toBe(false);
    expect((await f.node.indexes()).sort()).toEqual([...a.indexes, ...aRecent, ...bRecent, ...bOld].sort());
    expect(recordFor(r.stdout, a.path)[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    expect(recordFor(r.stdout, bPath)[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    const cRec = recordFor(r.stdout, c.path);
    expect(cRec).toHaveLength(1);
    expect(cRec[0]).toMatchObject({ decision: 'delete', outcome: 'removed', rows: 3 });
    expect(cDup).toHaveLength(1);
  });

  it('matches paths exactly: names with %, _, *, quotes, backslashes, spaces and non-ASCII (Cisco server settings)', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    // Cisco requires these on the server: backslashes in literals are escapes.
    await f.node.sql(`ALTER DATABASE ${f.node.database} SET standard_conforming_strings = off`);
    await f.node.sql(`ALTER DATABASE ${f.node.database} SET escape_string_warning = off`);
    const { at } = clock();
    const old = at(-5 * HOUR_MS);
    const names = ['50% off_now.txt', "it's \\ a \"test\".txt", 'ünïcødé 文件.png', '*.txt', 'a?b[c].txt'];
    const expired = [];
    for (const name of names) expired.push(await f.node.upload({ at: old, name, gets: [at(-4 * HOUR_MS)] }));
    // Look-alikes in the same (expired) hour folder whose rows are recent: never candidates,
    // and a LIKE / glob / escape mix-up would take them with the others.
    const lookalikes = [];
    for (const name of ['50X offYnow.txt', "it's  a \"test\".txt", 'x.txt', 'aXb[c].txt', 'abc.txt']) {
      lookalikes.push(await f.node.upload({ at: ago(60_000), folderAt: old, name, gets: [ago(30_000)] }));
    }

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    for (const u of expired) expect(present(u.path), u.path).toBe(false);
    for (const u of lookalikes) expect(present(u.path), u.path).toBe(true);
    expect(await f.node.indexes()).toEqual(lookalikes.flatMap((u) => u.indexes));
    const rows = await f.node.rows();
    expect(rows.map((x) => x.file_path)).toEqual(lookalikes.flatMap((u) => [u.path, u.path]));
    expect(summaryRecord(r.stdout)).toMatchObject({ files: names.length, rows: names.length * 2 });
  });

  it('walks aft_index values beyond 2^53 exactly (keyset batches of 1)', async () => {
    const f = await env.fixture({ policies: { im: 'PT1H' }, batchSize: 1 });
    const { at } = clock();
    const big = [9_007_199_254_740_993n, 9_007_199_254_740_994n, 9_007_199_254_740_995n, 9_223_372_036_854_775_807n];
    const paths: string[] = [];
    for (const [i, idx] of big.entries()) {
      const path = f.writeFile(f.node.layoutPath('im', at(-(i + 3) * HOUR_MS), `big-${i}.txt`));
      paths.push(path);
      await f.node.insertRows([{ aftIndex: idx, method: 'Post', chatType: 'im', filePath: path, timestamp: at(-(i + 3) * HOUR_MS) }]);
    }
    const small = await f.node.upload({ at: at(-3 * HOUR_MS) });
    // A large index whose upload is recent stays.
    const recentPath = f.writeFile(f.node.layoutPath('im', at(0), 'recent.txt'));
    await f.node.insertRows([{ aftIndex: 9_007_199_254_740_992n, method: 'Post', chatType: 'im', filePath: recentPath, timestamp: at(0) }]);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    for (const p of paths) expect(present(p)).toBe(false);
    expect(present(small.path)).toBe(false);
    expect(present(recentPath)).toBe(true);
    expect(await f.node.indexes()).toEqual(['9007199254740992']);
    expect(fileRecords(r.stdout).map((x) => x.aftIndex).sort()).toEqual([small.postIndex, ...big.map(String)].sort());
  });

  it('reads timestampvalue in the configured timestampZone (Asia/Kolkata, +05:30)', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' }, nodes: [{ name: 'node_1', database: { timestampZone: 'Asia/Kolkata' } }] });
    const { H, at } = clock();
    const expired = await f.node.upload({ at: at(-HOUR_MS - 1), gets: [at(-HOUR_MS)] });
    const lastMsPrev = await f.node.upload({ at: at(-1) });
    const current = await f.node.upload({ at: H });
    // The database stores local wall-clock time: UTC + 5:30.
    await f.node.sql(`UPDATE aft_log SET timestampvalue = timestampvalue + interval '5 hours 30 minutes'`);

    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(present(expired.path)).toBe(false);
    expect(present(lastMsPrev.path)).toBe(true);
    expect(present(current.path)).toBe(true);
    expect(await f.node.indexes()).toEqual([...lastMsPrev.indexes, ...current.indexes]);
    expect(recordFor(r.stdout, expired.path)[0]).toMatchObject({ uploadedAt: at(-HOUR_MS - 1).toISOString(), outcome: 'removed', rows: 2 });
  });
});
