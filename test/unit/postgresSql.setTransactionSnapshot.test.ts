import { describe, expect, it } from 'vitest';
import { setTransactionSnapshot } from '../../src/adapters/postgres/sql.js';

describe('setTransactionSnapshot', () => {
  it('writes an identifier as pg_export_snapshot returns it into the statement', () => {
    expect(setTransactionSnapshot('00000003-0000001B-1')).toBe(`SET TRANSACTION SNAPSHOT '00000003-0000001B-1'`);
  });

  it('refuses anything else, since the value is written into the text', () => {
    for (const bad of ["1'; DROP TABLE aft_log; --", '', 'abc def', 'a'.repeat(65)]) {
      expect(() => setTransactionSnapshot(bad), bad).toThrow(/not a snapshot identifier/);
    }
  });
});
