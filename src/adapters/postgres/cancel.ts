import net from 'node:net';
import type pg from 'pg';
import type { CancelReason } from '../../errors.js';

/** Where the server listens: a host name or address, or a Unix socket directory. */
export interface CancelTarget {
  host: string;
  port: number;
}

/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/**
 * Sends PostgreSQL's cancel request for a backend: a new connection that carries only the
 * backend's process id and secret key (no login). The server cancels the statement that
 * backend is running, if any, and closes the connection. Resolves once it has, or after
 * `timeoutMs`, never with an error: a cancel that cannot be sent leaves the statement to its
 * time limit and to client_connection_check_interval.
 */
export function sendCancelRequest(target: CancelTarget, processID: number, secretKey: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const socket = target.host.startsWith('/') ? net.connect(`${target.host}/.s.PGSQL.${target.port}`) : net.connect(target.port, target.host);
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('connect', () => {
      const b = Buffer.alloc(16);
      b.writeInt32BE(16, 0);
      b.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      b.writeInt32BE(processID, 8);
      b.writeInt32BE(secretKey, 12);
      socket.write(b);
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

/** node-postgres keeps the backend's key from the start-up messages; its types do not show it. */
interface BackendKey {
  processID: number | null;
  secretKey: number | null;
}

interface Running {
  client: pg.Client;
  long: boolean;
  cancelled?: Promise<void>;
}

/** Slack after the time limit before the purge cancels a statement itself (the server's own limit goes first). */
const WATCHDOG_SLACK_MS = 1000;

/**
 * The purge's statements in progress, to cancel them on the server: when the purge stops, when
 * the file server is lost, and when one runs past the time limit. The server's
 * statement_timeout does not cover everything: PostgreSQL stops its timer before a COMMIT does
 * its work, and the COMMIT is what computes a cursor WITH HOLD; this watchdog covers it.
 */
export class StatementWatch {
  private readonly running = new Set<Running>();
  /**
   * Why each connection had a statement cancelled. A cancel request may land on the next
   * statement of the connection when the one it was meant for had just finished: an error of
   * that connection is then the cancel's all the same.
   */
  private readonly reasons = new Map<pg.Client, CancelReason>();
  /** After a stop, no new long read starts; after giving up, no statement at all. */
  private refused: { scope: 'long' | 'all'; reason: CancelReason } | undefined;

  constructor(
    private readonly target: CancelTarget,
    private readonly timeoutMs: number,
  ) {}

  /**
   * Runs one statement of `client` under watch. `long`: a read that may take minutes (counting,
   * computing the cursor), which a stop cancels; the others (a batch's DELETE above all) are
   * only cancelled when the purge gives up. Throws `cancelled(reason, err)` for a statement this
   * watch cancelled.
   */
  async run<T>(client: pg.Client, long: boolean, fn: () => Promise<T>, cancelled: (reason: CancelReason, err: unknown) => Error): Promise<T> {
    if (this.refused && (this.refused.scope === 'all' || long)) throw cancelled(this.refused.reason, undefined);
    const r: Running = { client, long };
    this.running.add(r);
    const timer = this.timeoutMs > 0 ? setTimeout(() => void this.cancelOne(r, 'timeout'), this.timeoutMs + WATCHDOG_SLACK_MS) : undefined;
    timer?.unref();
    try {
      return await fn();
    } catch (err) {
      const reason = this.reasons.get(client);
      if (reason && (err as { code?: string }).code === QUERY_CANCELED) throw cancelled(reason, err);
      throw err;
    } finally {
      clearTimeout(timer);
      this.running.delete(r);
    }
  }

  /** Cancels the long reads in progress (`long`) or every statement (`all`); resolves when the requests are sent. */
  async cancel(scope: 'long' | 'all', reason: CancelReason): Promise<void> {
    if (reason !== 'timeout' && this.refused?.scope !== 'all') this.refused = { scope, reason };
    await Promise.all([...this.running].filter((r) => scope === 'all' || r.long).map((r) => this.cancelOne(r, reason)));
  }

  private cancelOne(r: Running, reason: CancelReason): Promise<void> {
    if (r.cancelled) return r.cancelled;
    const key = r.client as unknown as BackendKey;
    if (key.processID === null || key.secretKey === null) return Promise.resolve();
    if (!this.reasons.has(r.client)) this.reasons.set(r.client, reason);
    r.cancelled = sendCancelRequest(this.target, key.processID, key.secretKey);
    return r.cancelled;
  }
}

/** SQLSTATE 57014: a statement cancelled (by a cancel request or statement_timeout). */
export const QUERY_CANCELED = '57014';
