import net from 'node:net';

/** Where to connect: a TCP host and port, or (PostgreSQL) a Unix socket directory. */
export interface ProbeTarget {
  host: string;
  port: number;
}

export interface TcpConnection {
  socket: net.Socket;
  /** Time to establish the connection. */
  ms: number;
}

/** What the connect errors mean, for an admin who has to go and fix them. */
const CONNECT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens on that port, or a firewall rejects it',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ECONNRESET: 'the connection was reset',
  ENOENT: 'the socket file does not exist: is the server running?',
  EACCES: 'permission denied on the socket',
};

const isSocketDirectory = (host: string): boolean => host.startsWith('/');

export function describeTarget(t: ProbeTarget): string {
  return isSocketDirectory(t.host) ? `${t.host}/.s.PGSQL.${t.port}` : `${t.host}:${t.port}`;
}

/** Opens a TCP (or, for a PostgreSQL socket directory, Unix) connection within the timeout. */
export function connectTcp(target: ProbeTarget, timeoutMs: number): Promise<TcpConnection> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = isSocketDirectory(target.host)
      ? net.connect({ path: `${target.host}/.s.PGSQL.${target.port}` })
      : net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms: the host is down or a firewall drops the packets`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, ms: Math.round(performance.now() - started) });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      const why = (err.code && CONNECT_ERRORS[err.code]) ?? err.message;
      reject(new Error(err.code ? `${why} (${err.code})` : why));
    });
  });
}

const BANNER_LIMIT = 8192;

/** Printable form of what a server sent, short enough for one report line. */
const printable = (s: string): string => JSON.stringify(s.slice(0, 60));

/**
 * Reads the server's SSH identification line (RFC 4253 4.2: `SSH-2.0-software comment`; other
 * lines may come first). Resolves with the line; rejects when none arrives in time. What was
 * read is pushed back into the paused socket, so an SSH client can take the connection over.
 */
export function readSshBanner(socket: net.Socket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const received = (): string => Buffer.concat(chunks).toString('latin1');
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      const text = received();
      const line = text.split(/\r?\n/).find((l, i, all) => l.startsWith('SSH-') && i < all.length - 1);
      if (line) finish(undefined, line);
      else if (text.length > BANNER_LIMIT) finish(new Error(`no SSH identification in the first ${BANNER_LIMIT} bytes; the server sent ${printable(text)}`));
    };
    const onClose = (): void => {
      const text = received();
      finish(new Error(text ? `the server closed the connection after sending ${printable(text)}` : 'the server closed the connection without a word'));
    };
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => {
      const text = received();
      finish(new Error(text ? `no SSH identification within ${timeoutMs} ms; the server sent ${printable(text)}` : `the server sent nothing within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(err: Error | undefined, line?: string): void {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData).off('close', onClose).off('error', onError);
      if (err) return reject(err);
      socket.unshift(Buffer.concat(chunks));
      resolve(line!);
    }
    socket.on('data', onData).once('close', onClose).once('error', onError);
  });
}
