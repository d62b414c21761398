import oracledb from 'oracledb';
import type { ResolvedOracleDatabase } from '../config/resolvedConfig.js';
import { describeSecretSource } from '../config/secrets.js';
import { connectOracle, describeOracle, thinConnector, type OracleConnection, type OracleConnector } from '../adapters/oracle/connection.js';
import { oraNumber } from '../adapters/oracle/errors.js';
import { OracleCatalog } from '../adapters/oracle/oracleCatalog.js';
import { tableName } from '../adapters/oracle/sql.js';
import { humanBytes } from '../shared/format.js';
import type { DatabaseCheckOptions } from './databaseChecks.js';
import { COLUMNS_THE_PURGE_NEEDS, OTHER_DOCUMENTED_COLUMNS } from './databaseSql.js';
import { connectTcp, describeTarget } from './tcpProbe.js';
import { checkMaker, messageOf, type Check, type GroupReport } from './types.js';

const { pass, warn, fail, skip } = checkMaker('database');
const connection = { connection: true };
const AFTER_LOGIN = ['AFT_LOG table', 'privileges', 'node lock', 'clock skew', 'capacity', 'index'];
const skipAll = (names: string[], why: string): Check[] => names.map((n) => skip(n, `not checked: ${why}`));

/** What the Oracle login errors mean, and what to do. */
const LOGIN_FIXES: Record<number, string> = {
  1017: 'check database.user and the password in {source} (it is never shown); to reset it, as a DBA: ALTER USER {user} IDENTIFIED BY "...";',
  28000: 'the account is locked: as a DBA, ALTER USER {user} ACCOUNT UNLOCK;',
  28001: 'the password has expired: as a DBA, ALTER USER {user} IDENTIFIED BY "...";',
  12514: 'the listener does not know this service: check serviceName (lsnrctl status on the database server)',
  12505: 'the listener does not know this SID: use the service name (serviceName) instead',
  1033: 'the database is starting or shutting down: try again when it is open',
  1034: 'the database is not open: ask the DBA to start it',
};

/**
 * The doctor's database checks for Oracle: reachable, login, AFT_LOG columns, privileges,
 * DBMS_LOCK for the daemon's node lock, clock skew, capacity and the optional file_path index.
 */
export async function checkOracleDatabase(node: string, db: ResolvedOracleDatabase, opts: DatabaseCheckOptions, connector: OracleConnector = thinConnector): Promise<GroupReport> {
  const table = tableName(db.owner, db.table.toUpperCase());
  return { group: 'database', target: `oracle ${describeOracle(db)} table ${table}`, checks: await runChecks(node, db, table, opts, connector) };
}

async function runChecks(node: string, db: ResolvedOracleDatabase, table: string, opts: DatabaseCheckOptions, connector: OracleConnector): Promise<Check[]> {
  const checks: Check[] = [];
  if (db.host !== undefined) {
    const target = { host: db.host, port: db.port ?? (db.tls ? 2484 : 1521) };
    try {
      const conn = await connectTcp(target, db.connectTimeoutMs);
      conn.socket.destroy();
      checks.push(pass('reachable', `TCP connect to ${describeTarget(target)} in ${conn.ms} ms`));
    } catch (err) {
      return [
        fail('reachable', `cannot connect to ${describeTarget(target)}: ${messageOf(err)}`, `check database.host and port, that the Oracle listener runs there (lsnrctl status), and that firewalls let this host reach port ${target.port}`, connection),
        ...skipAll(['login', ...AFTER_LOGIN], 'the database is not reachable'),
      ];
    }
  } else {
    checks.push(skip('reachable', 'not checked separately: the login below connects through database.connectString'));
  }
  let conn: OracleConnection;
  try {
    conn = await connectOracle(node, db, opts.env, connector);
  } catch (err) {
    const cause = (err as Error).cause ?? err;
    const ora = oraNumber(cause as { errorNum?: number });
    const source = db.password ? describeSecretSource(db.password) : 'no password source (database.passwordFile, passwordEnv or passwordCredential)';
    const fix = (ora !== undefined ? LOGIN_FIXES[ora] : undefined) ?? 'check database.user, the password source, connectString/host/serviceName and tls';
    return [...checks, fail('login', messageOf(err), fix.replace('{source}', source).replaceAll('{user}', db.user), connection), ...skipAll(AFTER_LOGIN, 'not logged in')];
  }
  try {
    const [who] = await rows(conn, `SELECT USER AS u, (SELECT banner FROM v$version WHERE ROWNUM = 1) AS v FROM dual`).catch(() => rows(conn, `SELECT USER AS u, NULL AS v FROM dual`));
    checks.push(pass('login', `logged in as ${who?.U} to ${db.connectString}${who?.V ? ` (${who.V})` : ''}`));
    const owner = (db.owner ?? String(who?.U)).toUpperCase();
    checks.push(...(await catalogChecks(node, conn, db, owner, table, opts)));
  } catch (err) {
    checks.push(fail('queries', `a check query failed: ${messageOf(err)}`, 'see the Oracle alert log; the user may lack access to the ALL_* dictionary views'));
  } finally {
    await conn.close().catch(() => undefined);
  }
  return checks;
}

