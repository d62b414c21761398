import { spawn } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * Readiness and watchdog for a `Type=notify` unit without a native module: each message is
 * sent by systemd-notify(1), a child process in the unit's cgroup, hence `NotifyAccess=all`.
 * systemd-notify waits (sd_notify_barrier) until systemd has read the message, so the message
 * is not lost when it exits before systemd looks at it.
 */
export interface Notifier {
  /** READY=1: `systemctl start` returns now. Starts the watchdog pings when WatchdogSec= is set. */
  ready(status: string): void;
  /** STOPPING=1, and no more pings. */
  stopping(): void;
}

const NOOP: Notifier = { ready: () => undefined, stopping: () => undefined };

export function systemdNotifier(env: NodeJS.ProcessEnv, log: Logger): Notifier {
  if (!env.NOTIFY_SOCKET) return NOOP;
  let warned = false;
  const send = (args: string[]): void => {
    const child = spawn('systemd-notify', args, { stdio: 'ignore', env });
    child.on('error', (err) => {
      if (warned) return;
      warned = true;
      log.warn({ err }, 'cannot run systemd-notify (package systemd): systemd is not told that the daemon is ready or alive');
    });
    child.unref();
  };
  // systemd sets WATCHDOG_USEC (and WATCHDOG_PID, the process meant) when the unit has WatchdogSec=.
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
  let timer: NodeJS.Timeout | undefined;
  return {
    ready(status) {
      send(['--ready', `--pid=${process.pid}`, `--status=${status}`]);
      if (usec > 0 && forUs && !timer) {
        // Pinged from a timer of the event loop: a loop that hangs stops the pings, and systemd
        // kills and restarts the daemon (Restart=on-failure) once WatchdogSec= has passed.
        timer = setInterval(() => send(['WATCHDOG=1']), Math.max(500, usec / 1000 / 2));
        timer.unref();
      }
    },
    stopping() {
      if (timer) clearInterval(timer);
      timer = undefined;
      send(['STOPPING=1']);
    },
  };
}
