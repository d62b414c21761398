// The contract every AFT_LOG adapter (the Catalog port) must meet, written once and run
// against each real database: PostgreSQL in every test run (postgres.contract.test.ts),
// Oracle when a server is given (test/oracle/oracle.contract.test.ts, `npm run test:oracle`).
import { afterEach, describe, expect, it } from 'vitest';
import { decide } from '../../src/core/eligibility.js';
import { DatabaseFullError } from '../../src/errors.js';
import type { AuditRow, Catalog, ExpiredUploadReader } from '../../src/ports.js';

export interface ContractRow {
  aftIndex: bigint | number;
  method: 'Post' | 'Get';
  chatType: string;
  /** '' is allowed: Oracle stores it as NULL. */
  filePath: string;
  /** The instant; the factory writes its wall clock in the table's timestampZone. */
  timestamp: Date;
  fileSize?: number;
  jid?: string;
  toJid?: string;
}

export interface CatalogUnderTest {
  catalog: Catalog;
  /** aft_index of every row still in the table, ascending, as decimal strings (read directly, not through the adapter). */
  remainingIndexes(): Promise<string[]>;
  /**
   * From now on, deleting the row with this aft_index fails inside the DELETE statement
   * (a row trigger): with the database's "disk full" error, or with some other error.
   */
  failDeleteOf(aftIndex: bigint | number, kind: 'disk-full' | 'error'): Promise<void>;
  /** Adds rows behind the adapter's back (another writer: Cisco's MFT logging a download), committed. */
  insertRows(rows: ContractRow[]): Promise<void>;
  dispose(): Promise<void>;
}

export interface CatalogFactory {
  /** A fresh AFT_LOG holding exactly these rows, its timestamps written in `timestampZone`, and a Catalog on it. */
  create(rows: ContractRow[], opts?: { timestampZone?: string }): Promise<CatalogUnderTest>;
}

const HOUR = 3_600_000;
const T0 = new Date('2025-03-10T08:15:30.250Z');
const at = (hoursBefore: number, ms = 0): Date => new Date(T0.getTime() - hoursBefore * HOUR + ms);
const post = (aftIndex: bigint | number, filePath: string, timestamp: Date, extra: Partial<ContractRow> = {}): ContractRow => ({ aftIndex, method: 'Post', chatType: 'im', filePath, timestamp, ...extra });
const get = (aftIndex: bigint | number, filePath: string, timestamp: Date): ContractRow => ({ aftIndex, method: 'Get', chatType: 'im', filePath, timestamp });
const p = (n: number | string): string => `/opt/mftFileStore/node_1/files/im/20250301/10/file-${n}.txt`;

