import { Duration } from 'luxon';
import { validate as isCronExpression } from 'node-cron';
import { z } from 'zod';
import { CHAT_TYPES } from '../core/chatType.js';
import { parseIsoDuration } from './duration.js';
import { alarmsSchema, nodeAlarmsSchema } from './alarmSchema.js';
import { parseWindow } from '../core/purgeWindows.js';

const WINDOW_FORM = 'a window such as "01:00-05:00" or "Sat,Sun 00:00-24:00" (24-hour local times, optional days Mon..Sun)';

const duration = (what: string) =>
  z.string().refine((s) => parseIsoDuration(s) !== undefined, {
    message: `${what}: an ISO-8601 duration greater than zero and at most 1000 years, such as PT36H, P7D, P30D or P1Y`,
  });

const retention = z.union([z.literal('forever'), duration('retention')], {
  error: 'an ISO-8601 duration greater than zero (PT36H, P7D, P1Y) or "forever"',
});

const port = z.number().int().min(1).max(65535);
const nonEmpty = z.string().min(1);
const ianaZone = z.string().refine((s) => {
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

export const postgresDatabaseSchema = z.strictObject({
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
  connectTimeout: duration('connectTimeout').default('PT15S'),
  statementTimeout: duration('statementTimeout').default('PT5M'),
});

/** An Oracle identifier as written unquoted (folded to upper case): the owner of AFT_LOG, its table. */
const oracleIdentifier = z.string().regex(/^[A-Za-z][A-Za-z0-9_$#]{0,127}$/, 'an unquoted Oracle identifier: a letter, then letters, digits, _, $ or # (at most 128)');

/**
 * An Oracle database, reached in thin mode (no Oracle Client to install). Either a whole
 * connectString, or host/port/serviceName; loadConfig rejects a mix of both.
 */
export const oracleDatabaseSchema = z.strictObject({
  type: z.literal('oracle'),
  /** Easy Connect (`db.example.com:1521/MFTDB`, `tcps://...`), a TNS descriptor, or a tnsnames alias. */
  connectString: nonEmpty.optional(),
  host: nonEmpty.optional(),
  /** Default 1521, or 2484 when `tls` is set (resolved in loadConfig). */
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
  connectTimeout: duration('connectTimeout').default('PT15S'),
  statementTimeout: duration('statementTimeout').default('PT5M'),
});

export const sftpFileServerSchema = z.strictObject({
  type: z.literal('sftp'),
  host: nonEmpty,
  port: port.default(22),
  username: nonEmpty,
  privateKeyFile: nonEmpty.optional(),
  privateKeyCredential: nonEmpty.optional(),
  passphraseFile: nonEmpty.optional(),
  hostKey: nonEmpty,
  directory: nonEmpty,
  /** SFTP requests in flight on the session while removing files. */
  concurrency: z.number().int().min(1).max(1024).default(256),
  connectTimeout: duration('connectTimeout').default('PT15S'),
});

export const localFileServerSchema = z.strictObject({
  type: z.literal('local'),
  directory: nonEmpty,
  concurrency: z.number().int().min(1).max(1024).default(32),
});

/** Bytes as a number, or with a unit: 500MB, 20GiB, 1.5TB. */
const byteSize = z.union([
  z.number().int().min(1),
  z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/, 'a size such as 500MB, 20GiB or 1TB, or a number of bytes'),
]);

/** Optional per-policy settings, in a policy file or a node's override. */
const policyOptions = {
  /** A retention below purge.limits.minRetention is refused unless this is true. */
  allowShortRetention: z.boolean().optional(),
  /** A run that would remove every file of the chat type is refused unless this is true. */
  allowPurgeAll: z.boolean().optional(),
  /** Keep a file until its last download (Get row) is also older than this. */
  keepAfterLastDownload: duration('keepAfterLastDownload').optional(),
};

export const policyOverrideSchema = z.strictObject({
  retention,
  ...policyOptions,
});

/**
 * Blast-radius limits: how much one run may remove from a node before it refuses and asks for
 * an approval. Without defaults here: a node's `limits` overrides the shared `purge.limits`
 * key by key, and defaults apply last (loadConfig).
 */
export const limitsSchema = z.strictObject({
  maxFiles: z.number().int().min(1).optional(),
  maxBytes: byteSize.optional(),
  maxTimesUsual: z.union([z.number().min(1), z.literal('off')]).optional(),
  usualRuns: z.number().int().min(3).max(1000).optional(),
  minFiles: z.number().int().min(0).optional(),
  maxPercentOfChatType: z.number().gt(0).max(100).optional(),
  minRetention: duration('minRetention').optional(),
  approvalValidity: duration('approvalValidity').optional(),
  /** Catch-up in steps: a run removes at most this many of the oldest expired files, then stops (not a refusal). */
  maxFilesPerRun: z.number().int().min(1).optional(),
  /** Likewise in bytes (file_size). */
  maxBytesPerRun: byteSize.optional(),
});

/** Files removed a second, per node; 0 or absent: as fast as it goes. */
const filesPerSecond = z.number().min(0).max(1_000_000);

/** A node's own values of the `purge:` settings that may differ per node. */
export const nodePurgeSchema = z.strictObject({
  maxFilesPerSecond: filesPerSecond.optional(),
});

/** Before rows are deleted, they are appended to a daily gzip JSON Lines file here. */
export const auditExportSchema = z.strictObject({
  directory: nonEmpty,
});

export const nodeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-" (at most 63)'),
  database: z.discriminatedUnion('type', [postgresDatabaseSchema, oracleDatabaseSchema], {
    error: 'database.type "postgres" or "oracle"',
  }),
  fileServer: z.discriminatedUnion('type', [sftpFileServerSchema, localFileServerSchema], {
    error: 'fileServer.type "sftp" or "local"',
  }),
  policies: z.partialRecord(z.enum(CHAT_TYPES), policyOverrideSchema).optional(),
  alarms: nodeAlarmsSchema.optional(),
  limits: limitsSchema.optional(),
  purge: nodePurgeSchema.optional(),
  auditExport: auditExportSchema.optional(),
});

/** A duration that may be zero (PT0S), e.g. the daemon's jitter. */
const durationOrZero = (what: string) =>
  z.string().refine((s) => /^P/.test(s) && Duration.fromISO(s).isValid && (Object.values(Duration.fromISO(s).toObject()) as number[]).every((v) => v >= 0), {
    message: `${what}: an ISO-8601 duration, zero or more, such as PT0S, PT2M or PT10M`,
  });

/** `host:port` or `[ipv6]:port`; port 0 picks a free port (tests). */
export const LISTEN_ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

export const daemonSchema = z.strictObject({
  /** node-cron expression (5 fields, or 6 with seconds) of the purge runs. */
  schedule: z
    .string()
    .refine((s) => isCronExpression(s), 'a cron expression such as "5 * * * *" (minute 5 of every hour) or "*/30 * * * * *" (with seconds)')
    .default('5 * * * *'),
  /** Time zone in which `schedule` is read. */
  timezone: ianaZone.default('UTC'),
  /** Random delay added to each scheduled run, so that several hosts do not start at once. */
  jitter: durationOrZero('jitter').default('PT0S'),
  /** On SIGTERM, how long the batch in flight may take before the daemon gives up (exit 1). */
  drainTimeout: duration('drainTimeout').default('PT60S'),
  http: z
    .strictObject({
      /** Where /healthz and /metrics are served: keep it on loopback. */
      listen: z
        .string()
        .regex(LISTEN_ADDRESS, 'host:port such as 127.0.0.1:9464 or [::1]:9464')
        .refine((s) => Number(LISTEN_ADDRESS.exec(s)?.[3] ?? 0) <= 65535, 'a port from 0 to 65535')
        .default('127.0.0.1:9464'),
    })
    .prefault({}),
  /**
   * Purge windows in `timezone`, such as "01:00-05:00" or "Sat,Sun 00:00-24:00": the daemon
   * starts purges only inside one, and a run still going at a window's end stops between batches.
   */
  windows: z
    .array(
      z.string().refine((s) => typeof parseWindow(s) !== 'string', {
        // What is wrong with this window; the general form for the key reference.
        error: (issue) => (typeof issue.input === 'string' ? (parseWindow(issue.input) as string) : WINDOW_FORM),
      }),
    )
    .optional(),
  /** Where the daemon keeps its state (time of the last purge per node). Default: $STATE_DIRECTORY, else /var/lib/mft-retention. */
  stateDirectory: nonEmpty.optional(),
});

/** The levels of `log.level` and of the CLI's --log-level, quietest first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const configSchema = z.strictObject({
  policiesDirectory: nonEmpty.optional(),
  purge: z
    .strictObject({
      /** AFT_LOG rows read per keyset batch. */
      batchSize: z.number().int().min(1).max(50_000).default(1000),
      /** Clock skew between this host and a database above which a warning is logged. */
      maxClockSkew: duration('maxClockSkew').default('PT2M'),
      /** After a purge, remove hour and date folders it left empty (never the current hour's or today's). */
      removeEmptyFolders: z.boolean().default(true),
      /** At most this many files removed a second per node (and their rows); 0 or absent: no limit. */
      maxFilesPerSecond: filesPerSecond.optional(),
      limits: limitsSchema.optional(),
      /** A plan (purge --dry-run --save-plan) older than this is refused by purge --plan. */
      planMaxAge: duration('planMaxAge').default('PT24H'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
    })
    .prefault({}),
  daemon: daemonSchema.prefault({}),
  alarms: alarmsSchema,
  nodes: z.array(nodeSchema).min(1, 'at least one node'),
});

