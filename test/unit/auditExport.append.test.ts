import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AuditExport, exportFileName } from '../../src/purge/auditExport.js';

const read = (file: string) => gunzipSync(readFileSync(file)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('AuditExport', () => {
  it('rotates at the UTC day boundary: one file per day, the finished day gets its checksum at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-audit-'));
    let now = new Date('2026-11-21T23:59:59.500Z');
    const x = await AuditExport.open(dir, 'node_1', () => now);
    await x.append([{ aft_index: '12', method: 'Get' }, { aft_index: '9', method: 'Post' }]);
    now = new Date('2026-11-22T00:00:00.100Z');
    await x.append([{ aft_index: '20', method: 'Post' }]);
    const day1 = join(dir, 'node_1', 'aft_log-20261121.jsonl.gz');
    const day2 = join(dir, 'node_1', 'aft_log-20261122.jsonl.gz');
    expect(existsSync(`${day1}.sha256`)).toBe(true);
    expect(existsSync(`${day2}.sha256`)).toBe(false); // written when the run ends
    await x.close();
    // Sorted by aft_index as numbers (9 before 12).
    expect(read(day1)).toEqual([{ aft_index: '9', method: 'Post' }, { aft_index: '12', method: 'Get' }]);
    expect(read(day2)).toEqual([{ aft_index: '20', method: 'Post' }]);
    const check = execFileSync('sha256sum', ['-c', `${exportFileName(new Date('2026-11-21T00:00:00Z'))}.sha256`, 'aft_log-20261122.jsonl.gz.sha256'], { cwd: join(dir, 'node_1'), encoding: 'utf8' });
    expect(check).toBe('aft_log-20261121.jsonl.gz: OK\naft_log-20261122.jsonl.gz: OK\n');
  });
});
