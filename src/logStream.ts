import { fstatSync, write as fsWrite, writeSync } from 'node:fs';
import pino from 'pino';

/**
 * Characters of log lines waiting for a slow reader (a pipe, journald) before new lines are
 * dropped: about 55,000 per-file lines, 16 MiB of the heap at most, however long the reader stalls.
 */
export const LOG_BUFFER_CHARS = 16 * 1024 * 1024;
/** Bytes handed to one write(2): few calls for a purge's thousands of lines a second. */
const CHUNK_CHARS = 1024 * 1024;
/**
 * A full non-blocking pipe or socket (EAGAIN; Node.js makes standard output non-blocking once it
 * writes the report there, and standard error shares it): retry after 1 ms, doubling up to this.
 * Short, so that a reader as fast as journald is never waited on; cheap while a reader is stopped.
 */
const MAX_RETRY_MS = 5;
/** At exit (process.exit), how long the last lines may wait for a reader that does not read. */
const EXIT_FLUSH_MS = 30_000;
/** A forced exit (exitAfterLogs) waits this long at most for the log reader to take the last lines. */
export const EXIT_LOG_WAIT_MS = 3_000;

/** sd-daemon(3) priorities for pino's levels: journald files each line under its own. */
const PRIORITY: Record<number, string> = { 10: '<7>', 20: '<7>', 30: '<6>', 40: '<4>', 50: '<3>', 60: '<2>' };

/** Lines dropped since the process started, across every log stream (the metric's value). */
let droppedTotal = 0;
export function droppedLogLines(): number {
  return droppedTotal;
}

/**
 * Whether `fd` is connected to journald: systemd sets JOURNAL_STREAM to the `device:inode` of
 * the stream it gives a unit's standard output and error (sd_journal_stream_fd(3)). A child
 * whose output was redirected elsewhere inherits the variable, hence the comparison.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const want = env.JOURNAL_STREAM;
  if (!want) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return want === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export interface LogStreamOptions {
  fd: number;
  /** Prefix each line with its `<N>` priority (journald, SyslogLevelPrefix=yes, the default). */
  journald: boolean;
  maxBufferChars?: number;
}

export interface LogStream {
  write(line: string): void;
  /** Calls back once every accepted line is written. */
  flush(cb?: (err?: Error) => void): void;
  /** Writes what is queued, blocking (up to a few seconds for a reader that does not read). */
  flushSync(): void;
  /** Set once the logger exists: the drop notices are logged through it. */
  attach(warn: (obj: Record<string, unknown>, msg: string) => void): void;
}

const live = new Set<LogStream>();
let exitHooked = false;

/**
 * A pino destination that never makes the event loop wait for the reader: lines queue in
 * memory and go out in large asynchronous writes as the fd takes them. When the queue is full,
 * new lines are dropped, whole, and counted; once the reader takes some again, one warning
 * says how many ("N log lines dropped"), and droppedLogLines() feeds the metric. At exit, what
 * is queued is written synchronously.
 */
