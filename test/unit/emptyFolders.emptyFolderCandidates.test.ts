import { describe, expect, it } from 'vitest';
import { emptyFolderCandidates } from '../../src/core/emptyFolders.js';

const D = '/opt/mftFileStore/node_1/files/im';

describe('emptyFolderCandidates', () => {
  const current = new Date('2026-11-21T10:00:00Z');

  it('offers past days\' hour folders and their date folders', () => {
    const got = emptyFolderCandidates(
      new Map([
        [`${D}/20261120/23`, new Date('2026-11-20T23:00:00Z')],
        [`${D}/20261120/22.1`, new Date('2026-11-20T22:00:00Z')],
      ]),
      current,
    );
    expect(got.sort()).toEqual([`${D}/20261120`, `${D}/20261120/22.1`, `${D}/20261120/23`]);
  });

  it('never offers a folder of today (UTC), not even an earlier hour', () => {
    const got = emptyFolderCandidates(
      new Map([
        [`${D}/20261121/00`, new Date('2026-11-21T00:00:00Z')],
        [`${D}/20261121/09`, new Date('2026-11-21T09:00:00Z')],
      ]),
      current,
    );
    expect(got).toEqual([]);
  });
});
