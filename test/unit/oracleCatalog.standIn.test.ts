// The Oracle adapter against a RECORDING STAND-IN of the oracledb connection (not a database):
// its SQL text, bind variables, array binds, transaction calls and error mapping. Whether a real
// Oracle accepts that SQL and returns the right rows is the contract suite's job
// (`npm run test:oracle`, test/oracle/oracle.contract.test.ts).
import oracledb from 'oracledb';
import { describe, expect, it } from 'vitest';
import { OracleCatalog, quotaUsage, wallClockBind } from '../../src/adapters/oracle/oracleCatalog.js';
import { MAX_IN_LIST } from '../../src/adapters/oracle/sql.js';
import { KEYSET_START } from '../../src/adapters/keysetUploadReader.js';
import type { ResolvedOracleDatabase } from '../../src/config/resolvedConfig.js';
import { ConnectError, DatabaseFullError, DatabaseRefusedError, StatementCancelledError } from '../../src/errors.js';
import { njsError, oraError, RecordingOracleConnection, type Responder } from '../helpers/recordingOracleConnection.js';

const DB: ResolvedOracleDatabase = {
  type: 'oracle',
  connectString: 'db.example.com:1521/MFTDB',
  user: 'MFT_RETENTION',
  owner: 'MFTADMIN',
  table: 'AFT_LOG',
  timestampZone: 'UTC',
  connectTimeout: 'PT15S',
  statementTimeout: 'PT5M',
  connectTimeoutMs: 15_000,
  statementTimeoutMs: 300_000,
};

const catalogWith = (respond?: Responder, db: Partial<ResolvedOracleDatabase> = {}) => {
  const conn = new RecordingOracleConnection(respond);
  return { conn, catalog: new OracleCatalog(conn, { ...DB, ...db }, 'node_1') };
};

const T = new Date('2025-03-10T08:15:30.250Z');
const query = { chatType: 'im' as const, before: T, afterIndex: '41', limit: 500 };

describe('OracleCatalog.findExpiredUploads (stand-in)', () => {
  it('binds every value, the cutoff as a TIMESTAMP WITH TIME ZONE Date, never a literal', async () => {
    const { conn, catalog } = catalogWith();
    await catalog.findExpiredUploads(query);
    const [call] = conn.calls;
    expect(call?.op).toBe('execute');
    if (call?.op !== 'execute') return;
    expect(call.sql).toMatch(/FROM MFTADMIN\.AFT_LOG/);
    expect(call.sql).toMatch(/timestampvalue < SYS_EXTRACT_UTC\(:before\)/);
    expect(call.sql).toMatch(/aft_index > TO_NUMBER\(:afterIndex\)/);
    expect(call.sql).toMatch(/ORDER BY aft_index\s+FETCH FIRST :maxRows ROWS ONLY/);
    // No date or number literal that NLS settings could read differently, and no '' (NULL on Oracle).
    expect(call.sql).not.toMatch(/'\d|''|TO_DATE\(|TIMESTAMP '/);
    const before = call.binds.before as { val: Date; type: unknown };
    expect(before.val).toBeInstanceOf(Date);
    expect(before.type).toBe(oracledb.DB_TYPE_TIMESTAMP_TZ);
    expect(before.val.toISOString()).toBe('2025-03-10T08:15:30.250Z');
    expect(call.binds).toMatchObject({ chatType: 'im', afterIndex: { val: '41', type: oracledb.STRING }, maxRows: 500 });
    expect(call.options).toMatchObject({ outFormat: oracledb.OUT_FORMAT_OBJECT, autoCommit: false });
  });

  it('sends the wall clock of timestampZone, whatever the time zone of this process', async () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'America/New_York', 'Pacific/Chatham']) {
        process.env.TZ = tz;
        // Kolkata is UTC+05:30: 08:15:30.250Z is 13:45:30.250 there.
        expect(wallClockBind(T, 'Asia/Kolkata').val.toISOString()).toBe('2025-03-10T13:45:30.250Z');
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('maps rows: aft_index as text, NULL text columns as empty, file_path NULL kept as an empty path', async () => {
    const { catalog } = catalogWith(() => ({
      rows: [
        { IDX: '9007199254740993', FILE_PATH: '/opt/mftFileStore/node_1/files/im/20250301/10/a.txt', FSIZE: '5000000000', MOVED: '5000000000', CHAT_TYPE: 'im', JID: 'a@example.com', TO_JID: 'b@example.com', TS: '2025-03-01T10:20:30.400' },
        { IDX: '42', FILE_PATH: null, FSIZE: '0', MOVED: '0', CHAT_TYPE: 'im', JID: null, TO_JID: null, TS: '2025-03-01T10:20:30.000' },
      ],
    }), { timestampZone: 'Asia/Kolkata' });
    const rows = await catalog.findExpiredUploads(query);
    expect(rows[0]).toEqual({ aftIndex: '9007199254740993', filePath: '/opt/mftFileStore/node_1/files/im/20250301/10/a.txt', fileSize: 5_000_000_000, bytesTransferred: 5_000_000_000, chatType: 'im', uploadedAt: new Date('2025-03-01T04:50:30.400Z'), jid: 'a@example.com', toJid: 'b@example.com' });
    expect(rows[1]).toMatchObject({ aftIndex: '42', filePath: null, jid: '', toJid: '' });
  });
});

