import { describe, expect, it } from 'vitest';
import type { EligibilityContext, UploadRow } from '../../src/core/eligibility.js';
import { downloadedSince, lastDownload } from '../../src/core/lastActivity.js';
import type { CompanionRow } from '../../src/ports.js';
import { attachCompanions, decideRows } from '../../src/core/planBatch.js';

const NODE = '/opt/mftFileStore/node_1';
const P1 = `${NODE}/files/im/20240201/08/aaa.jpg`;
const OLD = new Date('2024-02-01T08:30:00Z');
const ctx: EligibilityContext = {
  nodeDirectory: NODE,
  chatType: 'im',
  retentionCutoff: new Date('2024-03-03T14:25:00Z'),
  currentHourStart: new Date('2024-03-10T14:00:00Z'),
  lastDownloadCutoff: new Date('2024-03-03T14:25:00Z'),
};
const post = (aftIndex: string): UploadRow => ({ aftIndex, filePath: P1, fileSize: 10, chatType: 'im', uploadedAt: OLD, jid: 'a@x', toJid: 'b@x' });
const row = (aftIndex: string, method: string, at: Date): CompanionRow => ({ aftIndex, filePath: P1, method, chatType: 'im', uploadedAt: at });

describe('lastDownload / downloadedSince', () => {
  it('is the newest Get row; Post rows do not count as downloads', () => {
    const rows = [row('1', 'Post', new Date('2024-03-09T00:00:00Z')), row('2', 'Get', new Date('2024-02-02T00:00:00Z')), row('3', 'Get', new Date('2024-02-05T00:00:00Z'))];
    expect(lastDownload(rows)).toEqual(new Date('2024-02-05T00:00:00Z'));
    expect(downloadedSince(rows, new Date('2024-02-05T00:00:00Z'))).toEqual(new Date('2024-02-05T00:00:00Z'));
    expect(downloadedSince(rows, new Date('2024-02-05T00:00:00.001Z'))).toBeUndefined();
    expect(lastDownload([row('1', 'Post', OLD)])).toBeUndefined();
  });

  it('keeps the file when a download time cannot be read', () => {
    expect(downloadedSince([row('2', 'Get', new Date(Number.NaN))], new Date('2024-01-01T00:00:00Z'))).toBe('unreadable');
  });
});

describe('attachCompanions with keepAfterLastDownload', () => {
  it('keeps an expired file downloaded after the cutoff, reason recent-download, with only its Post row', () => {
    const out = attachCompanions(decideRows([post('10')], ctx), [row('10', 'Post', OLD), row('11', 'Get', new Date('2024-03-05T09:00:00Z'))], ctx);
    expect(out[0]).toMatchObject({ decision: 'keep', reason: 'recent-download', detail: 'last downloaded 2024-03-05T09:00:00.000Z', rowIndexes: ['10'] });
  });

  it('lets it go when the last download is older than the cutoff too, with all its rows', () => {
    const out = attachCompanions(decideRows([post('10')], ctx), [row('10', 'Post', OLD), row('11', 'Get', new Date('2024-03-01T09:00:00Z'))], ctx);
    expect(out[0]).toMatchObject({ decision: 'delete', reason: 'expired' });
    expect(out[0]!.rowIndexes.sort()).toEqual(['10', '11']);
  });

  it('without the policy option a recent download keeps nothing', () => {
    const plain = { ...ctx, lastDownloadCutoff: undefined };
    const out = attachCompanions(decideRows([post('10')], plain), [row('11', 'Get', new Date('2024-03-09T09:00:00Z'))], plain);
    expect(out[0]).toMatchObject({ decision: 'delete' });
  });
});
