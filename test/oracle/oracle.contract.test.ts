// The Catalog contract against a real Oracle Database (12c or later), in thin mode. It runs
// only through `npm run test:oracle` (scripts/test-oracle.sh), never in `npm test`: no Oracle
// server can run where the default suite runs. Without ORACLE_TEST_CONNECT_STRING,
// ORACLE_TEST_USER and ORACLE_TEST_PASSWORD it fails, it does not skip.
//
// The test user needs CREATE TABLE, CREATE TRIGGER and a quota on its default tablespace:
// each test creates its own AFT_<pid>_<n> table and drops it (PURGE) afterwards.
import { DateTime } from 'luxon';
import oracledb, { type Connection } from 'oracledb';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OracleCatalog } from '../../src/adapters/oracle/oracleCatalog.js';
import type { ResolvedOracleDatabase } from '../../src/config/resolvedConfig.js';
import { describeCatalogContract, type CatalogFactory, type ContractRow } from '../contract/catalogContract.js';

const env = {
  connectString: process.env.ORACLE_TEST_CONNECT_STRING,
  user: process.env.ORACLE_TEST_USER,
  password: process.env.ORACLE_TEST_PASSWORD,
};
const missing = Object.entries({ ORACLE_TEST_CONNECT_STRING: env.connectString, ORACLE_TEST_USER: env.user, ORACLE_TEST_PASSWORD: env.password })
  .filter(([, v]) => !v)
  .map(([k]) => k);

if (missing.length > 0) {
  describe('Catalog contract: Oracle', () => {
    it('needs a real Oracle Database', () => {
      throw new Error(`not run: set ${missing.join(', ')} (see "Oracle: running the contract tests" in README.md)`);
    });
  });
} else {
  let admin: Connection;
  let tables = 0;

  beforeAll(async () => {
    admin = await oracledb.getConnection({ user: env.user, password: env.password, connectString: env.connectString });
  });
  afterAll(async () => {
    await admin?.close();
  });

  const wallClock = (t: Date, zone: string): string => DateTime.fromJSDate(t, { zone }).toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS");

  async function insert(table: string, rows: ContractRow[], zone: string): Promise<void> {
    if (rows.length === 0) return;
    await admin.executeMany(
      `INSERT INTO ${table} (aft_index, jid, to_jid, method, filename, real_filename, file_type, chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
       VALUES (TO_NUMBER(:idx), :jid, :toJid, :method, 'f', 'f', 'txt', :chatType, 'files.example.com', :path, :fsize, :fsize,
               TO_TIMESTAMP(:ts, 'YYYY-MM-DD"T"HH24:MI:SS.FF3'))`,
      rows.map((r) => ({
        idx: String(r.aftIndex),
        jid: r.jid ?? 'alice@example.com',
        toJid: r.toJid ?? 'bob@example.com',
        method: r.method,
        chatType: r.chatType,
        path: r.filePath,
        fsize: r.fileSize ?? 1024,
        ts: wallClock(r.timestamp, zone),
      })),
      {
        autoCommit: true,
        bindDefs: {
          idx: { type: oracledb.STRING, maxSize: 40 },
          jid: { type: oracledb.STRING, maxSize: 3071 },
          toJid: { type: oracledb.STRING, maxSize: 3071 },
          method: { type: oracledb.STRING, maxSize: 63 },
          chatType: { type: oracledb.STRING, maxSize: 10 },
          path: { type: oracledb.STRING, maxSize: 511 },
          fsize: { type: oracledb.NUMBER },
          ts: { type: oracledb.STRING, maxSize: 30 },
        },
      },
    );
  }

  const factory: CatalogFactory = {
    async create(rows, opts = {}) {
      const zone = opts.timestampZone ?? 'UTC';
      const table = `AFT_${process.pid}_${++tables}`;
      // Cisco's AFT_LOG shape on Oracle, except that file_path may be NULL: that is how Oracle
      // stores the empty path the contract's empty-path case inserts.
      await admin.execute(`
        CREATE TABLE ${table} (
          aft_index NUMBER(19) NOT NULL, jid VARCHAR2(3071) NOT NULL, to_jid VARCHAR2(3071) NOT NULL,
          method VARCHAR2(63) NOT NULL, filename VARCHAR2(511) NOT NULL, real_filename VARCHAR2(511) NOT NULL,
          file_type VARCHAR2(10) NOT NULL, chat_type VARCHAR2(10) NOT NULL, file_server VARCHAR2(511) NOT NULL,
          file_path VARCHAR2(511), file_size NUMBER(19) NOT NULL, bytes_transferred NUMBER(19) NOT NULL,
          timestampvalue TIMESTAMP NOT NULL,
          CONSTRAINT ${table}_PK PRIMARY KEY (aft_index))`);
      await insert(table, rows, zone);
      const db: ResolvedOracleDatabase = {
        type: 'oracle',
        connectString: env.connectString!,
        user: env.user!,
        password: { kind: 'env', name: 'ORACLE_TEST_PASSWORD' },
        table,
        timestampZone: zone,
        connectTimeout: 'PT15S',
        statementTimeout: 'PT5M',
        connectTimeoutMs: 15_000,
        statementTimeoutMs: 300_000,
      };
      const catalog = await OracleCatalog.open('contract', db, process.env);
      return {
        catalog,
        insertRows: (more) => insert(table, more, zone),
        async remainingIndexes() {
          const r = await admin.execute<{ I: string }>(`SELECT TO_CHAR(aft_index) AS i FROM ${table} ORDER BY aft_index`, {}, { outFormat: oracledb.OUT_FORMAT_OBJECT });
          return (r.rows ?? []).map((x) => x.I);
        },
        async failDeleteOf(aftIndex, kind) {
          // PRAGMA EXCEPTION_INIT raises the real ORA-01653 (table cannot extend) from a trigger.
          const body =
            kind === 'disk-full'
              ? `DECLARE full_tablespace EXCEPTION; PRAGMA EXCEPTION_INIT(full_tablespace, -1653); BEGIN RAISE full_tablespace; END;`
              : `BEGIN RAISE_APPLICATION_ERROR(-20001, 'contract test: delete refused'); END;`;
          await admin.execute(`CREATE OR REPLACE TRIGGER ${table}_REFUSE BEFORE DELETE ON ${table} FOR EACH ROW WHEN (old.aft_index = ${BigInt(aftIndex)}) ${body}`);
        },
        async dispose() {
          await catalog.close();
          await admin.execute(`DROP TABLE ${table} PURGE`);
        },
      };
    },
  };

  describeCatalogContract('Oracle', () => factory);
}
