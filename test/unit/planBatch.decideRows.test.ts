import { describe, expect, it } from 'vitest';
import type { EligibilityContext, UploadRow } from '../../src/core/eligibility.js';
import { decideRows } from '../../src/core/planBatch.js';
import { countGone, emptyStats } from '../../src/core/purgeStats.js';

const ctx: EligibilityContext = {
  nodeDirectory: '/srv/mft/node_1',
  chatType: 'im',
  retentionCutoff: new Date('2026-11-14T10:00:00Z'),
  currentHourStart: new Date('2026-11-21T10:00:00Z'),
};

const row = (bytesTransferred: number | undefined): UploadRow => ({
  aftIndex: '7',
  filePath: '/srv/mft/node_1/files/im/20261101/08/a.png',
  fileSize: 500,
  bytesTransferred,
  chatType: 'im',
  uploadedAt: new Date('2026-11-01T08:30:00Z'),
  jid: 'a@example.com',
  toJid: 'b@example.com',
});

describe('decideRows: failed transfers', () => {
  it('flags an upload whose bytes_transferred differs from file_size, and counts it', () => {
    const [failed] = decideRows([row(120)], ctx);
    expect(failed).toMatchObject({ decision: 'delete', failedTransfer: true });
    const stats = emptyStats('im', 'P7D');
    countGone(stats, failed!, false);
    expect(stats.failedTransfers).toBe(1);
  });

  it('does not flag a complete upload', () => {
    expect(decideRows([row(500)], ctx)[0]).toMatchObject({ failedTransfer: false });
  });
});
