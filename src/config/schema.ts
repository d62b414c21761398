// config.yaml: what each key accepts (configSchema), and what it resolves to (configFileSchema:
// durations in ms, sizes in bytes, paths absolute, rules across keys checked). Only what lives
// in other files (policies, holds) is added by loadConfig.
import path from 'node:path';
import { validate as isCronExpression } from 'node-cron';
import { z } from 'zod';
import { CHAT_TYPES, type ChatType } from '../core/chatType.js';
import { parseWindow, type PurgeWindow } from '../core/purgeWindows.js';
import { alarmsSchema, nodeAlarmsSchema, resolveAlarmDelivery } from './alarmSchema.js';
import { databaseSchema, ianaZone, nonEmpty, resolveDatabase } from './databaseSchema.js';
import { isoDuration, isoDurationOrZero } from './duration.js';
import { fileServerSchema, resolveFileServer } from './fileServerSchema.js';
import { limitsSchema, resolveLimits } from './limits.js';
import { LOG_LEVELS } from './logLevels.js';
import { policyOverrideSchema, type PolicyRule } from './policySchema.js';
import { mergeThresholds } from './resolveAlarms.js';
import type { ResolvedConfig, ResolvedDaemon, ResolvedFileServer, ResolvedNode } from './resolvedConfig.js';
import { reporter, type Report } from './schemaIssues.js';

const WINDOW_FORM = 'a window such as "01:00-05:00" or "Sat,Sun 00:00-24:00" (24-hour local times, optional days Mon..Sun)';

/** Files removed a second, per node; 0 or absent: as fast as it goes. */
const filesPerSecond = z.number().min(0).max(1_000_000);

/** `host:port` or `[ipv6]:port`; port 0 picks a free port (tests). */
const LISTEN_ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

const nodeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-" (at most 63)'),
  database: databaseSchema,
  fileServer: fileServerSchema,
  policies: z.partialRecord(z.enum(CHAT_TYPES), policyOverrideSchema).optional(),
  alarms: nodeAlarmsSchema.optional(),
  limits: limitsSchema.optional(),
  /** A node's own values of the `purge:` settings that may differ per node. */
  purge: z.strictObject({ maxFilesPerSecond: filesPerSecond.optional() }).optional(),
  /** Before rows are deleted, they are appended to a daily gzip JSON Lines file here. */
  auditExport: z.strictObject({ directory: nonEmpty }).optional(),
});

/** Two nodes sharing (or nesting) a directory would purge each other's files. */
function checkSharedDirectories(nodes: Array<{ index: number; name: string; fileServer: ResolvedFileServer }>, report: Report): void {
  for (let a = 0; a < nodes.length; a++) {
    for (let b = a + 1; b < nodes.length; b++) {
      const [da, db] = [nodes[a]!.fileServer, nodes[b]!.fileServer];
      const sameServer = da.type === db.type && (da.type === 'local' || (db.type === 'sftp' && da.host === db.host && da.port === db.port));
      const nested = da.directory === db.directory || da.directory.startsWith(`${db.directory}/`) || db.directory.startsWith(`${da.directory}/`);
      if (sameServer && nested) {
        report(['nodes', nodes[b]!.index, 'fileServer', 'directory'], `a directory not shared with node "${nodes[a]!.name}" (${da.directory})`, {
          value: JSON.stringify(db.directory),
          fix: 'each IM&P node has its own External File Server Directory',
        });
      }
    }
  }
}

const daemonSchema = z
  .strictObject({
    /** node-cron expression (5 fields, or 6 with seconds) of the purge runs. */
    schedule: z
      .string()
      .refine((s) => isCronExpression(s), 'a cron expression such as "5 * * * *" (minute 5 of every hour) or "*/30 * * * * *" (with seconds)')
      .default('5 * * * *'),
    /** Time zone in which `schedule` is read. */
    timezone: ianaZone.default('UTC'),
    /** Random delay added to each scheduled run, so that several hosts do not start at once. */
    jitter: isoDurationOrZero('jitter').prefault('PT0S'),
    /** On SIGTERM, how long the batch in flight may take before the daemon gives up (exit 1). */
    drainTimeout: isoDuration('drainTimeout').prefault('PT60S'),
    http: z
      .strictObject({
        /** Where /healthz and /metrics are served: keep it on loopback. */
        listen: z
          .string()
          .regex(LISTEN_ADDRESS, 'host:port such as 127.0.0.1:9464 or [::1]:9464')
          .refine((s) => Number(LISTEN_ADDRESS.exec(s)?.[3] ?? 0) <= 65535, 'a port from 0 to 65535')
          .default('127.0.0.1:9464')
          .transform((s) => {
            const [, ipv6, host, port] = LISTEN_ADDRESS.exec(s)!;
            return { host: ipv6 ?? host!, port: Number(port) };
          }),
      })
      .prefault({}),
    /**
     * Purge windows in `timezone`, such as "01:00-05:00" or "Sat,Sun 00:00-24:00": the daemon
     * starts purges only inside one, and a run still going at a window's end stops between batches.
     */
    windows: z
      .array(
        z
          .string()
          .refine((s) => typeof parseWindow(s) !== 'string', {
            // What is wrong with this window; the general form for the key reference.
            error: (issue) => (typeof issue.input === 'string' ? (parseWindow(issue.input) as string) : WINDOW_FORM),
          })
          // Checked just above.
          .transform((s) => parseWindow(s) as PurgeWindow),
      )
      .optional(),
    /** Where the daemon keeps its state (time of the last purge per node). Default: $STATE_DIRECTORY, else /var/lib/mft-retention. */
    stateDirectory: nonEmpty.optional(),
  });

