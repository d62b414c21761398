// Embedded PostgreSQL for `mft-retention demo`: PGlite (Postgres compiled to WASM, runs
// in-process) exposed on a loopback TCP port by @electric-sql/pglite-socket, so the demo
// talks to it with the very same `pg` (node-postgres) client code that production uses
// against a real server. No PostgreSQL installation is needed.
//
// What the wire looks like to a `pg.Client` (verified in
// test/integration/embeddedPostgres.test.ts):
// - No TLS (the server answers 'N' to SSLRequest; pg's default `ssl: false` is fine), no
//   password: the startup packet is not authenticated.
// - The user/database names in the startup packet are IGNORED: every connection is
//   `postgres` on database `postgres`. pg still requires *some* user name (it falls back
//   to $USER, which may be unset), so always pass `user`.
// - Other startup parameters (pg's `application_name`, `statement_timeout`, `options`)
//   are ignored too; issue `SET ...` statements instead.
//
// Connections: PGlite is ONE Postgres backend (one session). The socket server
// multiplexes up to `maxConnections` TCP connections onto it, serialising their
// protocol messages. That is enough for a pg.Client per node plus a second one for a
// lock, but it is not real Postgres:
// - All connections share ONE session: `SET` values (statement_timeout,
//   application_name...), temp tables, named prepared statements and session advisory
//   locks are visible to every connection and SURVIVE a disconnect. So
//   pg_try_advisory_lock() on a second connection always succeeds (same session), and a
//   named query (`{ name: 'x', text }`) fails with 42P05 "prepared statement already
//   exists" on a reconnect or from a second client. Use unnamed (plain parameterized)
//   queries.
// - While one connection is inside BEGIN...COMMIT, queries from the other connections
//   wait until it ends: never await another connection while holding a transaction open
//   (it would deadlock until pg's client-side query_timeout fires).
// - statement_timeout is accepted but NOT enforced (single-threaded WASM: no timer
//   interrupt), and CancelRequest is ignored; use pg's client-side `query_timeout`.
// - A connection that drops mid-transaction is rolled back by the socket server.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** Always 127.0.0.1 (loopback only). */
  host: string;
  /** OS-assigned free port. */
  port: number;
  /** 'postgres' - the only database PGlite has (the name in the startup packet is ignored). */
  database: string;
  /** 'postgres' - the only role; no password. */
  user: string;
  /**
   * Simultaneously open TCP connections accepted; further ones are dropped at once
   * (pg: "Connection terminated unexpectedly"). They all share ONE Postgres session,
   * see the header comment. Sequential connect/end/connect works, even with 1.
   */
  maxConnections: number;
  /**
   * Closes the socket server, then PGlite. Idempotent. End your pg clients first: a
   * client still connected is dropped and emits 'error' ("Connection terminated
   * unexpectedly"), which crashes the process if the client has no 'error' listener.
   */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Persist the cluster in this directory (created if missing); default in-memory. */
  dataDir?: string;
  /** Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
}

// pglite-socket's own default is 1. We allow a few: production opens a second
// connection for its lock, and headroom avoids a race where a quick reconnect arrives
// before the server has processed the previous socket's close.
export const DEFAULT_MAX_CONNECTIONS = 4;

const HOST = '127.0.0.1';

export async function startEmbeddedPostgres(
  opts: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // 'memory://' = in-memory FS; a plain path = Node filesystem (initdb runs on first use).
  const db = await PGlite.create(opts.dataDir ?? 'memory://');
  // port 0: the OS picks a free port; the server reads it back in start().
  const server = new PGLiteSocketServer({ db, host: HOST, port: 0, maxConnections });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // getServerConn() is "host:port" once listening.
  const conn = server.getServerConn();
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1));

  let stopping: Promise<void> | undefined;
  return {
    host: HOST,
    port,
    database: 'postgres',
    user: 'postgres',
    maxConnections,
    stop() {
      // Order matters: server.stop() detaches every handler (rolling back an open
      // transaction through PGlite) and resolves only once all sockets are closed, so
      // PGlite must be closed after it, never before.
      stopping ??= (async () => {
        try {
          await server.stop();
        } finally {
          if (!db.closed) await db.close();
        }
      })();
      return stopping;
    },
  };
}
