import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpEndpoints {
  /** /healthz body; `ok: false` answers 503 (e.g. while stopping). */
  health(): { ok: boolean; body: unknown };
  /** /metrics body in the Prometheus text format. */
  metrics(): Promise<string>;
  metricsContentType: string;
}

export interface HttpServerHandle {
  /** The bound address, e.g. http://127.0.0.1:9464 (the real port when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** Serves /healthz and /metrics on the configured (loopback) address. */
export async function startHttpServer(listen: { host: string; port: number }, endpoints: HttpEndpoints): Promise<HttpServerHandle> {
  const server = createServer((req, res) => {
    route(req, res, endpoints).catch((err: Error) => send(res, 500, 'text/plain; charset=utf-8', `internal error: ${err.message}\n`));
  });
  // Prometheus scrapes keep connections alive; they must not hold up the shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

async function route(req: IncomingMessage, res: ServerResponse, endpoints: HttpEndpoints): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
  }
  if (path === '/healthz') {
    const h = endpoints.health();
    return send(res, h.ok ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(h.body)}\n`);
  }
  if (path === '/metrics') return send(res, 200, endpoints.metricsContentType, await endpoints.metrics());
  return send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz or /metrics\n');
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
