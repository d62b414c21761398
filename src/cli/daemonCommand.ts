import { loadConfig } from '../config/loadConfig.js';
import { Daemon } from '../daemon/daemon.js';
import { handleSignals, type SignalSource } from '../daemon/signals.js';
import { coerceError } from '../errors.js';
import { makeLogger } from '../logger.js';
import { exitAfterLogs } from '../logStream.js';
import { systemdNotifier } from '../daemon/sdNotify.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import type { Io } from './io.js';

export interface DaemonArgs {
  config: string;
}

/** The process edges the daemon touches, injectable for in-process tests. */
export interface DaemonProcess {
  signals: SignalSource;
  /** Ends the process at once: a forced stop, or a drain that left handles open. */
  exit(code: number): void;
}

// The log is written before the process goes: a forced exit would otherwise cut its last lines.
const realProcess: DaemonProcess = { signals: process, exit: (code) => exitAfterLogs(code) };

/**
 * `mft-retention daemon`: purges on the configured schedule until SIGTERM/SIGINT, reloads on
 * SIGHUP, serves /healthz and /metrics. Logs are JSON lines on stdout (for journald), pretty on
 * a terminal. Resolves with the exit code once stopped.
 */
export async function daemonCommand(args: DaemonArgs, io: Io, proc: DaemonProcess = realProcess): Promise<ExitCode> {
  // A bad config at start is a ConfigError: main() prints it and exits 2, as for the other commands.
  const config = await loadConfig(args.config, io.env);
  const log = makeLogger({ level: config.log.level, fd: 1 });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start(config, { log, env: io.env });
  } catch (err) {
    const error = coerceError(err);
    const listen = `${config.daemon.http.host}:${config.daemon.http.port}`;
    log.fatal({ err: error, listen }, `cannot start the daemon: ${error.message.replace('--config FILE', `--config ${args.config}`)}${(err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ` (is another instance listening on ${listen}? set daemon.http.listen)` : ''}`);
    return EXIT.config;
  }
  const notifier = systemdNotifier(io.env, log);
  notifier.ready(`serving ${daemon.url}`);
  const removeHandlers = handleSignals(proc.signals, {
    shutdown: (signal) => {
      notifier.stopping();
      void daemon.stop(signal);
    },
    ignored: (signal, graceLeftMs) => log.warn({ signal, graceLeftMs }, 'stop already in progress; send the signal again after the grace period to force the exit'),
    force: (signal) => {
      log.error({ signal }, 'second stop signal: forcing the exit without waiting for the purge in flight');
      proc.exit(EXIT.partial);
    },
    reload: () => void daemon.reload(),
  });
  // A long-running service must not die of one forgotten promise (a restart loop under
  // Restart=on-failure would purge without its state): log it loudly and carry on.
  const onRejection = (reason: unknown): void => log.error({ err: coerceError(reason) }, 'unexpected: an unhandled promise rejection; the daemon carries on (please report this with the log)');
  process.on('unhandledRejection', onRejection);
  const code = await daemon.stopped;
  process.off('unhandledRejection', onRejection);
  removeHandlers();
  // Everything is closed; if some handle still keeps the event loop alive (a purge cut off by
  // the drain timeout), do not hang: exit after a second.
  setTimeout(() => proc.exit(code), 1000).unref();
  return code;
}
