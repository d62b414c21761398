import { describe, expect, it } from 'vitest';
import type { EligibilityContext } from '../../src/core/eligibility.js';
import { rowDigest, type PlannedFile } from '../../src/core/planFile.js';
import type { FileState, PlanRow } from '../../src/ports.js';
import { recheckBatch } from '../../src/purge/planRecheck.js';

const DIR = '/opt/mftFileStore/node_1';
const NOW = new Date('2025-03-10T08:30:00Z');
const ctx: EligibilityContext = { nodeDirectory: DIR, chatType: 'im', retentionCutoff: new Date('2025-03-09T08:00:00Z'), currentHourStart: new Date('2025-03-10T08:00:00Z') };
const pathOf = (n: string, hour = '2025030110') => `${DIR}/files/im/${hour.slice(0, 8)}/${hour.slice(8)}/${n}.txt`;

function rowsOf(name: string, idx: number, gets = 0, hour?: string): PlanRow[] {
  const p = pathOf(name, hour);
  const t = hour ? new Date(`${hour.slice(0, 4)}-${hour.slice(4, 6)}-${hour.slice(6, 8)}T${hour.slice(8)}:10:00Z`) : new Date('2025-03-01T10:10:00Z');
  return [
    { aftIndex: String(idx), method: 'Post', chatType: 'im', filePath: p, uploadedAt: t, fileSize: 10, bytesTransferred: 10, jid: 'alice@example.com', toJid: 'bob@example.com' },
    ...Array.from({ length: gets }, (_, i): PlanRow => ({ aftIndex: String(idx + 1 + i), method: 'Get', chatType: 'im', filePath: p, uploadedAt: new Date('2025-03-02T00:00:00Z'), fileSize: 10, bytesTransferred: 10, jid: 'bob@example.com', toJid: 'bob@example.com' })),
  ];
}

function planned(rows: PlanRow[], onServer: PlannedFile['onServer'] = { type: 'file', size: 10, mtime: '2025-03-01T10:10:01.000Z' }): PlannedFile {
  const post = rows[0]!;
  return { chatType: 'im', path: post.filePath, size: post.fileSize, uploadedAt: post.uploadedAt.toISOString(), aftIndex: post.aftIndex, rows: rows.map((r) => ({ aftIndex: r.aftIndex, method: r.method, at: r.uploadedAt.toISOString(), digest: rowDigest(r) })), onServer };
}

const same: FileState = { type: 'file', size: 10, mtimeMs: Date.parse('2025-03-01T10:10:01.000Z') };

describe('recheckBatch', () => {
  it('a file unchanged goes with exactly its planned rows', () => {
    const r = rowsOf('a', 10, 2);
    const [d] = recheckBatch([planned(r)], r, [same], ctx);
    expect(d).toMatchObject({ decision: 'delete', filePath: r[0]!.filePath, rowIndexes: ['10', '11', '12'], hourDir: `${DIR}/files/im/20250301/10` });
  });

  it('each kind of change is skipped with its reason', () => {
    const cases: Array<[string, (r: PlanRow[]) => { live: PlanRow[]; state?: FileState; ctx?: EligibilityContext; onServer?: PlannedFile['onServer'] }, string]> = [
      ['new download', (r) => ({ live: [...r, { ...r[0]!, aftIndex: '99', method: 'Get', uploadedAt: NOW }] }), 'new-download'],
      ['new upload of the path', (r) => ({ live: [...r, { ...r[0]!, aftIndex: '99' }] }), 'new-upload'],
      ['a row deleted', (r) => ({ live: r.slice(0, 1) }), 'row-deleted'],
      ['the Post row deleted', (r) => ({ live: r.slice(1) }), 'row-deleted'],
      ['every row and the file gone', () => ({ live: [], state: 'missing' }), 'already-purged'],
      ['a row changed', (r) => ({ live: [{ ...r[0]!, toJid: 'eve@example.com' }, ...r.slice(1)] }), 'row-changed'],
      ['a hold added', (r) => ({ live: r, ctx: { ...ctx, holds: [{ name: 'case-1', jids: [], uploaders: ['alice@example.com'], recipients: [], paths: [], aftIndexes: [] }] } }), 'hold:case-1'],
      ['another size', (r) => ({ live: r, state: { ...same, size: 11 } as FileState }), 'file-changed'],
      ['another modification time', (r) => ({ live: r, state: { ...same, mtimeMs: same.mtimeMs! + 1000 } as FileState }), 'file-changed'],
      ['a folder instead of the file', (r) => ({ live: r, state: { ...same, type: 'directory' } as FileState }), 'file-changed'],
      ['a file where the plan found none', (r) => ({ live: r, onServer: null }), 'file-appeared'],
      ['the server could not say', (r) => ({ live: r, state: new Error('permission denied') }), 'file-unverified'],
      ['outside the node directory now', (r) => ({ live: r, ctx: { ...ctx, nodeDirectory: '/opt/mftFileStore/node_2' } }), 'outside-directory'],
    ];
    for (const [label, change, reason] of cases) {
      const r = rowsOf('a', 10, 1);
      const c = change(r);
      const [d] = recheckBatch([planned(r, c.onServer === undefined ? undefined : c.onServer)], c.live, [c.state ?? same], c.ctx ?? ctx);
      expect({ label, decision: d!.decision, reason: d!.reason }).toEqual({ label, decision: 'keep', reason });
    }
  });

  it('the current hour is kept whatever the plan said', () => {
    const r = rowsOf('now', 10, 0, '2025031008');
    const [d] = recheckBatch([planned(r)], r, [same], { ...ctx, retentionCutoff: new Date('2025-03-10T09:00:00Z') });
    expect(d).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });

  it('a file already missing from the server, with its rows intact, goes (its rows are deleted)', () => {
    const r = rowsOf('a', 10, 1);
    expect(recheckBatch([planned(r)], r, ['missing'], ctx)[0]).toMatchObject({ decision: 'delete', rowIndexes: ['10', '11'] });
    expect(recheckBatch([planned(r, null)], r, ['missing'], ctx)[0]).toMatchObject({ decision: 'delete' });
  });

  it('judges each file of a batch on its own rows', () => {
    const a = rowsOf('a', 10, 1);
    const b = rowsOf('b', 20, 1);
    const live = [...a, ...b, { ...b[0]!, aftIndex: '30', method: 'Get', uploadedAt: NOW }];
    const out = recheckBatch([planned(a), planned(b)], live, [same, same], ctx);
    expect(out.map((d) => [d.filePath, d.decision, d.reason])).toEqual([
      [a[0]!.filePath, 'delete', 'expired'],
      [b[0]!.filePath, 'keep', 'new-download'],
    ]);
  });
});
