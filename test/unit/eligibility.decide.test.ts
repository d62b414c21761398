import { describe, it, expect } from 'vitest';
import { decide, type EligibilityContext, type UploadRow } from '../../src/core/eligibility.js';

const NODE = '/opt/mftFileStore/node_1';
const HOUR = 3_600_000;

// Now: 2024-03-10 14:25 UTC. Current hour starts 14:00. Retention P7D gives a cutoff of 2024-03-03 14:25.
const currentHourStart = new Date('2024-03-10T14:00:00.000Z');
const ctx: EligibilityContext = {
  nodeDirectory: NODE,
  chatType: 'im',
  retentionCutoff: new Date('2024-03-03T14:25:00.000Z'),
  currentHourStart,
};
/** A context whose retention is as short as possible: the cutoff is "now". */
const shortCtx: EligibilityContext = { ...ctx, retentionCutoff: new Date('2024-03-10T14:25:00.000Z') };

function pathFor(t: Date, chatType = 'im', roll = ''): string {
  const iso = t.toISOString();
  return `${NODE}/files/${chatType}/${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}/${iso.slice(11, 13)}${roll}/f_${t.getTime()}.jpg`;
}

function row(uploadedAt: Date, over: Partial<UploadRow> = {}): UploadRow {
  return {
    aftIndex: '1',
    filePath: pathFor(uploadedAt, over.chatType ?? 'im'),
    fileSize: 100,
    chatType: 'im',
    uploadedAt,
    jid: 'alice@example.com',
    toJid: 'bob@example.com',
    ...over,
  };
}

describe('decide: delete', () => {
  it('deletes an expired upload whose folder is expired too, with reason "expired"', () => {
    const d = decide(row(new Date('2024-02-01T08:30:00Z')), ctx);
    expect(d.decision).toBe('delete');
    expect(d.reason).toBe('expired');
    expect(d.parsed?.hourStart.toISOString()).toBe('2024-02-01T08:00:00.000Z');
  });

  it('deletes a file in an HH.n roll-over folder', () => {
    const t = new Date('2024-02-01T08:30:00Z');
    const d = decide(row(t, { filePath: pathFor(t, 'im', '.3') }), ctx);
    expect(d).toMatchObject({ decision: 'delete', reason: 'expired' });
  });

  it('deletes an upload in the last millisecond of the previous hour when retention allows', () => {
    const t = new Date(currentHourStart.getTime() - 1);
    const r = row(t);
    expect(r.filePath).toContain('/20240310/13/');
    const d = decide(r, shortCtx);
    expect(d).toMatchObject({ decision: 'delete', reason: 'expired' });
  });

  it('deletes an upload one millisecond before the retention cutoff', () => {
    // Cutoff on an hour boundary so that the folder is expired too.
    const c = { ...ctx, retentionCutoff: new Date('2024-03-03T15:00:00.000Z') };
    const d = decide(row(new Date(c.retentionCutoff.getTime() - 1)), c);
    expect(d).toMatchObject({ decision: 'delete', reason: 'expired' });
  });

  it('deletes for each chat type when row, folder and policy agree', () => {
    for (const chatType of ['im', 'groupchat', 'persistent'] as const) {
      const t = new Date('2024-02-01T08:30:00Z');
      const d = decide(row(t, { chatType }), { ...ctx, chatType });
      expect(d).toMatchObject({ decision: 'delete', reason: 'expired' });
    }
  });
});