describe('OracleCatalog.findRowsByPath (stand-in)', () => {
  it('never puts more than 1,000 items in an IN list, and binds every path', async () => {
    const { conn, catalog } = catalogWith();
    const paths = Array.from({ length: 2_500 }, (_, i) => `/n/files/im/20250301/10/it's 100%_${i}.txt`);
    await catalog.findRowsByPath([...paths, '', paths[0]!]);
    const sizes = conn.calls.map((c) => (c.op === 'execute' ? (c.sql.match(/:p\d+/g) ?? []).length : -1));
    expect(sizes).toEqual([1000, 1000, 1000]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_IN_LIST);
    const bound = new Set(conn.calls.flatMap((c) => (c.op === 'execute' ? Object.values(c.binds) : [])));
    expect([...bound].sort()).toEqual([...paths].sort());
    for (const c of conn.calls) if (c.op === 'execute') expect(c.sql).not.toContain("it's");
  });

  it('pads short lists to a few fixed sizes, so the server parses few distinct statements', async () => {
    const { conn, catalog } = catalogWith();
    await catalog.findRowsByPath(['/a']);
    await catalog.findRowsByPath(['/a', '/b', '/c']);
    await catalog.findRowsByPath(Array.from({ length: 200 }, (_, i) => `/p${i}`));
    expect(conn.calls.map((c) => (c.op === 'execute' ? Object.keys(c.binds).length : -1))).toEqual([1, 16, 1000]);
  });

  it('asks nothing for no paths', async () => {
    const { conn, catalog } = catalogWith();
    expect(await catalog.findRowsByPath([])).toEqual([]);
    expect(conn.calls).toEqual([]);
  });
});

describe('OracleCatalog.countExpiredUploadsByChatType (stand-in)', () => {
  // Answers each count from the binds, so the test can tell which result came from which call.
  const counting: Responder = (call) => {
    const b = call.binds as { chatType: string; before: { val: Date } };
    const hours = Math.round((T.getTime() - b.before.val.getTime()) / 3_600_000);
    return { rows: [{ FILES: String(b.chatType.length * 100 + hours), BYTES: String(hours * 10) }] };
  };

  it('counts each chat type against its own cutoff, in the order asked, and the total before the later instant', async () => {
    const { conn, catalog } = catalogWith(counting);
    const at = (h: number): Date => new Date(T.getTime() - h * 3_600_000);
    const result = await catalog.countExpiredUploadsByChatType(
      [
        { chatType: 'groupchat', before: at(5) },
        { chatType: 'im', before: at(24) },
      ],
      at(-1),
    );
    expect(result).toEqual([
      { files: 905, bytes: 50, total: 899 },
      { files: 224, bytes: 240, total: 199 },
    ]);
    const asked = conn.calls.map((c) => (c.op === 'execute' ? [c.binds.chatType, (c.binds.before as { val: Date }).val.toISOString()] : c.op));
    expect(asked).toEqual([
      ['groupchat', at(5).toISOString()],
      ['groupchat', at(-1).toISOString()],
      ['im', at(24).toISOString()],
      ['im', at(-1).toISOString()],
    ]);
  });

  it('without a total, one count a chat type and no total', async () => {
    const { conn, catalog } = catalogWith(counting);
    const result = await catalog.countExpiredUploadsByChatType([{ chatType: 'persistent', before: new Date(T.getTime() - 7_200_000) }]);
    expect(result).toEqual([{ files: 1002, bytes: 20 }]);
    expect(result[0]).not.toHaveProperty('total');
    expect(conn.calls).toHaveLength(1);
  });

  it('asks nothing for no chat type', async () => {
    const { conn, catalog } = catalogWith(counting);
    expect(await catalog.countExpiredUploadsByChatType([], T)).toEqual([]);
    expect(conn.calls).toEqual([]);
  });
});

