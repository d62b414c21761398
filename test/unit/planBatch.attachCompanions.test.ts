import { describe, it, expect } from 'vitest';
import type { EligibilityContext, UploadRow } from '../../src/core/eligibility.js';
import type { CompanionRow } from '../../src/ports.js';
import { attachCompanions, decideRows, type FileDecision } from '../../src/purge/planBatch.js';

const NODE = '/opt/mftFileStore/node_1';
const ctx: EligibilityContext = {
  nodeDirectory: NODE,
  chatType: 'im',
  retentionCutoff: new Date('2024-03-03T14:25:00.000Z'),
  currentHourStart: new Date('2024-03-10T14:00:00.000Z'),
};
const OLD = new Date('2024-02-01T08:30:00Z');
const RECENT = new Date('2024-03-09T08:30:00Z');
const P1 = `${NODE}/files/im/20240201/08/aaa.jpg`;
const P2 = `${NODE}/files/im/20240201/08/bbb.jpg`;

function post(aftIndex: string, filePath: string | null, uploadedAt = OLD, chatType = 'im'): UploadRow {
  return { aftIndex, filePath, fileSize: 10, chatType, uploadedAt, jid: 'a@x', toJid: 'b@x' };
}
function comp(aftIndex: string, filePath: string, method: string, uploadedAt = OLD, chatType = 'im'): CompanionRow {
  return { aftIndex, filePath, method, chatType, uploadedAt };
}
const byPath = (files: FileDecision[], p: string) => files.filter((f) => f.filePath === p);

describe('decideRows', () => {
  it('gives one decision per row, each with its own aft_index as the only row', () => {
    const d = decideRows([post('1', P1), post('2', P2, RECENT)], ctx);
    expect(d.map((x) => [x.aftIndex, x.decision, x.reason, x.rowIndexes])).toEqual([
      ['1', 'delete', 'expired', ['1']],
      ['2', 'keep', 'not-expired', ['2']],
    ]);
    expect(d[0]!.hourDir).toBe(`${NODE}/files/im/20240201/08`);
  });
});

