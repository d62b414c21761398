import pg from 'pg';
import type { ResolvedPostgresDatabase } from '../config/resolvedConfig.js';
import { describeSecretSource, readSecret } from '../config/secrets.js';
import { postgresClientConfig } from '../adapters/postgres/postgresCatalog.js';
import { selectNow, tableName } from '../adapters/postgres/sql.js';
import { humanBytes, thousands } from '../shared/format.js';
import * as q from './databaseSql.js';
import { connectTcp, describeTarget } from './tcpProbe.js';
import { checkMaker, messageOf, type Check, type GroupReport } from './types.js';

const { pass, warn, fail, skip } = checkMaker('database');
const connection = { connection: true };

export interface DatabaseCheckOptions {
  env: NodeJS.ProcessEnv;
  maxClockSkewMs: number;
}

/** What the PostgreSQL login errors mean (SQLSTATE), and what to do. */
const LOGIN_FIXES: Record<string, string> = {
  '28P01': 'check the password in {source} (it is never shown); to reset it, on the server: ALTER ROLE {user} PASSWORD \'...\';',
  '28000': 'allow this host in pg_hba.conf on the database server (a "host {database} {user} <this host>/32 scram-sha-256" line), then reload PostgreSQL',
  '3D000': 'check database.database: it is the node\'s external database as set in IM and Presence Administration',
  '53300': 'the server has no free connection slot: raise max_connections or close idle sessions',
};

export async function checkDatabase(db: ResolvedPostgresDatabase, opts: DatabaseCheckOptions): Promise<GroupReport> {
  const table = tableName(db.schema, db.table);
  const target = `postgres ${db.user}@${describeTarget(db)}/${db.database} table ${table}`;
  return { group: 'database', target, checks: await runChecks(db, table, opts) };
}

const AFTER_LOGIN = ['AFT_LOG table', 'privileges', 'clock skew', 'capacity', 'index'];
const skipAll = (names: string[], why: string): Check[] => names.map((n) => skip(n, `not checked: ${why}`));

async function runChecks(db: ResolvedPostgresDatabase, table: string, opts: DatabaseCheckOptions): Promise<Check[]> {
  const at = describeTarget(db);
  let reachable: Check;
  try {
    const conn = await connectTcp(db, db.connectTimeoutMs);
    conn.socket.destroy();
    reachable = pass('reachable', `TCP connect to ${at} in ${conn.ms} ms`);
  } catch (err) {
    return [
      fail('reachable', `cannot connect to ${at}: ${messageOf(err)}`, `check database.host and port, that PostgreSQL listens there (listen_addresses, port), and that firewalls let this host reach port ${db.port}`, connection),
      ...skipAll(['login', ...AFTER_LOGIN], 'the database is not reachable'),
    ];
  }
  let password: string | undefined;
  try {
    password = db.password ? await readSecret(db.password, opts.env) : undefined;
  } catch (err) {
    return [reachable, fail('login', messageOf(err), 'make the password readable where database.passwordFile, passwordEnv or passwordCredential points', connection), ...skipAll(AFTER_LOGIN, 'not logged in')];
  }
  const client = new pg.Client(postgresClientConfig(db, password));
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    return [reachable, loginFailure(db, err, password), ...skipAll(AFTER_LOGIN, 'not logged in')];
  }
  const checks: Check[] = [reachable];
  try {
    const v = (await client.query<{ version: string; user: string; database: string }>(q.serverVersion)).rows[0]!;
    checks.push(pass('login', `logged in as ${v.user} to ${v.database} (PostgreSQL ${v.version})`));
    checks.push(...(await catalogChecks(client, db, table, opts)));
  } catch (err) {
    checks.push(fail('queries', redact(`a check query failed: ${messageOf(err)}`, password), 'see the PostgreSQL server log; the user may lack access to the system catalogs'));
  } finally {
    await client.end().catch(() => undefined);
  }
  return checks;
}

/** The password never appears in a report, even if a server or driver were to echo it. */
function redact(text: string, password: string | undefined): string {
  return password && password.length >= 4 ? text.split(password).join('***') : text;
}

function loginFailure(db: ResolvedPostgresDatabase, err: unknown, password: string | undefined): Check {
  const code = (err as { code?: string }).code ?? '';
  const source = db.password ? describeSecretSource(db.password) : 'no password source (database.passwordFile, passwordEnv or passwordCredential)';
  const template = LOGIN_FIXES[code] ?? 'check database.user, the password source, database.ssl and the PostgreSQL server log';
  const fix = template.replace('{source}', source).replaceAll('{user}', db.user).replace('{database}', db.database);
  const detail = redact(`login as ${db.user} to ${db.database} failed: ${messageOf(err)}${code ? ` (SQLSTATE ${code})` : ''}`, password);
  return fail('login', detail, fix, connection);
}

async function catalogChecks(client: pg.Client, db: ResolvedPostgresDatabase, table: string, opts: DatabaseCheckOptions): Promise<Check[]> {
  const present = (await client.query<{ present: boolean }>(q.tableExists, [table])).rows[0]!.present;
  if (!present) {
    return [
      fail('AFT_LOG table', `${table} does not exist in database ${db.database}`, 'check database.database, database.schema and database.table: AFT_LOG lives in the node\'s external database (and the user must see its schema)'),
      skip('privileges', 'not checked: no table'),
      await clockSkewCheck(client, opts),
      await capacityCheck(client, undefined),
      skip('index', 'not checked: no table'),
    ];
  }
  const columns = new Set((await client.query<{ name: string }>(q.tableColumns, [table])).rows.map((r) => r.name));
  return [
    columnsCheck(table, columns),
    await privilegesCheck(client, db, table),
    await clockSkewCheck(client, opts),
    await capacityCheck(client, table),
    columns.has('file_path') ? await indexCheck(client, table) : skip('index', 'not checked: no file_path column'),
  ];
}

