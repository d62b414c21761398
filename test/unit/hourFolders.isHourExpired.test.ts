import { describe, expect, it } from 'vitest';
import { hourFolderStart, isDateFolder, isHourExpired } from '../../src/core/hourFolders.js';

const NODE = '/opt/mftFileStore/node_1';

describe('hour folders for reconciliation', () => {
  it('an hour is expired only when its whole hour ends at or before the cutoff and before the current hour', () => {
    const start = new Date('2026-11-21T03:00:00Z');
    const current = new Date('2026-11-21T10:00:00Z');
    expect(isHourExpired(start, new Date('2026-11-21T04:00:00Z'), current)).toBe(true);
    expect(isHourExpired(start, new Date('2026-11-21T03:59:59.999Z'), current)).toBe(false);
    expect(isHourExpired(new Date('2026-11-21T09:00:00Z'), new Date('2026-11-21T12:00:00Z'), new Date('2026-11-21T09:00:00Z'))).toBe(false);
  });

  it('reads Cisco folder names strictly, roll-over folders included', () => {
    expect(hourFolderStart(NODE, 'im', '20261121', '03.2')).toEqual(new Date('2026-11-21T03:00:00Z'));
    expect(hourFolderStart(NODE, 'im', '20261121', '24')).toBeUndefined();
    expect(hourFolderStart(NODE, 'im', '20261121', '..')).toBeUndefined();
    expect(isDateFolder(NODE, 'im', '20230229')).toBe(false);
    expect(isDateFolder(NODE, 'im', '20240229')).toBe(true);
  });
});
