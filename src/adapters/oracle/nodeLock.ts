import { createHash } from 'node:crypto';
import oracledb from 'oracledb';
import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import { ConnectError } from '../../errors.js';
import type { NodeLock } from '../../ports.js';
import { connectOracle, thinConnector, type OracleConnection, type OracleConnector } from './connection.js';
import { oraCode, oraNumber } from './errors.js';

/** Namespace of our lock names, as for the PostgreSQL advisory lock. */
export const LOCK_NAMESPACE = 'mft-retention:purge-node';

/**
 * The DBMS_LOCK name of one node (at most 128 bytes, never starting with ORA$): the namespace
 * and a hash of AFT_LOG's location and the node name, so two nodes sharing a database differ.
 */
export function oracleLockName(db: Pick<ResolvedOracleDatabase, 'owner' | 'table' | 'user'>, node: string): string {
  const where = `${(db.owner ?? db.user).toUpperCase()}.${db.table.toUpperCase()}`;
  return `${LOCK_NAMESPACE}:${createHash('sha256').update(`${where}\0${node}`).digest('hex').slice(0, 32)}`;
}

/**
 * Allocates the name's handle and requests it exclusively, without waiting, held until
 * released or the session ends (release_on_commit FALSE). ALLOCATE_UNIQUE commits: this runs
 * on the lock's own connection, never the catalog's.
 */
export const REQUEST_LOCK = `
  DECLARE
    h VARCHAR2(128);
  BEGIN
    DBMS_LOCK.ALLOCATE_UNIQUE(:name, h);
    :status := DBMS_LOCK.REQUEST(h, DBMS_LOCK.X_MODE, 0, FALSE);
    :handle := h;
  END;`;

export const RELEASE_LOCK = `BEGIN :status := DBMS_LOCK.RELEASE(:handle); END;`;

/** DBMS_LOCK.REQUEST results: 0 granted, 1 timeout (held elsewhere), 4 already ours. */
const GRANTED = new Set([0, 4]);
const HELD_ELSEWHERE = 1;

/** How often an idle lock's session is checked, so a purge under a lost lock stops soon. */
const PING_INTERVAL_MS = 30_000;

/**
 * "This process purges this node" on Oracle: a DBMS_LOCK user lock in exclusive mode, held by
 * a dedicated session. When the process dies, its session ends and Oracle releases the lock
 * for another instance. Needs EXECUTE on DBMS_LOCK.
 */
export class OracleNodeLock implements NodeLock {
  private readonly lostController = new AbortController();
  private released = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly conn: OracleConnection,
    readonly node: string,
    readonly key: string,
    private readonly handle: string,
  ) {
    // oracledb has no "connection closed" event: a periodic ping notices a dropped session.
    this.timer = setInterval(() => void this.isHeld(), PING_INTERVAL_MS);
    this.timer.unref();
  }

  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Takes the node's lock if no other session holds it; undefined when another one does. */
  static async tryAcquire(node: string, db: ResolvedOracleDatabase, env: NodeJS.ProcessEnv = process.env, connector: OracleConnector = thinConnector): Promise<OracleNodeLock | undefined> {
    // expireTime: TCP keep-alive probes (minutes) notice a peer that vanished while the lock sat idle.
    const conn = await connectOracle(node, db, env, connector, { expireTime: 1 }, ' for the node lock');
    conn.callTimeout = db.connectTimeoutMs;
    const name = oracleLockName(db, node);
    let status: number;
    let handle: string;
    try {
      const r = await conn.execute(
        REQUEST_LOCK,
        {
          name,
          status: { dir: oracledb.BIND_OUT, type: oracledb.NUMBER },
          handle: { dir: oracledb.BIND_OUT, type: oracledb.STRING, maxSize: 128 },
        },
        { autoCommit: false },
      );
      status = Number(r.outBinds?.status);
      handle = String(r.outBinds?.handle ?? '');
    } catch (err) {
      await conn.close().catch(() => undefined);
      const ora = oraNumber(err as { errorNum?: number });
      const hint = ora === 6550 || ora === 942 || ora === 201 ? ` (${oraCode(ora)}: as a DBA, run GRANT EXECUTE ON SYS.DBMS_LOCK TO ${db.user};)` : '';
      throw new ConnectError('database', node, `cannot take the node lock${hint}: ${(err as Error).message}`, { cause: err });
    }
    if (GRANTED.has(status)) return new OracleNodeLock(conn, node, name, handle);
    await conn.close().catch(() => undefined);
    if (status === HELD_ELSEWHERE) return undefined;
    throw new ConnectError('database', node, `cannot take the node lock: DBMS_LOCK.REQUEST returned ${status} (2 deadlock, 3 parameter error, 5 illegal handle)`);
  }

  async isHeld(): Promise<boolean> {
    if (this.released || this.lost.aborted) return false;
    try {
      await this.conn.ping();
      return true;
    } catch (err) {
      this.lostController.abort(err);
      clearInterval(this.timer);
      await this.conn.close().catch(() => undefined);
      return false;
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    if (!this.lost.aborted) {
      await this.conn.execute(RELEASE_LOCK, { handle: this.handle, status: { dir: oracledb.BIND_OUT, type: oracledb.NUMBER } }).catch(() => undefined);
    }
    // Ending the session releases the lock even if the release above failed.
    await this.conn.close().catch(() => undefined);
  }
}
