import type { Client, ClientChannel } from 'ssh2';
import { encodeInit, firstNameOf, FX, FXP, packetId, packetType, ReplyDecoder, RequestEncoder, statusCodeOf, statusOf, type PathRequest } from './wire.js';

/** A status other than OK from the server; `code` is the SFTP status number, as ssh2 reports it. */
export class SftpStatusError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message || `SFTP status ${code}`);
    this.name = 'SftpStatusError';
  }
}

/**
 * The SFTP status number of an error from ssh2's SFTP client or from this channel (both put it
 * in `code`); undefined for any other error, such as the connection's loss.
 */
export function sftpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * What one request came back with: FX.OK, the name a REALPATH reply gave, a SftpStatusError
 * for any other status, or the Error (without a status code) that ended the session first.
 */
export type RequestResult = typeof FX.OK | string | Error;

/** The requests of one `run` call, and where their results go. */
interface Batch {
  results: RequestResult[];
  left: number;
  done(results: RequestResult[]): void;
}

interface Job {
  type: PathRequest;
  path: string;
  batch: Batch;
  index: number;
}

/**
 * An SFTP session of its own on the SSH connection, for the requests a purge sends by the
 * thousand (remove, realpath, rmdir). ssh2's SFTP client sends every request as its own SSH
 * packet, one encryption and one socket write each, and a promise each: on loopback that costs
 * more than the server's unlink. Here every request made in the same turn of the event loop is
 * encoded into one buffer and written at once, so a batch of removals leaves in a few packets,
 * and a whole batch is one promise. OpenSSH's sftp-server reads the requests as a stream and
 * answers each; replies are matched by request id. At most `maxInFlight` requests wait for a
 * reply at any time, whatever the number of batches run side by side; the others queue here.
 */
export class SftpRequestChannel {
  private nextId = 1;
  private readonly pending = new Map<number, Job>();
  /** Jobs not sent yet (in flight is full), oldest first from `queueHead`. */
  private queue: Job[] = [];
  private queueHead = 0;
  private readonly encoder = new RequestEncoder();
  private flushScheduled = false;
  private closedWith: Error | undefined;
  /** The most requests that waited for a reply at once (never above maxInFlight). */
  peakInFlight = 0;

  /**
   * Replies come back a few per SSH packet. Topping the window up after each of them would
   * send as many tiny packets (one encryption and one socket write each, and as many small
   * reads for the server); waiting until half the window has been answered sends the next
   * requests as one large write, while the other half keeps the server busy.
   */
  private readonly refillAt: number;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly maxInFlight: number,
  ) {
    this.refillAt = Math.floor(maxInFlight / 2);
  }

  /** Opens the `sftp` subsystem on a connected client and does the version handshake. */
  static open(client: Client, opts: { timeoutMs: number; maxInFlight: number }): Promise<SftpRequestChannel> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SFTP version reply within ${opts.timeoutMs} ms`)), opts.timeoutMs);
      client.subsys('sftp', (err, channel) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
          return;
        }
        const decoder = new ReplyDecoder();
        const onFirst = (chunk: Buffer): void => {
          try {
            decoder.push(chunk, (buf, start) => {
              const type = packetType(buf, start);
              if (type !== FXP.VERSION) throw new Error(`the server answered INIT with packet type ${type}`);
              channel.off('data', onFirst);
              clearTimeout(timer);
              const rc = new SftpRequestChannel(channel, Math.max(1, opts.maxInFlight));
              rc.listen(decoder);
              resolve(rc);
            });
          } catch (e) {
            clearTimeout(timer);
            channel.close();
            reject(e as Error);
          }
        };
        channel.on('data', onFirst);
        channel.on('error', (e: Error) => {
          clearTimeout(timer);
          reject(e);
        });
        channel.write(encodeInit());
      });
    });
  }

  private listen(decoder: ReplyDecoder): void {
    this.channel.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk, (buf, start, end) => this.settle(buf, start, end));
      } catch (err) {
        this.fail(err as Error);
        this.channel.close();
      }
    });
    // The subsystem's stderr: nothing the purge needs, but unread it would stall the channel.
    this.channel.stderr.resume();
    this.channel.on('close', () => this.fail(new Error('the SFTP channel closed')));
    this.channel.on('error', (err: Error) => this.fail(err));
  }

  private settle(buf: Buffer, start: number, end: number): void {
    const id = packetId(buf, start);
    const job = this.pending.get(id);
    if (!job) return;
    this.pending.delete(id);
    const type = packetType(buf, start);
    let result: RequestResult;
    if (type === FXP.STATUS) {
      if (statusCodeOf(buf, start, end) === FX.OK) result = FX.OK;
      else {
        const { code, message } = statusOf(buf, start, end);
        result = new SftpStatusError(code, message);
      }
    } else if (type === FXP.NAME && job.type === FXP.REALPATH) result = firstNameOf(buf, start, end);
    else result = new Error(`unexpected SFTP reply of type ${type} to a request of type ${job.type}`);
    this.complete(job, result);
    // Refilled in bursts, not one request per reply: see `refillAt`.
    if (this.pending.size <= this.refillAt) this.pump();
  }

  private complete(job: Job, result: RequestResult): void {
    const b = job.batch;
    b.results[job.index] = result;
    if (--b.left === 0) b.done(b.results);
  }

  /** Every request waiting or queued ends with `err`; so does every later one. */
  private fail(err: Error): void {
    this.closedWith ??= err;
    const jobs = [...this.pending.values(), ...this.queue.slice(this.queueHead)];
    this.pending.clear();
    this.queue = [];
    this.queueHead = 0;
    for (const job of jobs) this.complete(job, this.closedWith);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /**
   * Sends one request of `type` per path and resolves with their results in the same order.
   * Never rejects: a session that ends gives each unanswered request the Error that ended it.
   */
  run(type: PathRequest, paths: readonly string[]): Promise<RequestResult[]> {
    if (paths.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      const batch: Batch = { results: new Array<RequestResult>(paths.length), left: paths.length, done: resolve };
      for (let i = 0; i < paths.length; i++) {
        const job: Job = { type, path: paths[i]!, batch, index: i };
        if (this.closedWith) this.complete(job, this.closedWith);
        else this.queue.push(job);
      }
      this.pump();
    });
  }

  /** Sends queued jobs while fewer than maxInFlight wait for a reply. */
  private pump(): void {
    while (this.pending.size < this.maxInFlight && this.queueHead < this.queue.length) {
      const job = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Job;
      const id = this.nextId;
      this.nextId = (this.nextId + 1) >>> 0 || 1;
      this.encoder.pathRequest(job.type, id, job.path);
      this.pending.set(id, job);
    }
    if (this.pending.size > this.peakInFlight) this.peakInFlight = this.pending.size;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    if (!this.flushScheduled && this.encoder.length > 0) {
      this.flushScheduled = true;
      // After the current callbacks and their promise continuations: all the requests they
      // make go out together.
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.encoder.length === 0 || this.closedWith) return;
    // ssh2 splits the buffer into packets by the channel's window and packet size.
    this.channel.write(this.encoder.take());
  }

  close(): void {
    this.fail(new Error('the SFTP channel was closed'));
    this.channel.close();
  }
}