describe('OracleCatalog.maxAftIndex (stand-in)', () => {
  it('asks for MAX(aft_index) as text, exact beyond 2^53', async () => {
    const { conn, catalog } = catalogWith(() => ({ rows: [{ IDX: '9007199254740993' }] }));
    expect(await catalog.maxAftIndex()).toBe('9007199254740993');
    expect(conn.calls).toHaveLength(1);
    expect(conn.calls[0]).toMatchObject({ op: 'execute', sql: 'SELECT TO_CHAR(MAX(aft_index)) AS idx FROM MFTADMIN.AFT_LOG' });
  });

  it('reads an empty table (MAX is NULL) as below every aft_index', async () => {
    const { catalog } = catalogWith(() => ({ rows: [{ IDX: null }] }));
    expect(await catalog.maxAftIndex()).toBe(KEYSET_START);
  });
});

describe('OracleCatalog.openExpiredUploads (stand-in)', () => {
  const dir = '/opt/mftFileStore/node_1/files/im/20250301/10';
  const upload = (idx: string, path: string | null) => ({ IDX: idx, FILE_PATH: path, FSIZE: '10', MOVED: '10', CHAT_TYPE: 'im', JID: 'a@example.com', TO_JID: 'b@example.com', TS: '2025-03-01T10:20:30.000' });
  const row = (idx: string, path: string, method: string) => ({ IDX: idx, FILE_PATH: path, METHOD: method, CHAT_TYPE: 'im', TS: '2025-03-01T11:00:00.000' });
  // The table as the stand-in answers it: MAX(aft_index) 50 when the reader opens; keyset pages
  // of the Post rows by afterIndex; rows of the asked paths, including ones logged later (> 50).
  const posts = [upload('1', `${dir}/a.txt`), upload('2', `${dir}/b.txt`), upload('3', null), upload('60', `${dir}/late.txt`)];
  const byPath = [row('1', `${dir}/a.txt`, 'Post'), row('2', `${dir}/b.txt`, 'Post'), row('7', `${dir}/a.txt`, 'Get'), row('5', `${dir}/a.txt`, 'Get'), row('70', `${dir}/b.txt`, 'Get')];
  const table: Responder = (c) => {
    if (c.op !== 'execute') return undefined;
    if (/MAX\(aft_index\)/.test(c.sql)) return { rows: [{ IDX: '50' }] };
    if (/method = 'Post'/.test(c.sql)) {
      const after = BigInt((c.binds.afterIndex as { val: string }).val);
      return { rows: posts.filter((r) => BigInt(r.IDX) > after).slice(0, c.binds.maxRows as number) };
    }
    if (/file_path IN/.test(c.sql)) {
      const asked = new Set(Object.values(c.binds));
      return { rows: byPath.filter((r) => asked.has(r.FILE_PATH)) };
    }
    return undefined;
  };

  it('takes the high-water mark first, then pages by keyset and looks up each page\'s paths', async () => {
    const { conn, catalog } = catalogWith(table);
    const reader = await catalog.openExpiredUploads('im', T);
    expect(reader.highWaterIndex).toBe('50');
    const first = await reader.next(2);
    expect(first.map((u) => [u.upload.aftIndex, u.companions.map((c) => c.aftIndex)])).toEqual([
      ['1', ['5', '7']],
      ['2', []], // its Get 70 was logged after the reader opened: deleteRows takes it
    ]);
    expect(first[0]!.companions[0]).toEqual({ aftIndex: '5', filePath: `${dir}/a.txt`, method: 'Get', chatType: 'im', uploadedAt: new Date('2025-03-01T11:00:00.000Z') });
    const second = await reader.next(2);
    // Upload 60 is above the mark: not handed out, and the reader is finished.
    expect(second.map((u) => [u.upload.aftIndex, u.upload.filePath, u.companions])).toEqual([['3', null, []]]);
    expect(await reader.next(2)).toEqual([]);
    await reader.close();

    const executed = conn.calls.flatMap((c) => (c.op === 'execute' ? [c] : []));
    expect(executed.map((c) => (/MAX/.test(c.sql) ? 'max' : /method = 'Post'/.test(c.sql) ? `page>${(c.binds.afterIndex as { val: string }).val}` : 'paths'))).toEqual([
      'max',
      `page>${KEYSET_START}`,
      'paths',
      'page>2',
    ]);
    expect(new Set(Object.values(executed[2]!.binds))).toEqual(new Set([`${dir}/a.txt`, `${dir}/b.txt`]));
    expect(executed[1]!.binds).toMatchObject({ chatType: 'im', maxRows: 2 });
  });

  it('runs one call at a time on the connection: a read never lands inside a batch\'s delete transaction', async () => {
    const { conn, catalog } = catalogWith(table);
    const reader = await catalog.openExpiredUploads('im', T);
    conn.calls.length = 0;
    await Promise.all([catalog.deleteRows(['1', '5', '7'], [`${dir}/a.txt`], '50'), reader.next(2), catalog.databaseNow()]);
    expect(conn.ops).toEqual(['executeMany', 'executeMany', 'commit', 'execute', 'execute', 'execute']);
  });
});