const jidList = z.array(z.string().regex(/^[^\s@/]+@[^\s@/]+(\/.*)?$/, 'a JID such as alice@example.com')).optional();

export const holdSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'a hold name: letters, digits, "_", "." or "-"'),
  reason: z.string().optional(),
  expires: z.iso.date().or(z.iso.datetime({ offset: true })).optional(),
  jids: jidList,
  uploaders: jidList,
  recipients: jidList,
  paths: z.array(z.string().startsWith('/', 'an absolute path or path prefix ending in "/"')).optional(),
  aftIndexes: z.array(z.union([z.number().int(), z.string().regex(/^-?\d+$/)])).optional(),
});

export const holdsFileSchema = z.strictObject({
  holds: z.array(holdSchema),
});

export const policyFileSchema = z.strictObject({
  chatType: z.enum(CHAT_TYPES),
  retention,
  description: z.string().optional(),
  ...policyOptions,
});

export type RawConfig = z.infer<typeof configSchema>;
export type NodeConfig = z.infer<typeof nodeSchema>;
export type PostgresDatabaseConfig = z.infer<typeof postgresDatabaseSchema>;
export type OracleDatabaseConfig = z.infer<typeof oracleDatabaseSchema>;
export type SftpFileServerConfig = z.infer<typeof sftpFileServerSchema>;
export type LocalFileServerConfig = z.infer<typeof localFileServerSchema>;
export type PolicyFile = z.infer<typeof policyFileSchema>;
export type RawLimits = z.infer<typeof limitsSchema>;
export type PolicyOptions = Pick<PolicyFile, 'allowShortRetention' | 'allowPurgeAll' | 'keepAfterLastDownload'>;