/** The daemon's settings; the state directory, when not given, is the environment's (loadConfig). */
function resolveDaemon(d: z.infer<typeof daemonSchema>, configDirectory: string): ParsedConfig['daemon'] {
  return {
    schedule: d.schedule,
    timezone: d.timezone,
    jitterMs: d.jitter.ms,
    drainTimeoutMs: d.drainTimeout.ms,
    http: d.http.listen,
    ...(d.stateDirectory ? { stateDirectory: path.resolve(configDirectory, d.stateDirectory) } : {}),
    windows: d.windows ?? [],
  };
}

/** A node as config.yaml gives it: the shared policies (from files) are not yet under its own. */
export interface ParsedNode extends Omit<ResolvedNode, 'policies' | 'holds'> {
  policyOverrides: Partial<Record<ChatType, PolicyRule>>;
}

/** config.yaml resolved; loadConfig adds the policies, the holds and the default state directory. */
export interface ParsedConfig extends Omit<ResolvedConfig, 'file' | 'nodes' | 'daemon'> {
  daemon: Omit<ResolvedDaemon, 'stateDirectory'> & { stateDirectory?: string };
  nodes: ParsedNode[];
}

/** config.yaml as written: the keys and what each accepts (the key reference and man pages describe this). */
export const configSchema = z.strictObject({
  policiesDirectory: nonEmpty.optional(),
  purge: z
    .strictObject({
      /** AFT_LOG rows read per keyset batch. */
      batchSize: z.number().int().min(1).max(50_000).default(1000),
      /** Clock skew between this host and a database above which a warning is logged. */
      maxClockSkew: isoDuration('maxClockSkew').prefault('PT2M'),
      /** After a purge, remove hour and date folders it left empty (never the current hour's or today's). */
      removeEmptyFolders: z.boolean().default(true),
      /** At most this many files removed a second per node (and their rows); 0 or absent: no limit. */
      maxFilesPerSecond: filesPerSecond.optional(),
      limits: limitsSchema.optional(),
      /** A plan (purge --dry-run --save-plan) older than this is refused by purge --plan. */
      planMaxAge: isoDuration('planMaxAge').prefault('PT24H'),
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

/**
 * The rules across keys, applied once every key is valid on its own: names used once, one
 * source per secret, a node's thresholds with the shared ones, directories not shared. Every
 * problem is reported at the key the admin wrote.
 */
function resolveConfig(c: z.infer<typeof configSchema>, configDirectory: string, report: Report): ParsedConfig {
  const { freeSpace, database, stalled } = c.alarms;
  const shared = { freeSpace, database, stalled };
  const firstNamed = new Map<string, number>();
  const valid: Array<{ index: number; name: string; fileServer: ResolvedFileServer }> = [];
  const nodes = c.nodes.map((n, i): ParsedNode => {
    const at = (p: ReadonlyArray<string | number>) => ['nodes', i, ...p];
    const before = firstNamed.get(n.name);
    if (before === undefined) firstNamed.set(n.name, i);
    else report(at(['name']), 'a node name used once', { fix: `nodes[${before}] has the same name` });
    let problems = 0;
    const nodeReport = (section: string): Report => (p, expected, detail) => {
      problems++;
      report(at([section, ...p]), expected, detail);
    };
    const db = resolveDatabase(n.database, configDirectory, nodeReport('database'));
    const fileServer = resolveFileServer(n.fileServer, configDirectory, nodeReport('fileServer'));
    if (problems === 0) valid.push({ index: i, name: n.name, fileServer });
    // The node's own rate over the shared one; 0 is "no limit" in both places.
    const rate = n.purge?.maxFilesPerSecond ?? c.purge.maxFilesPerSecond;
    return {
      name: n.name,
      database: db,
      fileServer,
      policyOverrides: n.policies ?? {},
      alarms: mergeThresholds(shared, n.alarms, ['nodes', i, 'alarms'], report),
      limits: resolveLimits(c.purge.limits, n.limits),
      ...(n.auditExport ? { auditExport: { directory: path.resolve(configDirectory, n.auditExport.directory) } } : {}),
      ...(rate ? { maxFilesPerSecond: rate } : {}),
    };
  });
  const alarms = { ...resolveAlarmDelivery(c.alarms, configDirectory, (p, expected, detail) => report(['alarms', ...p], expected, detail)), defaults: mergeThresholds(shared, undefined, ['alarms'], report) };
  checkSharedDirectories(valid, report);
  return {
    policiesDirectory: path.resolve(configDirectory, c.policiesDirectory ?? 'policies'),
    purge: {
      batchSize: c.purge.batchSize,
      maxClockSkewMs: c.purge.maxClockSkew.ms,
      removeEmptyFolders: c.purge.removeEmptyFolders,
      planMaxAgeMs: c.purge.planMaxAge.ms,
      planMaxAgeText: c.purge.planMaxAge.text,
    },
    log: c.log,
    daemon: resolveDaemon(c.daemon, configDirectory),
    alarms,
    nodes,
  };
}

/** config.yaml parsed into the config in force; relative paths in it are read from `configDirectory` (the file's own). */
export const configFileSchema = (configDirectory: string) => configSchema.transform((c, ctx) => resolveConfig(c, configDirectory, reporter(ctx)));