export function makeLogStream(opts: LogStreamOptions): LogStream {
  const max = opts.maxBufferChars ?? LOG_BUFFER_CHARS;
  const queue: string[] = [];
  let queued = 0;
  /** The unwritten tail of the chunk in flight (a partial write), written before the queue. */
  let rest: Buffer | undefined;
  let writing = false;
  let broken = false;
  let retryMs = 0;
  let warn: ((obj: Record<string, unknown>, msg: string) => void) | undefined;
  let pending = 0;
  let sinceMs = 0;
  const waiters: Array<(err?: Error) => void> = [];

  const idle = (): boolean => !writing && !rest && queue.length === 0;

  const take = (): Buffer => {
    if (rest) {
      const b = rest;
      rest = undefined;
      return b;
    }
    let n = 0;
    let chars = 0;
    while (n < queue.length && (n === 0 || chars + queue[n]!.length <= CHUNK_CHARS)) chars += queue[n++]!.length;
    const text = n === 1 ? queue[0]! : queue.slice(0, n).join('');
    queue.splice(0, n);
    queued -= chars;
    return Buffer.from(text, 'utf8');
  };

  const pump = (): void => {
    if (writing || broken) return;
    if (idle()) {
      for (const cb of waiters.splice(0)) cb();
      return;
    }
    writing = true;
    const buf = take();
    fsWrite(opts.fd, buf, 0, buf.length, null, (err, n) => {
      writing = false;
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          rest = buf;
          retryMs = Math.min(MAX_RETRY_MS, retryMs ? retryMs * 2 : 1);
          // Not unref'd: a command that is done still waits for its log to be written.
          setTimeout(pump, retryMs);
          return;
        }
        // EPIPE, EBADF...: nobody can read the log any more; stop writing it, as pino does.
        broken = true;
        queue.length = 0;
        queued = 0;
        rest = undefined;
        for (const cb of waiters.splice(0)) cb(err);
        return;
      }
      retryMs = 0;
      if (n < buf.length) rest = buf.subarray(n);
      notice();
      pump();
    });
  };

  /** After drops, once there is room again: one warning with the count. */
  const notice = (): void => {
    if (pending === 0 || !warn || queued > max / 2) return;
    const n = pending;
    pending = 0;
    warn({ droppedLines: n, droppedSince: new Date(sinceMs).toISOString() }, `${n} log line${n === 1 ? '' : 's'} dropped: the log reader (journald, a pipe) did not keep up`);
  };

  const enqueue = (line: string): void => {
    if (broken) return;
    if (queued + line.length > max) {
      if (pending === 0) sinceMs = Date.now();
      pending++;
      droppedTotal++;
      return;
    }
    queue.push(line);
    queued += line.length;
    if (!writing) pump();
  };

  const stream: LogStream & { lastLevel?: number; [k: symbol]: unknown } = {
    write: opts.journald ? (line) => enqueue((PRIORITY[stream.lastLevel ?? 30] ?? '<6>') + line) : enqueue,
    flush(cb) {
      if (idle() || broken) cb?.();
      else if (cb) waiters.push(cb);
    },
    flushSync() {
      // A chunk in flight is the thread pool's, maybe half written: anything written now could
      // land in the middle of one of its lines. Its lines and those after it are lost instead
      // (exitAfterLogs waits for it first, so only a reader stopped for seconds loses them).
      if (broken || writing) return;
      const deadline = Date.now() + EXIT_FLUSH_MS;
      let buf = rest;
      rest = undefined;
      const text = queue.join('');
      queue.length = 0;
      queued = 0;
      const bufs = [buf, Buffer.from(text, 'utf8')].filter((b): b is Buffer => !!b && b.length > 0);
      for (buf of bufs) {
        let off = 0;
        while (off < buf.length) {
          try {
            off += writeSync(opts.fd, buf, off, buf.length - off);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) return;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          }
        }
      }
    },
    attach(w) {
      warn = w;
    },
  };
  // pino then tells the stream each line's level (stream.lastLevel), as for pino.multistream.
  if (opts.journald) stream[pino.symbols.needsMetadataGsym] = true;
  live.add(stream);
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', () => {
      for (const s of live) s.flushSync();
    });
  }
  return stream;
}

/** Resolves once every log stream has written what it was given, or after `maxWaitMs`. */
export function flushLogs(maxWaitMs: number): Promise<void> {
  return new Promise((resolve) => {
    let left = live.size;
    const timer = setTimeout(resolve, maxWaitMs);
    const done = (): void => {
      if (--left > 0) return;
      clearTimeout(timer);
      resolve();
    };
    if (left === 0) done();
    for (const s of live) s.flush(() => done());
  });
}

/**
 * process.exit(code), once the log is written: exiting with a write in flight would lose
 * its lines, or cut one in two. Waits EXIT_LOG_WAIT_MS at most for a reader that does not read.
 */
export function exitAfterLogs(code: number, maxWaitMs = EXIT_LOG_WAIT_MS): void {
  void flushLogs(maxWaitMs).then(() => process.exit(code));
}
