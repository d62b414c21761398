import { describe, expect, it } from 'vitest';
import { emptyFolderCandidates, finishedHourFolders } from '../../src/core/emptyFolders.js';

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

describe('finishedHourFolders', () => {
  const current = new Date('2026-11-21T10:00:00Z');
  const at = (iso: string): Date => new Date(iso);

  it('offers every hour folder of the batch but the last file\'s, once each', () => {
    const got = finishedHourFolders(
      [
        [`${D}/20261119/22`, at('2026-11-19T22:00:00Z')],
        [`${D}/20261119/22`, at('2026-11-19T22:00:00Z')],
        [`${D}/20261119/23`, at('2026-11-19T23:00:00Z')],
        [`${D}/20261119/23.1`, at('2026-11-19T23:00:00Z')],
        [`${D}/20261120/00`, at('2026-11-20T00:00:00Z')],
        [`${D}/20261120/00`, at('2026-11-20T00:00:00Z')],
      ],
      current,
    );
    expect(got).toEqual([`${D}/20261119/22`, `${D}/20261119/23`, `${D}/20261119/23.1`]);
  });

  it('keeps the last file\'s folder even when it also came earlier in the batch', () => {
    const got = finishedHourFolders(
      [
        [`${D}/20261119/22`, at('2026-11-19T22:00:00Z')],
        [`${D}/20261119/23`, at('2026-11-19T23:00:00Z')],
        [`${D}/20261119/22`, at('2026-11-19T22:00:00Z')],
      ],
      current,
    );
    expect(got).toEqual([`${D}/20261119/23`]);
  });

  it('never offers a folder of today, and nothing for a batch of one folder or none', () => {
    const got = finishedHourFolders(
      [
        [`${D}/20261121/08`, at('2026-11-21T08:00:00Z')],
        [`${D}/20261121/09`, at('2026-11-21T09:00:00Z')],
      ],
      current,
    );
    expect(got).toEqual([]);
    expect(finishedHourFolders([[`${D}/20261119/22`, at('2026-11-19T22:00:00Z')]], current)).toEqual([]);
    expect(finishedHourFolders([], current)).toEqual([]);
  });
});