/** Registers the contract's tests for one adapter. */
export function describeCatalogContract(name: string, factory: () => CatalogFactory): void {
  describe(`Catalog contract: ${name}`, () => {
    const open: CatalogUnderTest[] = [];
    const make = async (rows: ContractRow[], opts?: { timestampZone?: string }): Promise<CatalogUnderTest> => {
      const c = await factory().create(rows, opts);
      open.push(c);
      return c;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((c) => c.dispose()));
    });

    it('pages expired uploads by aft_index ascending (as numbers, beyond 2^53), at most limit per page', async () => {
      const big = 9_007_199_254_740_993n; // 2^53 + 1: a JS number cannot hold it
      const { catalog } = await make([post(10, p(10), at(48)), post(9, p(9), at(48)), post(100, p(100), at(48)), post(2, p(2), at(48)), post(big, p('big'), at(48))]);
      const page = (afterIndex: string) => catalog.findExpiredUploads({ chatType: 'im', before: T0, afterIndex, limit: 2 });
      expect((await page('0')).map((r) => r.aftIndex)).toEqual(['2', '9']);
      expect((await page('9')).map((r) => r.aftIndex)).toEqual(['10', '100']);
      expect((await page('100')).map((r) => r.aftIndex)).toEqual([big.toString()]);
      expect(await page(big.toString())).toEqual([]);
    });

    it('returns the row fields the purge decides on', async () => {
      const { catalog } = await make([post(7, p(7), at(30), { fileSize: 123_456_789_012, jid: 'alice@example.com', toJid: 'room@conference.example.com', chatType: 'im' })]);
      const [row] = await catalog.findExpiredUploads({ chatType: 'im', before: T0, afterIndex: '0', limit: 10 });
      expect(row).toEqual({
        aftIndex: '7',
        filePath: p(7),
        fileSize: 123_456_789_012,
        bytesTransferred: 123_456_789_012,
        chatType: 'im',
        uploadedAt: at(30),
        jid: 'alice@example.com',
        toJid: 'room@conference.example.com',
      });
    });

    it('takes only uploads strictly before the cutoff (to the millisecond)', async () => {
      const cutoff = at(24);
      const { catalog } = await make([post(1, p(1), new Date(cutoff.getTime() - 1)), post(2, p(2), cutoff), post(3, p(3), new Date(cutoff.getTime() + 1))]);
      const rows = await catalog.findExpiredUploads({ chatType: 'im', before: cutoff, afterIndex: '0', limit: 10 });
      expect(rows.map((r) => r.aftIndex)).toEqual(['1']);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: cutoff }])).toEqual([{ files: 1, bytes: 1024 }]);
    });

    it('takes only Post rows of the asked chat type', async () => {
      const { catalog } = await make([
        post(1, p(1), at(48)),
        get(2, p(1), at(47)),
        post(3, '/opt/mftFileStore/node_1/files/groupchat/20250301/10/g.txt', at(48), { chatType: 'groupchat' }),
        post(4, '/opt/mftFileStore/node_1/files/persistent/20250301/10/r.txt', at(48), { chatType: 'persistent' }),
      ]);
      const ids = async (chatType: 'im' | 'groupchat' | 'persistent') => (await catalog.findExpiredUploads({ chatType, before: T0, afterIndex: '0', limit: 10 })).map((r) => r.aftIndex);
      expect(await ids('im')).toEqual(['1']);
      expect(await ids('groupchat')).toEqual(['3']);
      expect(await ids('persistent')).toEqual(['4']);
    });

    it('reads and compares timestampvalue as wall-clock time in timestampZone', async () => {
      // Kolkata is UTC+05:30 all year: an adapter that ignored the zone, or applied only whole hours, is off.
      const uploaded = at(10);
      const { catalog } = await make([post(1, p(1), uploaded)], { timestampZone: 'Asia/Kolkata' });
      const rows = await catalog.findExpiredUploads({ chatType: 'im', before: new Date(uploaded.getTime() + 1), afterIndex: '0', limit: 10 });
      expect(rows.map((r) => r.uploadedAt)).toEqual([uploaded]);
      expect(await catalog.findExpiredUploads({ chatType: 'im', before: uploaded, afterIndex: '0', limit: 10 })).toEqual([]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: uploaded }])).toEqual([{ files: 0, bytes: 0 }]);
      const [companion] = await catalog.findRowsByPath([p(1)]);
      expect(companion?.uploadedAt).toEqual(uploaded);
    });

    it('reads an empty file_path as empty (Oracle: NULL), which the purge keeps as empty-path', async () => {
      const { catalog } = await make([post(1, '', at(48))]);
      const [row] = await catalog.findExpiredUploads({ chatType: 'im', before: T0, afterIndex: '0', limit: 10 });
      expect(row?.filePath ?? '').toBe('');
      const d = decide(row!, { nodeDirectory: '/opt/mftFileStore/node_1', chatType: 'im', retentionCutoff: T0, currentHourStart: T0 });
      expect(d).toMatchObject({ decision: 'keep', reason: 'empty-path' });
    });

    it('finds rows by exact path, whatever characters the path holds', async () => {
      const dir = '/opt/mftFileStore/node_1/files/im/20250301/10';
      const tricky = [`${dir}/100%.txt`, `${dir}/a_b.txt`, `${dir}/back\\slash.txt`, `${dir}/it's.txt`, `${dir}/say "hi".txt`, `${dir}/résumé-日本語.pdf`];
      const lookalikes = [`${dir}/100x.txt`, `${dir}/aXb.txt`, `${dir}/backslash.txt`, `${dir}/its.txt`, `${dir}/resume.pdf`];
      const rows = [...tricky, ...lookalikes].map((path, i) => post(i + 1, path, at(48)));
      const { catalog } = await make([...rows, get(100, tricky[0]!, at(47))]);
      const found = await catalog.findRowsByPath(tricky);
      expect(found.map((r) => [r.aftIndex, r.filePath, r.method]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
        ...tricky.map((path, i) => [String(i + 1), path, 'Post']),
        ['100', tricky[0], 'Get'],
      ]);
      expect(await catalog.findRowsByPath([])).toEqual([]);
    });

    it('finds rows for more paths than one IN list may hold (1,000 on Oracle)', async () => {
      const rows = Array.from({ length: 2_100 }, (_, i) => post(i + 1, p(i + 1), at(48)));
      const { catalog } = await make(rows);
      const asked = Array.from({ length: 2_500 }, (_, i) => p(i + 1)); // 400 of them match nothing
      const found = await catalog.findRowsByPath(asked);
      expect(found.map((r) => Number(r.aftIndex)).sort((a, b) => a - b)).toEqual(rows.map((r) => Number(r.aftIndex)));
    });

    describe('openExpiredUploads', () => {
      const summary = (batch: Awaited<ReturnType<ExpiredUploadReader['next']>>) =>
        batch.map((u) => [u.upload.aftIndex, u.companions.map((c) => `${c.method}:${c.aftIndex}`)]);

      it('hands out the expired uploads in aft_index order (as numbers, beyond 2^53), at most limit a batch, then nothing', async () => {
        const big = 9_007_199_254_740_993n;
        const { catalog } = await make([
          post(10, p(10), at(48)),
          post(9, p(9), at(48)),
          post(100, p(100), at(48)),
          post(2, p(2), at(48)),
          post(big, p('big'), at(48)),
          post(50, p(50), at(1)), // not expired
          post(60, '/opt/mftFileStore/node_1/files/groupchat/20250301/10/g.txt', at(48), { chatType: 'groupchat' }),
          get(70, p(2), at(47)),
        ]);
        const reader = await catalog.openExpiredUploads('im', at(24));
        try {
          expect((await reader.next(2)).map((u) => u.upload.aftIndex)).toEqual(['2', '9']);
          expect((await reader.next(2)).map((u) => u.upload.aftIndex)).toEqual(['10', '100']);
          expect((await reader.next(2)).map((u) => u.upload.aftIndex)).toEqual([big.toString()]);
          expect(await reader.next(2)).toEqual([]);
          expect(await reader.next(2)).toEqual([]);
        } finally {
          await reader.close();
        }
      });

      it('gives each upload the row fields the purge decides on', async () => {
        const { catalog } = await make([post(7, p(7), at(30), { fileSize: 123_456_789_012, jid: 'alice@example.com', toJid: 'room@conference.example.com' })], { timestampZone: 'Asia/Kolkata' });
        const reader = await catalog.openExpiredUploads('im', T0);
        const [u] = await reader.next(10);
        await reader.close();
        expect(u?.upload).toEqual({
          aftIndex: '7',
          filePath: p(7),
          fileSize: 123_456_789_012,
          bytesTransferred: 123_456_789_012,
          chatType: 'im',
          uploadedAt: at(30),
          jid: 'alice@example.com',
          toJid: 'room@conference.example.com',
        });
      });

      it('attaches every other row of the same path, ascending aft_index, whichever batch or chat type it is in', async () => {
        const P = p('P');
        const Q = p('Q');
        const { catalog } = await make([
          post(1, P, at(48)),
          post(2, Q, at(48)),
          get(3, P, at(47)),
          post(4, P, at(40)), // a second Post row of P: each lists the other
          get(500, P, at(2)), // downloaded long after, deep in the table
          get(400, Q, at(3)),
          post(600, p('R'), at(48)),
          // The smallest and the largest expired path byte by byte ('B' < 'P' < 'a'), whatever
          // order the database's locale gives them: their downloads are companions all the same.
          post(650, p('a'), at(48)),
          get(651, p('a'), at(3)),
          post(660, p('B'), at(48)),
          get(661, p('B'), at(3)),
          { aftIndex: 700, method: 'Get', chatType: 'groupchat', filePath: Q, timestamp: at(1) },
          post(800, '', at(48)), // an empty path pairs with nothing
          post(801, '', at(48)),
          get(802, '', at(47)), // nor with a download of an empty path
        ]);
        const reader = await catalog.openExpiredUploads('im', at(24));
        const all = [...(await reader.next(2)), ...(await reader.next(2)), ...(await reader.next(10))];
        await reader.close();
        expect(summary(all)).toEqual([
          ['1', ['Get:3', 'Post:4', 'Get:500']],
          ['2', ['Get:400', 'Get:700']],
          ['4', ['Post:1', 'Get:3', 'Get:500']],
          ['600', []],
          ['650', ['Get:651']],
          ['660', ['Get:661']],
          ['800', []],
          ['801', []],
        ]);
        const companion = all[0]!.companions[0]!;
        expect(companion).toEqual({ aftIndex: '3', filePath: P, method: 'Get', chatType: 'im', uploadedAt: at(47) });
      });

      it('fixes highWaterIndex when it opens: rows logged later are neither uploads nor companions, and deleteRows takes them', async () => {
        const P = p('P');
        const u = await make([post(1, P, at(48)), post(2, p(2), at(48)), get(3, P, at(47)), post(20, p(20), at(1))]);
        const reader = await u.catalog.openExpiredUploads('im', at(24));
        try {
          expect(reader.highWaterIndex).toBe('20');
          // MFT logs a download of P and a (backdated) upload after the reader opened.
          await u.insertRows([get(30, P, at(0)), post(31, p(31), at(48))]);
          const batch = await reader.next(10);
          expect(summary(batch)).toEqual([
            ['1', ['Get:3']],
            ['2', []],
          ]);
          expect(await reader.next(10)).toEqual([]);
          expect(await u.catalog.deleteRows(['1', '3'], [P], reader.highWaterIndex)).toBe(3);
          expect(await u.remainingIndexes()).toEqual(['2', '20', '31']);
        } finally {
          await reader.close();
        }
      });

      it('reads an empty table as no batch, and opens again after close', async () => {
        const { catalog } = await make([]);
        const first = await catalog.openExpiredUploads('im', T0);
        expect(await first.next(10)).toEqual([]);
        await first.close();
        const second = await catalog.openExpiredUploads('im', T0);
        expect(await second.next(10)).toEqual([]);
        await second.close();
      });
    });

    it('deletes the given rows by aft_index plus rows for the paths newer than the batch, and nothing else', async () => {
      const P = p('P');
      const Q = p('Q');
      const u = await make([post(1, P, at(48)), get(2, P, at(47)), post(3, Q, at(48)), get(4, P, at(46)), get(10, P, at(1)), get(11, Q, at(1))]);
      // Rows 1 and 2 were read; 10 is a download of P logged after the read; 4 is older than
      // the batch and was not read (not ours to delete); Q was not removed.
      expect(await u.catalog.deleteRows(['1', '2'], [P], '5')).toBe(3);
      expect(await u.remainingIndexes()).toEqual(['3', '4', '11']);
      expect(await u.catalog.deleteRows([], [Q], '0')).toBe(0);
      expect(await u.remainingIndexes()).toEqual(['3', '4', '11']);
    });

    it('with beforeCommit (the audit export): hands over every row it deletes, all columns as text, before committing; nothing goes if it throws', async () => {
      const P = p('P');
      const u = await make([post(1, P, at(48), { fileSize: 123_456_789_012 }), get(2, P, at(47)), post(3, p(3), at(48)), get(10, P, at(1))]);
      await expect(
        u.catalog.deleteRows(['1', '2'], [P], '5', async () => {
          throw new Error('the export could not be written');
        }),
      ).rejects.toThrow(/the export could not be written/);
      expect(await u.remainingIndexes()).toEqual(['1', '2', '3', '10']);

      let exported: AuditRow[] = [];
      let whileExporting: string[] = [];
      const n = await u.catalog.deleteRows(['1', '2'], [P], '5', async (rows) => {
        exported = rows;
        whileExporting = await u.remainingIndexes();
      });
      expect(n).toBe(3);
      // Not committed while the export is written: another session still sees every row.
      expect(whileExporting).toEqual(['1', '2', '3', '10']);
      expect(await u.remainingIndexes()).toEqual(['3']);
      const rows = [...exported].sort((a, b) => Number(a.aft_index) - Number(b.aft_index));
      expect(rows.map((r) => r.aft_index)).toEqual(['1', '2', '10']);
      expect(Object.keys(rows[0]!).sort()).toEqual(
        ['aft_index', 'bytes_transferred', 'chat_type', 'file_path', 'file_server', 'file_size', 'file_type', 'filename', 'jid', 'method', 'real_filename', 'timestampvalue', 'to_jid'],
      );
      expect(rows[0]).toEqual({
        aft_index: '1',
        jid: 'alice@example.com',
        to_jid: 'bob@example.com',
        method: 'Post',
        filename: 'f',
        real_filename: 'f',
        file_type: 'txt',
        chat_type: 'im',
        file_server: 'files.example.com',
        file_path: P,
        file_size: '123456789012',
        bytes_transferred: '123456789012',
        timestampvalue: '2025-03-08 08:15:30.25',
      });
      expect(rows[2]).toMatchObject({ aft_index: '10', method: 'Get', timestampvalue: '2025-03-10 07:15:30.25' });
    });

    it('deletes more rows than one IN list may hold in one call', async () => {
      const rows = Array.from({ length: 2_500 }, (_, i) => post(i + 1, p(i + 1), at(48)));
      const u = await make([...rows, post(5_000, p('keep'), at(48))]);
      expect(await u.catalog.deleteRows(rows.map((r) => String(r.aftIndex)), rows.map((r) => r.filePath), '2500')).toBe(2_500);
      expect(await u.remainingIndexes()).toEqual(['5000']);
    });

    it('deletes a batch in one transaction: a failure on one row deletes none of them', async () => {
      const u = await make([post(1, p(1), at(48)), post(2, p(2), at(48)), post(3, p(3), at(48)), get(9, p(1), at(1))]);
      await u.failDeleteOf(2, 'error');
      await expect(u.catalog.deleteRows(['1', '2', '3'], [p(1)], '3')).rejects.toThrow();
      expect(await u.remainingIndexes()).toEqual(['1', '2', '3', '9']);
      // The connection is usable afterwards: the failed transaction was rolled back.
      expect(await u.catalog.deleteRows(['3'], [], '3')).toBe(1);
      expect(await u.remainingIndexes()).toEqual(['1', '2', '9']);
    });

    it('reports a full database as DatabaseFullError, and deletes nothing', async () => {
      const u = await make([post(1, p(1), at(48)), post(2, p(2), at(48))]);
      await u.failDeleteOf(2, 'disk-full');
      const err = await u.catalog.deleteRows(['1', '2'], [], '2').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseFullError);
      expect(await u.remainingIndexes()).toEqual(['1', '2']);
    });

    it('counts the expired backlog: files and bytes of the Post rows before the cutoff', async () => {
      const { catalog } = await make([
        post(1, p(1), at(48), { fileSize: 1_000 }),
        post(2, p(2), at(30), { fileSize: 5_000_000_000 }),
        get(3, p(1), at(29)),
        post(4, p(4), at(1), { fileSize: 7 }),
        post(5, '/opt/mftFileStore/node_1/files/groupchat/20250301/10/g.txt', at(48), { chatType: 'groupchat', fileSize: 9 }),
      ]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: at(24) }])).toEqual([{ files: 2, bytes: 5_000_001_000 }]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'persistent', before: at(24) }])).toEqual([{ files: 0, bytes: 0 }]);
    });

    it('counts the backlog and, in the same call, the Post rows before a later instant', async () => {
      const { catalog } = await make([
        post(1, p(1), at(48), { fileSize: 1_000 }),
        get(2, p(1), at(29)),
        post(3, p(3), at(30), { fileSize: 20 }),
        post(4, p(4), at(1), { fileSize: 7 }),
        post(5, p(5), at(-1), { fileSize: 7 }),
        post(6, '/opt/mftFileStore/node_1/files/groupchat/20250301/10/g.txt', at(48), { chatType: 'groupchat', fileSize: 9 }),
      ]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: at(24) }], T0)).toEqual([{ files: 2, bytes: 1_020, total: 3 }]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: at(24) }], new Date(Date.UTC(9999, 0, 1)))).toEqual([{ files: 2, bytes: 1_020, total: 4 }]);
      expect(await catalog.countExpiredUploadsByChatType([{ chatType: 'persistent', before: at(24) }], T0)).toEqual([{ files: 0, bytes: 0, total: 0 }]);
      expect(await catalog.countExpiredUploadsByChatType([], T0)).toEqual([]);
    });

    it('counts several chat types in one call, each against its own cutoff, in the order asked', async () => {
      const gc = (n: number): string => `/opt/mftFileStore/node_1/files/groupchat/20250301/10/g${n}.txt`;
      const { catalog } = await make([
        post(1, p(1), at(48), { fileSize: 1_000 }),
        post(2, p(2), at(30), { fileSize: 20 }),
        get(3, p(2), at(29)),
        post(4, p(4), at(1), { fileSize: 7 }),
        post(5, gc(5), at(48), { chatType: 'groupchat', fileSize: 9 }),
        post(6, gc(6), at(10), { chatType: 'groupchat', fileSize: 300 }),
        post(7, gc(7), at(-1), { chatType: 'groupchat', fileSize: 5 }),
        post(8, '/opt/mftFileStore/node_1/files/persistent/20250301/10/r.txt', at(100), { chatType: 'persistent', fileSize: 40 }),
      ]);
      // im before 24 h ago: rows 1 and 2; groupchat before 5 h ago: rows 5 and 6; persistent
      // before 200 h ago: none. Totals: the Post rows of each chat type before T0.
      const counts = [
        { chatType: 'groupchat' as const, before: at(5) },
        { chatType: 'persistent' as const, before: at(200) },
        { chatType: 'im' as const, before: at(24) },
      ];
      expect(await catalog.countExpiredUploadsByChatType(counts, T0)).toEqual([
        { files: 2, bytes: 309, total: 2 },
        { files: 0, bytes: 0, total: 1 },
        { files: 2, bytes: 1_020, total: 3 },
      ]);
      // One chat type alone gives the same as in company.
      expect(await catalog.countExpiredUploadsByChatType([counts[0]!], T0)).toEqual([{ files: 2, bytes: 309, total: 2 }]);
      // Without an instant for the total, none is given.
      const noTotal = await catalog.countExpiredUploadsByChatType(counts);
      expect(noTotal).toEqual([
        { files: 2, bytes: 309 },
        { files: 0, bytes: 0 },
        { files: 2, bytes: 1_020 },
      ]);
      expect(noTotal.map((c) => c.total)).toEqual([undefined, undefined, undefined]);
    });

    it("finds a plan's rows: by aft_index, and rows of its paths above the mark only, every column the plan compares", async () => {
      const big = 9_007_199_254_740_993n;
      const { catalog, insertRows } = await make(
        [
          post(1, p(1), at(48), { fileSize: 5_000_000_000, jid: 'alice@example.com', toJid: 'room@conference.example.com' }),
          get(2, p(1), at(40)),
          post(3, p(3), at(48)),
          get(4, p(3), at(30)),
        ],
        { timestampZone: 'Asia/Kolkata' },
      );
      // Logged after the plan read the table (its mark is 4): a download of p(1), an unrelated upload, a row beyond 2^53.
      await insertRows([get(10, p(1), at(1)), post(11, p(11), at(1)), get(big, p(3), at(1))]);
      const rows = await catalog.findPlanRows(['1', '2'], [p(1)], '4');
      expect(rows.map((r) => r.aftIndex)).toEqual(['1', '2', '10']);
      expect(rows[0]).toEqual({ aftIndex: '1', method: 'Post', chatType: 'im', filePath: p(1), uploadedAt: at(48), fileSize: 5_000_000_000, bytesTransferred: 5_000_000_000, jid: 'alice@example.com', toJid: 'room@conference.example.com' });
      expect(rows[2]).toMatchObject({ aftIndex: '10', method: 'Get', filePath: p(1), uploadedAt: at(1) });
      // A row of the path at or below the mark that was not asked for by its aft_index is not looked for.
      expect((await catalog.findPlanRows(['1'], [p(3)], '4')).map((r) => r.aftIndex)).toEqual(['1', big.toString()]);
      expect((await catalog.findPlanRows([], [p(3)], '3')).map((r) => r.aftIndex)).toEqual(['4', big.toString()]);
      expect(await catalog.findPlanRows(['999'], [p(999)], '0')).toEqual([]);
      expect(await catalog.findPlanRows([], [], '0')).toEqual([]);
    });

    it('reports the database clock and its usage', async () => {
      const { catalog } = await make([post(1, p(1), at(48))]);
      const now = await catalog.databaseNow();
      expect(Number.isNaN(now.getTime())).toBe(false);
      expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(24 * HOUR);
      const usage = await catalog.databaseUsage();
      expect(usage.usedBytes).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(usage.usedBytes)).toBe(true);
      expect(usage.source).toMatch(/\S/);
      if (usage.capacityBytes !== undefined) expect(usage.capacityBytes).toBeGreaterThan(0);
      if (usage.usedPercent !== undefined) expect(usage.usedPercent).toBeGreaterThanOrEqual(0);
      if (usage.usedPercent !== undefined) expect(usage.usedPercent).toBeLessThanOrEqual(100);
    });
  });
}