describe('OracleCatalog.deleteRows (stand-in)', () => {
  it('deletes by primary key with array binds, then the newer rows of the paths, then commits', async () => {
    const { conn, catalog } = catalogWith((c) => ({ rowsAffected: c.op === 'executeMany' && /TO_NUMBER\(:idx\)/.test(c.sql) ? 2_500 : 3 }));
    const idx = Array.from({ length: 2_500 }, (_, i) => String(i + 1));
    expect(await catalog.deleteRows(idx, ['/p/a', '/p/b', '/p/a'], '2500')).toBe(2_503);
    expect(conn.ops).toEqual(['executeMany', 'executeMany', 'commit']);
    const [byIndex, newer] = conn.calls as Array<Extract<(typeof conn.calls)[number], { op: 'executeMany' }>>;
    expect(byIndex!.sql).toBe('DELETE FROM MFTADMIN.AFT_LOG WHERE aft_index = TO_NUMBER(:idx)');
    expect(byIndex!.sql).not.toMatch(/\bIN\s*\(/i);
    expect(byIndex!.binds).toEqual(idx.map((i) => ({ idx: i })));
    expect(byIndex!.options).toMatchObject({ autoCommit: false, bindDefs: { idx: { type: oracledb.STRING } } });
    expect(newer!.sql).toBe('DELETE FROM MFTADMIN.AFT_LOG WHERE aft_index > TO_NUMBER(:newerThan) AND file_path = :path');
    expect(newer!.binds).toEqual([{ newerThan: '2500', path: '/p/a' }, { newerThan: '2500', path: '/p/b' }]);
    expect(newer!.options).toMatchObject({ autoCommit: false });
  });

  it('rolls back and commits nothing when a statement of the batch fails', async () => {
    const { conn, catalog } = catalogWith((c) => {
      if (c.op === 'executeMany' && /newerThan/.test(c.sql)) throw oraError(20001, 'refused by a trigger');
      return undefined;
    });
    await expect(catalog.deleteRows(['1', '2'], ['/p/a'], '2')).rejects.toThrow(/ORA-20001/);
    expect(conn.ops).toEqual(['executeMany', 'executeMany', 'rollback']);
  });

  it('does nothing for an empty batch', async () => {
    const { conn, catalog } = catalogWith();
    expect(await catalog.deleteRows([], ['/p/a'], '0')).toBe(0);
    expect(conn.calls).toEqual([]);
  });
});

describe('OracleCatalog.deleteRows with an audit export (stand-in)', () => {
  const COLUMNS = [
    { NAME: 'AFT_INDEX', TYPE: 'NUMBER' },
    { NAME: 'FILE_PATH', TYPE: 'VARCHAR2' },
    { NAME: 'JID', TYPE: 'VARCHAR2' },
    { NAME: 'TIMESTAMPVALUE', TYPE: 'TIMESTAMP(6)' },
  ];
  // Rows 1 and 2 by index; 9 is a download of /p/a logged after the reader opened.
  const ROWS: Record<string, Record<string, unknown>> = {
    '1': { aft_index: '1', file_path: '/p/a', jid: 'a@example.com', timestampvalue: '2025-03-01 10:20:30.250000' },
    '2': { aft_index: '2', file_path: '/p/a', jid: null, timestampvalue: '2025-03-01 10:21:00.000000' },
    '9': { aft_index: '9', file_path: '/p/a', jid: 'b@example.com', timestampvalue: '2025-03-02 08:00:00.000001' },
  };
  const table =
    (deleted: { byIndex: number; newer: number } = { byIndex: 2, newer: 1 }): Responder =>
    (c) => {
      if (c.op === 'executeMany') return { rowsAffected: /TO_NUMBER\(:idx\)/.test(c.sql) ? deleted.byIndex : deleted.newer };
      if (/all_tab_columns/.test(c.sql)) return { rows: COLUMNS };
      if (/FOR UPDATE/.test(c.sql) && /newerThan/.test(c.sql)) return { rows: [ROWS['9']] };
      if (/FOR UPDATE/.test(c.sql)) return { rows: [ROWS['1'], ROWS['2']] };
      return undefined;
    };
  const step = (c: (typeof RecordingOracleConnection.prototype.calls)[number]): string =>
    c.op !== 'execute' ? c.op : /all_tab_columns/.test(c.sql) ? 'columns' : /FOR UPDATE/.test(c.sql) ? (/newerThan/.test(c.sql) ? 'lock-newer' : 'lock-by-index') : 'execute';

  it('reads and locks every column of the rows, hands them over, then deletes and commits', async () => {
    const { conn, catalog } = catalogWith(table());
    const order: string[] = [];
    let exported: unknown[] = [];
    const n = await catalog.deleteRows(['1', '2'], ['/p/a'], '5', async (rows) => {
      order.push(`beforeCommit after ${conn.calls.map(step).join(',')}`);
      exported = rows;
    });
    expect(n).toBe(3);
    expect(order).toEqual(['beforeCommit after columns,lock-by-index,lock-newer']);
    expect(conn.calls.map(step)).toEqual(['columns', 'lock-by-index', 'lock-newer', 'executeMany', 'executeMany', 'commit']);
    // The AuditRow contract: lower-case keys, text or null, timestamps with trailing zeros cut as PostgreSQL renders them.
    expect(exported).toEqual([
      { aft_index: '1', file_path: '/p/a', jid: 'a@example.com', timestampvalue: '2025-03-01 10:20:30.25' },
      { aft_index: '2', file_path: '/p/a', jid: null, timestampvalue: '2025-03-01 10:21:00' },
      { aft_index: '9', file_path: '/p/a', jid: 'b@example.com', timestampvalue: '2025-03-02 08:00:00.000001' },
    ]);
    const [columns, byIndex, newer] = conn.calls as Array<Extract<(typeof conn.calls)[number], { op: 'execute' }>>;
    expect(columns!.binds).toEqual({ owner: 'MFTADMIN', tableName: 'AFT_LOG' });
    expect(byIndex!.sql).toBe(
      `SELECT "AFT_INDEX" AS "aft_index", "FILE_PATH" AS "file_path", "JID" AS "jid", TO_CHAR("TIMESTAMPVALUE", 'YYYY-MM-DD HH24:MI:SS.FF6') AS "timestampvalue" FROM MFTADMIN.AFT_LOG WHERE aft_index IN (TO_NUMBER(:p0), TO_NUMBER(:p1), TO_NUMBER(:p2), TO_NUMBER(:p3), TO_NUMBER(:p4), TO_NUMBER(:p5), TO_NUMBER(:p6), TO_NUMBER(:p7), TO_NUMBER(:p8), TO_NUMBER(:p9), TO_NUMBER(:p10), TO_NUMBER(:p11), TO_NUMBER(:p12), TO_NUMBER(:p13), TO_NUMBER(:p14), TO_NUMBER(:p15)) FOR UPDATE`,
    );
    expect(byIndex!.options).toMatchObject({ autoCommit: false });
    expect(newer!.sql).toMatch(/WHERE aft_index > TO_NUMBER\(:newerThan\) AND file_path IN \(:p0\) FOR UPDATE$/);
    expect(newer!.binds).toEqual({ p0: '/p/a', newerThan: '5' });
  });

  it('reads the columns once per connection', async () => {
    const { conn, catalog } = catalogWith(table());
    await catalog.deleteRows(['1', '2'], ['/p/a'], '5', async () => undefined);
    await catalog.deleteRows(['1', '2'], ['/p/a'], '5', async () => undefined);
    expect(conn.calls.map(step).filter((x) => x === 'columns')).toHaveLength(1);
  });

  it('rolls back without deleting when the export fails', async () => {
    const { conn, catalog } = catalogWith(table());
    await expect(
      catalog.deleteRows(['1', '2'], ['/p/a'], '5', async () => {
        throw new Error('disk full while writing the export');
      }),
    ).rejects.toThrow(/disk full while writing the export/);
    expect(conn.calls.map(step)).toEqual(['columns', 'lock-by-index', 'lock-newer', 'rollback']);
  });

  it('rolls back when the DELETE would take a row that was not exported (logged meanwhile)', async () => {
    const { conn, catalog } = catalogWith(table({ byIndex: 2, newer: 2 }));
    await expect(catalog.deleteRows(['1', '2'], ['/p/a'], '5', async () => undefined)).rejects.toThrow(/4 rows but 3 were exported/);
    expect(conn.calls.map(step)).toEqual(['columns', 'lock-by-index', 'lock-newer', 'executeMany', 'executeMany', 'rollback']);
  });
});

describe('OracleCatalog error mapping (stand-in)', () => {
  const failing = (err: Error) => catalogWith(() => {
    throw err;
  });

  it.each([1653, 1654, 1688, 1683, 1691, 1652, 1536, 1950, 30036])('ORA-%i (no room to grow) is DatabaseFullError, after a rollback', async (num) => {
    const { conn, catalog } = failing(oraError(num));
    const err = await catalog.deleteRows(['1'], [], '1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseFullError);
    expect((err as Error).message).toContain(`ORA-${String(num).padStart(5, '0')}`);
    expect(conn.ops).toEqual(['executeMany', 'rollback']);
  });

  it.each([oraError(3113), oraError(3135), njsError('NJS-500'), njsError('NJS-003')])('a lost session ($message) is ConnectError', async (e) => {
    const { catalog } = failing(e);
    const err = await catalog.findExpiredUploads(query).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).endpoint).toBe('database');
  });

  it('any other error stays itself', async () => {
    const original = oraError(904, '"FILE_PATH": invalid identifier');
    const { catalog } = failing(original);
    await expect(catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: T }])).rejects.toBe(original);
  });
});