function columnsCheck(table: string, columns: Set<string>): Check {
  const needed = q.COLUMNS_THE_PURGE_NEEDS.filter((c) => !columns.has(c));
  const other = q.OTHER_DOCUMENTED_COLUMNS.filter((c) => !columns.has(c));
  const documented = [...q.COLUMNS_THE_PURGE_NEEDS, ...q.OTHER_DOCUMENTED_COLUMNS].join(', ');
  if (needed.length) {
    return fail('AFT_LOG table', `${table} lacks column${needed.length > 1 ? 's' : ''} ${needed.join(', ')}${other.length ? ` (and ${other.join(', ')})` : ''}`, `database.table must name Cisco's AFT_LOG table, with the columns ${documented}`);
  }
  if (other.length) {
    return warn('AFT_LOG table', `${table} lacks column${other.length > 1 ? 's' : ''} ${other.join(', ')}, which the purge does not use`, `is ${table} Cisco's AFT_LOG? Its columns are ${documented}`);
  }
  return pass('AFT_LOG table', `${table} has all ${columns.size} expected columns`);
}

async function privilegesCheck(client: pg.Client, db: ResolvedPostgresDatabase, table: string): Promise<Check> {
  const p = (await client.query<{ usage: boolean; select: boolean; delete: boolean }>(q.privileges, [table, db.schema])).rows[0]!;
  const missing = [!p.select && 'SELECT', !p.delete && 'DELETE'].filter((x): x is string => Boolean(x));
  if (!p.usage) missing.unshift(`USAGE on schema ${db.schema}`);
  if (missing.length === 0) return pass('privileges', `${db.user} may SELECT and DELETE on ${table}`);
  const grants = [
    !p.usage && `GRANT USAGE ON SCHEMA ${db.schema} TO ${db.user};`,
    (!p.select || !p.delete) && `GRANT ${[!p.select && 'SELECT', !p.delete && 'DELETE'].filter(Boolean).join(', ')} ON ${table} TO ${db.user};`,
  ].filter(Boolean);
  return fail('privileges', `${db.user} lacks ${missing.join(', ')} on ${table}`, `as the table owner, run:\n${grants.join('\n')}`);
}

function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 120_000) return `${Number((abs / 1000).toFixed(1))} s`;
  return `${Number((abs / 60_000).toFixed(1))} min`;
}

async function clockSkewCheck(client: pg.Client, opts: DatabaseCheckOptions): Promise<Check> {
  const before = Date.now();
  const dbNow = (await client.query<{ now: Date }>(selectNow)).rows[0]!.now.getTime();
  const after = Date.now();
  // The statement ran somewhere between sending and answering: compare with the middle.
  const skew = dbNow - (before + after) / 2;
  const detail = `database clock ${duration(skew)} ${skew >= 0 ? 'ahead of' : 'behind'} this host (limit ${duration(opts.maxClockSkewMs)})`;
  if (Math.abs(skew) > opts.maxClockSkewMs) {
    return warn('clock skew', detail, 'synchronise both hosts with NTP (timedatectl, chronyc tracking): the purge uses the earlier of the two clocks, so files are kept longer than their retention');
  }
  return pass('clock skew', detail);
}

async function capacityCheck(client: pg.Client, table: string | undefined): Promise<Check> {
  const r = (await client.query<{ database_bytes: string; table_bytes: string | null; estimated_rows: string | null }>(q.capacity, [table ?? null])).rows[0]!;
  const rows = r.estimated_rows !== null && Number(r.estimated_rows) >= 0 ? `, ~${thousands(Number(r.estimated_rows))} rows` : '';
  const tablePart = table && r.table_bytes !== null ? `; ${table} ${humanBytes(Number(r.table_bytes))}${rows}` : '';
  // PostgreSQL has no "percent full" of its own: sizes are all it can tell without OS access.
  return pass('capacity', `database ${humanBytes(Number(r.database_bytes))}${tablePart}`);
}

async function indexCheck(client: pg.Client, table: string): Promise<Check> {
  const indexes = (await client.query<{ name: string; valid: boolean; partial: boolean }>(q.filePathIndexes, [table])).rows;
  const usable = indexes.find((i) => i.valid && !i.partial);
  if (usable) return pass('index', `${usable.name} on (file_path ...) speeds up finding and deleting the Get rows of purged files`);
  const create = q.createFilePathIndex(table);
  const invalid = indexes.find((i) => !i.valid);
  if (invalid) {
    return warn('index', `${invalid.name} on file_path is INVALID (an interrupted CREATE INDEX CONCURRENTLY) and is not used`, `as the table owner, run:\nDROP INDEX CONCURRENTLY ${table.split('.')[0]}.${invalid.name};\n${create}`);
  }
  return warn(
    'index',
    `no index on ${table} starts with file_path; optional, but one speeds up finding and deleting the Get rows of purged files (Cisco creates only the primary key)`,
    `as the table owner, run (CONCURRENTLY lets MFT keep writing while it builds):\n${create}`,
  );
}
