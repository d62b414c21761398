// A private Prometheus Alertmanager (Debian prometheus-alertmanager) for alarm tests: its
// own config, storage dir and port on 127.0.0.1, clustering off. Its only receiver is a
// webhook served by this (test) process, so tests see the notifications Alertmanager
// sends, firing and resolved, as a real on-call integration would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, killQuietly, onProcessExit, pidAlive, rmrf, shq, sleep, waitForPidExit, Watchdog } from './procUtil.js';

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

  const watchdog = new Watchdog(
    `pid=$(cat ${shq(pidFile)} 2>/dev/null); [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; sleep 0.5; [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf ${shq(dir)}`,
  );
  let child: ChildProcess | undefined;
  let logText = '';
  const unhookExit = onProcessExit(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) killQuietly(child.pid, 'SIGTERM');
  });

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
  let destroyed = false;

  const isRunning = (): boolean => !!child?.pid && child.exitCode === null && child.signalCode === null && pidAlive(child.pid);

  const spawnAm = (): Promise<{ ok: true } | { ok: false; output: string }> =>
    new Promise((resolve) => {
      let out = '';
      let settled = false;
      const proc = spawn(
        ALERTMANAGER_PATH,
        [
          `--config.file=${cfgPath}`,
          `--storage.path=${storage}`,
          `--web.listen-address=127.0.0.1:${port}`,
          // An empty address turns the HA cluster (gossip on 0.0.0.0:9094) off.
          '--cluster.listen-address=',
          '--log.level=info',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      child = proc;
      if (proc.pid) writeFileSync(pidFile, `${proc.pid}\n`);
      const done = (v: { ok: true } | { ok: false; output: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        killQuietly(proc.pid ?? -1, 'SIGKILL');
        done({ ok: false, output: `timeout waiting for GET /-/ready\n${out}` });
      }, 30_000);
      proc.stderr!.setEncoding('utf8');
      proc.stderr!.on('data', (s: string) => {
        // Keep draining: a full pipe would block Alertmanager.
        logText = (logText + s).slice(-200_000);
        if (!settled) out += s;
      });
      proc.on('error', (e) => done({ ok: false, output: `spawn error: ${e.message}` }));
      proc.on('exit', (code, sig) => done({ ok: false, output: `alertmanager exited (code ${code}, signal ${sig})\n${out}` }));
      proc.unref();
      (proc.stderr as unknown as { unref?: () => void }).unref?.();
      void (async () => {
        while (!settled) {
          try {
            const r = await fetch(`http://127.0.0.1:${port}/-/ready`, { signal: AbortSignal.timeout(2_000) });
            // Ready, and it is ours: another process could have taken the port meanwhile.
            if (r.ok && proc.exitCode === null && out.includes(`address=127.0.0.1:${port}`)) return done({ ok: true });
          } catch {
            /* not listening yet */
          }
          await sleep(100);
        }
      })();
    });

  const terminate = async (): Promise<void> => {
    const proc = child;
    if (!proc?.pid || !isRunning()) return;
    const exited = new Promise<void>((r) => {
      if (proc.exitCode !== null || proc.signalCode !== null) r();
      else proc.once('exit', () => r());
    });
    killQuietly(proc.pid, 'SIGTERM');
    if (!(await waitForPidExit(proc.pid, 10_000))) killQuietly(proc.pid, 'SIGKILL');
    await exited;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      receiver.once('error', reject);
      receiver.listen(0, '127.0.0.1', () => resolve());
    });
    receiver.unref();
    const receiverPort = (receiver.address() as AddressInfo).port;
    writeFileSync(cfgPath, configYaml(`http://127.0.0.1:${receiverPort}/alertmanager-notify`));

    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const r = await spawnAm();
      if (r.ok) break;
      if (attempt >= 5 || !/address already in use/i.test(r.output)) {
        throw new Error(`prometheus-alertmanager failed to start on 127.0.0.1:${port} (attempt ${attempt}):\n${r.output}`);
      }
    }
  } catch (e) {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    receiver.close();
    watchdog.disarm();
    unhookExit();
    rmrf(dir);
    const err = e instanceof Error ? e : new Error(String(e));
    err.message += `\n--- alertmanager log ---\n${logText}`;
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
          throw new Error(`no matching Alertmanager notification within ${timeoutMs} ms; received:\n${describeSeen()}\n--- alertmanager log (tail) ---\n${logText.slice(-4_000)}`);
        }
        await sleep(100);
      }
    },
    stop: terminate,
    async start() {
      if (destroyed) throw new Error('AlertmanagerServer.start() after destroy()');
      if (isRunning()) return;
      // The old listener may linger for a moment after stop(): retry briefly.
      let last = '';
      for (let attempt = 1; attempt <= 20; attempt++) {
        const r = await spawnAm();
        if (r.ok) return;
        last = r.output;
        if (!/address already in use/i.test(last)) break;
        await sleep(200);
      }
      throw new Error(`prometheus-alertmanager restart on 127.0.0.1:${port} failed:\n${last}`);
    },
    isRunning,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await terminate();
      } finally {
        receiver.closeAllConnections();
        await new Promise<void>((r) => receiver.close(() => r()));
        watchdog.disarm();
        unhookExit();
        rmrf(dir);
      }
    },
    log: () => logText,
  };
}
