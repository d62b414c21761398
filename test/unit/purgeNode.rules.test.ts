// The purge's rules, in process: the real purgeNode on the in-memory AFT_LOG and the real
// LocalFileStore on a temporary node directory, with the clocks fixed at NOW (14:37 UTC), so
// the current hour is known without waiting for its edge. Every test asserts on the files and
// the rows left afterwards. The same rules against the real servers and the CLI:
// test/integration/purge.rules.test.ts and purge.safety.test.ts.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { at, H, HOUR_MS, hourFolders, NOW, present, type MemoryNode, type PurgeRun, useMemoryNodes } from '../helpers/memoryPurge.js';

const node = useMemoryNodes();

/** An instant `ms` before now. */
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const recordFor = (run: PurgeRun, path: string) => run.records.filter((r) => r.filePath === path);

describe('purge eligibility, in process', () => {
  it('removes an expired file with its Post and Get rows, keeps an unexpired one with its rows', async () => {
    const f = node({ policies: { im: 'PT2H' } });
    const expired = f.upload({ at: at(-3 * HOUR_MS - 10 * 60_000), size: 1234, gets: [at(-3 * HOUR_MS), at(-2 * HOUR_MS), NOW] });
    const fresh = f.upload({ at: at(-30 * 60_000), gets: [at(-20 * 60_000)] });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(expired.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);
    expect(f.indexes()).toEqual(fresh.indexes);
    const rec = recordFor(r, expired.path);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ node: 'node_1', chatType: 'im', fileSize: 1234, decision: 'delete', reason: 'expired', outcome: 'removed', rows: 4 });
    // The unexpired upload is never even selected as a candidate.
    expect(recordFor(r, fresh.path)).toHaveLength(0);
    expect(r.summary).toMatchObject({ files: 1, bytes: 1234, rows: 4, failed: 0 });
  });

  it('never purges a file of the current UTC hour (PT1H), even when only its folder or only its timestamp is in the current hour', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    // Folder and timestamp in the current hour (first ms of it), downloaded just now.
    const current = f.upload({ at: H, gets: [NOW] });
    // An old timestamp but the current hour's folder: the folder wins, the file stays.
    const oldRowCurrentFolder = f.upload({ at: at(-5 * HOUR_MS), folderAt: H });
    // An old timestamp in a folder of the next hour: a time-zone or clock mistake, kept.
    const futureFolder = f.upload({ at: at(-5 * HOUR_MS), folderAt: at(HOUR_MS) });
    const expired = f.upload({ at: at(-5 * HOUR_MS) });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    for (const u of [current, oldRowCurrentFolder, futureFolder]) expect(present(u.path)).toBe(true);
    expect(present(expired.path)).toBe(false);
    expect(f.indexes()).toEqual([...current.indexes, ...oldRowCurrentFolder.indexes, ...futureFolder.indexes]);
    expect(recordFor(r, current.path)).toHaveLength(0);
    expect(recordFor(r, oldRowCurrentFolder.path)[0]).toMatchObject({ decision: 'keep', reason: 'current-hour', rows: 0 });
    expect(recordFor(r, futureFolder.path)[0]).toMatchObject({ decision: 'keep', reason: 'future-timestamp' });
    expect(recordFor(r, expired.path)[0]).toMatchObject({ decision: 'delete', outcome: 'removed' });
  });

  it('at the hour boundary with PT1H: the last ms of the previous hour stays, its first ms goes', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const lastMsPrev = f.upload({ at: at(-1) });
    const firstMsPrev = f.upload({ at: at(-HOUR_MS) });
    const lastMsBefore = f.upload({ at: at(-HOUR_MS - 1) });
    expect(hourFolders(at(-1)).hour).toBe(hourFolders(at(-HOUR_MS)).hour);

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(lastMsPrev.path)).toBe(true);
    expect(present(firstMsPrev.path)).toBe(false);
    expect(present(lastMsBefore.path)).toBe(false);
    expect(f.indexes()).toEqual(lastMsPrev.indexes);
    expect(recordFor(r, lastMsPrev.path)).toHaveLength(0);
    expect(r.summary).toMatchObject({ files: 2, rows: 2 });
  });

  it('at the first ms of an hour, the hour before is past: its files go, this hour\'s stay', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const prev = f.upload({ at: at(-HOUR_MS - 1) });
    const thisHour = f.upload({ at: at(-2 * HOUR_MS), folderAt: H });
    const r = await f.purge({ hostNow: () => H });
    expect(r.result.status).toBe('ok');
    expect(present(prev.path)).toBe(false);
    expect(present(thisHour.path)).toBe(true);
    expect(recordFor(r, thisHour.path)[0]).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });

  it('takes the earlier of the host and database clocks: a host clock an hour ahead cannot make the current hour past', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const thisHour = f.upload({ at: at(-2 * HOUR_MS), folderAt: H });
    const r = await f.purge({ hostNow: () => new Date(NOW.getTime() + HOUR_MS) });
    expect(r.result.clockSkewMs).toBe(-HOUR_MS);
    expect(present(thisHour.path)).toBe(true);
    expect(recordFor(r, thisHour.path)[0]).toMatchObject({ decision: 'keep', reason: 'current-hour' });
    expect(r.logs.some((l) => /clocks disagree/.test(l.msg))).toBe(true);
  });

  it('purges roll-over folders HH.1 and HH.2 of an expired hour, keeps HH.1 of the current hour', async () => {
    const f = node({ policies: { groupchat: 'PT1H' } });
    const plain = f.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 1000) });
    const r1 = f.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 2000), rollover: 1, gets: [at(-3 * HOUR_MS)] });
    const r2 = f.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS + 3000), rollover: 2 });
    const currentRoll = f.upload({ chatType: 'groupchat', at: H, rollover: 1 });
    expect(r1.hourDir.endsWith(`/${hourFolders(at(-4 * HOUR_MS)).hour}.1`)).toBe(true);

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    for (const u of [plain, r1, r2]) expect(present(u.path)).toBe(false);
    expect(present(currentRoll.path)).toBe(true);
    expect(f.indexes()).toEqual(currentRoll.indexes);
    expect(recordFor(r, r1.path)[0]).toMatchObject({ chatType: 'groupchat', decision: 'delete', outcome: 'removed', rows: 2, hour: at(-4 * HOUR_MS).toISOString() });
  });

  it('keeps a canary outside the node directory (outside-directory) and its rows', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const canary = f.upload({ at: at(-48 * HOUR_MS), path: join(f.outsideDir, 'canary.txt'), gets: [at(-47 * HOUR_MS)] });
    const besideFiles = f.upload({ at: at(-48 * HOUR_MS), path: join(f.dir, 'canary-beside-files.txt') });
    const control = f.upload({ at: at(-48 * HOUR_MS) });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(canary.path)).toBe(true);
    expect(present(besideFiles.path)).toBe(true);
    expect(present(control.path)).toBe(false);
    expect(f.indexes()).toEqual([...canary.indexes, ...besideFiles.indexes]);
    expect(recordFor(r, canary.path)[0]).toMatchObject({ decision: 'keep', reason: 'outside-directory', outcome: 'kept', rows: 0 });
    expect(recordFor(r, besideFiles.path)[0]).toMatchObject({ decision: 'keep', reason: 'outside-directory' });
    expect(r.summary).toMatchObject({ files: 1, kept: 2 });
  });

  it('keeps files named through ".." segments (bad-path), and malformed layout paths', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const old = at(-48 * HOUR_MS);
    const { date, hour } = hourFolders(old);
    const target = f.writeFile(join(f.outsideDir, 'dotdot.txt'));
    const dotdot = `${f.dir}/files/im/${date}/${hour}/../../../../../outside/dotdot.txt`;
    const inside = f.upload({ at: old, name: 'inside.txt' });
    const backIn = `${f.dir}/files/im/${date}/${hour}/../${hour}/inside.txt`;
    const deep = f.upload({ at: old, path: `${f.dir}/files/im/${date}/${hour}/sub/deep.txt` });
    const badDate = f.upload({ at: old, path: `${f.dir}/files/im/20231340/${hour}/bad-date.txt` });
    const emptyPath = f.insertRows([{ method: 'Post', chatType: 'im', filePath: '', timestamp: old }]);
    const rows = f.insertRows([
      { method: 'Post', chatType: 'im', filePath: dotdot, timestamp: old },
      { method: 'Get', chatType: 'im', filePath: dotdot, timestamp: old },
      { method: 'Post', chatType: 'im', filePath: backIn, timestamp: old },
    ]);
    // Only the ".." rows refer to inside.txt: its own upload row goes.
    await f.catalog.deleteRows([inside.postIndex], [], inside.postIndex);

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(target)).toBe(true);
    expect(present(inside.path)).toBe(true);
    expect(present(deep.path)).toBe(true);
    expect(present(badDate.path)).toBe(true);
    expect(f.indexes().sort()).toEqual([...deep.indexes, ...badDate.indexes, ...emptyPath, ...rows].sort());
    expect(recordFor(r, dotdot)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r, backIn)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r, deep.path)[0]).toMatchObject({ decision: 'keep', reason: 'bad-path' });
    expect(recordFor(r, badDate.path)[0]).toMatchObject({ decision: 'keep', reason: 'bad-date-folder' });
    expect(recordFor(r, '')[0]).toMatchObject({ decision: 'keep', reason: 'empty-path' });
    expect(r.summary).toMatchObject({ files: 0, rows: 0 });
  });

  it("node_1 never touches node_10's directory, though node_10's path starts with node_1's", async () => {
    const n1 = node({ policies: { im: 'PT1H' }, name: 'node_1' });
    const n10 = node({ policies: { im: 'PT1H' }, name: 'node_10', base: n1.base });
    expect(n10.dir.startsWith(n1.dir)).toBe(true);
    const old = at(-30 * HOUR_MS);
    // node_1's AFT_LOG names a file in node_10's directory.
    const foreignPath = n10.layoutPath('im', old, 'foreign.txt');
    const foreign = n1.upload({ at: old, path: foreignPath, gets: [old] });
    const own1 = n1.upload({ at: old });
    const own10 = n10.upload({ at: old });

    const r1 = await n1.purge();
    const r10 = await n10.purge();
    expect([r1.result.status, r10.result.status]).toEqual(['ok', 'ok']);
    expect(present(foreignPath)).toBe(true);
    expect(present(own1.path)).toBe(false);
    expect(present(own10.path)).toBe(false);
    expect(n1.indexes()).toEqual(foreign.indexes);
    expect(n10.indexes()).toEqual([]);
    const rec = recordFor(r1, foreignPath);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ node: 'node_1', decision: 'keep', reason: 'outside-directory' });
  });

  it('keeps a file whose row chat_type disagrees with its folder (both directions)', async () => {
    const f = node({ policies: { im: 'PT1H', groupchat: 'PT1H' } });
    const old = at(-10 * HOUR_MS);
    const imRowInGroupchat = f.upload({ chatType: 'groupchat', rowChatType: 'im', at: old, gets: [old] });
    const gcRowInIm = f.upload({ chatType: 'im', rowChatType: 'groupchat', at: old });
    const control = f.upload({ chatType: 'groupchat', at: old });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(imRowInGroupchat.path)).toBe(true);
    expect(present(gcRowInIm.path)).toBe(true);
    expect(present(control.path)).toBe(false);
    expect(f.indexes()).toEqual([...imRowInGroupchat.indexes, ...gcRowInIm.indexes]);
    expect(recordFor(r, imRowInGroupchat.path)[0]).toMatchObject({ chatType: 'im', decision: 'keep', reason: 'chat-type-mismatch' });
    expect(recordFor(r, gcRowInIm.path)[0]).toMatchObject({ chatType: 'groupchat', decision: 'keep', reason: 'chat-type-mismatch' });
  });

  it('never purges a chat type that has no policy file', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const ancient = f.upload({ chatType: 'persistent', at: at(-2000 * HOUR_MS), gets: [at(-1999 * HOUR_MS)] });
    const im = f.upload({ chatType: 'im', at: at(-2000 * HOUR_MS) });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(ancient.path)).toBe(true);
    expect(present(im.path)).toBe(false);
    expect(f.indexes()).toEqual(ancient.indexes);
    expect(r.records.filter((x) => x.chatType === 'persistent')).toHaveLength(0);
    expect(r.result.chatTypes.map((c) => c.chatType)).toEqual(['im']);
  });

  it('never purges a chat type whose retention is "forever"', async () => {
    const f = node({ policies: { im: 'PT1H', groupchat: 'forever' } });
    const ancient = f.upload({ chatType: 'groupchat', at: at(-24 * 400 * HOUR_MS), gets: [at(-24 * 399 * HOUR_MS)] });

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    expect(present(ancient.path)).toBe(true);
    expect(f.indexes()).toEqual(ancient.indexes);
    expect(r.result.chatTypes.find((c) => c.chatType === 'groupchat')).toMatchObject({ retention: 'forever', files: 0, rows: 0 });
    expect(r.records).toHaveLength(0);
  });

  it('does not read AFT_LOG for a chat type the count before the run found nothing expired in; still purges the others', async () => {
    const f = node({ policies: { im: 'PT2H', groupchat: 'PT2H', persistent: 'PT2H' } });
    const expired = f.upload({ chatType: 'im', at: at(-3 * HOUR_MS), gets: [at(-2 * HOUR_MS)] });
    const fresh = f.upload({ chatType: 'groupchat', at: at(-30 * 60_000), gets: [at(-20 * 60_000)] });
    const opened: string[] = [];
    const open = f.catalog.openExpiredUploads.bind(f.catalog);
    f.catalog.openExpiredUploads = (chatType, before) => (opened.push(chatType), open(chatType, before));

    const r = await f.purge({ logLevel: 'debug' });
    expect(r.result.status).toBe('ok');
    expect(present(expired.path)).toBe(false);
    expect(present(fresh.path)).toBe(true);
    expect(f.indexes()).toEqual(fresh.indexes);
    expect(opened).toEqual(['im']);
    const skipped = r.logs.filter((l) => l.msg === 'no expired uploads counted; AFT_LOG not read for this chat type').map((l) => l.chatType);
    expect(skipped.sort()).toEqual(['groupchat', 'persistent']);
    expect(r.result.chatTypes.map((c) => [c.chatType, c.files]).sort()).toEqual([
      ['groupchat', 0],
      ['im', 1],
      ['persistent', 0],
    ]);
  });

  it('keeps a file with a duplicate Post row that is not expired (either order), across keyset batches of 1', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const old = at(-6 * HOUR_MS);
    const a = f.upload({ at: old, gets: [at(-5 * HOUR_MS)] });
    const aRecent = f.insertRows([{ method: 'Post', chatType: 'im', filePath: a.path, timestamp: ago(60_000) }]);
    // The recent Post has the lower aft_index this time.
    const bPath = f.writeFile(f.layoutPath('im', old, 'b.txt'));
    const bRecent = f.insertRows([{ method: 'Post', chatType: 'im', filePath: bPath, timestamp: ago(60_000) }]);
    const bOld = f.insertRows([
      { method: 'Post', chatType: 'im', filePath: bPath, timestamp: old },
      { method: 'Get', chatType: 'im', filePath: bPath, timestamp: old },
    ]);
    // Two expired Post rows of one file: one file removed, every row goes.
    const c = f.upload({ at: old, gets: [old] });
    const cDup = f.insertRows([{ method: 'Post', chatType: 'im', filePath: c.path, timestamp: at(-5 * HOUR_MS) }]);

    const r = await f.purge({ batchSize: 1 });
    expect(r.result.status).toBe('ok');
    expect(present(a.path)).toBe(true);
    expect(present(bPath)).toBe(true);
    expect(present(c.path)).toBe(false);
    expect(f.indexes().sort()).toEqual([...a.indexes, ...aRecent, ...bRecent, ...bOld].sort());
    expect(recordFor(r, a.path)[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    expect(recordFor(r, bPath)[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    const cRec = recordFor(r, c.path);
    expect(cRec).toHaveLength(1);
    expect(cRec[0]).toMatchObject({ decision: 'delete', outcome: 'removed', rows: 3 });
    expect(cDup).toHaveLength(1);
  });

  it("removes only the old folders it emptied: never a non-empty one, today's, or anything outside", async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const alone = f.upload({ at: at(-24 * 3 * HOUR_MS) });
    // One hour folder: one file goes, the other is kept (a recent duplicate Post).
    const goes = f.upload({ at: at(-24 * 4 * HOUR_MS) });
    const stays = f.upload({ at: at(-24 * 4 * HOUR_MS + 1000) });
    expect(stays.hourDir).toBe(goes.hourDir);
    f.insertRows([{ method: 'Post', chatType: 'im', filePath: stays.path, timestamp: ago(0) }]);
    // Emptied, but today's (14:37 UTC: the previous hour is today too): kept.
    const todayEmptied = f.upload({ at: at(-HOUR_MS) });
    expect(hourFolders(at(-HOUR_MS)).date).toBe(hourFolders(H).date);
    const shared = f.upload({ at: at(-24 * 6 * HOUR_MS) });
    const stranger = f.writeFile(join(shared.hourDir, 'not-in-aft-log.bin'));
    const outsideBefore = readdirSync(f.outsideDir);

    const r = await f.purge();
    expect(r.result.status).toBe('ok');
    for (const u of [alone, goes, shared, todayEmptied]) expect(present(u.path)).toBe(false);
    expect(present(alone.hourDir)).toBe(false);
    expect(present(dirname(alone.hourDir))).toBe(false);
    expect(present(stays.path)).toBe(true);
    expect(present(todayEmptied.hourDir)).toBe(true);
    expect(present(stranger)).toBe(true);
    expect(readdirSync(shared.hourDir)).toEqual(['not-in-aft-log.bin']);
    expect(present(join(f.dir, 'files', 'im'))).toBe(true);
    expect(readdirSync(f.outsideDir)).toEqual(outsideBefore);
    expect(r.result.chatTypes[0]!.foldersRemoved).toBe(2);
  });
});
