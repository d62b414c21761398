// Downloads logged after their file was purged (a late download, a transaction that committed
// after the batch's DELETE): a later run that removes files finds their Get rows (no Post row
// left for the path), and deletes them when the file is gone; a Get row of a file still on the
// file server stays, whatever AFT_LOG says. Real PostgreSQL and OpenSSH sshd.
import { describe, expect, it } from 'vitest';
import { avoidHourEdge, HOUR_MS, hourStart, present, runCli, show, summaryRecord, usePurgeEnv } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (hours: number) => new Date(hourStart().getTime() - hours * HOUR_MS);

describe('downloads of files already purged', () => {
  it('are deleted by a later run that removes files; a Get row of a file still there stays', async () => {
    await avoidHourEdge();
    const f = await env.fixture({ policies: { im: 'PT1H' } });
    const a = await f.node.upload({ at: ago(10), gets: [ago(9)] });
    const r1 = await f.purge('--json');
    expect(r1.code, show(r1)).toBe(0);
    expect(present(a.path)).toBe(false);
    expect(await f.node.indexes()).toEqual([]);

    // After that run: a late download of a (its Post is gone), logged an hour ago; a download
    // row of a file still on the file server with no Post row; a fresh upload b to remove.
    const late = await f.node.insertRows([{ method: 'Get', chatType: 'im', filePath: a.path, timestamp: new Date(Date.now() - HOUR_MS) }]);
    const stillThere = f.node.layoutPath('im', ago(5), 'still-there.txt');
    f.writeFile(stillThere);
    const strayGet = await f.node.insertRows([{ method: 'Get', chatType: 'im', filePath: stillThere, timestamp: ago(4) }]);
    // A download logged a minute ago: it may still be committing elsewhere, so it waits.
    const recent = await f.node.insertRows([{ method: 'Get', chatType: 'im', filePath: a.path, timestamp: new Date(Date.now() - 60_000) }]);
    const b = await f.node.upload({ at: ago(8) });

    // reconcile reports them (read-only): the late download and the stray one, not the recent one.
    const rec = await runCli(['reconcile', '--config', f.configPath, '--json']);
    const recSummary = summaryRecord(rec.stdout);
    expect(recSummary.nodes[0].orphanDownloads, show(rec)).toBe(2);
    expect(await f.node.indexes()).toHaveLength(4);

    const r2 = await f.purge('--json');
    expect(r2.code, show(r2)).toBe(0);
    expect(present(b.path)).toBe(false);
    expect(present(stillThere)).toBe(true);
    const left = (await f.node.indexes()).sort();
    expect(left).toEqual([...strayGet, ...recent].sort());
    expect(left).not.toContain(late[0]);
    expect(summaryRecord(r2.stdout).nodes[0].orphanDownloads).toEqual({ rows: 1, files: 1, kept: 1 });
    const lines = r2.stderr.split('\n').filter((l) => l.includes('deleted downloads of a file already purged'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ path: a.path, rows: 1 });
  });
});
