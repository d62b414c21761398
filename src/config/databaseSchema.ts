// The `database:` section of a node: PostgreSQL or Oracle, resolved to what the adapters use.
import path from 'node:path';
import { z } from 'zod';
import { isoDuration } from './duration.js';
import type { ResolvedDatabase, ResolvedOracleDatabase, ResolvedPostgresDatabase } from './resolvedConfig.js';
import type { Report } from './schemaIssues.js';
import { locateSecret, type SecretSource } from './secrets.js';

export const port = z.number().int().min(1).max(65535);
export const nonEmpty = z.string().min(1);
export const ianaZone = z.string().refine((s) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: s });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone name such as UTC or Europe/Berlin');

/** Where a secret comes from: never inline in the config file. */
const secretSources = {
  passwordFile: nonEmpty.optional(),
  passwordEnv: nonEmpty.optional(),
  passwordCredential: nonEmpty.optional(),
};

const timeouts = {
  connectTimeout: isoDuration('connectTimeout').prefault('PT15S'),
  statementTimeout: isoDuration('statementTimeout').prefault('PT5M'),
};

/** The one place the password is read from, if any; more than one is a problem at the section. */
function password(configDirectory: string, db: { passwordFile?: string; passwordEnv?: string; passwordCredential?: string }, report: Report): SecretSource | undefined {
  const found = locateSecret(configDirectory, { file: db.passwordFile, env: db.passwordEnv, credential: db.passwordCredential });
  if (found.length > 1) {
    report([], 'at most one of passwordFile, passwordEnv, passwordCredential', { value: `${found.length} sources`, fix: 'keep only one place to read the secret from' });
  }
  return found[0];
}

const resolvedTimeouts = (db: { connectTimeout: { text: string; ms: number }; statementTimeout: { text: string; ms: number } }) => ({
  connectTimeout: db.connectTimeout.text,
  connectTimeoutMs: db.connectTimeout.ms,
  statementTimeout: db.statementTimeout.text,
  statementTimeoutMs: db.statementTimeout.ms,
});

const SQL_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/;

const postgresDatabase = z.strictObject({
  type: z.literal('postgres'),
  host: nonEmpty,
  port: port.default(5432),
  database: nonEmpty,
  user: nonEmpty,
  ...secretSources,
  schema: nonEmpty.default('public'),
  table: nonEmpty.default('aft_log'),
  timestampZone: ianaZone.default('UTC'),
  ssl: z
    .strictObject({
      mode: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).default('verify-full'),
      caFile: nonEmpty.optional(),
    })
    .optional(),
  ...timeouts,
});

function resolvePostgres(db: z.infer<typeof postgresDatabase>, configDirectory: string, report: Report): ResolvedPostgresDatabase {
  if (!SQL_IDENTIFIER.test(db.schema) || !SQL_IDENTIFIER.test(db.table)) {
    report(['table'], 'plain SQL identifiers for schema and table (letters, digits, _)', { value: JSON.stringify(`${db.schema}.${db.table}`) });
  }
  const { passwordFile: _f, passwordEnv: _e, passwordCredential: _c, connectTimeout: _ct, statementTimeout: _st, ...rest } = db;
  return { ...rest, password: password(configDirectory, db, report), ...resolvedTimeouts(db) };
}

/** An Oracle identifier as written unquoted (folded to upper case): the owner of AFT_LOG, its table. */
const oracleIdentifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_$#]{0,127}$/, 'an unquoted Oracle identifier: a letter, then letters, digits, _, $ or # (at most 128)');

/**
 * An Oracle database, reached in thin mode (no Oracle Client to install). Either a whole
 * connectString, or host/port/serviceName; a mix of both is refused.
 */
