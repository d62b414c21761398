import path from 'node:path';
import { Duration } from 'luxon';
import type { ChatType } from '../core/chatType.js';
import { normaliseNodeDirectory } from '../core/filePath.js';
import { parsePinnedHostKey, type PinnedHostKey } from '../core/hostKey.js';
import { ConfigError, renderValue, type ConfigProblem } from './configError.js';
import { parseIsoDuration } from './duration.js';
import type { Hold } from '../core/holds.js';
import { loadHolds } from './holds.js';
import { resolveLimits, type ResolvedLimits } from './limits.js';
import { loadPolicies, makePolicy, type PolicySet } from './policies.js';
import {
  configSchema,
  LISTEN_ADDRESS,
  type LocalFileServerConfig,
  type NodeConfig,
  type OracleDatabaseConfig,
  type PostgresDatabaseConfig,
  type RawConfig,
  type SftpFileServerConfig,
} from './schema.js';
import type { SecretSource } from './secrets.js';
import { resolveAlarms, resolveNodeAlarms, type NodeAlarmThresholds, type ResolvedAlarms } from './resolveAlarms.js';
import { readYamlFile, type YamlFile } from './yamlFile.js';
import { parseWindow, type PurgeWindow } from '../core/purgeWindows.js';
import { problemsFromZod } from './zodProblems.js';

