// Retention by last activity (keepAfterLastDownload): a file stays until its last download
// (Get row) is older than the given age too. Real PostgreSQL and OpenSSH SFTP, the real CLI.
import { describe, expect, it } from 'vitest';
import { fileRecords, HOUR_MS, present, show, usePurgeEnv } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const DAY = 24 * HOUR_MS;
const ago = (ms: number) => new Date(Date.now() - ms);

describe('keepAfterLastDownload', () => {
  it('keeps an expired file downloaded recently (reason recent-download), lets the others go, across batches of 1', async () => {
    const f = await env.fixture({ policies: {}, batchSize: 1 });
    f.writePolicy('im', 'P1D', 'keepAfterLastDownload: P2D\n');
    // Three files uploaded 5 days ago; the downloads are inserted after all uploads, so their
    // aft_index values lie in later keyset batches than the uploads they belong to.
    const late = await f.node.upload({ at: ago(5 * DAY) });
    const old = await f.node.upload({ at: ago(5 * DAY) });
    const never = await f.node.upload({ at: ago(5 * DAY) });
    const [lateGet] = await f.node.insertRows([{ method: 'Get', chatType: 'im', filePath: late.path, timestamp: ago(DAY) }]);
    const [oldGet] = await f.node.insertRows([{ method: 'Get', chatType: 'im', filePath: old.path, timestamp: ago(3 * DAY) }]);

    const d = await f.purge('--dry-run', '--json');
    expect(d.code, show(d)).toBe(0);
    const rec = (p: string) => fileRecords(d.stdout).find((r) => r.filePath === p);
    expect(rec(late.path)).toMatchObject({ decision: 'keep', reason: 'recent-download' });
    expect(rec(late.path)!.detail).toMatch(/^last downloaded \d{4}-/);
    expect(rec(old.path)).toMatchObject({ decision: 'delete', rows: 2 });
    expect(rec(never.path)).toMatchObject({ decision: 'delete', rows: 1 });

    const r = await f.purge();
    expect(r.code, show(r)).toBe(0);
    expect(present(late.path)).toBe(true);
    expect(present(old.path)).toBe(false);
    expect(present(never.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([late.postIndex, lateGet]);
    expect(await f.node.indexes()).not.toContain(oldGet);
    expect(r.stdout).toContain('recent-download: 1');

    // Once its last download is older than P2D too, it goes (simulated with --as-of).
    const future = await f.purge('--dry-run', '--json', '--as-of', new Date(Date.now() + 2 * DAY).toISOString());
    expect(fileRecords(future.stdout).find((x) => x.filePath === late.path)).toMatchObject({ decision: 'delete' });
  });

  it('a node can set it for a chat type in its policy override', async () => {
    const f = await env.fixture({ policies: { im: 'P1D' }, mutate: (c) => (c.nodes[0].policies = { im: { retention: 'P1D', keepAfterLastDownload: 'P7D' } }) });
    const u = await f.node.upload({ at: ago(10 * DAY), gets: [ago(6 * DAY)] });
    const r = await f.purge('--json');
    expect(r.code, show(r)).toBe(0);
    expect(fileRecords(r.stdout).find((x) => x.filePath === u.path)).toMatchObject({ decision: 'keep', reason: 'recent-download' });
    expect(present(u.path)).toBe(true);
  });
});
