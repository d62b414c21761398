import pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import { readSecret } from '../../config/secrets.js';
import { ConnectError } from '../../errors.js';
import { postgresClientConfig } from './clientConfig.js';

/**
 * Reads the node's database password from its source, opens one dedicated connection and
 * returns it. Every failure is a ConnectError that names the server but never the password.
 *
 * @param purpose appended to the error ("for the node lock") so an admin knows which connection failed
 */
export async function connectPostgres(
  node: string,
  db: ResolvedPostgresDatabase,
  env: NodeJS.ProcessEnv,
  extra: Partial<pg.ClientConfig> = {},
  purpose = '',
): Promise<pg.Client> {
  let password: string | undefined;
  try {
    password = db.password ? await readSecret(db.password, env) : undefined;
  } catch (err) {
    throw new ConnectError('database', node, `cannot read the database password: ${(err as Error).message}`, { cause: err });
  }
  const client = new pg.Client({ ...postgresClientConfig(db, password), ...extra });
  // A connection dropped by the server emits 'error'; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new ConnectError('database', node, `cannot connect to PostgreSQL ${db.user}@${db.host}:${db.port}/${db.database}${purpose}: ${(err as Error).message}`, { cause: err });
  }
  return client;
}
