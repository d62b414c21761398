import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';

/** node-postgres settings for a node's database; TLS as its ssl.mode asks. */
export function postgresClientConfig(db: ResolvedPostgresDatabase, password: string | undefined): pg.ClientConfig {
  let ssl: pg.ClientConfig['ssl'] = false;
  if (db.ssl && db.ssl.mode !== 'disable') {
    const ca = db.ssl.caFile ? readFileSync(db.ssl.caFile, 'utf8') : undefined;
    ssl =
      db.ssl.mode === 'require'
        ? { rejectUnauthorized: false }
        : db.ssl.mode === 'verify-ca'
          ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
          : { ca, rejectUnauthorized: true };
  }
  return {
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password,
    ssl,
    connectionTimeoutMillis: db.connectTimeoutMs,
    statement_timeout: db.statementTimeoutMs,
    application_name: 'mft-retention',
  };
}
