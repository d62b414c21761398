// A private Prometheus Alertmanager (Debian prometheus-alertmanager) for alarm tests: its
// own config, storage dir and port on 127.0.0.1, clustering off. Its only receiver is a
// webhook served by this (test) process, so tests see the notifications Alertmanager
// sends, firing and resolved, as a real on-call integration would.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, ServerProcess, sleep, type StartOutcome } from './procUtil.js';

export const ALERTMANAGER_PATH = '/usr/bin/prometheus-alertmanager';

/** One alert as GET /api/v2/alerts returns it (the fields the tests use). */
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: 'active' | 'suppressed' | 'unprocessed'; silencedBy: string[]; inhibitedBy: string[] };
}

/** One alert inside a webhook notification (Alertmanager's webhook payload, version 4). */
export interface AmNotifiedAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
}

/** A notification Alertmanager POSTed to the receiver (one per group flush). */
export interface AmNotification {
  receivedAt: Date;
  headers: IncomingHttpHeaders;
  body: {
    version: string;
    receiver: string;
    status: 'firing' | 'resolved';
    alerts: AmNotifiedAlert[];
    groupLabels: Record<string, string>;
    commonLabels: Record<string, string>;
  };
}

export interface AlertmanagerServer {
  /** Base URL, e.g. http://127.0.0.1:40123 (what the alertmanager sink's `url` takes). */
  url: string;
  port: number;
  /** GET /api/v2/alerts: the alerts Alertmanager holds as not resolved. */
  alerts(): Promise<AmAlert[]>;
  /** Everything Alertmanager has notified so far, oldest first. */
  notifications: AmNotification[];
  /** Polls until a notified alert matches (searching all notifications so far); throws with what was seen. */
  waitForNotification(pred: (alert: AmNotifiedAlert, n: AmNotification) => boolean, timeoutMs?: number): Promise<{ alert: AmNotifiedAlert; notification: AmNotification }>;
  /** SIGTERM Alertmanager (the notification receiver stays up). Restartable with start(). */
  stop(): Promise<void>;
  /** (Re)start on the same port, config and storage; no-op if running. */
  start(): Promise<void>;
  isRunning(): boolean;
  /** stop(), close the receiver and remove the temp dir. Final. */
  destroy(): Promise<void>;
  /** Alertmanager's stderr so far (all starts). */
  log(): string;
}

/**
 * Group per alert ('...'), notify 1 s after an alert arrives and 1 s after a change
 * (resolved included, send_resolved), so tests wait seconds, not minutes. No repeats within a test.
 */
function configYaml(receiverUrl: string): string {
  return [
    '# written by test/helpers/alertmanagerServer.ts',
    'route:',
    '  receiver: test-receiver',
    "  group_by: ['...']",
    '  group_wait: 1s',
    '  group_interval: 1s',
    '  repeat_interval: 1h',
    'receivers:',
    '  - name: test-receiver',
    '    webhook_configs:',
    `      - url: ${receiverUrl}`,
    '        send_resolved: true',
    '',
  ].join('\n');
}

export async function startAlertmanager(): Promise<AlertmanagerServer> {
  if (!existsSync(ALERTMANAGER_PATH)) {
    throw new Error(`${ALERTMANAGER_PATH} not found (package prometheus-alertmanager): run scripts/install-test-deps.sh (as root), or use \`npm test\`, which does it`);
  }
  const dir = mkdtempSync('/tmp/alertmanager-');
  const storage = join(dir, 'data');
  mkdirSync(storage);
  const cfgPath = join(dir, 'alertmanager.yml');
  const pidFile = join(dir, 'alertmanager.pid');

  const daemon = new ServerProcess({ pidFile, dir, watchdogKills: true });

  const notifications: AmNotification[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        notifications.push({ receivedAt: new Date(), headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AmNotification['body'] });
        res.writeHead(200).end();
      } catch (e) {
        res.writeHead(400).end(String(e));
      }
    });
  });

  let port = 0;

  const spawnAm = (): Promise<StartOutcome> =>
    daemon.spawn(
      ALERTMANAGER_PATH,
      [
        `--config.file=${cfgPath}`,
        `--storage.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // An empty address turns the HA cluster (gossip on 0.0.0.0:9094) off.
        '--cluster.listen-address=',
        '--log.level=info',
      ],
      {
        name: 'alertmanager',
        timeoutMs: 30_000,
        waitingFor: 'GET /-/ready',
        onSpawn: (proc) => {
          if (proc.pid) writeFileSync(pidFile, `${proc.pid}\n`);
        },
        poll: async (proc, output) => {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2_000) });
            // Ready, and it is ours: another process could have taken the port meanwhile.
            return r.ok && proc.exitCode === null && output().includes(`address=127.0.0.1:${port}`);
          } catch {
            return false; // not listening yet
          }
        },
      },
    );

  try {
    await new Promise<void>((resolve, reject) => {
      receiver.once('error', reject);
      receiver.listen(0, '127.0.0.1', () => resolve());
    });
    receiver.unref();
    const receiverPort = (receiver.address() as AddressInfo).port;
    writeFileSync(cfgPath, configYaml(`http://127.0.0.1:${receiverPort}/alertmanager-notify`));

    await daemon.firstStart(
      async () => {
        port = await freePort();
        return spawnAm();
      },
      /address already in use/i,
      (output, attempt) => `prometheus-alertmanager failed to start on 127.0.0.1:${port} (attempt ${attempt}):\n${output}`,
    );
  } catch (e) {
    receiver.close();
    daemon.abandon();
    const err = e instanceof Error ? e : new Error(String(e));
    err.message += `\n--- alertmanager log ---\n${daemon.log}`;
    throw err;
  }

  const url = `http://127.0.0.1:${port}`;
  const describeSeen = (): string =>
    notifications.map((n) => `  ${n.receivedAt.toISOString()} ${n.body.status}: ${n.body.alerts.map((a) => `${a.status} ${JSON.stringify(a.labels)}`).join('; ')}`).join('\n') || '  (none)';

  return {
    url,
    port,
    notifications,
    async alerts() {
      const r = await fetch(`${url}/api/v2/alerts`, { signal: AbortSignal.timeout(10_000) });
      if (!r.ok) throw new Error(`GET ${url}/api/v2/alerts answered HTTP ${r.status}: ${await r.text()}`);
      return (await r.json()) as AmAlert[];
    },
    async waitForNotification(pred, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const n of notifications) {
          const alert = n.body.alerts.find((a) => pred(a, n));
          if (alert) return { alert, notification: n };
        }
        if (Date.now() >= deadline) {
          throw new Error(`no matching Alertmanager notification within ${timeoutMs} ms; received:\n${describeSeen()}\n--- alertmanager log (tail) ---\n${daemon.log.slice(-4_000)}`);
        }
        await sleep(100);
      }
    },
    stop: () => daemon.stop(),
    start: () => daemon.restart('AlertmanagerServer', spawnAm, /address already in use/i, 200, (last) => `prometheus-alertmanager restart on 127.0.0.1:${port} failed:\n${last}`),
    isRunning: daemon.isRunning,
    destroy: () =>
      daemon.destroy(undefined, async () => {
        receiver.closeAllConnections();
        await new Promise<void>((r) => receiver.close(() => r()));
      }),
    log: () => daemon.log,
  };
}
