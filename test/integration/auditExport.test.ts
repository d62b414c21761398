// Audit export before deletion: every AFT_LOG row a purge deletes is first appended to a daily
// gzip JSON Lines file with a SHA-256 sidecar; if the export cannot be written, no row goes.
// Real PostgreSQL and OpenSSH SFTP, the real CLI, and the real sha256sum.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { exportFileName } from '../../src/purge/auditExport.js';
import { HOUR_MS, present, show, usePurgeEnv, type Fixture } from '../helpers/purgeFixture.js';

const env = usePurgeEnv();

const ago = (ms: number) => new Date(Date.now() - ms);

/** Every column of every row, as PostgreSQL renders it as text. */
async function allColumns(f: Fixture): Promise<Array<Record<string, string>>> {
  const cols = (await f.node.sql<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'aft_log' ORDER BY ordinal_position`)).map((c) => c.column_name);
  const rows = await f.node.sql(`SELECT ${cols.map((c) => `${c}::text AS ${c}`).join(', ')} FROM aft_log ORDER BY aft_index`);
  return rows as Array<Record<string, string>>;
}

function withExport(dir: string) {
  return (c: Record<string, any>) => (c.nodes[0].auditExport = { directory: dir });
}

describe('audit export', () => {
  it('exports every deleted row, all columns, before deleting it; the gzip round-trips and sha256sum -c verifies it', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const dir = join(f.configDir, 'audit');
    withExport(dir)(f.config);
    f.writeConfig();
    const a = await f.node.upload({ at: ago(5 * HOUR_MS), gets: [ago(4 * HOUR_MS), ago(3 * HOUR_MS)] });
    const b = await f.node.upload({ at: ago(4 * HOUR_MS), name: 'name with "quotes" and ünïcode.txt' });
    const keep = await f.node.upload({ at: ago(60_000) });
    const expected = (await allColumns(f)).filter((r) => !keep.indexes.includes(r.aft_index!));

    const r = await f.purge();
    expect(r.code, show(r)).toBe(0);
    expect(present(a.path) || present(b.path)).toBe(false);
    const nodeDir = join(dir, 'node_1');
    const name = exportFileName(new Date());
    const lines = gunzipSync(readFileSync(join(nodeDir, name))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(expected);
    expect(Object.keys(lines[0]).sort()).toEqual(['aft_index', 'bytes_transferred', 'chat_type', 'file_path', 'file_server', 'file_size', 'file_type', 'filename', 'jid', 'method', 'real_filename', 'timestampvalue', 'to_jid']);
    expect(readFileSync(join(nodeDir, `${name}.sha256`), 'utf8')).toMatch(new RegExp(`^[0-9a-f]{64}  ${name.replace(/\./g, '\\.')}\n$`));
    expect(execFileSync('sha256sum', ['-c', `${name}.sha256`], { cwd: nodeDir, encoding: 'utf8' })).toContain(`${name}: OK`);

    // A second run appends a gzip member to the same day's file and updates the checksum.
    const c = await f.node.upload({ at: ago(3 * HOUR_MS) });
    const more = (await allColumns(f)).filter((x) => c.indexes.includes(x.aft_index!));
    expect((await f.purge()).code).toBe(0);
    const all = gunzipSync(readFileSync(join(nodeDir, name))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(all).toEqual([...expected, ...more]);
    expect(execFileSync('zcat', [join(nodeDir, name)], { encoding: 'utf8' }).trim().split('\n')).toHaveLength(all.length);
    expect(execFileSync('sha256sum', ['-c', `${name}.sha256`], { cwd: nodeDir, encoding: 'utf8' })).toContain(`${name}: OK`);
    expect(await f.node.indexes()).toEqual(keep.indexes);
  });

  it('an export directory that cannot be created stops the node before anything is removed', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const blocker = join(f.configDir, 'not-a-directory');
    writeFileSync(blocker, 'a file where the export directory should be\n');
    withExport(join(blocker, 'audit'))(f.config);
    f.writeConfig();
    await f.node.upload({ at: ago(5 * HOUR_MS), gets: [ago(4 * HOUR_MS)] });
    const before = await f.snapshot();
    const r = await f.purge();
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toContain(`cannot open the audit export ${join(blocker, 'audit', 'node_1')} (ENOTDIR); no AFT_LOG rows are deleted until it can be written`);
    expect(await f.snapshot()).toEqual(before);
  });

  it('when writing fails mid-run (disk full), the removed files keep their rows; the next run exports and deletes them', async () => {
    const f = await env.fixture({ policies: { im: 'PT2H' } });
    const dir = join(f.configDir, 'audit');
    withExport(dir)(f.config);
    f.writeConfig();
    const u = await f.node.upload({ at: ago(5 * HOUR_MS), gets: [ago(4 * HOUR_MS)] });
    const rowsBefore = await allColumns(f);
    // Today's export file is /dev/full: it opens, but every write fails with ENOSPC.
    execFileSync('mkdir', ['-p', join(dir, 'node_1')]);
    const file = join(dir, 'node_1', exportFileName(new Date()));
    symlinkSync('/dev/full', file);

    const r = await f.purge();
    expect(r.code, show(r)).toBe(6); // files removed with their rows pending: not a success for the timer
    expect(r.stdout).toContain('(ENOSPC); no AFT_LOG rows are deleted until it can be written');
    expect(present(u.path)).toBe(false); // files go first ...
    expect(await allColumns(f)).toEqual(rowsBefore); // ... but no row without its export

    rmSync(file);
    const again = await f.purge('--json');
    expect(again.code, show(again)).toBe(0);
    expect(await f.node.indexes()).toEqual([]);
    const lines = gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(rowsBefore);
    expect(existsSync(`${file}.sha256`)).toBe(true);
  });
});
