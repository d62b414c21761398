import { z } from 'zod';
import { byteSize } from './byteSize.js';
import { isoDuration as duration } from './duration.js';
import type { ResolvedAlarms, ResolvedSink } from './resolveAlarms.js';
import type { Report } from './schemaIssues.js';
import { locateSecret } from './secrets.js';

const isoDuration = (what: string) => duration(what, 'PT30S, PT5M or PT6H');

const percent = z.number().min(0).max(100);
const nonEmpty = z.string().min(1);
const sinkName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." or "-" (at most 63)');
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });
const headerMap = z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name'), z.string()).optional();

/** XcpMFTExtFsFreeSpaceWarn: Cisco's service parameters, plus an optional absolute floor. */
export const freeSpaceAlarmSchema = z.strictObject({
  /** Raised at or below this percentage of free space (Cisco's "Lower Threshold"). */
  lowerPercent: percent.optional(),
  /** Cleared at or above this percentage (Cisco's "Upper Threshold"). */
  upperPercent: percent.optional(),
  /** Also raised at or below this many free bytes. */
  lowerFreeBytes: byteSize().optional(),
  /** With lowerFreeBytes: cleared only at or above this many free bytes (default: 1.5 x lowerFreeBytes). */
  upperFreeBytes: byteSize().optional(),
  /** Start a purge of the node at once when the alarm is raised (retentions are never shortened). */
  purgeWhenRaised: z.boolean().optional(),
});

/** XcpMFTDBFullError. */
export const databaseAlarmSchema = z.strictObject({
  /** PostgreSQL: the size the database may reach (its disk or quota); without it only SQLSTATE 53100 raises the alarm. */
  capacity: byteSize().optional(),
  raisePercent: percent.optional(),
  clearPercent: percent.optional(),
});

/** XcpMFTPurgeStalledWarn. */
export const stalledAlarmSchema = z.strictObject({
  /** Raised when no purge of the node has succeeded for this long. */
  maxTimeWithoutSuccess: isoDuration('maxTimeWithoutSuccess').optional(),
  /** Raised when a file has been due for purging (past its retention) for this long. */
  maxBacklogAge: isoDuration('maxBacklogAge').optional(),
});

const secretRef = {
  secretFile: nonEmpty.optional(),
  secretEnv: nonEmpty.optional(),
  secretCredential: nonEmpty.optional(),
};

const alertmanagerSinkSchema = z.strictObject({
  type: z.literal('alertmanager'),
  name: sinkName.optional(),
  /** Base URL of Alertmanager, e.g. http://alertmanager.example.com:9093 (alerts go to /api/v2/alerts). */
  url: httpUrl,
  headers: headerMap,
  timeout: isoDuration('timeout').prefault('PT10S'),
});

const webhookSinkSchema = z.strictObject({
  type: z.literal('webhook'),
  name: sinkName.optional(),
  url: httpUrl,
  headers: headerMap,
  timeout: isoDuration('timeout').prefault('PT10S'),
  /** HMAC-SHA256 key for the X-MFT-Retention-Signature header: from a file, the environment or a systemd credential. */
  hmac: z.strictObject(secretRef).optional(),
  /** Also send a "purge finished" event, with the run's summary, after each purge of a node. */
  purgeFinished: z.boolean().default(false),
});

export const SYSLOG_FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'] as const;

const syslogSinkSchema = z.strictObject({
  type: z.literal('syslog'),
  name: sinkName.optional(),
  host: nonEmpty.default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(514),
  protocol: z.enum(['udp', 'tcp']).default('udp'),
  facility: z.enum(SYSLOG_FACILITIES).default('daemon'),
  appName: z.string().regex(/^[!-~]{1,48}$/, 'printable ASCII without spaces, at most 48 characters').default('mft-retention'),
  timeout: isoDuration('timeout').prefault('PT10S'),
  /** Also send a "purge finished" event, with the run's summary, after each purge of a node. */
  purgeFinished: z.boolean().default(false),
});

const logSinkSchema = z.strictObject({
  type: z.literal('log'),
  name: sinkName.optional(),
  /** Also send a "purge finished" event, with the run's summary, after each purge of a node. */
  purgeFinished: z.boolean().default(false),
});

