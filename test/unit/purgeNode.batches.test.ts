// How purgeNode works through a backlog, in process (the real purgeNode, the in-memory
// AFT_LOG, the real LocalFileStore on a temporary directory, fixed clocks): batches in
// aft_index order, rows deleted only after their files are confirmed gone, a stop between
// batches, the partial / failed / refused outcomes, and a dry-run that plans what the purge does.
import { describe, expect, it } from 'vitest';
import type { FileStore, RemoveOutcome } from '../../src/ports.js';
import { at, HOUR_MS, present, type MemoryNode, type Upload, useMemoryNodes } from '../helpers/memoryPurge.js';

const node = useMemoryNodes();

/** `n` expired uploads, one a minute, each with a download. */
const expiredUploads = (f: MemoryNode, n: number, hoursAgo = 5): Upload[] =>
  Array.from({ length: n }, (_, i) => f.upload({ at: at(-hoursAgo * HOUR_MS + i * 60_000), gets: [at(-hoursAgo * HOUR_MS + i * 60_000 + 1000)] }));

/** The node's store, with each call written to `events` when it starts and when it has finished. */
function watched(events: string[], fail: (path: string) => RemoveOutcome | undefined = () => undefined) {
  return (real: FileStore): FileStore => ({
    ...real,
    listDirectory: (p) => real.listDirectory(p),
    exists: (p) => real.exists(p),
    freeSpace: () => real.freeSpace(),
    removeEmptyFolders: (d) => real.removeEmptyFolders(d),
    close: () => real.close(),
    async removeFiles(files) {
      events.push(`remove ${files.map((x) => x.path).join(',')}`);
      const failed = files.flatMap((x) => fail(x.path) ?? []);
      const rest = files.filter((x) => !fail(x.path));
      const out = [...failed, ...(await real.removeFiles(rest))];
      events.push(`removed ${files.map((x) => x.path).join(',')}`);
      return out;
    },
  });
}

/** Records every deleteRows call of the node's catalog in `events`. */
function watchDeletes(f: MemoryNode, events: string[]): void {
  const del = f.catalog.deleteRows.bind(f.catalog);
  f.catalog.deleteRows = (ids, paths, newer, beforeCommit) => {
    events.push(`delete ${ids.join(',')}`);
    return del(ids, paths, newer, beforeCommit);
  };
}

