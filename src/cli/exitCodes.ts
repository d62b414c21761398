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
  /** A bug: please report it with the log. */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
