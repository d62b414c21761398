// The configuration as the rest of the program uses it: every duration in milliseconds, every
// size in bytes, every path absolute, every secret located (never read here). The schema
// produces it; loadConfig adds what lives in other files (policies, holds).
import type { Hold } from '../core/holds.js';
import type { PinnedHostKey } from '../core/hostKey.js';
import type { ResolvedLimits } from '../core/limits.js';
import type { PurgeWindow } from '../core/purgeWindows.js';
import type { PolicySet } from './policies.js';
import type { NodeAlarmThresholds, ResolvedAlarms } from './resolveAlarms.js';
import type { LogLevel } from './logLevels.js';
import type { SecretSource } from './secrets.js';

interface DatabaseCommon {
  user: string;
  password?: SecretSource;
  timestampZone: string;
  /** As written (`PT15S`), for messages. */
  connectTimeout: string;
  connectTimeoutMs: number;
  statementTimeout: string;
  statementTimeoutMs: number;
}

export interface ResolvedPostgresDatabase extends DatabaseCommon {
  type: 'postgres';
  host: string;
  port: number;
  database: string;
  schema: string;
  table: string;
  ssl?: { mode: 'disable' | 'require' | 'verify-ca' | 'verify-full'; caFile?: string };
}

export interface ResolvedOracleDatabase extends DatabaseCommon {
  type: 'oracle';
  /** As configured, or built from host, port and serviceName (Easy Connect). */
  connectString: string;
  host?: string;
  port?: number;
  serviceName?: string;
  /** The schema that owns AFT_LOG when it is not the login user's own. */
  owner?: string;
  table: string;
  tls?: { walletLocation?: string; walletPassword?: SecretSource; caFile?: string };
}

export type ResolvedDatabase = ResolvedPostgresDatabase | ResolvedOracleDatabase;

export interface ResolvedSftpFileServer {
  type: 'sftp';
  host: string;
  port: number;
  username: string;
  privateKey: SecretSource;
  passphrase?: SecretSource;
  pinnedHostKey: PinnedHostKey;
  /** The node's directory, normalised (absolute, no trailing "/"). */
  directory: string;
  /** SFTP requests in flight on the session while removing files. */
  concurrency: number;
  connectTimeoutMs: number;
}

export interface ResolvedLocalFileServer {
  type: 'local';
  directory: string;
  concurrency: number;
}

export type ResolvedFileServer = ResolvedSftpFileServer | ResolvedLocalFileServer;

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

export interface ResolvedPurgeSettings {
  batchSize: number;
  maxClockSkewMs: number;
  removeEmptyFolders: boolean;
  planMaxAgeMs: number;
  planMaxAgeText: string;
}

export interface ResolvedConfig {
  file: string;
  policiesDirectory: string;
  purge: ResolvedPurgeSettings;
  log: { level: LogLevel };
  daemon: ResolvedDaemon;
  alarms: ResolvedAlarms;
  nodes: ResolvedNode[];
}
