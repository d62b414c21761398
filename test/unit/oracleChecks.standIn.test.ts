// The doctor's Oracle checks against a RECORDING STAND-IN of the oracledb connection (not a
// database): which checks run, what they conclude from the answers, and that they never
// change data. Their queries against a real Oracle are not verified here.
import { describe, expect, it } from 'vitest';
import type { ResolvedOracleDatabase } from '../../src/config/resolvedConfig.js';
import { COLUMNS_THE_PURGE_NEEDS, OTHER_DOCUMENTED_COLUMNS } from '../../src/doctor/databaseSql.js';
import { checkOracleDatabase } from '../../src/doctor/oracleChecks.js';
import { oraError, RecordingOracleConnection, type Responder } from '../helpers/recordingOracleConnection.js';

const DB: ResolvedOracleDatabase = {
  type: 'oracle',
  connectString: 'ora.example.com:1521/MFTDB',
  user: 'MFT_RETENTION',
  password: { kind: 'env', name: 'ORA_PW' },
  owner: 'MFTADMIN',
  table: 'AFT_LOG',
  timestampZone: 'UTC',
  connectTimeout: 'PT15S',
  statementTimeout: 'PT5M',
  connectTimeoutMs: 15_000,
  statementTimeoutMs: 300_000,
};
const OPTS = { env: { ORA_PW: 'pw-1234' }, maxClockSkewMs: 120_000 };

const server = (over: { deleteRefused?: boolean; dbmsLock?: boolean } = {}): Responder => (c) => {
  if (c.op !== 'execute') return undefined;
  const sql = c.sql;
  if (/v\$version/.test(sql)) return { rows: [{ U: 'MFT_RETENTION', V: 'Oracle Database 23ai Free' }] };
  if (/all_tab_columns/.test(sql)) return { rows: [...COLUMNS_THE_PURGE_NEEDS, ...OTHER_DOCUMENTED_COLUMNS].map((C) => ({ C })) };
  if (/^DELETE/.test(sql) && over.deleteRefused) throw oraError(1031, 'insufficient privileges');
  if (/all_procedures/.test(sql)) return { rows: over.dbmsLock === false ? [] : [{ OK: 1 }] };
  if (/SYSTIMESTAMP/.test(sql)) return { rows: [{ NOW: new Date().toISOString().replace('Z', '') }] };
  if (/FROM all_tables/.test(sql)) return { rows: [{ TABLESPACE: 'USERS' }] };
  if (/dba_tablespace_usage_metrics/.test(sql)) throw oraError(942);
  if (/user_ts_quotas/.test(sql)) return { rows: [{ TABLESPACE: 'USERS', USED: '1048576', MAX_BYTES: '-1' }] };
  return { rows: [] };
};

const statuses = (checks: Array<{ name: string; status: string }>) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

describe('checkOracleDatabase (stand-in)', () => {
  it('runs every check on a healthy database and changes nothing', async () => {
    const conn = new RecordingOracleConnection(server());
    const report = await checkOracleDatabase('node_1', DB, OPTS, async () => conn);
    expect(report.target).toBe('oracle MFT_RETENTION@ora.example.com:1521/MFTDB table MFTADMIN.AFT_LOG');
    expect(statuses(report.checks)).toEqual({ reachable: 'skip', login: 'pass', 'AFT_LOG table': 'pass', privileges: 'pass', 'node lock': 'pass', 'clock skew': 'pass', capacity: 'pass', index: 'warn' });
    // The DELETE that proves the privilege matches no row, and is rolled back; nothing commits.
    const deletes = conn.calls.filter((c) => c.op === 'execute' && /^DELETE/.test(c.sql));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]).toMatchObject({ sql: 'DELETE FROM MFTADMIN.AFT_LOG WHERE 1 = 0' });
    expect(conn.ops).not.toContain('commit');
    expect(conn.ops.at(-1)).toBe('close');
  });

  it('fails privileges with the GRANT to run, and warns when DBMS_LOCK is not granted', async () => {
    const report = await checkOracleDatabase('node_1', DB, OPTS, async () => new RecordingOracleConnection(server({ deleteRefused: true, dbmsLock: false })));
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.privileges).toMatchObject({ status: 'fail', fix: expect.stringContaining('GRANT DELETE ON MFTADMIN.AFT_LOG TO MFT_RETENTION;') });
    expect(byName['node lock']).toMatchObject({ status: 'warn', fix: expect.stringContaining('GRANT EXECUTE ON SYS.DBMS_LOCK TO MFT_RETENTION;') });
  });

  it('reports a refused login as a connection failure, without the password, and skips the rest', async () => {
    const report = await checkOracleDatabase('node_1', DB, OPTS, async () => {
      throw oraError(1017, 'invalid credential or not authorized; logon denied');
    });
    const login = report.checks.find((c) => c.name === 'login')!;
    expect(login).toMatchObject({ status: 'fail', connection: true });
    expect(login.fix).toContain('environment variable ORA_PW');
    expect(JSON.stringify(report)).not.toContain('pw-1234');
    expect(report.checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual(['reachable', 'AFT_LOG table', 'privileges', 'node lock', 'clock skew', 'capacity', 'index']);
  });
});
