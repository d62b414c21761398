import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig, ResolvedDatabase } from '../config/resolvedConfig.js';
import { describeSecretSource } from '../config/secrets.js';
import { ConfigError } from '../config/configError.js';
import { describeExposure, exposureFix, findSecretExposures } from '../config/secretExposure.js';
import type { ResolvedSink } from '../config/resolveAlarms.js';
import { redactUrl } from '../alarms/sinks/sink.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import type { Io } from './io.js';

/** The effective settings, with every secret replaced by where it is read from. */
export function effectiveSettings(config: ResolvedConfig): Record<string, unknown> {
  return {
    configFile: config.file,
    policiesDirectory: config.policiesDirectory,
    purge: config.purge,
    log: config.log,
    daemon: { ...config.daemon, windows: config.daemon.windows.map((w) => w.text) },
    alarms: {
      checkIntervalMs: config.alarms.checkIntervalMs,
      delivery: config.alarms.delivery,
      thresholds: config.alarms.defaults,
      sinks: config.alarms.sinks.map(maskSink),
    },
    holds: (config.nodes[0]?.holds ?? []).map((h) => ({ ...h, expires: h.expires?.toISOString() ?? 'never' })),
    nodes: config.nodes.map((n) => {
      const fs = n.fileServer;
      return {
        name: n.name,
        database: databaseSettings(n.database),
        fileServer:
          fs.type === 'sftp'
            ? {
                type: 'sftp',
                host: fs.host,
                port: fs.port,
                username: fs.username,
                privateKey: `(from ${describeSecretSource(fs.privateKey)})`,
                hostKey: fs.pinnedHostKey.fingerprint + (fs.pinnedHostKey.keyType ? ` (${fs.pinnedHostKey.keyType})` : ''),
                directory: fs.directory,
                concurrency: fs.concurrency,
              }
            : { type: 'local', directory: fs.directory, concurrency: fs.concurrency },
        alarms: n.alarms,
        catchUp: {
          maxFilesPerSecond: n.maxFilesPerSecond ?? 'no limit',
          maxFilesPerRun: n.limits.maxFilesPerRun ?? 'no cap',
          maxBytesPerRun: n.limits.maxBytesPerRun ?? 'no cap',
        },
        policies: Object.fromEntries(
          (['im', 'groupchat', 'persistent'] as const).map((ct) => {
            const p = n.policies[ct];
            return [ct, p ? { retention: p.retentionText, source: p.source } : { retention: 'none (never purged)' }];
          }),
        ),
      };
    }),
  };
}

/** Header values (an Authorization token) and credentials in URLs are secrets too. */
function maskSink(s: ResolvedSink): Record<string, unknown> {
  if (s.type !== 'alertmanager' && s.type !== 'webhook') return { ...s };
  const masked: Record<string, unknown> = { ...s, url: redactUrl(s.url), headers: Object.fromEntries(Object.keys(s.headers).map((k) => [k, '(hidden)'])) };
  if (s.type === 'webhook') masked.hmac = s.hmac ? `(key from ${describeSecretSource(s.hmac)})` : '(none)';
  return masked;
}

function databaseSettings(db: ResolvedDatabase): Record<string, unknown> {
  const password = db.password ? `(from ${describeSecretSource(db.password)})` : '(none)';
  if (db.type === 'oracle') {
    return {
      type: db.type,
      connectString: db.connectString,
      user: db.user,
      password,
      table: db.owner ? `${db.owner}.${db.table}` : `${db.table} (in ${db.user}'s schema)`,
      timestampZone: db.timestampZone,
      tls: db.tls
        ? {
            ...(db.tls.walletLocation ? { walletLocation: db.tls.walletLocation } : {}),
            ...(db.tls.walletPassword ? { walletPassword: `(from ${describeSecretSource(db.tls.walletPassword)})` } : {}),
            ...(db.tls.caFile ? { caFile: db.tls.caFile } : {}),
          }
        : 'as the connectString says',
    };
  }
  return {
    type: db.type,
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password,
    table: `${db.schema}.${db.table}`,
    timestampZone: db.timestampZone,
    ssl: db.ssl?.mode ?? 'disable',
  };
}

export async function configCheckCommand(configFile: string, json: boolean, io: Io): Promise<ExitCode> {
  let config: ResolvedConfig;
  try {
    config = await loadConfig(configFile);
  } catch (err) {
    if (!json || !(err instanceof ConfigError)) throw err;
    // --json always answers in JSON: a script reading stdout gets the problems, not silence.
    io.out(JSON.stringify({ ok: false, configFile, problems: err.problems }, null, 2));
    return EXIT.config;
  }
  const settings = effectiveSettings(config);
  const exposures = await findSecretExposures(config, io.env);
  if (json) {
    io.out(JSON.stringify({ ok: true, warnings: exposures.map((e) => ({ ...e, message: describeExposure(e), fix: exposureFix(e) })), ...settings }, null, 2));
    return EXIT.ok;
  }
  for (const e of exposures) io.err(`mft-retention: warning: ${describeExposure(e)}. Fix: ${exposureFix(e)}`);
  io.out(`Configuration OK: ${config.file}\n\n${JSON.stringify(settings, null, 2)}`);
  return EXIT.ok;
}