type Row = Record<string, unknown>;
const rows = async (conn: OracleConnection, sql: string, binds: Record<string, unknown> = {}): Promise<Row[]> =>
  (await conn.execute<Row>(sql, binds, { outFormat: oracledb.OUT_FORMAT_OBJECT, autoCommit: false })).rows ?? [];

async function catalogChecks(node: string, conn: OracleConnection, db: ResolvedOracleDatabase, owner: string, table: string, opts: DatabaseCheckOptions): Promise<Check[]> {
  const tableUpper = db.table.toUpperCase();
  const columns = new Set((await rows(conn, `SELECT LOWER(column_name) AS c FROM all_tab_columns WHERE owner = :owner AND table_name = :t`, { owner, t: tableUpper })).map((r) => String(r.C)));
  const catalog = new OracleCatalog(conn, db, node);
  if (columns.size === 0) {
    return [
      fail('AFT_LOG table', `${owner}.${tableUpper} does not exist or ${db.user} cannot see it`, `check database.owner and database.table, and as the owner run: GRANT SELECT, DELETE ON ${owner}.${tableUpper} TO ${db.user};`),
      skip('privileges', 'not checked: no table'),
      await lockCheck(conn, db),
      await clockSkewCheck(catalog, opts),
      await capacityCheck(catalog),
      skip('index', 'not checked: no table'),
    ];
  }
  return [
    columnsCheck(table, columns),
    await privilegesCheck(conn, db, owner, table),
    await lockCheck(conn, db),
    await clockSkewCheck(catalog, opts),
    await capacityCheck(catalog),
    await indexCheck(conn, owner, tableUpper),
  ];
}

function columnsCheck(table: string, columns: Set<string>): Check {
  const needed = COLUMNS_THE_PURGE_NEEDS.filter((c) => !columns.has(c));
  const other = OTHER_DOCUMENTED_COLUMNS.filter((c) => !columns.has(c));
  if (needed.length) return fail('AFT_LOG table', `${table} lacks ${needed.join(', ')}`, `database.table must name Cisco's AFT_LOG table, with the columns ${[...COLUMNS_THE_PURGE_NEEDS, ...OTHER_DOCUMENTED_COLUMNS].join(', ')}`);
  if (other.length) return warn('AFT_LOG table', `${table} lacks ${other.join(', ')}, which the purge does not use`, `is ${table} Cisco's AFT_LOG?`);
  return pass('AFT_LOG table', `${table} has all ${columns.size} expected columns`);
}

/**
 * Whether the user may SELECT and DELETE, whatever the grant came through (directly, a role,
 * an ANY privilege): the statements themselves are tried. The DELETE matches no row and is
 * rolled back at once.
 */
