import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { ConnectError } from '../../errors.js';
import type { NodeLock } from '../../ports.js';
import { connectPostgres } from './connect.js';

/** Namespace of our advisory-lock keys, so they cannot collide with another application's. */
export const LOCK_NAMESPACE = 'mft-retention:purge-node';

/**
 * The 64-bit advisory-lock key of one node: a hash of the namespace, the AFT_LOG table and
 * the node name, so two nodes sharing one database get different keys. Signed decimal string,
 * as pg_try_advisory_lock(bigint) takes it.
 */
export function nodeLockKey(db: Pick<ResolvedPostgresDatabase, 'schema' | 'table'>, node: string): string {
  const digest = createHash('sha256').update(`${LOCK_NAMESPACE}\0${db.schema}.${db.table}\0${node}`).digest();
  return BigInt.asIntN(64, digest.readBigUInt64BE(0)).toString();
}

/**
 * "This process purges this node": a session-level advisory lock in the node's own database,
 * held on a dedicated connection (never a pooled one: the lock belongs to the session). When
 * the process dies, its session ends and PostgreSQL releases the lock for another instance.
 */
export class PostgresNodeLock implements NodeLock {
  private readonly lostController = new AbortController();
  private released = false;

  private constructor(
    private readonly client: pg.Client,
    readonly node: string,
    readonly key: string,
  ) {
    // The connection dropping means the lock is gone: whatever runs under it must stop.
    const lose = (why: string) => () => this.lostController.abort(new Error(`the lock connection for node ${node} ${why}`));
    client.on('error', lose('failed'));
    client.on('end', lose('ended'));
  }

  /** Aborted when the lock's session is lost (server restart, network drop). */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /** Takes the node's lock if no other session holds it; undefined when another one does. */
  static async tryAcquire(node: string, db: ResolvedPostgresDatabase, env: NodeJS.ProcessEnv = process.env): Promise<PostgresNodeLock | undefined> {
    const client = await connectPostgres(
      node,
      db,
      env,
      {
        application_name: 'mft-retention lock',
        // TCP keepalives notice a peer that vanished while the lock sat idle between runs.
        keepAlive: true,
        keepAliveInitialDelayMillis: 60_000,
        // A silently dead connection must not hang the liveness check for the OS's TCP timeout.
        query_timeout: db.connectTimeoutMs,
      },
      ' for the node lock',
    );
    const key = nodeLockKey(db, node);
    try {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]);
      if (r.rows[0]?.ok) return new PostgresNodeLock(client, node, key);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new ConnectError('database', node, `cannot take the node lock: ${(err as Error).message}`, { cause: err });
    }
    await client.end().catch(() => undefined);
    return undefined;
  }

  /** Whether the lock's session is still alive (one round trip); marks the lock lost if not. */
  async isHeld(): Promise<boolean> {
    if (this.released || this.lost.aborted) return false;
    try {
      await this.client.query('SELECT 1');
      return true;
    } catch (err) {
      this.lostController.abort(err);
      await this.client.end().catch(() => undefined);
      return false;
    }
  }

  /** Unlocks and closes the connection. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (!this.lost.aborted) {
      await this.client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]).catch(() => undefined);
    }
    // Ending the session releases the lock even if the unlock above failed.
    await this.client.end().catch(() => undefined);
  }
}
