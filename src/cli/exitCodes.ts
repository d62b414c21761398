/** Exit codes of every command, distinct so that scripts and systemd can tell failures apart. */
export const EXIT = {
  /** Everything eligible was purged (or, in a dry-run, reported). */
  ok: 0,
  /** Some files or rows could not be purged; the next run retries them. */
  partial: 1,
  /** Bad command line, config or policy: nothing was done. */
  config: 2,
  /** A node's file server or database could not be reached (or its host key did not match). */
  connection: 3,
  /** A safety limit refused the run. */
  refused: 4,
  /**
   * Stopped by SIGTERM or SIGINT (`systemctl stop`, Ctrl-C) before it finished: the batch in
   * flight was completed, the rest waits for the next run. Not a success for systemd.
   */
  stopped: 5,
  /**
   * The database will not let the purge delete AFT_LOG rows (a privilege missing, a read-only
   * standby): nothing was removed, or the files removed have their rows pending. Fix the grant
   * or the host; not a success for systemd.
   */
  databaseRefused: 6,
  /** A bug: please report it with the log. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
