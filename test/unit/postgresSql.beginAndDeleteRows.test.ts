import { describe, expect, it } from 'vitest';
import { beginAndDeleteRows } from '../../src/adapters/postgres/sql.js';

// The batch's DELETE carries its values in its text (a message of several statements cannot bind
// parameters): only plain integers may get there.
describe('beginAndDeleteRows', () => {
  it('opens the transaction and deletes the given rows and the newer rows of their paths', () => {
    const text = beginAndDeleteRows('public.aft_log', ['1', '22', '9223372036854775807'], '500', false);
    // Whatever the planner statistics, no sequential scan of the table for a batch.
    expect(text.startsWith('BEGIN; SET LOCAL enable_seqscan = off; DELETE FROM public.aft_log WHERE ')).toBe(true);
    expect(text).toContain(`aft_index = ANY('{1,22,9223372036854775807}'::bigint[])`);
    // Quoted and cast: the lowest bigint written bare would be a numeric, which no index on a bigint serves.
    expect(text).toContain(`aft_index > '500'::bigint AND file_path IN (SELECT file_path FROM public.aft_log WHERE`);
    expect(text).not.toContain('RETURNING');
    expect(beginAndDeleteRows('public.aft_log', ['-3'], '-9223372036854775808', true).endsWith(' RETURNING *')).toBe(true);
  });

  it.each([
    ['an id with SQL in it', ["1}'::bigint[]); DROP TABLE aft_log; --"], '5'],
    ['an id with a quote', ["1'"], '5'],
    ['an empty id', [''], '5'],
    ['a decimal id', ['1.5'], '5'],
    ['an id of 20 digits', ['12345678901234567890'], '5'],
    ['a high-water mark with SQL in it', ['1'], '5 OR true'],
    ['a high-water mark with a newline', ['1'], '5\n'],
  ])('refuses %s', (_name, ids, newerThan) => {
    expect(() => beginAndDeleteRows('public.aft_log', ids, newerThan, false)).toThrow(/not an aft_index value/);
  });
});