describe('OracleCatalog.databaseUsage (stand-in)', () => {
  const answers =
    (metrics: 'granted' | 'not granted' | Error, quotas: unknown[]): Responder =>
    (c) => {
      if (/FROM all_tables/.test(c.sql)) return { rows: [{ TABLESPACE: 'MFT_DATA' }] };
      if (/dba_tablespace_usage_metrics/.test(c.sql)) {
        if (metrics === 'granted') return { rows: [{ USED: '8192000', MAX_BYTES: '10240000', USED_PERCENT: 80 }] };
        throw metrics === 'not granted' ? oraError(942, 'table or view does not exist') : metrics;
      }
      if (/user_ts_quotas/.test(c.sql)) return { rows: quotas };
      return { rows: [] };
    };

  it('uses DBA_TABLESPACE_USAGE_METRICS for the tablespace of AFT_LOG when granted', async () => {
    const { conn, catalog } = catalogWith(answers('granted', []));
    expect(await catalog.databaseUsage()).toEqual({ usedBytes: 8_192_000, capacityBytes: 10_240_000, usedPercent: 80, source: 'DBA_TABLESPACE_USAGE_METRICS (tablespace MFT_DATA)' });
    const tsCall = conn.calls.find((c) => c.op === 'execute' && /all_tables/.test(c.sql));
    expect(tsCall).toMatchObject({ binds: { owner: 'MFTADMIN', tableName: 'AFT_LOG' } });
  });

  it('falls back silently to USER_TS_QUOTAS on ORA-00942', async () => {
    const { catalog } = catalogWith(answers('not granted', [{ TABLESPACE: 'USERS', USED: '10', MAX_BYTES: '100' }, { TABLESPACE: 'MFT_DATA', USED: '750', MAX_BYTES: '1000' }]));
    expect(await catalog.databaseUsage()).toEqual({ usedBytes: 750, capacityBytes: 1000, usedPercent: 75, source: 'USER_TS_QUOTAS (tablespace MFT_DATA)' });
  });

  it('reads MAX_BYTES -1 as an unlimited quota: no capacity', () => {
    expect(quotaUsage([{ TABLESPACE: 'MFT_DATA', USED: '750', MAX_BYTES: '-1' }], 'MFT_DATA')).toEqual({ usedBytes: 750, source: 'USER_TS_QUOTAS (tablespace MFT_DATA, unlimited)' });
    expect(quotaUsage([], 'MFT_DATA')).toMatchObject({ usedBytes: 0 });
  });

  it('does not hide a lost connection behind the fallback', async () => {
    const { catalog } = catalogWith(answers(oraError(3113), []));
    await expect(catalog.databaseUsage()).rejects.toBeInstanceOf(ConnectError);
  });
});

