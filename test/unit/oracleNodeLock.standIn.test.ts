// The Oracle node lock and connection settings against a RECORDING STAND-IN of the oracledb
// connection (not a database). That DBMS_LOCK really excludes a second session is verified
// only against a real Oracle.
import oracledb from 'oracledb';
import { describe, expect, it } from 'vitest';
import { connectOracle } from '../../src/adapters/oracle/connection.js';
import { OracleNodeLock, oracleLockName, RELEASE_LOCK, REQUEST_LOCK } from '../../src/adapters/oracle/nodeLock.js';
import type { ResolvedOracleDatabase } from '../../src/config/resolvedConfig.js';
import { ConnectError } from '../../src/errors.js';
import { oraError, RecordingOracleConnection } from '../helpers/recordingOracleConnection.js';

const PASSWORD = 'Tiger-c0ffee-secret';
const DB: ResolvedOracleDatabase = {
  type: 'oracle',
  connectString: 'tcps://db.example.com:2484/MFTDB',
  user: 'MFT_RETENTION',
  password: { kind: 'env', name: 'ORA_PW' },
  table: 'AFT_LOG',
  timestampZone: 'UTC',
  connectTimeout: 'PT10S',
  statementTimeout: 'PT2M',
  connectTimeoutMs: 10_000,
  statementTimeoutMs: 120_000,
};
const ENV = { ORA_PW: PASSWORD };

describe('OracleNodeLock (stand-in)', () => {
  const lockWith = (status: number) => {
    const conn = new RecordingOracleConnection((c) => (c.sql === REQUEST_LOCK ? { outBinds: { status, handle: 'H123' } } : { outBinds: { status: 0 } }));
    return { conn, acquire: () => OracleNodeLock.tryAcquire('node_1', DB, ENV, async () => conn) };
  };

  it('requests the node name exclusively, without waiting, and releases it on its own session', async () => {
    const { conn, acquire } = lockWith(0);
    const lock = await acquire();
    expect(lock?.key).toBe(oracleLockName(DB, 'node_1'));
    const [req] = conn.calls;
    expect(req).toMatchObject({ op: 'execute', sql: REQUEST_LOCK, binds: { name: oracleLockName(DB, 'node_1'), status: { dir: oracledb.BIND_OUT } } });
    expect(REQUEST_LOCK).toMatch(/DBMS_LOCK\.REQUEST\(h, DBMS_LOCK\.X_MODE, 0, FALSE\)/);
    expect(await lock!.isHeld()).toBe(true);
    await lock!.release();
    await lock!.release();
    expect(conn.ops).toEqual(['execute', 'ping', 'execute', 'close']);
    expect(conn.calls[2]).toMatchObject({ sql: RELEASE_LOCK, binds: { handle: 'H123' } });
  });

  it('returns undefined and closes its session when another session holds the lock', async () => {
    const { conn, acquire } = lockWith(1);
    expect(await acquire()).toBeUndefined();
    expect(conn.ops).toEqual(['execute', 'close']);
  });

  it('marks the lock lost when its session no longer answers', async () => {
    const { conn, acquire } = lockWith(0);
    const lock = (await acquire())!;
    conn.pingError = oraError(3113, 'end-of-file on communication channel');
    expect(await lock.isHeld()).toBe(false);
    expect(lock.lost.aborted).toBe(true);
    await lock.release();
  });

  it('says which grant is missing when DBMS_LOCK cannot be called', async () => {
    const conn = new RecordingOracleConnection(() => {
      throw oraError(6550, 'PLS-00201: identifier DBMS_LOCK must be declared');
    });
    const err = await OracleNodeLock.tryAcquire('node_1', DB, ENV, async () => conn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain('GRANT EXECUTE ON SYS.DBMS_LOCK TO MFT_RETENTION');
  });

  it('gives two nodes sharing a database different lock names', () => {
    expect(oracleLockName(DB, 'node_1')).not.toBe(oracleLockName(DB, 'node_2'));
    expect(oracleLockName(DB, 'node_1')).not.toBe(oracleLockName({ ...DB, owner: 'OTHER' }, 'node_1'));
    expect(oracleLockName(DB, 'node_1').length).toBeLessThanOrEqual(128);
  });
});

describe('connectOracle (stand-in)', () => {
  it('connects in thin mode with the password from its source, timeouts in seconds, and sets the call timeout', async () => {
    const conn = new RecordingOracleConnection();
    let seen: Record<string, unknown> = {};
    await connectOracle('node_1', { ...DB, tls: { walletLocation: '/etc/mft-retention/wallet' } }, ENV, async (attrs) => {
      seen = { ...attrs };
      return conn;
    });
    expect(oracledb.thin).toBe(true);
    expect(seen).toMatchObject({ user: 'MFT_RETENTION', password: PASSWORD, connectString: 'tcps://db.example.com:2484/MFTDB', connectTimeout: 10, walletLocation: '/etc/mft-retention/wallet' });
    expect(conn.callTimeout).toBe(120_000);
  });

  it('reports a failed login without the password', async () => {
    const err = await connectOracle('node_1', DB, ENV, async () => {
      throw oraError(1017, `invalid credential or not authorized; logon denied (${PASSWORD})`);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain('MFT_RETENTION@tcps://db.example.com:2484/MFTDB');
    expect((err as Error).message).toContain('ORA-01017');
    // Even a driver message that quoted the password would not carry it further.
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  it('refuses a CA file that Node.js is not told about (NODE_EXTRA_CA_CERTS), saying how to fix it', async () => {
    const err = await connectOracle('node_1', { ...DB, tls: { caFile: '/etc/mft-retention/oracle-ca.pem' } }, ENV, async () => new RecordingOracleConnection()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toContain('Environment=NODE_EXTRA_CA_CERTS=/etc/mft-retention/oracle-ca.pem');
    await expect(connectOracle('node_1', { ...DB, tls: { caFile: '/etc/mft-retention/oracle-ca.pem' } }, { ...ENV, NODE_EXTRA_CA_CERTS: '/etc/mft-retention/oracle-ca.pem' }, async () => new RecordingOracleConnection())).resolves.toBeDefined();
  });
});