describe('attachCompanions', () => {
  it('attaches the Get rows of a file to its rowIndexes', () => {
    const first = decideRows([post('10', P1)], ctx);
    const out = attachCompanions(first, [comp('10', P1, 'Post'), comp('11', P1, 'Get'), comp('15', P1, 'Get', RECENT)], ctx);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ decision: 'delete', reason: 'expired', aftIndex: '10' });
    expect(out[0]!.rowIndexes.sort()).toEqual(['10', '11', '15']);
  });

  it('attaches only the rows of the same path', () => {
    const first = decideRows([post('10', P1), post('20', P2)], ctx);
    const out = attachCompanions(first, [comp('11', P1, 'Get'), comp('21', P2, 'Get'), comp('22', P2, 'Get')], ctx);
    expect(byPath(out, P1)[0]!.rowIndexes).toEqual(['10', '11']);
    expect(byPath(out, P2)[0]!.rowIndexes).toEqual(['20', '21', '22']);
  });

  it('merges duplicate Post rows of one path in one batch into one file with both rows', () => {
    const first = decideRows([post('10', P1), post('12', P1)], ctx);
    const out = attachCompanions(first, [comp('10', P1, 'Post'), comp('11', P1, 'Get'), comp('12', P1, 'Post')], ctx);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ decision: 'delete', aftIndex: '10' });
    expect(out[0]!.rowIndexes.sort()).toEqual(['10', '11', '12']);
  });

  it('merges duplicate Post rows even when the companions query did not return them', () => {
    const first = decideRows([post('10', P1), post('12', P1)], ctx);
    const out = attachCompanions(first, [], ctx);
    expect(out).toHaveLength(1);
    expect(out[0]!.rowIndexes).toEqual(['10', '12']);
  });

  it('keeps a file as "duplicate-post" when another Post row for it is not expired', () => {
    const first = decideRows([post('10', P1)], ctx);
    const out = attachCompanions(first, [comp('10', P1, 'Post'), comp('11', P1, 'Get'), comp('30', P1, 'Post', RECENT)], ctx);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    expect(out[0]!.detail).toContain('30');
    expect(out[0]!.rowIndexes).toEqual(['10']);
  });

  it('keeps a file as "duplicate-post" when another Post row for it is of another chat type', () => {
    const first = decideRows([post('10', P1)], ctx);
    const out = attachCompanions(first, [comp('31', P1, 'Post', OLD, 'groupchat')], ctx);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
    expect(out[0]!.detail).toContain('groupchat');
  });

  it('keeps a file as "duplicate-post" when another Post row for it is in the current hour', () => {
    const c = { ...ctx, retentionCutoff: new Date('2024-03-10T14:30:00.000Z') };
    const first = decideRows([post('10', P1)], c);
    const out = attachCompanions(first, [comp('32', P1, 'Post', new Date('2024-03-10T14:05:00.000Z'))], c);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
  });

  it('keeps a file as "duplicate-post" when another Post row for it has an invalid timestamp', () => {
    const first = decideRows([post('10', P1)], ctx);
    const out = attachCompanions(first, [comp('33', P1, 'Post', new Date(Number.NaN))], ctx);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post' });
  });

  it('keeps a file whose unexpired Post companion comes after its Get rows, and attaches no rows to it', () => {
    const first = decideRows([post('10', P1)], ctx);
    const out = attachCompanions(first, [comp('11', P1, 'Get'), comp('12', P1, 'Get'), comp('40', P1, 'Post', RECENT)], ctx);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'duplicate-post', rowIndexes: ['10'] });
  });

  it('keeps the file once even when two expired Post rows of it are in the batch and a third is not expired', () => {
    const first = decideRows([post('10', P1), post('12', P1)], ctx);
    const out = attachCompanions(first, [comp('10', P1, 'Post'), comp('12', P1, 'Post'), comp('40', P1, 'Post', RECENT)], ctx);
    const files = byPath(out, P1);
    expect(files.every((f) => f.decision === 'keep')).toBe(true);
    expect(out.filter((f) => f.decision === 'delete')).toHaveLength(0);
  });

  it('leaves keep decisions untouched, in place, without attaching rows', () => {
    const first = decideRows([post('1', '/etc/passwd'), post('2', P1), post('3', P2, RECENT)], ctx);
    const keepsBefore = first.filter((d) => d.decision === 'keep').map((d) => structuredClone(d));
    const out = attachCompanions(first, [comp('20', P1, 'Get'), comp('21', '/etc/passwd', 'Get'), comp('22', P2, 'Get')], ctx);
    expect(out.map((d) => d.aftIndex)).toEqual(['1', '2', '3']);
    expect(out.filter((d) => d.decision === 'keep')).toEqual(keepsBefore);
    expect(out[1]!.rowIndexes).toEqual(['2', '20']);
  });

  it('does not change its input decisions', () => {
    const first = decideRows([post('10', P1)], ctx);
    const snapshot = structuredClone(first);
    attachCompanions(first, [comp('11', P1, 'Get'), comp('40', P1, 'Post', RECENT)], ctx);
    expect(first).toEqual(snapshot);
  });

  it('handles aft_index values beyond 2^53 as strings without rounding', () => {
    const a = '9223372036854775806';
    const b = '9223372036854775807';
    const first = decideRows([post(a, P1)], ctx);
    const out = attachCompanions(first, [comp(a, P1, 'Post'), comp(b, P1, 'Get')], ctx);
    expect(out[0]!.rowIndexes).toEqual([a, b]);
  });

  it('a file downloaded 100,000 times: every row once, however often it is listed', () => {
    const N = 100_000;
    const gets = Array.from({ length: N }, (_, i) => comp(String(1000 + i), P1, 'Get'));
    // Two expired Posts of the path in the batch, each listing the same rows (as the readers do).
    const first = decideRows([post('10', P1), post('12', P1)], ctx);
    const out = attachCompanions(first, [comp('10', P1, 'Post'), comp('12', P1, 'Post'), ...gets, ...gets.slice(0, 1000)], ctx);
    expect(out).toHaveLength(1);
    const rowsOf = out[0]!.rowIndexes;
    expect(out[0]!.decision).toBe('delete');
    expect(rowsOf).toHaveLength(N + 2);
    expect(new Set(rowsOf).size).toBe(N + 2);
    expect(rowsOf.slice(0, 3)).toEqual(['10', '12', '1000']);
  });
});