const oracleDatabase = z.strictObject({
  type: z.literal('oracle'),
  /** Easy Connect (`db.example.com:1521/MFTDB`, `tcps://...`), a TNS descriptor, or a tnsnames alias. */
  connectString: nonEmpty.optional(),
  host: nonEmpty.optional(),
  /** Default 1521, or 2484 when `tls` is set. */
  port: port.optional(),
  serviceName: nonEmpty.optional(),
  user: nonEmpty,
  ...secretSources,
  /** The schema that owns AFT_LOG when it is not the login user's own. */
  owner: oracleIdentifier.optional(),
  table: oracleIdentifier.default('AFT_LOG'),
  timestampZone: ianaZone.default('UTC'),
  tls: z
    .strictObject({
      /** Directory holding ewallet.pem (PEM wallet, as orapki exports it). */
      walletLocation: nonEmpty.optional(),
      walletPasswordFile: nonEmpty.optional(),
      walletPasswordEnv: nonEmpty.optional(),
      walletPasswordCredential: nonEmpty.optional(),
      /** PEM file of the CA that signed the database server's certificate. */
      caFile: nonEmpty.optional(),
    })
    .optional(),
  ...timeouts,
});

function resolveOracle(db: z.infer<typeof oracleDatabase>, configDirectory: string, report: Report): ResolvedOracleDatabase {
  const { passwordFile: _f, passwordEnv: _e, passwordCredential: _c, connectTimeout: _ct, statementTimeout: _st, tls: _t, connectString: _s, ...rest } = db;
  const secret = password(configDirectory, db, report);
  return {
    ...rest,
    connectString: oracleConnectString(db, report),
    tls: db.tls && oracleTls(configDirectory, db.tls, report),
    password: secret,
    ...resolvedTimeouts(db),
  };
}

/** A whole connectString, or host and serviceName (port 1521, or 2484 with TLS) built into Easy Connect. */
function oracleConnectString(db: { connectString?: string; host?: string; port?: number; serviceName?: string; tls?: object }, report: Report): string {
  if (db.connectString !== undefined) {
    for (const key of ['host', 'port', 'serviceName'] as const) {
      if (db[key] !== undefined) report([key], 'either connectString or host/port/serviceName, not both', { fix: `remove ${key}, or remove connectString and give host and serviceName` });
    }
    return db.connectString;
  }
  if (db.host === undefined || db.serviceName === undefined) {
    report([db.host === undefined ? 'host' : 'serviceName'], 'connectString, or host and serviceName', {
      fix: 'give the database service name as in the listener (lsnrctl status), e.g. serviceName: MFTDB, or a whole connectString',
    });
    return '';
  }
  const host = db.host.includes(':') ? `[${db.host}]` : db.host;
  return `${db.tls ? 'tcps://' : ''}${host}:${db.port ?? (db.tls ? 2484 : 1521)}/${db.serviceName}`;
}

function oracleTls(
  configDirectory: string,
  t: { walletLocation?: string; walletPasswordFile?: string; walletPasswordEnv?: string; walletPasswordCredential?: string; caFile?: string },
  report: Report,
): ResolvedOracleDatabase['tls'] {
  const found = locateSecret(configDirectory, { file: t.walletPasswordFile, env: t.walletPasswordEnv, credential: t.walletPasswordCredential });
  if (found.length > 1) {
    report(['tls'], 'at most one of walletPasswordFile, walletPasswordEnv, walletPasswordCredential', { value: `${found.length} sources`, fix: 'keep only one place to read the secret from' });
  }
  if (t.caFile !== undefined && t.walletLocation !== undefined) {
    report(['tls', 'caFile'], 'either tls.walletLocation or tls.caFile, not both', { fix: 'put the CA certificate in the wallet (ewallet.pem), or drop walletLocation' });
  }
  if (found.length > 0 && t.walletLocation === undefined) {
    report(['tls', 'walletLocation'], 'tls.walletLocation when a wallet password is given', { fix: 'give the directory holding ewallet.pem' });
  }
  const resolve = (f: string | undefined) => (f === undefined ? undefined : path.resolve(configDirectory, f));
  return { walletLocation: resolve(t.walletLocation), walletPassword: found[0], caFile: resolve(t.caFile) };
}

/** A node's `database:` as written. */
export const databaseSchema = z.discriminatedUnion('type', [postgresDatabase, oracleDatabase], {
  error: 'database.type "postgres" or "oracle"',
});

/** A node's database as the adapters use it; relative paths are read from `configDirectory`. */
export function resolveDatabase(db: z.infer<typeof databaseSchema>, configDirectory: string, report: Report): ResolvedDatabase {
  return db.type === 'oracle' ? resolveOracle(db, configDirectory, report) : resolvePostgres(db, configDirectory, report);
}