async function privilegesCheck(conn: OracleConnection, db: ResolvedOracleDatabase, owner: string, table: string): Promise<Check> {
  const attempt = async (sql: string): Promise<boolean> => {
    try {
      await conn.execute(sql, {}, { autoCommit: false });
      return true;
    } catch (err) {
      if ([942, 1031].includes(oraNumber(err as { errorNum?: number }) ?? 0)) return false;
      throw err;
    } finally {
      await conn.rollback().catch(() => undefined);
    }
  };
  const select = await attempt(`SELECT 1 FROM ${table} WHERE 1 = 0`);
  const del = await attempt(`DELETE FROM ${table} WHERE 1 = 0`);
  if (select && del) return pass('privileges', `${db.user} may SELECT and DELETE on ${table}`);
  const missing = [!select && 'SELECT', !del && 'DELETE'].filter(Boolean).join(', ');
  return fail('privileges', `${db.user} lacks ${missing} on ${table}`, `as ${owner} (or a DBA), run:\nGRANT ${missing} ON ${owner}.${db.table.toUpperCase()} TO ${db.user};`);
}

async function lockCheck(conn: OracleConnection, db: ResolvedOracleDatabase): Promise<Check> {
  const r = await rows(conn, `SELECT 1 AS ok FROM all_procedures WHERE owner = 'SYS' AND object_name = 'DBMS_LOCK' AND ROWNUM = 1`);
  if (r.length > 0) return pass('node lock', `${db.user} may execute DBMS_LOCK (the daemon's one-instance-per-node lock)`);
  return warn('node lock', `${db.user} may not execute DBMS_LOCK: the daemon cannot take the node lock (the purge command and timer do not need it)`, `as a DBA, run:\nGRANT EXECUTE ON SYS.DBMS_LOCK TO ${db.user};`);
}

async function clockSkewCheck(catalog: OracleCatalog, opts: DatabaseCheckOptions): Promise<Check> {
  const before = Date.now();
  const dbNow = (await catalog.databaseNow()).getTime();
  const skew = dbNow - (before + Date.now()) / 2;
  const s = (ms: number): string => (Math.abs(ms) < 1000 ? `${Math.round(Math.abs(ms))} ms` : `${(Math.abs(ms) / 1000).toFixed(1)} s`);
  const detail = `database clock ${s(skew)} ${skew >= 0 ? 'ahead of' : 'behind'} this host (limit ${s(opts.maxClockSkewMs)})`;
  if (Math.abs(skew) > opts.maxClockSkewMs) return warn('clock skew', detail, 'synchronise both hosts with NTP: the purge uses the earlier of the two clocks, so files are kept longer than their retention');
  return pass('clock skew', detail);
}

async function capacityCheck(catalog: OracleCatalog): Promise<Check> {
  const u = await catalog.databaseUsage();
  const of = u.capacityBytes !== undefined ? ` of ${humanBytes(u.capacityBytes)}` : '';
  const pct = u.usedPercent !== undefined ? ` (${u.usedPercent} %)` : '';
  const detail = `${humanBytes(u.usedBytes)} used${of}${pct}, from ${u.source}`;
  if (u.usedPercent !== undefined && u.usedPercent >= 90) return warn('capacity', detail, 'add space to the tablespace or raise the quota before MFT stops (ORA-01653/ORA-01536)');
  return pass('capacity', detail);
}

async function indexCheck(conn: OracleConnection, owner: string, table: string): Promise<Check> {
  const r = await rows(conn, `SELECT index_name AS name FROM all_ind_columns WHERE table_owner = :owner AND table_name = :t AND column_name = 'FILE_PATH' AND column_position = 1`, { owner, t: table });
  if (r.length > 0) return pass('index', `${String(r[0]!.NAME)} on (file_path ...) speeds up finding and deleting the Get rows of purged files`);
  return warn('index', `no index on ${owner}.${table} starts with file_path; optional, but one speeds up finding and deleting the Get rows of purged files (Cisco creates only the primary key)`, `as ${owner}, run (ONLINE lets MFT keep writing while it builds):\nCREATE INDEX aft_log_file_path_idx ON ${owner}.${table} (file_path) ONLINE;`);
}

