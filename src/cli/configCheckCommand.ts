import { loadConfig, type ResolvedConfig } from '../config/loadConfig.js';
import { describeSecretSource } from '../config/secrets.js';
import type { ResolvedSink } from '../config/resolveAlarms.js';
import { redactUrl } from '../alarms/sinks/sink.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import type { Io } from './io.js';

/** The effective settings, with every secret replaced by where it is read from. */
export function effectiveSettings(config: ResolvedConfig): Record<string, unknown> {
  return {
    configFile: config.file,
    policiesDirectory: config.policiesDirectory,
    purge: config.purge,
    log: config.log,
    daemon: config.daemon,
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
        database: {
          type: n.database.type,
          host: n.database.host,
          port: n.database.port,
          database: n.database.database,
          user: n.database.user,
          password: n.database.password ? `(from ${describeSecretSource(n.database.password)})` : '(none)',
          table: `${n.database.schema}.${n.database.table}`,
          timestampZone: n.database.timestampZone,
          ssl: n.database.ssl?.mode ?? 'disable',
        },
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

export async function configCheckCommand(configFile: string, json: boolean, io: Io): Promise<ExitCode> {
  const config = await loadConfig(configFile);
  const settings = effectiveSettings(config);
  io.out(json ? JSON.stringify(settings, null, 2) : `Configuration OK: ${config.file}\n\n${JSON.stringify(settings, null, 2)}`);
  return EXIT.ok;
}