describe('purgeNode, batch by batch', () => {
  it('removes the batches in aft_index order and deletes their rows in that order, each after its files are gone', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const uploads = expiredUploads(f, 7);
    const events: string[] = [];
    watchDeletes(f, events);

    const r = await f.purge({ batchSize: 2, files: watched(events) });
    expect(r.result.status).toBe('ok');
    expect(f.indexes()).toEqual([]);
    const removes = events.filter((e) => e.startsWith('remove '));
    expect(removes).toEqual([0, 2, 4, 6].map((i) => `remove ${uploads.slice(i, i + 2).map((u) => u.path).join(',')}`));
    const deletes = events.filter((e) => e.startsWith('delete '));
    expect(deletes).toEqual([0, 2, 4, 6].map((i) => `delete ${uploads.slice(i, i + 2).flatMap((u) => u.indexes).join(',')}`));
    // Each batch's rows go only once its removal has finished.
    for (const [i, d] of deletes.entries()) {
      const paths = uploads.slice(2 * i, 2 * i + 2).map((u) => u.path).join(',');
      expect(events.indexOf(`removed ${paths}`)).toBeLessThan(events.indexOf(d));
    }
    expect(r.records.map((x) => x.aftIndex)).toEqual(uploads.map((u) => u.postIndex));
  });

  it('a file that cannot be removed keeps all its rows; the rest of the batch goes; the node is partial', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const [a, b, c] = expiredUploads(f, 3);
    const r = await f.purge({ files: watched([], (p) => (p === b!.path ? { path: p, outcome: 'failed', reason: 'permission-denied', message: 'EACCES' } : undefined)) });
    expect(r.result.status).toBe('partial');
    expect(present(a!.path)).toBe(false);
    expect(present(b!.path)).toBe(true);
    expect(present(c!.path)).toBe(false);
    expect(f.indexes()).toEqual(b!.indexes);
    expect(r.records.find((x) => x.filePath === b!.path)).toMatchObject({ decision: 'delete', outcome: 'failed:permission-denied' });
    expect(r.result.chatTypes[0]!.failed).toEqual({ 'permission-denied': 1 });
    expect(r.summary).toMatchObject({ files: 2, rows: 4, failed: 1 });
  });

  it('when the rows cannot be deleted the files are already gone; the node fails; the next run deletes the rows', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const uploads = expiredUploads(f, 3);
    const del = f.catalog.deleteRows.bind(f.catalog);
    f.catalog.deleteRows = async () => {
      throw new Error('permission denied for table aft_log');
    };
    const r1 = await f.purge();
    expect(r1.result.status).toBe('failed');
    expect(r1.result.error?.message).toMatch(/permission denied/);
    expect(r1.result.chatTypes[0]!.rowsPending).toBe(3);
    for (const u of uploads) expect(present(u.path)).toBe(false);
    expect(f.indexes()).toEqual(uploads.flatMap((u) => u.indexes));

    f.catalog.deleteRows = del;
    const r2 = await f.purge();
    expect(r2.result.status).toBe('ok');
    expect(f.indexes()).toEqual([]);
    expect(r2.records.map((x) => x.outcome)).toEqual(['missing', 'missing', 'missing']);
    expect(r2.summary).toMatchObject({ files: 3, rows: 6, failed: 0 });
  });

  it('a lost file server connection stops the node after the batch: its removed files lose their rows, the others keep theirs', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const uploads = expiredUploads(f, 6);
    const lost = uploads[1]!.path;
    const r = await f.purge({ batchSize: 3, files: watched([], (p) => (p === lost ? { path: p, outcome: 'failed', reason: 'connection-lost', message: 'socket closed' } : undefined)) });
    expect(r.result.status).toBe('failed');
    expect(r.result.error?.message).toMatch(/connection to the file server lost/);
    // Every file is either gone with its rows or present with all of them.
    for (const u of uploads) {
      const rowsLeft = u.indexes.filter((i) => f.indexes().includes(i));
      expect(rowsLeft, u.path).toEqual(present(u.path) ? u.indexes : []);
    }
    expect(present(lost)).toBe(true);
    expect(present(uploads[0]!.path)).toBe(false);
  });

  it('stops between batches when asked: the batches in flight finish, no other is read, and the next run finishes', async () => {
    const f = node({ policies: { im: 'PT1H' } });
    const uploads = expiredUploads(f, 10);
    const stop = new AbortController();
    const r1 = await f.purge({
      batchSize: 2,
      signal: stop.signal,
      onProgress: (_n, stats) => {
        if (stats.handled >= 2) stop.abort();
      },
    });
    expect(r1.result.status).toBe('stopped');
    const gone = uploads.filter((u) => !present(u.path));
    // The first batch, and at most the one read beside it.
    expect(gone.length).toBeGreaterThanOrEqual(2);
    expect(gone.length).toBeLessThanOrEqual(4);
    expect(gone).toEqual(uploads.slice(0, gone.length));
    expect(f.indexes()).toEqual(uploads.slice(gone.length).flatMap((u) => u.indexes));
    expect(r1.summary.files).toBe(gone.length);

    const r2 = await f.purge({ batchSize: 2 });
    expect(r2.result.status).toBe('ok');
    expect(f.indexes()).toEqual([]);
    expect(r2.summary.files).toBe(10 - gone.length);
  });

  it('a run over the node-wide file cap is refused before anything is touched; its dry-run shows what it would remove', async () => {
    const f = node({ policies: { im: 'PT1H' }, limits: { maxFiles: 2 } });
    const uploads = expiredUploads(f, 3);
    const dry = await f.purge({ dryRun: true });
    expect(dry.result.status).toBe('refused');
    expect(dry.result.refused?.map((x) => [x.chatType, x.limit, x.measured])).toEqual([['all', 'maxFiles', 3]]);
    expect(dry.records.map((x) => [x.filePath, x.decision])).toEqual(uploads.map((u) => [u.path, 'delete']));

    const r = await f.purge();
    expect(r.result.status).toBe('refused');
    expect(r.records).toEqual([]);
    for (const u of uploads) expect(present(u.path)).toBe(true);
    expect(f.indexes()).toEqual(uploads.flatMap((u) => u.indexes));
  });

  it('the dry-run changes nothing and plans exactly what the purge then does, batch for batch', async () => {
    const f = node({ policies: { im: 'PT1H', groupchat: 'PT3H' } });
    expiredUploads(f, 5);
    f.upload({ chatType: 'groupchat', at: at(-4 * HOUR_MS) });
    f.upload({ chatType: 'groupchat', at: at(-2 * HOUR_MS) }); // not expired under PT3H
    f.upload({ at: at(-6 * HOUR_MS), folderAt: at(0) }); // kept: current hour's folder
    const dup = f.upload({ at: at(-7 * HOUR_MS) });
    f.insertRows([{ method: 'Post', chatType: 'im', filePath: dup.path, timestamp: at(0) }]); // kept: a recent duplicate
    const rowsBefore = f.rows();

    const plan = await f.purge({ dryRun: true, batchSize: 2 });
    expect(plan.result.status).toBe('ok');
    expect(f.rows()).toEqual(rowsBefore);
    expect(plan.records.every((x) => x.outcome === undefined)).toBe(true);

    const done = await f.purge({ batchSize: 2 });
    expect(done.result.status).toBe('ok');
    const decided = (x: Record<string, any>) => [x.chatType, x.filePath, x.decision, x.reason, x.rows];
    const byIndex = (a: Record<string, any>, b: Record<string, any>) => Number(a.aftIndex) - Number(b.aftIndex);
    expect(done.records.sort(byIndex).map(decided)).toEqual(plan.records.sort(byIndex).map(decided));
    expect(done.summary).toMatchObject({ files: plan.summary.files, bytes: plan.summary.bytes, rows: plan.summary.rows, kept: plan.summary.kept });
    expect(done.summary.files).toBe(6);
    expect(done.summary.kept).toBe(2);
  });
});
