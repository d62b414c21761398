import pino, { type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

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

export function makeLogger(opts: LoggerOptions): Logger {
  const base = { level: opts.level, base: { service: 'mft-retention' }, redact: { paths: REDACT_PATHS, censor: '[secret]' } };
  const isTty = opts.fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (opts.pretty ?? isTty) {
    return pino(base, pretty({ destination: opts.fd, sync: true, ignore: 'pid,hostname,service', translateTime: 'SYS:standard' }));
  }
  return pino(base, pino.destination({ fd: opts.fd, sync: true }));
}