const anySink = z.discriminatedUnion('type', [alertmanagerSinkSchema, webhookSinkSchema, syslogSinkSchema, logSinkSchema], {
  error: 'a sink with type "alertmanager", "webhook", "syslog" or "log"',
});

/** The `alarms:` section as written. */
export const alarmsSchema = z
  .strictObject({
    /** How often the alarm checks run (also right after each purge). */
    checkInterval: isoDuration('checkInterval').prefault('PT5M'),
    freeSpace: freeSpaceAlarmSchema.prefault({}),
    database: databaseAlarmSchema.prefault({}),
    stalled: stalledAlarmSchema.prefault({}),
    sinks: z.array(anySink).default([]),
    delivery: z
      .strictObject({
        /** Deliveries kept on disk per sink while it is down; beyond this the oldest are dropped (and logged). */
        maxQueued: z.number().int().min(1).max(1_000_000).default(10_000),
        /** First retry delay after a failed delivery; doubled on each failure up to retryMax. */
        retryInitial: isoDuration('retryInitial').prefault('PT5S'),
        retryMax: isoDuration('retryMax').prefault('PT5M'),
      })
      .prefault({}),
  })
  .prefault({});

type ParsedAlarms = z.infer<typeof alarmsSchema>;

/**
 * The alarm settings as the alarm service uses them, without the thresholds (merged per node
 * with the node's own: mergeThresholds). Problems are reported at `alarms.`.
 */
export function resolveAlarmDelivery(a: ParsedAlarms, configDirectory: string, report: Report): Omit<ResolvedAlarms, 'defaults'> {
  const first = new Map<string, number>();
  const sinks = a.sinks.map((s, i) => {
    const sink = resolveSink(s, configDirectory, (p, expected, detail) => report(['sinks', i, ...p], expected, detail));
    const before = first.get(sink.name);
    if (before === undefined) first.set(sink.name, i);
    else report(['sinks', i, 'name'], 'a sink name used once', { fix: `alarms.sinks[${before}] has the same name; give each sink its own "name:" (its queue on disk is kept under that name)` });
    return sink;
  });
  const { retryInitial, retryMax } = a.delivery;
  if (retryMax.ms < retryInitial.ms) report(['delivery', 'retryMax'], `a duration at least alarms.delivery.retryInitial (${retryInitial.text})`);
  return { checkIntervalMs: a.checkInterval.ms, sinks, delivery: { maxQueued: a.delivery.maxQueued, retryInitialMs: retryInitial.ms, retryMaxMs: retryMax.ms } };
}

/** A sink as the program uses it: timeouts in milliseconds, the HMAC key located. */
function resolveSink(s: z.infer<typeof anySink>, configDirectory: string, report: Report): ResolvedSink {
  const name = s.name ?? s.type;
  switch (s.type) {
    case 'alertmanager':
      return { type: s.type, name, url: s.url.replace(/\/+$/, ''), headers: s.headers ?? {}, timeoutMs: s.timeout.ms };
    case 'webhook': {
      const found = s.hmac ? locateSecret(configDirectory, { file: s.hmac.secretFile, env: s.hmac.secretEnv, credential: s.hmac.secretCredential }) : [];
      if (s.hmac && found.length !== 1) {
        report(['hmac'], 'exactly one of secretFile, secretEnv, secretCredential', { value: `${found.length} sources`, fix: 'say where the HMAC key is read from (never write the key itself in the config)' });
      }
      return { type: s.type, name, url: s.url, headers: s.headers ?? {}, timeoutMs: s.timeout.ms, hmac: found[0], purgeFinished: s.purgeFinished };
    }
    case 'syslog':
      return { type: s.type, name, host: s.host, port: s.port, protocol: s.protocol, facility: s.facility, appName: s.appName, timeoutMs: s.timeout.ms, purgeFinished: s.purgeFinished };
    case 'log':
      return { type: s.type, name, purgeFinished: s.purgeFinished };
  }
}

/** Per node: thresholds that differ from the shared ones (typically the database capacity). */
export const nodeAlarmsSchema = z.strictObject({
  freeSpace: freeSpaceAlarmSchema.optional(),
  database: databaseAlarmSchema.optional(),
  stalled: stalledAlarmSchema.optional(),
});

