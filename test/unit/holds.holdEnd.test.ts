import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdEnd, loadHolds } from '../../src/config/holds.js';
import { findHold } from '../../src/core/holds.js';
import type { UploadRow } from '../../src/core/eligibility.js';

describe('holdEnd', () => {
  it('a date alone holds through that whole UTC day', () => {
    expect(holdEnd('2027-06-30').toISOString()).toBe('2027-07-01T00:00:00.000Z');
  });

  it('the last day of a year and the 28th of a leap February roll over to the next day', () => {
    expect(holdEnd('2027-12-31').toISOString()).toBe('2028-01-01T00:00:00.000Z');
    expect(holdEnd('2028-02-28').toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it('a date and time ends the hold at that instant, offset applied', () => {
    expect(holdEnd('2027-06-30T12:00:00Z').toISOString()).toBe('2027-06-30T12:00:00.000Z');
    expect(holdEnd('2027-06-30T12:00:00+02:00').toISOString()).toBe('2027-06-30T10:00:00.000Z');
  });

  it('a hold loaded from holds.yaml with "expires: 2027-06-30" still keeps the file at 23:59 UTC that day, not at 00:00 the next', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mft-holds-end-'));
    writeFileSync(join(dir, 'holds.yaml'), 'holds:\n  - name: case-1\n    uploaders: [alice@example.com]\n    expires: 2027-06-30\n');
    const { holds, problems } = await loadHolds(dir);
    expect(problems).toEqual([]);
    const row: UploadRow = { aftIndex: '1', filePath: '/n/files/im/20270101/00/a.txt', fileSize: 1, chatType: 'im', uploadedAt: new Date('2027-01-01T00:00:00Z'), jid: 'alice@example.com/pc', toJid: 'bob@example.com' };
    expect(findHold(row, holds, new Date('2027-06-30T23:59:59Z'))?.name).toBe('case-1');
    expect(findHold(row, holds, new Date('2027-07-01T00:00:00Z'))).toBeUndefined();
  });
});
