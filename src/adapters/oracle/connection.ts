import path from 'node:path';
import oracledb, { type Connection, type ConnectionAttributes } from 'oracledb';
import type { ResolvedOracleDatabase } from '../../config/resolvedConfig.js';
import { readSecret } from '../../config/secrets.js';
import { ConnectError } from '../../errors.js';
import { classifyOracleError } from './errors.js';

/**
 * The part of an oracledb Connection the adapters use. The catalog and the node lock take this
 * instead of the driver's class, so their SQL, binds and transactions can be checked against
 * a recording stand-in where no Oracle server can run.
 */
export type OracleConnection = Pick<Connection, 'callTimeout' | 'execute' | 'executeMany' | 'commit' | 'rollback' | 'ping' | 'close' | 'break'>;

/** What opens a connection; tests pass one that returns a stand-in. */
export type OracleConnector = (attrs: ConnectionAttributes) => Promise<OracleConnection>;

/** oracledb's own getConnection, in thin mode: initOracleClient is never called, no Oracle Client is needed. */
export const thinConnector: OracleConnector = (attrs) => oracledb.getConnection(attrs);

/** `user@connectString` for messages: never the password. */
export const describeOracle = (db: Pick<ResolvedOracleDatabase, 'user' | 'connectString'>): string => `${db.user}@${db.connectString}`;

/**
 * The driver settings for a node's database, with the secrets read from their sources.
 * A CA file is only usable in thin mode through Node.js's NODE_EXTRA_CA_CERTS (read once when
 * the process starts: the driver takes no CA bundle of its own), so it is checked to be in
 * force instead of being ignored.
 */
export async function oracleConnectionAttributes(db: ResolvedOracleDatabase, env: NodeJS.ProcessEnv, extra: Partial<ConnectionAttributes> = {}): Promise<ConnectionAttributes> {
  const seconds = Math.max(1, Math.ceil(db.connectTimeoutMs / 1000));
  const attrs: ConnectionAttributes = {
    user: db.user,
    password: db.password ? await readSecret(db.password, env) : undefined,
    connectString: db.connectString,
    connectTimeout: seconds,
    transportConnectTimeout: seconds,
    ...extra,
  };
  const tls = db.tls;
  if (tls?.walletLocation) attrs.walletLocation = tls.walletLocation;
  if (tls?.walletPassword) attrs.walletPassword = await readSecret(tls.walletPassword, env);
  if (tls?.caFile && path.resolve(env.NODE_EXTRA_CA_CERTS ?? '') !== tls.caFile) {
    throw new Error(
      `database.tls.caFile ${tls.caFile} is not in force: in thin mode Node.js trusts an extra CA only through NODE_EXTRA_CA_CERTS, set before it starts (now ${env.NODE_EXTRA_CA_CERTS ? `"${env.NODE_EXTRA_CA_CERTS}"` : 'unset'}). Add Environment=NODE_EXTRA_CA_CERTS=${tls.caFile} to the service (systemctl edit mft-retention.service), or put the CA certificate in a PEM wallet and use tls.walletLocation`,
    );
  }
  return attrs;
}

/**
 * Reads the node's password, opens one dedicated connection in thin mode and sets the
 * statement timeout. Every failure is a ConnectError naming the server but never the password.
 *
 * @param purpose appended to the error (" for the node lock") so an admin knows which connection failed
 */
export async function connectOracle(
  node: string,
  db: ResolvedOracleDatabase,
  env: NodeJS.ProcessEnv,
  connector: OracleConnector = thinConnector,
  extra: Partial<ConnectionAttributes> = {},
  purpose = '',
): Promise<OracleConnection> {
  let attrs: ConnectionAttributes;
  try {
    attrs = await oracleConnectionAttributes(db, env, extra);
  } catch (err) {
    throw new ConnectError('database', node, `cannot connect to Oracle ${describeOracle(db)}${purpose}: ${(err as Error).message}`, { cause: err });
  }
  let conn: OracleConnection;
  try {
    conn = await connector(attrs);
  } catch (err) {
    const kind = classifyOracleError(err).kind;
    const hint = kind === 'connection' ? '' : ' (check database.connectString or host/port/serviceName, and tls)';
    // The driver never echoes a password, but a message is no place to trust that.
    const message = [attrs.password, attrs.walletPassword].reduce<string>((m, secret) => (secret && secret.length >= 4 ? m.split(secret).join('***') : m), String((err as Error)?.message));
    throw new ConnectError('database', node, `cannot connect to Oracle ${describeOracle(db)}${purpose}: ${message}${hint}`, { cause: err });
  }
  // A round trip longer than this is abandoned (the driver breaks the call and reports NJS-123).
  conn.callTimeout = db.statementTimeoutMs;
  return conn;
}
