// A TCP proxy between the purge and sshd that cuts the connection at a chosen point: after N
// bytes have crossed it (both directions counted) or after N ms. The SSH stream is encrypted,
// so the cut lands wherever those bytes fall: in the key exchange, the login, or mid-batch.
import net from 'node:net';

export interface CutPlan {
  afterBytes?: number;
  afterMs?: number;
}

export class CuttingProxy {
  /** Bytes carried on the connections so far (both directions). */
  bytes = 0;
  /** Whether a cut happened. */
  cut = false;
  private plan: CutPlan = {};
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttingProxy> {
    let proxy!: CuttingProxy;
    const server = net.createServer((client) => proxy.handle(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy = new CuttingProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** The plan for the next connections; resets the counters. */
  arm(plan: CutPlan): void {
    this.plan = plan;
    this.bytes = 0;
    this.cut = false;
  }

  private handle(client: net.Socket, host: string, port: number): void {
    const upstream = net.connect(port, host);
    this.sockets.add(client).add(upstream);
    const kill = (): void => {
      this.cut = true;
      // A reset, as when a firewall or a dying server drops the connection.
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const timer = this.plan.afterMs !== undefined ? setTimeout(kill, this.plan.afterMs) : undefined;
    const forward = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => {
        if (this.cut) return;
        const limit = this.plan.afterBytes;
        if (limit !== undefined && this.bytes + chunk.length >= limit) {
          const part = chunk.subarray(0, Math.max(0, limit - this.bytes));
          this.bytes += part.length;
          if (part.length) to.write(part);
          kill();
          return;
        }
        this.bytes += chunk.length;
        to.write(chunk);
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const close = (): void => {
      if (timer) clearTimeout(timer);
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  }

  /** Resets every connection open now (new ones pass until the next arm()/cutNow()). */
  cutNow(): void {
    this.cut = true;
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