describe('OracleCatalog.databaseNow (stand-in)', () => {
  it('reads the server clock as UTC text, not through the session or process time zone', async () => {
    const { conn, catalog } = catalogWith(() => ({ rows: [{ NOW: '2025-03-10T08:15:30.250' }] }));
    expect(await catalog.databaseNow()).toEqual(T);
    expect(conn.calls[0]).toMatchObject({ sql: expect.stringMatching(/SYS_EXTRACT_UTC\(SYSTIMESTAMP\)/) });
  });
});

describe('OracleCatalog.checkWritable (stand-in)', () => {
  const answering =
    (fail: { select?: number; delete?: number; role?: string } = {}): Responder =>
    (call) => {
      if (/DATABASE_ROLE/.test(call.sql)) return { rows: [{ DB_ROLE: fail.role ?? 'PRIMARY', LOGIN: 'MFT_RETENTION' }] };
      if (/^SELECT 1 AS ONE FROM MFTADMIN\.AFT_LOG WHERE 1 = 0$/.test(call.sql) && fail.select) throw oraError(fail.select);
      if (/^DELETE FROM MFTADMIN\.AFT_LOG WHERE 1 = 0$/.test(call.sql) && fail.delete) throw oraError(fail.delete);
      return undefined;
    };

  it('tries a SELECT and a DELETE that match no row, never committing, and passes on a primary that allows both', async () => {
    const { conn, catalog } = catalogWith(answering());
    await catalog.checkWritable();
    const sqls = conn.calls.flatMap((c) => (c.op === 'execute' ? [c.sql] : [c.op]));
    expect(sqls).toEqual([expect.stringMatching(/DATABASE_ROLE/), 'SELECT 1 AS ONE FROM MFTADMIN.AFT_LOG WHERE 1 = 0', 'rollback', 'DELETE FROM MFTADMIN.AFT_LOG WHERE 1 = 0', 'rollback']);
    expect(conn.ops).not.toContain('commit');
  });

  it.each([
    ['DELETE not granted (ORA-01031)', { delete: 1031 }, /lacks the DELETE privilege on MFTADMIN\.AFT_LOG \(ORA-01031\).*GRANT SELECT, DELETE ON MFTADMIN\.AFT_LOG TO MFT_RETENTION;/],
    ['SELECT not granted (ORA-00942)', { select: 942 }, /lacks the SELECT privilege on MFTADMIN\.AFT_LOG \(ORA-00942\)/],
    ['a database open read-only (ORA-16000)', { delete: 16000 }, /open read-only \(ORA-16000\)/],
    ['a standby', { role: 'PHYSICAL STANDBY' }, /is a PHYSICAL STANDBY/],
  ])('refuses %s, naming the fix', async (_name, fail, message) => {
    const { catalog } = catalogWith(answering(fail));
    const err = await catalog.checkWritable().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(DatabaseRefusedError);
    expect(err!.message).toMatch(/so no file was removed/);
    expect(err!.message).toMatch(message);
  });

  it('a stop breaks a long read in progress (connection.break), which fails as stopped, and no new long read starts', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const conn = new RecordingOracleConnection();
    const catalog = new OracleCatalog(conn, DB, 'node_1');
    conn.execute = (async (sql: string) => {
      conn.calls.push({ op: 'execute', sql, binds: {}, options: {} });
      await held;
      throw oraError(1013, 'user requested cancel of current operation');
    }) as never;
    const reading = catalog.findExpiredUploads(query).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await new Promise((r) => setTimeout(r, 10));
    await catalog.cancel('reads', 'stopped');
    expect(conn.ops).toContain('break');
    release();
    const err = await reading;
    expect(err).toBeInstanceOf(StatementCancelledError);
    expect((err as StatementCancelledError).reason).toBe('stopped');
    // After the stop no new long read starts.
    await expect(catalog.findExpiredUploads(query)).rejects.toBeInstanceOf(StatementCancelledError);
  });
});