describe('decide: current hour', () => {
  it('keeps an upload in the first millisecond of the current hour as "current-hour"', () => {
    const d = decide(row(currentHourStart), shortCtx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });

  it('keeps an upload in the last millisecond of the current hour as "current-hour"', () => {
    const d = decide(row(new Date(currentHourStart.getTime() + HOUR - 1)), shortCtx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });

  it('keeps a file whose folder is the current hour even if its timestamp is old, as "current-hour"', () => {
    const old = new Date('2024-01-01T00:00:00Z');
    const d = decide(row(old, { filePath: pathFor(currentHourStart) }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });

  it('keeps a current-hour file whatever the retention says (cutoff in the future)', () => {
    const c = { ...ctx, retentionCutoff: new Date(currentHourStart.getTime() + 10 * HOUR) };
    const d = decide(row(new Date(currentHourStart.getTime() + 60_000)), c);
    expect(d).toMatchObject({ decision: 'keep', reason: 'current-hour' });
  });
});

describe('decide: not expired', () => {
  it('keeps an upload at the retention cutoff (the cutoff itself is not expired)', () => {
    const c = { ...ctx, retentionCutoff: new Date('2024-03-03T15:00:00.000Z') };
    const d = decide(row(c.retentionCutoff), c);
    expect(d).toMatchObject({ decision: 'keep', reason: 'not-expired' });
  });

  it('keeps a recent upload of a previous hour as "not-expired"', () => {
    const d = decide(row(new Date('2024-03-09T10:00:00Z')), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'not-expired' });
  });

  it('keeps a file whose timestamp is older than the cutoff but whose folder is newer, as "not-expired"', () => {
    const d = decide(row(new Date('2024-02-01T08:30:00Z'), { filePath: pathFor(new Date('2024-03-05T08:00:00Z')) }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'not-expired' });
    expect(d.parsed?.hourStart.toISOString()).toBe('2024-03-05T08:00:00.000Z');
  });

  it('keeps a file whose folder hour starts before the cutoff but whose timestamp is after it', () => {
    // Cutoff 14:25; folder 14:00 (starts before the cutoff), upload 14:30 (after it).
    const d = decide(row(new Date('2024-03-03T14:30:00Z')), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'not-expired' });
  });

  it('keeps a file whose folder is newer than its timestamp when the folder hour is not before the cutoff', () => {
    const d = decide(row(new Date('2024-03-03T13:59:59.999Z'), { filePath: pathFor(new Date('2024-03-03T14:00:00Z')) }), {
      ...ctx,
      retentionCutoff: new Date('2024-03-03T14:00:00.000Z'),
    });
    expect(d).toMatchObject({ decision: 'keep', reason: 'not-expired' });
  });
});

describe('decide: chat type mismatch', () => {
  const t = new Date('2024-02-01T08:30:00Z');

  it('keeps a row whose chat_type is not the policy\'s', () => {
    const d = decide(row(t, { chatType: 'groupchat', filePath: pathFor(t, 'im') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'chat-type-mismatch' });
  });

  it('keeps a row whose chat_type and folder agree with each other but not with the policy', () => {
    const d = decide(row(t, { chatType: 'groupchat', filePath: pathFor(t, 'groupchat') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'chat-type-mismatch' });
  });

  it('keeps a row whose folder chat type differs from its chat_type', () => {
    const d = decide(row(t, { chatType: 'im', filePath: pathFor(t, 'persistent') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'chat-type-mismatch' });
    if (d.decision === 'keep') expect(d.detail).toContain('persistent');
  });

  it('keeps a row whose chat_type differs only in case', () => {
    const d = decide(row(t, { chatType: 'IM', filePath: pathFor(t, 'im') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'chat-type-mismatch' });
  });

  it('keeps a row whose chat_type has trailing blanks (CHAR padding)', () => {
    const d = decide(row(t, { chatType: 'im        ', filePath: pathFor(t, 'im') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'chat-type-mismatch' });
  });
});

describe('decide: future timestamps', () => {
  it('keeps an upload dated after the current hour as "future-timestamp"', () => {
    const t = new Date(currentHourStart.getTime() + HOUR);
    const d = decide(row(t, { filePath: pathFor(new Date('2024-02-01T08:00:00Z')) }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'future-timestamp' });
  });

  it('keeps a file whose folder is a future hour as "future-timestamp"', () => {
    const d = decide(row(new Date('2024-02-01T08:30:00Z'), { filePath: pathFor(new Date('2025-01-01T00:00:00Z')) }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'future-timestamp' });
  });

  it('keeps a file whose folder is the next hour as "future-timestamp"', () => {
    const d = decide(row(new Date('2024-02-01T08:30:00Z'), { filePath: pathFor(new Date(currentHourStart.getTime() + HOUR)) }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'future-timestamp' });
  });

  it('keeps a row with an invalid timestamp', () => {
    const d = decide(row(new Date('2024-02-01T08:30:00Z'), { uploadedAt: new Date(Number.NaN) }), ctx);
    expect(d.decision).toBe('keep');
  });
});

describe('decide: paths', () => {
  const t = new Date('2024-02-01T08:30:00Z');

  it('keeps a file of another node directory as "outside-directory"', () => {
    const d = decide(row(t, { filePath: pathFor(t).replace('/node_1/', '/node_10/') }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'outside-directory' });
    expect(d.parsed).toBeUndefined();
  });

  it('keeps an absolute path elsewhere as "outside-directory"', () => {
    const d = decide(row(t, { filePath: '/etc/passwd' }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'outside-directory' });
  });

  it('keeps a path with ".." as "bad-path"', () => {
    const d = decide(row(t, { filePath: `${NODE}/files/im/20240201/08/../../../../../node_2/x` }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'bad-path' });
  });

  it('keeps a path with an extra segment as "bad-path"', () => {
    const d = decide(row(t, { filePath: `${NODE}/files/im/20240201/08/sub/x` }), ctx);
    expect(d).toMatchObject({ decision: 'keep', reason: 'bad-path' });
  });

  it('keeps an empty path as "empty-path"', () => {
    expect(decide(row(t, { filePath: '' }), ctx)).toMatchObject({ decision: 'keep', reason: 'empty-path' });
    expect(decide(row(t, { filePath: null }), ctx)).toMatchObject({ decision: 'keep', reason: 'empty-path' });
  });

  it('keeps a path with a NUL as "bad-characters"', () => {
    expect(decide(row(t, { filePath: `${pathFor(t)}\u0000` }), ctx)).toMatchObject({ decision: 'keep', reason: 'bad-characters' });
  });

  it('keeps a path with an invalid date folder as "bad-date-folder"', () => {
    expect(decide(row(t, { filePath: `${NODE}/files/im/20230229/08/x` }), ctx)).toMatchObject({ decision: 'keep', reason: 'bad-date-folder' });
  });

  it('keeps a path with hour folder 24 as "bad-hour-folder"', () => {
    expect(decide(row(t, { filePath: `${NODE}/files/im/20240201/24/x` }), ctx)).toMatchObject({ decision: 'keep', reason: 'bad-hour-folder' });
  });
});

describe('decide: an unusable context keeps everything', () => {
  const t = new Date('2024-02-01T08:30:00Z');

  // Regression (was a bug in src/core/eligibility.ts decide): the context's instants are not validated. With an
  // Invalid Date every `>=` comparison is false, so every well-formed old file is "expired".
  // This happens for real: retentionCutoff(now, P300000Y) (a retention the config accepts, e.g.
  // an admin's "keep for ever") is an Invalid Date, see clock.resolvePurgeTimes.test.ts.
  it('keeps files when retentionCutoff is an Invalid Date', () => {
    const d = decide(row(t), { ...ctx, retentionCutoff: new Date(Number.NaN) });
    expect(d.decision).toBe('keep');
  });

  it('keeps files when currentHourStart is an Invalid Date', () => {
    const d = decide(row(t), { ...ctx, currentHourStart: new Date(Number.NaN) });
    expect(d.decision).toBe('keep');
  });
});
