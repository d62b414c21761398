import { createRequire } from 'node:module';
import pino, { type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';
import { isJournalStream, makeLogStream } from './logStream.js';

export { droppedLogLines, LOG_BUFFER_CHARS } from './logStream.js';

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
  /** Environment to read JOURNAL_STREAM from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * JSON lines, written asynchronously through a bounded buffer (logStream.ts): a slow or stopped
 * reader of the pipe never stalls the purge, the database or /healthz. Under journald each line
 * carries its priority, so `journalctl -p warning` shows warnings and errors only.
 */
export function makeLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: { service: 'mft-retention' }, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  const isTty = opts.fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (opts.pretty ?? isTty) {
    const pretty = requireCjs('pino-pretty') as typeof PinoPretty;
    return pino(base, pretty({ destination: opts.fd, sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:standard' }));
  }
  const stream = makeLogStream({ fd: opts.fd, journald: isJournalStream(opts.fd, opts.env) });
  const log = pino(base, stream);
  stream.attach((obj, msg) => log.warn(obj, msg));
  return log;
}

/** Per logger, a child without the redaction pass, for infoMany's records. */
const unredacted = new WeakMap<Logger, Logger>();

/**
 * Logs one info record per element, as `log.info(record, msg)` would. A purge logs a line per
 * file, and the redaction pass would cost more than removing the file: the records skip it, so
 * they must never hold configuration or credentials, only values like paths and counts.
 */
export function infoMany(log: Logger, msg: string, records: ReadonlyArray<Record<string, unknown>>): void {
  if (records.length === 0 || !log.isLevelEnabled('info')) return;
  let plain = unredacted.get(log);
  if (!plain) {
    plain = log.child({}, { redact: [] });
    unredacted.set(log, plain);
  }
  for (const r of records) plain.info(r, msg);
}
