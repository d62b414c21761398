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
  type PostgresDatabaseConfig,
  type RawConfig,
  type SftpFileServerConfig,
} from './schema.js';
import type { SecretSource } from './secrets.js';
import { readYamlFile, type YamlFile } from './yamlFile.js';
import { problemsFromZod } from './zodProblems.js';

export interface ResolvedDatabase extends PostgresDatabaseConfig {
  password?: SecretSource;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

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
  /** Blast-radius limits: `purge.limits` with the node's own `limits` on top. */
  limits: ResolvedLimits;
  /** Where rows are exported before they are deleted (absolute), when configured. */
  auditExport?: { directory: string };
}

/** The `daemon:` section with durations in milliseconds and the listen address split. */
export interface ResolvedDaemon {
  schedule: string;
  timezone: string;
  jitterMs: number;
  drainTimeoutMs: number;
  http: { host: string; port: number };
  stateDirectory: string;
}

export interface ResolvedConfig {
  file: string;
  policiesDirectory: string;
  purge: { batchSize: number; maxClockSkewMs: number; removeEmptyFolders: boolean };
  log: RawConfig['log'];
  daemon: ResolvedDaemon;
  nodes: ResolvedNode[];
}

const TOP_KEYS = ['policiesDirectory', 'purge', 'log', 'daemon', 'nodes'];

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
    throw new ConfigError([...problemsFromZod(yaml, parsed.error, (p) => (p.length === 0 ? TOP_KEYS : [])), ...policyProblems]);
  }
  const raw = parsed.data;
  const problems: ConfigProblem[] = [];
  const policiesDirectory = path.resolve(path.dirname(file), raw.policiesDirectory ?? 'policies');
  const loaded = await loadPolicies(policiesDirectory);
  problems.push(...loaded.problems);
  const { holds, problems: holdProblems } = await loadHolds(policiesDirectory);
  problems.push(...holdProblems);

  const seen = new Map<string, number>();
  const nodes: ResolvedNode[] = [];
  raw.nodes.forEach((node, i) => {
    const before = seen.get(node.name);
    if (before !== undefined) {
      problems.push(problem(yaml, ['nodes', i, 'name'], node.name, 'a node name used once', `nodes[${before}] has the same name`));
    }
    seen.set(node.name, i);
    const resolved = resolveNode(yaml, node, i, loaded.policies, problems);
    if (resolved) nodes.push({ ...resolved, holds, limits: resolveLimits(raw.purge.limits, node.limits) });
  });
  checkSharedDirectories(yaml, nodes, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    file,
    policiesDirectory,
    purge: { batchSize: raw.purge.batchSize, removeEmptyFolders: raw.purge.removeEmptyFolders, maxClockSkewMs: parseIsoDuration(raw.purge.maxClockSkew)!.as('milliseconds') },
    log: raw.log,
    daemon: resolveDaemon(raw.daemon, file, env),
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

function resolveNode(yaml: YamlFile, node: NodeConfig, i: number, shared: PolicySet, problems: ConfigProblem[]): ResolvedNode | undefined {
  const db = node.database;
  const password = secretSource(
    yaml,
    ['nodes', i, 'database'],
    { file: db.passwordFile, env: db.passwordEnv, credential: db.passwordCredential },
    ['passwordFile', 'passwordEnv', 'passwordCredential'],
    problems,
  );
  const database: ResolvedDatabase = {
    ...db,
    password,
    connectTimeoutMs: parseIsoDuration(db.connectTimeout)!.as('milliseconds'),
    statementTimeoutMs: parseIsoDuration(db.statementTimeout)!.as('milliseconds'),
  };
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(db.schema) || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(db.table)) {
    problems.push(problem(yaml, ['nodes', i, 'database', 'table'], `${db.schema}.${db.table}`, 'plain SQL identifiers for schema and table (letters, digits, _)'));
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
  return { name: node.name, database, fileServer, policies, holds: [], limits: resolveLimits(undefined, undefined), ...(auditExport ? { auditExport } : {}) };
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