export interface ResolvedPostgresDatabase extends PostgresDatabaseConfig {
  password?: SecretSource;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export interface ResolvedOracleDatabase extends Omit<OracleDatabaseConfig, 'tls'> {
  /** As configured, or built from host, port and serviceName (Easy Connect). */
  connectString: string;
  password?: SecretSource;
  tls?: { walletLocation?: string; walletPassword?: SecretSource; caFile?: string };
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export type ResolvedDatabase = ResolvedPostgresDatabase | ResolvedOracleDatabase;

export type ResolvedFileServer =
  | (SftpFileServerConfig & { directory: string; privateKey: SecretSource; passphrase?: SecretSource; pinnedHostKey: PinnedHostKey; connectTimeoutMs: number })
  | (LocalFileServerConfig & { directory: string });

export interface ResolvedNode {
  name: string;
  database: ResolvedDatabase;
  fileServer: ResolvedFileServer;
  /** The policies that apply to this node: the shared ones with its overrides on top. */
  policies: PolicySet;
  /** Legal holds (from holds.yaml in the policies directory), shared by every node. */
  holds: Hold[];
  /** Alarm thresholds for this node (the shared `alarms:` ones with the node's overrides). */
  alarms: NodeAlarmThresholds;
  /** Blast-radius limits: `purge.limits` with the node's own `limits` on top. */
  limits: ResolvedLimits;
  /** Where rows are exported before they are deleted (absolute), when configured. */
  auditExport?: { directory: string };
  /** Files removed a second at most (`purge.maxFilesPerSecond`, or the node's own); undefined: no limit. */
  maxFilesPerSecond?: number;
}

/** The `daemon:` section with durations in milliseconds and the listen address split. */
export interface ResolvedDaemon {
  schedule: string;
  timezone: string;
  jitterMs: number;
  drainTimeoutMs: number;
  http: { host: string; port: number };
  stateDirectory: string;
  /** Purge windows (`daemon.windows`) in `timezone`; empty: purges may start at any time. */
  windows: PurgeWindow[];
}

export interface ResolvedConfig {
  file: string;
  policiesDirectory: string;
  purge: { batchSize: number; maxClockSkewMs: number; removeEmptyFolders: boolean; planMaxAgeMs: number; planMaxAgeText: string };
  log: RawConfig['log'];
  daemon: ResolvedDaemon;
  alarms: ResolvedAlarms;
  nodes: ResolvedNode[];
}

/**
 * Loads, validates and resolves the config file and the policies it names. Every problem
 * found is reported at once in one ConfigError. Secrets are not read here, only located.
 */
export async function loadConfig(configFile: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedConfig> {
  const file = path.resolve(configFile);
  const yaml = await readYamlFile(file);
  const parsed = configSchema.safeParse(yaml.data ?? {});
  if (!parsed.success) {
    // Report the policy files' problems too, so that one round of fixes is enough.
    const rawDir = (yaml.data as { policiesDirectory?: unknown } | null)?.policiesDirectory;
    const dir = path.resolve(path.dirname(file), typeof rawDir === 'string' ? rawDir : 'policies');
    const policyProblems = [...(await loadPolicies(dir)).problems, ...(await loadHolds(dir)).problems];
    throw new ConfigError([...problemsFromZod(yaml, parsed.error, configSchema), ...policyProblems]);
  }
  const raw = parsed.data;
  const problems: ConfigProblem[] = [];
  const policiesDirectory = path.resolve(path.dirname(file), raw.policiesDirectory ?? 'policies');
  const loaded = await loadPolicies(policiesDirectory);
  problems.push(...loaded.problems);
  const { holds, problems: holdProblems } = await loadHolds(policiesDirectory);
  problems.push(...holdProblems);

  const alarmCtx = { yaml, problems, problem: (p: Array<string | number>, value: unknown, expected: string, fix?: string) => problem(yaml, p, value, expected, fix) };
  const seen = new Map<string, number>();
  const nodes: ResolvedNode[] = [];
  raw.nodes.forEach((node, i) => {
    const before = seen.get(node.name);
    if (before !== undefined) {
      problems.push(problem(yaml, ['nodes', i, 'name'], node.name, 'a node name used once', `nodes[${before}] has the same name`));
    }
    seen.set(node.name, i);
    const resolved = resolveNode(yaml, node, i, loaded.policies, problems);
    const alarms = resolveNodeAlarms(raw.alarms, node.alarms, i, alarmCtx);
    // The node's own rate over the shared one; 0 is "no limit" in both places.
    const rate = node.purge?.maxFilesPerSecond ?? raw.purge.maxFilesPerSecond;
    if (resolved) nodes.push({ ...resolved, holds, alarms, limits: resolveLimits(raw.purge.limits, node.limits), ...(rate ? { maxFilesPerSecond: rate } : {}) });
  });
  const alarms = resolveAlarms(raw.alarms, alarmCtx);
  checkSharedDirectories(yaml, nodes, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    policiesDirectory,
    purge: { batchSize: raw.purge.batchSize, removeEmptyFolders: raw.purge.removeEmptyFolders, maxClockSkewMs: parseIsoDuration(raw.purge.maxClockSkew)!.as('milliseconds'),
      planMaxAgeMs: parseIsoDuration(raw.purge.planMaxAge)!.as('milliseconds'),
      planMaxAgeText: raw.purge.planMaxAge,
    },
    log: raw.log,
    daemon: resolveDaemon(raw.daemon, file, env),
    alarms,
    nodes,
  };
}

function resolveDaemon(d: RawConfig['daemon'], file: string, env: NodeJS.ProcessEnv): ResolvedDaemon {
  const listen = LISTEN_ADDRESS.exec(d.http.listen)!;
  return {
    schedule: d.schedule,
    timezone: d.timezone,
    jitterMs: Duration.fromISO(d.jitter).as('milliseconds'),
    drainTimeoutMs: parseIsoDuration(d.drainTimeout)!.as('milliseconds'),
    http: { host: listen[1] ?? listen[2]!, port: Number(listen[3]) },
    // systemd's StateDirectory= sets $STATE_DIRECTORY (colon-separated when there are several).
    stateDirectory: d.stateDirectory ? path.resolve(path.dirname(file), d.stateDirectory) : env.STATE_DIRECTORY?.split(':')[0] ?? '/var/lib/mft-retention',
    // Already validated by the schema.
    windows: (d.windows ?? []).map((w) => parseWindow(w) as PurgeWindow),
  };
}

function problem(yaml: YamlFile, p: Array<string | number>, value: unknown, expected: string, fix?: string): ConfigProblem {
  return { file: yaml.file, key: keyOf(p), line: yaml.lineOf(p), value: renderValue(value), expected, fix };
}

function keyOf(p: Array<string | number>): string {
  return p.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function secretSource(
  yaml: YamlFile,
  at: Array<string | number>,
  sources: { file?: string; env?: string; credential?: string },
  names: [string, string, string],
  problems: ConfigProblem[],
): SecretSource | undefined {
  const given = [
    sources.file !== undefined && ({ kind: 'file', path: path.resolve(path.dirname(yaml.file), sources.file) } as const),
    sources.env !== undefined && ({ kind: 'env', name: sources.env } as const),
    sources.credential !== undefined && ({ kind: 'credential', name: sources.credential } as const),
  ].filter((s): s is Exclude<typeof s, false> => Boolean(s));
  if (given.length > 1) {
    problems.push(problem(yaml, at, `${given.length} sources`, `at most one of ${names.join(', ')}`, 'keep only one place to read the secret from'));
  }
  return given[0];
}

function resolveNode(yaml: YamlFile, node: NodeConfig, i: number, shared: PolicySet, problems: ConfigProblem[]): Omit<ResolvedNode, 'holds' | 'alarms' | 'limits'> | undefined {
  const db = node.database;
  const password = secretSource(
    yaml,
    ['nodes', i, 'database'],
    { file: db.passwordFile, env: db.passwordEnv, credential: db.passwordCredential },
    ['passwordFile', 'passwordEnv', 'passwordCredential'],
    problems,
  );
  const timeouts = {
    connectTimeoutMs: parseIsoDuration(db.connectTimeout)!.as('milliseconds'),
    statementTimeoutMs: parseIsoDuration(db.statementTimeout)!.as('milliseconds'),
  };
  let database: ResolvedDatabase;
  if (db.type === 'oracle') {
    database = { ...resolveOracle(yaml, db, i, problems), password, ...timeouts };
  } else {
    database = { ...db, password, ...timeouts };
    if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(db.schema) || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(db.table)) {
      problems.push(problem(yaml, ['nodes', i, 'database', 'table'], `${db.schema}.${db.table}`, 'plain SQL identifiers for schema and table (letters, digits, _)'));
    }
  }
  const fs = node.fileServer;
  const directory = normaliseNodeDirectory(fs.directory);
  if (!directory) {
    problems.push(
      problem(yaml, ['nodes', i, 'fileServer', 'directory'], fs.directory, 'an absolute directory other than "/", without "." or ".." segments', 'give the node\'s "External File Server Directory", e.g. /opt/mftFileStore/node_1'),
    );
  }
  let fileServer: ResolvedFileServer | undefined;
  if (fs.type === 'sftp') {
    const privateKey = secretSource(yaml, ['nodes', i, 'fileServer'], { file: fs.privateKeyFile, credential: fs.privateKeyCredential }, ['privateKeyFile', 'privateKeyCredential', ''], problems);
    const pinnedHostKey = parsePinnedHostKey(fs.hostKey);
    if (!privateKey) {
      problems.push(problem(yaml, ['nodes', i, 'fileServer', 'privateKeyFile'], undefined, 'privateKeyFile or privateKeyCredential', 'point it at the private key whose public half is in ~mftuser/.ssh/authorized_keys'));
    }
    if (!pinnedHostKey) {
      problems.push(
        problem(yaml, ['nodes', i, 'fileServer', 'hostKey'], fs.hostKey, 'the file server\'s host key: "SHA256:..." as ssh-keygen -lf prints it, or a line as ssh-keyscan prints it', 'run: ssh-keyscan -t ed25519 <host>, verify it on the server, and paste the line'),
      );
    }
    const passphrase = fs.passphraseFile ? ({ kind: 'file', path: path.resolve(path.dirname(yaml.file), fs.passphraseFile) } as const) : undefined;
    if (privateKey && pinnedHostKey && directory) {
      fileServer = { ...fs, directory, privateKey, passphrase, pinnedHostKey, connectTimeoutMs: parseIsoDuration(fs.connectTimeout)!.as('milliseconds') };
    }
  } else if (directory) {
    fileServer = { ...fs, directory };
  }
  const policies: PolicySet = { ...shared };
  for (const [chatType, override] of Object.entries(node.policies ?? {})) {
    if (!override) continue;
    const { retention, ...options } = override;
    policies[chatType as ChatType] = makePolicy(chatType as ChatType, retention, `${yaml.file} (nodes[${i}].policies.${chatType})`, options);
  }
  if (!fileServer) return undefined;
  const auditExport = node.auditExport ? { directory: path.resolve(path.dirname(yaml.file), node.auditExport.directory) } : undefined;
  return { name: node.name, database, fileServer, policies, ...(auditExport ? { auditExport } : {}) };
}

/**
 * Where an Oracle database is: a whole connectString, or host and serviceName (port 1521, or
 * 2484 with TLS) built into Easy Connect. A mix of both is an error, not a silent choice.
 */
function resolveOracle(
  yaml: YamlFile,
  db: OracleDatabaseConfig,
  i: number,
  problems: ConfigProblem[],
): Pick<ResolvedOracleDatabase, 'connectString' | 'tls'> & Omit<OracleDatabaseConfig, 'tls' | 'connectString'> {
  const at = ['nodes', i, 'database'];
  const tlsAt = [...at, 'tls'];
  let connectString = db.connectString ?? '';
  if (db.connectString !== undefined) {
    for (const key of ['host', 'port', 'serviceName'] as const) {
      if (db[key] !== undefined) {
        problems.push(problem(yaml, [...at, key], db[key], 'either connectString or host/port/serviceName, not both', `remove ${key}, or remove connectString and give host and serviceName`));
      }
    }
  } else if (db.host === undefined || db.serviceName === undefined) {
    const missing = db.host === undefined ? 'host' : 'serviceName';
    problems.push(problem(yaml, [...at, missing], undefined, 'connectString, or host and serviceName', 'give the database service name as in the listener (lsnrctl status), e.g. serviceName: MFTDB, or a whole connectString'));
  } else {
    const host = db.host.includes(':') ? `[${db.host}]` : db.host;
    connectString = `${db.tls ? 'tcps://' : ''}${host}:${db.port ?? (db.tls ? 2484 : 1521)}/${db.serviceName}`;
  }
  let tls: ResolvedOracleDatabase['tls'];
  if (db.tls) {
    const t = db.tls;
    const walletPassword = secretSource(
      yaml,
      tlsAt,
      { file: t.walletPasswordFile, env: t.walletPasswordEnv, credential: t.walletPasswordCredential },
      ['walletPasswordFile', 'walletPasswordEnv', 'walletPasswordCredential'],
      problems,
    );
    if (t.caFile !== undefined && t.walletLocation !== undefined) {
      problems.push(problem(yaml, [...tlsAt, 'caFile'], t.caFile, 'either tls.walletLocation or tls.caFile, not both', 'put the CA certificate in the wallet (ewallet.pem), or drop walletLocation'));
    }
    if (walletPassword && t.walletLocation === undefined) {
      problems.push(problem(yaml, [...tlsAt, 'walletLocation'], undefined, 'tls.walletLocation when a wallet password is given', 'give the directory holding ewallet.pem'));
    }
    const resolve = (f: string | undefined) => (f === undefined ? undefined : path.resolve(path.dirname(yaml.file), f));
    tls = { walletLocation: resolve(t.walletLocation), walletPassword, caFile: resolve(t.caFile) };
  }
  const { tls: _tls, connectString: _cs, ...rest } = db;
  return { ...rest, connectString, tls };
}

/** Two nodes sharing (or nesting) a directory would purge each other's files. */
function checkSharedDirectories(yaml: YamlFile, nodes: ResolvedNode[], problems: ConfigProblem[]): void {
  for (let a = 0; a < nodes.length; a++) {
    for (let b = a + 1; b < nodes.length; b++) {
      const [da, db] = [nodes[a]!.fileServer, nodes[b]!.fileServer];
      const sameServer = da.type === db.type && (da.type === 'local' || (db.type === 'sftp' && da.host === db.host && da.port === db.port));
      const nested = da.directory === db.directory || da.directory.startsWith(`${db.directory}/`) || db.directory.startsWith(`${da.directory}/`);
      if (sameServer && nested) {
        problems.push(problem(yaml, ['nodes', b, 'fileServer', 'directory'], db.directory, `a directory not shared with node "${nodes[a]!.name}" (${da.directory})`, 'each IM&P node has its own External File Server Directory'));
      }
    }
  }
}
