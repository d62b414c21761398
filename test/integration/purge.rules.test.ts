// The eligibility rule end to end: the real CLI against a real PostgreSQL AFT_LOG and a real
// OpenSSH SFTP server, for what depends on them (SQL text matching, bigint keys, the table's
// time zone). Every test asserts on the file system and the table afterwards. The rules
// themselves are tested in process: test/unit/purgeNode.rules.test.ts.
import { describe, expect, it } from 'vitest';
import { avoidHourEdge, fileRecords, HOUR_MS, hourStart, present, show, summaryRecord, usePurgeEnv } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

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