describe('OracleCatalog.findPlanRows (stand-in)', () => {
  const path = (i: number) => `/opt/mftFileStore/node_1/files/im/20250301/10/it's ${i}.txt`;
  const answer = (idx: string, p: string, method = 'Get') => ({ IDX: idx, METHOD: method, CHAT_TYPE: 'im', FILE_PATH: p, FSIZE: '10', MOVED: '10', JID: null, TO_JID: 'b@example.com', TS: '2025-03-01T10:20:30.400' });

  it('looks rows up by aft_index and by path above the mark, at most 1,000 values a query, every value bound', async () => {
    const { conn, catalog } = catalogWith((c) => {
      if (c.op !== 'execute') return undefined;
      // The same row found both ways comes back once.
      if (/aft_index IN/.test(c.sql)) return { rows: [answer('7', path(1), 'Post')] };
      return { rows: [answer('9007199254740993', path(1)), answer('7', path(1), 'Post')] };
    });
    const indexes = Array.from({ length: 1_500 }, (_, i) => String(i + 1));
    const paths = Array.from({ length: 1_200 }, (_, i) => path(i));
    const rows = await catalog.findPlanRows(indexes, [...paths, ''], '4711');
    expect(rows.map((r) => r.aftIndex)).toEqual(['7', '9007199254740993']);
    expect(rows[0]).toEqual({ aftIndex: '7', method: 'Post', chatType: 'im', filePath: path(1), uploadedAt: new Date('2025-03-01T10:20:30.400Z'), fileSize: 10, bytesTransferred: 10, jid: '', toJid: 'b@example.com' });
    const calls = conn.calls.filter((c) => c.op === 'execute');
    expect(calls.map((c) => (c.op === 'execute' ? (c.sql.match(/:p\d+/g) ?? []).length : 0))).toEqual([1000, 1000, 1000, 1000]);
    for (const c of calls) {
      if (c.op !== 'execute') continue;
      expect(c.sql).toMatch(/FROM MFTADMIN\.AFT_LOG/);
      expect(c.sql).not.toMatch(/it's|''|'\d/);
    }
    const byPath = calls.filter((c) => c.op === 'execute' && /file_path IN/.test(c.sql));
    expect(byPath).toHaveLength(2);
    for (const c of byPath) if (c.op === 'execute') expect(c.sql).toMatch(/aft_index > TO_NUMBER\(:newerThan\)/);
    expect(byPath[0]!.op === 'execute' && byPath[0]!.binds.newerThan).toEqual({ val: '4711', type: oracledb.STRING, maxSize: 40 });
  });

  it('asks nothing for nothing', async () => {
    const { conn, catalog } = catalogWith();
    expect(await catalog.findPlanRows([], [], '0')).toEqual([]);
    expect(conn.calls).toEqual([]);
  });
});
