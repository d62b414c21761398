// A real HTTP receiver for the webhook alarm sink, so that fault scenarios can check that the
// alarm the fault calls for was raised (and, after the heal, cleared).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { World } from './world.js';

export interface ReceivedAlarm {
  event: string;
  alarm: string;
  node: string;
  value: string;
}

export class AlarmReceiver {
  readonly events: ReceivedAlarm[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<AlarmReceiver> {
    let self: AlarmReceiver | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c));
      req.on('end', () => {
        self!.events.push(JSON.parse(body) as ReceivedAlarm);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new AlarmReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarms`);
    return self;
  }

  /** Makes the world's purges deliver alarms here, with their state in the world's own directory. */
  attach(w: World): void {
    w.config.alarms = { sinks: [{ type: 'webhook', url: this.url }], stalled: { maxBacklogAge: 'P30D' } };
    w.config.daemon = { ...(w.config.daemon ?? {}), stateDirectory: 'alarm-state' };
    w.writeConfig();
  }

  of(alarm: string): string[] {
    return this.events.filter((e) => e.alarm === alarm).map((e) => e.event);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
