// A TCP proxy that holds every chunk for `oneWayMs` in each direction: a file server a few
// milliseconds away, on loopback. Order is kept; backpressure is passed through.
import net from 'node:net';

export interface DelayProxy {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk released `delayMs` after it arrived. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Array<{ due: number; chunk: Buffer }> = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = (): void => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now + 0.05) {
      if (!to.write(queue.shift()!.chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, queue[0]!.due - now);
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    ended = true;
    if (queue.length === 0 && !timer) to.end();
  });
}

export function startDelayProxy(targetPort: number, oneWayMs: number): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((client) => {
    count++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    delayedPipe(client, upstream, oneWayMs);
    delayedPipe(upstream, client, oneWayMs);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections: () => count,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Median round trip through the proxy to a local echo server: what the proxy really adds. */
export async function measureRoundTripMs(oneWayMs: number, samples = 200): Promise<number> {
  const echo = net.createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const proxy = await startDelayProxy((echo.address() as net.AddressInfo).port, oneWayMs);
  const sock = net.connect(proxy.port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      sock.once('data', () => r());
      sock.write('x');
    });
    times.push(performance.now() - t0);
  }
  sock.destroy();
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
