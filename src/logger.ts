import { createRequire } from 'node:module';
import pino, { type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

// Loaded only for a terminal: a service or a timer run writes JSON and need not pay its start-up.
const requireCjs = createRequire(import.meta.url);

/** Keys whose values must never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'password',
  'passphrase',
  'privateKey',
  '*.password',
  '*.passphrase',
  '*.privateKey',
  '*.*.password',
  '*.*.privateKey',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** 1 = stdout (the daemon, for journald), 2 = stderr (CLI commands whose stdout is a report). */
  fd: 1 | 2;
  /** Human-readable lines; default: when the destination is a terminal. */
  pretty?: boolean;
}

/** The JSON destinations makeLogger made: writing whole lines to them is the same as logging them. */
const jsonDestinations = new WeakSet<object>();

export function makeLogger(opts: LoggerOptions): Logger {
  let logger: Logger | undefined;
  // An error's stack helps a developer, not the admin reading the journal: only at debug and trace.
  const err = (e: Error): Record<string, unknown> => {
    const out = pino.stdSerializers.err(e) as unknown as Record<string, unknown>;
    if (!logger?.isLevelEnabled('debug')) delete out.stack;
    return out;
  };
  const base = { level: opts.level, base: { service: 'mft-retention' }, redact: { paths: REDACT_PATHS, censor: '[secret]' }, serializers: { err } };
  const isTty = opts.fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (opts.pretty ?? isTty) {
    const pretty = requireCjs('pino-pretty') as typeof PinoPretty;
    logger = pino(base, pretty({ destination: opts.fd, sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:standard' }));
    return logger;
  }
  const destination = pino.destination({ fd: opts.fd, sync: true });
  jsonDestinations.add(destination);
  logger = pino(base, destination);
  return logger;
}

/**
 * Logs one info record per element, as `log.info(record, msg)` would, in one write when the
 * destination is a JSON one from makeLogger: a purge logs a line per file, and a write and a
 * redaction pass per line cost more than removing the file. The records bypass redaction, so
 * they must never hold configuration or credentials: only values like paths and counts.
 */
export function infoMany(log: Logger, msg: string, records: ReadonlyArray<Record<string, unknown>>): void {
  if (records.length === 0 || !log.isLevelEnabled('info')) return;
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { write(s: string): void } | undefined;
  if (!stream || !jsonDestinations.has(stream)) {
    for (const r of records) log.info(r, msg);
    return;
  }
  const bindings = JSON.stringify(log.bindings()).slice(1, -1);
  const head = `{"level":30,"time":${Date.now()}${bindings ? `,${bindings}` : ''},`;
  const tail = `,"msg":${JSON.stringify(msg)}}\n`;
  let out = '';
  for (const r of records) out += head + JSON.stringify(r).slice(1, -1) + tail;
  stream.write(out);
}
