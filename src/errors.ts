/** Errors that callers branch on (exit codes, alarms). Everything else is a plain Error. */

export type Endpoint = 'file-server' | 'database';

/** A node's file server or database could not be reached or refused us. */
export class ConnectError extends Error {
  constructor(
    readonly endpoint: Endpoint,
    readonly node: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConnectError';
  }
}

/** The file server presented a host key other than the pinned one. */
export class HostKeyMismatchError extends ConnectError {
  constructor(
    node: string,
    readonly expected: string,
    readonly seen: string,
  ) {
    super(
      'file-server',
      node,
      `the file server's host key ${seen} does not match the pinned key ${expected}; refusing to connect. If the server's key was changed on purpose, verify the new key on the server (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and update fileServer.hostKey`,
    );
    this.name = 'HostKeyMismatchError';
  }
}

/** PostgreSQL SQLSTATE 53100 (disk_full): the database cannot grow. */
export class DatabaseFullError extends Error {
  constructor(
    readonly node: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseFullError';
  }
}

/** Normalises anything thrown into an Error (a thrown string or object loses nothing). */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : JSON.stringify(err));
}

/** Why the purge cancelled one of its own statements on the database server. */
export type CancelReason = 'stopped' | 'timeout' | 'file-server-lost';

/** A statement of the purge cancelled on the server: by a stop, its time limit, or a lost file server. */
export class StatementCancelledError extends Error {
  constructor(
    readonly node: string,
    readonly reason: CancelReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StatementCancelledError';
  }
}

/**
 * The database will not let the purge delete AFT_LOG rows: a privilege is missing, or the
 * server is a read-only standby. Found before any file is removed, or when a DELETE failed.
 */
export class DatabaseRefusedError extends Error {
  constructor(
    readonly node: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseRefusedError';
  }
}
