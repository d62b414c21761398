// The Catalog contract against a real PostgreSQL (a throw-away server on loopback): the
// adapter as the purge uses it (its single-pass cursor reader), and again with the generic
// keyset reader the Oracle adapter uses, so that reader is held to the contract against a real
// database in every run.
import { DateTime } from 'luxon';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeysetUploadReader } from '../../src/adapters/keysetUploadReader.js';
import { PostgresCatalog, PG_DISK_FULL } from '../../src/adapters/postgres/postgresCatalog.js';
import type { ResolvedPostgresDatabase } from '../../src/config/resolvedConfig.js';
import type { Catalog } from '../../src/ports.js';
import { startPostgres, type PgServer } from '../helpers/pgServer.js';
import { describeCatalogContract, type CatalogFactory, type ContractRow } from './catalogContract.js';

const DATABASE = 'contract';
let server: PgServer;
let admin: pg.Client;
let tables = 0;

beforeAll(async () => {
  server = await startPostgres();
  await server.createDatabase(DATABASE);
  admin = new pg.Client(server.connectionConfig(DATABASE));
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

const wallClock = (t: Date, zone: string): string => DateTime.fromJSDate(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS');

async function insert(table: string, rows: ContractRow[], zone: string): Promise<void> {
  for (let i = 0; i < rows.length; i += 5_000) {
    const chunk = rows.slice(i, i + 5_000);
    const col = <T>(f: (r: ContractRow) => T): T[] => chunk.map(f);
    await admin.query(
      `INSERT INTO ${table} (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
       SELECT idx, jid, to_jid, method, 'f', 'f', 'txt', chat_type, 'files.example.com', file_path, size, size, ts
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::timestamp[])
           AS t(idx, jid, to_jid, method, chat_type, file_path, size, ts)`,
      [
        col((r) => String(r.aftIndex)),
        col((r) => r.jid ?? 'alice@example.com'),
        col((r) => r.toJid ?? 'bob@example.com'),
        col((r) => r.method),
        col((r) => r.chatType),
        col((r) => r.filePath),
        col((r) => String(r.fileSize ?? 1024)),
        col((r) => wallClock(r.timestamp, zone)),
      ],
    );
  }
}

/** The PostgreSQL adapter with its reader replaced by the generic keyset reader; everything else its own. */
function withKeysetReader(c: PostgresCatalog): Catalog {
  return {
    databaseNow: () => c.databaseNow(),
    openExpiredUploads: (chatType, before) => openKeysetUploadReader(c, chatType, before),
    findExpiredUploads: (q) => c.findExpiredUploads(q),
    countExpiredUploadsByChatType: (counts, totalBefore) => c.countExpiredUploadsByChatType(counts, totalBefore),
    findRowsByPath: (paths) => c.findRowsByPath(paths),
    deleteRows: (...args: Parameters<Catalog['deleteRows']>) => c.deleteRows(...args),
    databaseUsage: () => c.databaseUsage(),
    findPlanRows: (...args: Parameters<Catalog['findPlanRows']>) => c.findPlanRows(...args),
    close: () => c.close(),
  };
}

const makeFactory = (reader: 'cursor' | 'keyset', filePathCollation?: string): CatalogFactory => ({
  async create(rows, opts = {}) {
    const zone = opts.timestampZone ?? 'UTC';
    const table = `aft_c${++tables}`;
    // Cisco's AFT_LOG shape (every column NOT NULL, primary key only), under a name of its own.
    await admin.query(`
      CREATE TABLE ${table} (
        aft_index BIGINT NOT NULL PRIMARY KEY, jid VARCHAR(3071) NOT NULL, to_jid VARCHAR(3071) NOT NULL,
        method VARCHAR(63) NOT NULL, filename VARCHAR(511) NOT NULL, real_filename VARCHAR(511) NOT NULL,
        file_type VARCHAR(10) NOT NULL, chat_type VARCHAR(10) NOT NULL, file_server VARCHAR(511) NOT NULL,
        file_path VARCHAR(511) NOT NULL, file_size BIGINT NOT NULL, bytes_transferred BIGINT NOT NULL,
        timestampvalue TIMESTAMP WITHOUT TIME ZONE NOT NULL)`);
    if (filePathCollation) await admin.query(`ALTER TABLE ${table} ALTER COLUMN file_path TYPE VARCHAR(511) COLLATE "${filePathCollation}"`);
    await insert(table, rows, zone);
    const db: ResolvedPostgresDatabase = {
      type: 'postgres',
      host: server.tcpHost,
      port: server.port,
      database: DATABASE,
      user: server.mftUser.user,
      password: { kind: 'env', name: 'CONTRACT_PG_PASSWORD' },
      schema: 'public',
      table,
      timestampZone: zone,
      connectTimeout: 'PT15S',
      statementTimeout: 'PT5M',
      connectTimeoutMs: 15_000,
      statementTimeoutMs: 300_000,
    };
    const pgCatalog = await PostgresCatalog.open('contract', db, { CONTRACT_PG_PASSWORD: server.mftUser.password });
    const catalog = reader === 'cursor' ? pgCatalog : withKeysetReader(pgCatalog);
    return {
      catalog,
      insertRows: (more) => insert(table, more, zone),
      async remainingIndexes() {
        return (await admin.query<{ i: string }>(`SELECT aft_index::text AS i FROM ${table} ORDER BY aft_index`)).rows.map((r) => r.i);
      },
      async failDeleteOf(aftIndex, kind) {
        // SQLSTATE 53100 is what PostgreSQL raises when it cannot extend a file (disk full).
        const code = kind === 'disk-full' ? PG_DISK_FULL : 'P0001';
        await admin.query(`
          CREATE OR REPLACE FUNCTION ${table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF OLD.aft_index = ${BigInt(aftIndex)} THEN
              RAISE EXCEPTION USING ERRCODE = '${code}', MESSAGE = 'contract test: delete refused';
            END IF;
            RETURN OLD;
          END $$;
          CREATE TRIGGER ${table}_refuse BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_refuse();`);
      },
      async dispose() {
        await catalog.close();
        await admin.query(`DROP TABLE ${table}; DROP FUNCTION IF EXISTS ${table}_refuse()`);
      },
    };
  },
});

describeCatalogContract('PostgreSQL', () => makeFactory('cursor'));
describeCatalogContract('PostgreSQL, generic keyset reader', () => makeFactory('keyset'));

describe('PostgreSQL reader on a server whose DateStyle is not ISO', () => {
  it('reads upload and download times right (the session sets ISO itself)', async () => {
    // DMY with the SQL style renders 2025-03-01 09:30 as 01/03/2025 09:30:00: a reader that
    // parsed the server's default rendering would misread or reject every timestamp.
    await admin.query(`ALTER ROLE ${server.mftUser.user} SET DateStyle = 'SQL, DMY'`);
    const uploaded = new Date('2025-03-01T09:30:15.125Z');
    const downloaded = new Date('2025-03-02T17:45:00Z');
    const path = '/opt/mftFileStore/node_1/files/im/20250301/09/f.txt';
    const t = await makeFactory('cursor').create([
      { aftIndex: 1, method: 'Post', chatType: 'im', filePath: path, timestamp: uploaded },
      { aftIndex: 2, method: 'Get', chatType: 'im', filePath: path, timestamp: downloaded },
    ]);
    try {
      const style = await admin.query<{ s: string }>(`SELECT setting AS s FROM pg_db_role_setting, unnest(setconfig) setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [server.mftUser.user]);
      expect(style.rows.map((r) => r.s)).toContain('DateStyle=SQL, DMY');
      const reader = await t.catalog.openExpiredUploads('im', new Date('2025-03-10T00:00:00Z'));
      const files = await reader.next(10);
      await reader.close();
      expect(files.map((f) => f.upload.uploadedAt)).toEqual([uploaded]);
      expect(files[0]!.companions.map((c) => c.uploadedAt)).toEqual([downloaded]);
      expect(await t.catalog.countExpiredUploadsByChatType([{ chatType: 'im', before: new Date(uploaded.getTime() + 1) }])).toEqual([{ files: 1, bytes: 1024 }]);
    } finally {
      await admin.query(`ALTER ROLE ${server.mftUser.user} RESET DateStyle`);
      await t.dispose();
    }
  });
});

describe('PostgreSQL reader on a file_path column whose collation is not byte order', () => {
  it('still attaches the downloads of the first and the last expired path', async () => {
    // ICU's English order puts 'a' before 'B'; byte order puts it after. The reader bounds its
    // companion scan by the smallest and largest expired path: were the bounds taken in one
    // order and compared in the other, the range would be empty and both downloads missed.
    const collation = 'en-US-x-icu';
    const found = await admin.query('SELECT 1 FROM pg_collation WHERE collname = $1', [collation]);
    expect(found.rowCount, `collation ${collation} missing: this PostgreSQL was built without ICU`).toBe(1);
    const at = (h: number): Date => new Date(Date.UTC(2025, 2, 1, 10) + h * 3_600_000);
    const path = (n: string): string => `/opt/mftFileStore/node_1/files/im/20250301/10/${n}.txt`;
    const t = await makeFactory('cursor', collation).create([
      { aftIndex: 1, method: 'Post', chatType: 'im', filePath: path('a'), timestamp: at(0) },
      { aftIndex: 2, method: 'Post', chatType: 'im', filePath: path('B'), timestamp: at(0) },
      { aftIndex: 3, method: 'Post', chatType: 'im', filePath: path('M'), timestamp: at(0) },
      { aftIndex: 4, method: 'Get', chatType: 'im', filePath: path('a'), timestamp: at(30) },
      { aftIndex: 5, method: 'Get', chatType: 'im', filePath: path('B'), timestamp: at(30) },
    ]);
    try {
      const reader = await t.catalog.openExpiredUploads('im', at(24));
      const files = await reader.next(10);
      await reader.close();
      expect(files.map((f) => [f.upload.aftIndex, f.companions.map((c) => c.aftIndex)])).toEqual([
        ['1', ['4']],
        ['2', ['5']],
        ['3', []],
      ]);
    } finally {
      await t.dispose();
    }
  });
});

describe('PostgreSQL: a download that commits after the reader opened, below its high-water mark', () => {
  it('is in no batch, and the batch DELETE of its removed file takes it all the same', async () => {
    const now = Date.now();
    const path = '/opt/mftFileStore/node_1/files/im/20250301/10/late.txt';
    const other = '/opt/mftFileStore/node_1/files/im/20250301/10/other.txt';
    const t = await makeFactory('cursor').create([
      { aftIndex: 1, method: 'Post', chatType: 'im', filePath: path, timestamp: new Date(now - 48 * 3_600_000) },
      { aftIndex: 2, method: 'Get', chatType: 'im', filePath: path, timestamp: new Date(now - 47 * 3_600_000) },
      { aftIndex: 3, method: 'Post', chatType: 'im', filePath: other, timestamp: new Date(now - 48 * 3_600_000) },
    ]);
    const table = (await admin.query<{ t: string }>(`SELECT max(relname)::text AS t FROM pg_class WHERE relname LIKE 'aft_c%' AND relkind = 'r'`)).rows[0]!.t;
    // MFT's download transaction takes aft_index 10 now and commits only after the reader has
    // opened; a later row (11), committed at once, sets the high-water mark above it.
    const mft = new pg.Client(server.connectionConfig(DATABASE));
    await mft.connect();
    try {
      await mft.query('BEGIN');
      await mft.query(
        `INSERT INTO ${table} (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
         VALUES (10, 'b@x', 'a@x', 'Get', 'f', 'f', 'txt', 'im', 's', $1, 1, 1, (now() AT TIME ZONE 'UTC'))`,
        [path],
      );
      await admin.query(
        `INSERT INTO ${table} (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
         VALUES (11, 'c@x', 'a@x', 'Post', 'g', 'g', 'txt', 'im', 's', '/opt/mftFileStore/node_1/files/im/20250301/11/new.txt', 1, 1, (now() AT TIME ZONE 'UTC'))`,
      );
      const reader = await t.catalog.openExpiredUploads('im', new Date(now - 24 * 3_600_000));
      await mft.query('COMMIT');
      try {
        expect(reader.highWaterIndex).toBe('11');
        // Rows of the last minutes may still have been committing: the mark for late rows is
        // below them, at the newest row logged before that.
        expect(reader.lateRowsAbove).toBe('3');
        const files = await reader.next(10);
        expect(files.map((f) => [f.upload.aftIndex, f.companions.map((c) => c.aftIndex)])).toEqual([
          ['1', ['2']],
          ['3', []],
        ]);
        // The purge removed late.txt and deletes its rows: the late download (10) goes with
        // them; the new upload (11) and other.txt stay.
        expect(await t.catalog.deleteRows(['1', '2'], [path], reader.lateRowsAbove!)).toBe(3);
        expect(await t.remainingIndexes()).toEqual(['3', '11']);
      } finally {
        await reader.close();
      }
    } finally {
      await mft.query('ROLLBACK').catch(() => undefined);
      await mft.end();
      await t.dispose();
    }
  });
});
