// The alarm sinks against real receivers: Debian's prometheus-alertmanager (which notifies a
// webhook receiver of this process, firing and resolved), Debian's rsyslogd (imudp, imtcp,
// its RFC 5424 parser and mmpstrucdata), and a real HTTP server for the generic webhook.
// Then the outbox: receivers stopped and started again, events kept in alarms.json across a
// restart of the delivery, every event arriving once and in order, and the queue bound.
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ajv2020Module from 'ajv/dist/2020.js';
import ajvFormatsModule from 'ajv-formats';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventFromTransition, type AlarmEvent } from '../../src/alarms/alarmEvent.js';
import { ALARM_EVENT_SCHEMA_FILE } from '../../src/alarms/alarmEventJsonSchema.js';
import type { AlarmKey } from '../../src/alarms/alarmKey.js';
import { applyObservations, emptyAlarmState, type AlarmState, type Observation } from '../../src/alarms/alarmState.js';
import { ALARM_FILE, AlarmStore } from '../../src/alarms/alarmStore.js';
import { Delivery, type DeliveryObserver, type DeliveryOptions } from '../../src/alarms/delivery.js';
import { AlertmanagerSink } from '../../src/alarms/sinks/alertmanagerSink.js';
import { makeSinks } from '../../src/alarms/sinks/makeSinks.js';
import { RejectedDeliveryError, type AlarmSink } from '../../src/alarms/sinks/sink.js';
import { SD_ID } from '../../src/alarms/sinks/syslogFormat.js';
import { SyslogSink } from '../../src/alarms/sinks/syslogSink.js';
import { WebhookSink } from '../../src/alarms/sinks/webhookSink.js';
import type { ResolvedAlarms } from '../../src/config/resolveAlarms.js';
import { startAlertmanager, type AlertmanagerServer } from '../helpers/alertmanagerServer.js';
import { rmrf, sleep } from '../helpers/procUtil.js';
import { startRsyslog, type RsyslogServer, type SyslogRecord } from '../helpers/rsyslogServer.js';

// CommonJS packages: under NodeNext the default import is module.exports; the class is its `default`.
const Ajv2020 = ajv2020Module.default;
const addFormats = ajvFormatsModule.default;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FAST: DeliveryOptions = { maxQueued: 100, retryInitialMs: 50, retryMaxMs: 200 };
/**
 * A value with every character RFC 5424 PARAM-VALUE escaping is about; "] " unescaped would
 * end the structured data early even for rsyslog's lenient parser.
 */
const AWKWARD_VALUE = String.raw`8.2 % free on "nfs]\export" [vol\1] now`;

const tmpDirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** A pino logger whose lines the test can read. */
function captureLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

function countingObserver(): DeliveryObserver & { counts: { delivered: number; failed: number; dropped: number } } {
  const counts = { delivered: 0, failed: 0, dropped: 0 };
  return {
    counts,
    delivered: () => void counts.delivered++,
    failed: () => void counts.failed++,
    dropped: (_sink, n) => void (counts.dropped += n),
    queueLength: () => undefined,
  };
}

async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Alarm events made the way the daemon makes them: observations through the hysteresis state,
 * transitions turned into events. Each call continues from the previous state.
 */
function alarmScript(): { raise(key: AlarmKey, value?: string): AlarmEvent; clear(key: AlarmKey, value?: string): AlarmEvent; state(): AlarmState } {
  let state = emptyAlarmState();
  const step = (key: AlarmKey, verdict: Observation['verdict'], value: string): AlarmEvent => {
    const r = applyObservations(state, [{ key, cause: 'measured', verdict, value, threshold: 'raised at or below 10 %, cleared at or above 15 %', at: new Date() }]);
    state = r.state;
    expect(r.transitions).toHaveLength(1);
    return eventFromTransition(r.transitions[0]!);
  };
  return {
    raise: (key, value = '8.2 % free (8.2 GiB of 100 GiB)') => step(key, 'raise', value),
    clear: (key, value = '16.0 % free (16 GiB of 100 GiB)') => step(key, 'clear', value),
    state: () => state,
  };
}

function outboxOnDisk(dir: string, sink: string): AlarmEvent[] {
  const data = JSON.parse(readFileSync(path.join(dir, ALARM_FILE), 'utf8')) as { outbox: Record<string, Array<{ event: AlarmEvent }>> };
  return (data.outbox[sink] ?? []).map((e) => e.event);
}

// --- a real HTTP server standing in for the admin's webhook receiver -----------------------

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface WebhookReceiver {
  url: string;
  port: number;
  received: Received[];
  /** The status to answer with; default 204. */
  respond: (r: Received) => number;
  stop(): Promise<void>;
  /** (Re)listen on the same port. */
  start(): Promise<void>;
}

async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: Received[] = [];
  let port = 0;
  let server: Server | undefined;
  const self: WebhookReceiver = {
    url: '',
    port: 0,
    received,
    respond: () => 204,
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
          const status = self.respond(r);
          // Only what the receiver accepted counts as received.
          if (status >= 200 && status < 300) received.push(r);
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `refused with ${status}` : '');
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      port = (s.address() as AddressInfo).port;
      server = s;
      self.port = port;
      self.url = `http://127.0.0.1:${port}/mft-alarms`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
  };
  await self.start();
  return self;
}

const bodies = (w: WebhookReceiver): AlarmEvent[] => w.received.map((r) => JSON.parse(r.body) as AlarmEvent);
const summary = (events: AlarmEvent[]): string[] => events.map((e) => `${e.event} ${e.alarmId} ${e.id}`);

let am: AlertmanagerServer;
let rsyslog: RsyslogServer;

beforeAll(async () => {
  [am, rsyslog] = await Promise.all([startAlertmanager(), startRsyslog()]);
});

afterAll(async () => {
  await Promise.allSettled([am?.destroy(), rsyslog?.destroy()]);
  for (const d of tmpDirs) rmrf(d);
});

describe('AlertmanagerSink -> real Alertmanager', () => {
  it('a raised alarm becomes an active alert and a firing notification; its clear resolves it with endsAt = clearedAt', async () => {
    const node = `am-${randomUUID().slice(0, 8)}`;
    const withChat: AlarmKey = { name: 'XcpMFTExtFsFreeSpaceWarn', node, chatType: 'group' };
    const withoutChat: AlarmKey = { name: 'XcpMFTDBConnectError', node };
    const script = alarmScript();
    const sink = new AlertmanagerSink('alertmanager', { url: am.url, headers: {}, timeoutMs: 10_000 }, 180_000);

    const raisedSpace = script.raise(withChat);
    const raisedDb = script.raise(withoutChat, 'connect ECONNREFUSED 127.0.0.1:5432');
    await sink.deliver(raisedSpace);
    await sink.deliver(raisedDb);

    // Alertmanager's own API holds both as active alerts with the labels routing uses.
    const ours = async (): Promise<Awaited<ReturnType<AlertmanagerServer['alerts']>>> => (await am.alerts()).filter((a) => a.labels.node === node);
    await waitUntil('both alerts in GET /api/v2/alerts', async () => (await ours()).length === 2);
    const active = await ours();
    const space = active.find((a) => a.labels.alertname === 'XcpMFTExtFsFreeSpaceWarn');
    const db = active.find((a) => a.labels.alertname === 'XcpMFTDBConnectError');
    expect(space?.labels).toEqual({ alertname: 'XcpMFTExtFsFreeSpaceWarn', node, severity: 'warning', chat_type: 'group', service: 'mft-retention', instance: hostname() });
    expect(db?.labels).toEqual({ alertname: 'XcpMFTDBConnectError', node, severity: 'critical', service: 'mft-retention', instance: hostname() });
    expect(space?.status.state).toBe('active');
    expect(space?.annotations).toMatchObject({ value: raisedSpace.value, threshold: raisedSpace.threshold, summary: raisedSpace.problem, solution: raisedSpace.solution });
    expect(Date.parse(space!.startsAt)).toBe(Date.parse(raisedSpace.raisedAt));
    // Not resolved before the validity (the re-send interval) runs out.
    expect(Date.parse(space!.endsAt)).toBeGreaterThan(Date.now() + 60_000);

    // ...and Alertmanager notifies its receiver that they fire.
    for (const alertname of ['XcpMFTExtFsFreeSpaceWarn', 'XcpMFTDBConnectError']) {
      const { alert } = await am.waitForNotification((a) => a.labels.node === node && a.labels.alertname === alertname && a.status === 'firing');
      expect(alert.labels.severity).toBe(alertname === 'XcpMFTDBConnectError' ? 'critical' : 'warning');
    }

    const clearedSpace = script.clear(withChat);
    const clearedDb = script.clear(withoutChat, 'connected');
    expect(sink.toAlert(clearedSpace).endsAt).toBe(clearedSpace.clearedAt);
    await sink.deliver(clearedSpace);
    await sink.deliver(clearedDb);

    for (const cleared of [clearedSpace, clearedDb]) {
      const { alert, notification } = await am.waitForNotification((a) => a.labels.node === node && a.labels.alertname === cleared.alarm && a.status === 'resolved');
      expect(Date.parse(alert.endsAt)).toBe(Date.parse(cleared.clearedAt!));
      expect(Date.parse(alert.startsAt)).toBe(Date.parse(cleared.raisedAt));
      expect(notification.body.status).toBe('resolved');
    }
    // Resolved alerts are no longer listed as active.
    await waitUntil('the alerts to leave GET /api/v2/alerts', async () => (await ours()).length === 0);
  });
});

describe('SyslogSink -> real rsyslogd', () => {
  const FACILITY = 'local3'; // 19
  const expectRecord = (r: SyslogRecord, e: AlarmEvent, input: string, severity: string, severityCode: number): void => {
    expect(r.input).toBe(input);
    expect(r.pri).toBe(19 * 8 + severityCode);
    expect(r.facility).toBe(FACILITY);
    expect(r.severity).toBe(severity);
    expect(r.appName).toBe('mft-retention-test');
    expect(r.procId).toBe(String(process.pid));
    expect(r.msgId).toBe(e.alarm);
    expect(r.hostname).toBe(hostname());
    // The structured data as rsyslog's RFC 5424 parser read it back: every parameter, unescaped.
    expect(r.sd[SD_ID]).toEqual({
      event: e.event,
      alarm: e.alarm,
      severity: e.severity,
      node: e.node,
      ...(e.chatType ? { chatType: e.chatType } : {}),
      value: e.value,
      threshold: e.threshold,
      raisedAt: e.raisedAt,
      ...(e.clearedAt ? { clearedAt: e.clearedAt } : {}),
      alarmId: e.alarmId,
      id: e.id,
    });
    expect(r.msg).toContain(`${e.alarm} ${e.event} on ${e.node}${e.chatType ? `/${e.chatType}` : ''}: ${e.value}.`);
  };

  it.each(['udp', 'tcp'] as const)('over %s: a raise arrives with its severity, app name, MSGID and escaped structured data; the clear as notice', async (protocol) => {
    const node = `sys-${protocol}-${randomUUID().slice(0, 8)}`;
    const key: AlarmKey = { name: 'XcpMFTDBFullError', node, chatType: 'persistent' };
    const script = alarmScript();
    const sink = new SyslogSink('syslog', { host: '127.0.0.1', port: protocol === 'udp' ? rsyslog.udpPort : rsyslog.tcpPort, protocol, facility: FACILITY, appName: 'mft-retention-test', timeoutMs: 10_000 });
    const input = protocol === 'udp' ? 'imudp' : 'imtcp';

    const raised = script.raise(key, AWKWARD_VALUE);
    await sink.deliver(raised);
    const r1 = await rsyslog.waitForRecord((r) => r.sd[SD_ID]?.id === raised.id);
    expectRecord(r1, raised, input, 'crit', 2);
    expect(r1.sd[SD_ID]!.value).toBe(AWKWARD_VALUE);
    // On the wire (and in rsyslog's RFC 5424 output) the value is escaped as RFC 5424 6.3.3 says.
    const line = await rsyslog.waitForLine((l) => l.includes(raised.id));
    expect(line).toContain(String.raw`value="8.2 % free on \"nfs\]\\export\" [vol\\1\] now"`);
    expect(line.startsWith(`<${19 * 8 + 2}>1 `)).toBe(true);

    const cleared = script.clear(key);
    await sink.deliver(cleared);
    const r2 = await rsyslog.waitForRecord((r) => r.sd[SD_ID]?.id === cleared.id);
    expectRecord(r2, cleared, input, 'notice', 5);
    expect(r2.sd[SD_ID]!.alarmId).toBe(r1.sd[SD_ID]!.alarmId);
  });
});

describe('WebhookSink -> real HTTP server', () => {
  const HMAC_KEY = 'whk-7f3a9c2e51b0d4e8';
  let hook: WebhookReceiver;
  let sink: AlarmSink;
  let validate: (data: unknown) => boolean;

  beforeAll(async () => {
    hook = await startWebhookReceiver();
    const keyFile = path.join(tempDir('mft-webhook-key-'), 'webhook.key');
    // As `echo key > file` leaves it: the trailing newline is not part of the key.
    writeFileSync(keyFile, `${HMAC_KEY}\n`, { mode: 0o600 });
    const alarms: ResolvedAlarms = {
      checkIntervalMs: 300_000,
      sinks: [{ type: 'webhook', name: 'hook', url: hook.url, headers: { 'X-Tenant': 'uc-ops', Authorization: 'Bearer t0ken-abc' }, timeoutMs: 10_000, hmac: { kind: 'file', path: keyFile }, purgeFinished: false }],
      delivery: FAST,
      defaults: {
        freeSpace: { lowerPercent: 10, upperPercent: 15, purgeWhenRaised: true },
        database: { raisePercent: 90, clearPercent: 85 },
        stalled: { maxTimeWithoutSuccessMs: 6 * 3_600_000, maxBacklogAgeMs: 6 * 3_600_000 },
      },
    };
    const sinks = makeSinks(alarms, captureLog().log, {});
    sink = sinks.find((s) => s.name === 'hook')!;
    expect(sink).toBeInstanceOf(WebhookSink);
    const ajv = new Ajv2020({ allErrors: true });
    addFormats(ajv);
    const fn = ajv.compile(JSON.parse(readFileSync(path.join(ROOT, ALARM_EVENT_SCHEMA_FILE), 'utf8')) as object);
    validate = (data) => {
      const ok = fn(data) as boolean;
      if (!ok) throw new Error(`payload does not match ${ALARM_EVENT_SCHEMA_FILE}: ${ajv.errorsText(fn.errors)}`);
      return ok;
    };
  });
  afterAll(() => hook?.stop());

  it('posts the event as the published JSON Schema describes it, signed with the key from the secret file, with the custom headers', async () => {
    const node = `hook-${randomUUID().slice(0, 8)}`;
    const script = alarmScript();
    const events = [script.raise({ name: 'XcpMFTExtFsMountError', node }, 'connect ETIMEDOUT 10.0.0.5:22'), script.clear({ name: 'XcpMFTExtFsMountError', node }, 'connected')];
    hook.respond = () => 200;
    for (const e of events) await sink.deliver(e);

    const mine = hook.received.filter((r) => r.body.includes(node));
    expect(mine).toHaveLength(2);
    mine.forEach((r, i) => {
      const e = events[i]!;
      const payload: unknown = JSON.parse(r.body);
      expect(validate(payload)).toBe(true);
      expect(payload).toEqual(e);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-tenant']).toBe('uc-ops');
      expect(r.headers.authorization).toBe('Bearer t0ken-abc');
      expect(r.headers['x-mft-retention-event']).toBe(e.event);
      expect(r.headers['x-mft-retention-id']).toBe(e.id);
      // The receiver's check: HMAC-SHA256 over "<timestamp>.<body>" with the shared key.
      const ts = r.headers['x-mft-retention-timestamp'] as string;
      expect(ts).toMatch(/^\d+$/);
      expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(3600);
      const expected = `sha256=${createHmac('sha256', HMAC_KEY).update(`${ts}.${r.body}`).digest('hex')}`;
      expect(r.headers['x-mft-retention-signature']).toBe(expected);
      // ...which a forged body or another key does not pass.
      expect(`sha256=${createHmac('sha256', `${HMAC_KEY}\n`).update(`${ts}.${r.body}`).digest('hex')}`).not.toBe(expected);
      expect(`sha256=${createHmac('sha256', HMAC_KEY).update(`${ts}.${r.body.replace(node, 'other')}`).digest('hex')}`).not.toBe(expected);
    });
  });

  it.each([400, 401, 403, 404, 422])('HTTP %i is a RejectedDeliveryError (retrying cannot help)', async (status) => {
    hook.respond = () => status;
    const e = alarmScript().raise({ name: 'XcpMFTPurgeStalledWarn', node: `hook-${status}` });
    const err = await sink.deliver(e).then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(RejectedDeliveryError);
    expect((err as Error).message).toContain(`HTTP ${status}`);
    expect((err as Error).message).not.toContain(HMAC_KEY);
    expect((err as Error).message).not.toContain('t0ken-abc');
  });

  it.each([408, 429, 500, 503])('HTTP %i is a retryable error, not a rejection', async (status) => {
    hook.respond = () => status;
    const e = alarmScript().raise({ name: 'XcpMFTPurgeStalledWarn', node: `hook-${status}` });
    const err = await sink.deliver(e).then(() => undefined, (x: unknown) => x);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RejectedDeliveryError);
    expect((err as Error).message).toContain(`HTTP ${status}`);
  });

  it('through Delivery: a 500 is retried until accepted, a 400 is dropped and the next event still goes out', async () => {
    const node = `hook-retry-${randomUUID().slice(0, 8)}`;
    const script = alarmScript();
    const first = script.raise({ name: 'XcpMFTDBConnectError', node });
    const refused = script.raise({ name: 'XcpMFTExtFsMountError', node });
    const last = script.clear({ name: 'XcpMFTDBConnectError', node });
    let fivehundreds = 0;
    hook.respond = (r) => {
      const e = JSON.parse(r.body) as AlarmEvent;
      if (e.id === first.id && fivehundreds < 3) return (fivehundreds++, 500);
      if (e.id === refused.id) return 400;
      return 200;
    };
    const before = hook.received.length;
    const { log, lines } = captureLog();
    const observer = countingObserver();
    const store = await AlarmStore.open(tempDir('mft-alarms-retry-'));
    const delivery = new Delivery([sink], store, FAST, log, observer);
    try {
      await delivery.enqueue([first, refused, last]);
      expect(await delivery.flush(30_000)).toBe(true);
    } finally {
      await delivery.stop();
    }
    expect(fivehundreds).toBe(3);
    expect(summary(bodies(hook).slice(before))).toEqual(summary([first, last]));
    expect(observer.counts).toMatchObject({ delivered: 2, failed: 4 });
    expect(lines.some((l) => l.eventId === refused.id && String(l.msg).includes('rejected the event'))).toBe(true);
    expect(lines.some((l) => l.eventId === first.id && l.attempts === 4 && String(l.msg).includes('delivered after retrying'))).toBe(true);
  });
});

describe('outage and recovery: the outbox on disk, a restart, every event once and in order', () => {
  it('webhook down: raise and clear events wait in alarms.json, survive a restart of the delivery, then arrive once each, in order', async () => {
    const hook = await startWebhookReceiver();
    const dir = tempDir('mft-alarms-outage-');
    try {
      const node = `outage-${randomUUID().slice(0, 8)}`;
      const script = alarmScript();
      const a: AlarmKey = { name: 'XcpMFTExtFsFreeSpaceWarn', node, chatType: 'im' };
      const b: AlarmKey = { name: 'XcpMFTDBFullError', node };
      const sink = (): AlarmSink => new WebhookSink('hook', { url: hook.url, headers: {}, timeoutMs: 5_000 });
      await hook.stop();

      // First daemon: the receiver is down.
      const observer1 = countingObserver();
      const store1 = await AlarmStore.open(dir);
      const delivery1 = new Delivery([sink()], store1, FAST, captureLog().log, observer1);
      delivery1.start();
      const events = [script.raise(a), script.raise(b)];
      store1.data.state = script.state();
      await delivery1.enqueue(events);
      events.push(script.clear(a), script.clear(b));
      store1.data.state = script.state();
      await delivery1.enqueue(events.slice(2));
      await waitUntil('failed deliveries while the receiver is down', () => observer1.counts.failed >= 3);
      expect(observer1.counts.delivered).toBe(0);
      expect(summary(outboxOnDisk(dir, 'hook'))).toEqual(summary(events));
      await delivery1.stop();
      expect(summary(outboxOnDisk(dir, 'hook'))).toEqual(summary(events));

      // Second daemon, same state directory: the queue is read back from disk.
      const observer2 = countingObserver();
      const store2 = await AlarmStore.open(dir);
      // Only alarm events were queued: a stray other event would show in the summary and fail the comparison.
      expect(summary(store2.data.outbox.hook!.map((e) => e.event) as AlarmEvent[])).toEqual(summary(events));
      const delivery2 = new Delivery([sink()], store2, FAST, captureLog().log, observer2);
      delivery2.start();
      await waitUntil('failed deliveries after the restart', () => observer2.counts.failed >= 1);
      await hook.start();
      try {
        expect(await delivery2.flush(30_000)).toBe(true);
      } finally {
        await delivery2.stop();
      }
      // The backoff is short; had anything been sent twice it would be here by now.
      await sleep(500);
      expect(summary(bodies(hook))).toEqual(summary(events));
      expect(outboxOnDisk(dir, 'hook')).toEqual([]);
      expect(observer2.counts.delivered).toBe(4);
    } finally {
      await hook.stop();
    }
  });

  it('a reload while the receiver is down: the new sink takes over the queued events and sends each once', async () => {
    const hook = await startWebhookReceiver();
    const dir = tempDir('mft-alarms-reload-');
    try {
      const script = alarmScript();
      const key: AlarmKey = { name: 'XcpMFTDBConnectError', node: `reload-${randomUUID().slice(0, 8)}` };
      const sink = (): AlarmSink => new WebhookSink('hook', { url: hook.url, headers: {}, timeoutMs: 5_000 });
      await hook.stop();
      const observer = countingObserver();
      const store = await AlarmStore.open(dir);
      const delivery = new Delivery([sink()], store, FAST, captureLog().log, observer);
      delivery.start();
      const events = [script.raise(key)];
      store.data.state = script.state();
      await delivery.enqueue(events);
      await waitUntil('a failed delivery', () => observer.counts.failed >= 1);
      // SIGHUP: the same sink, configured again, while a retry is pending.
      delivery.reconfigure([sink()], FAST);
      await hook.start();
      try {
        // No new event and no flush: the queued one must go out on its own.
        await waitUntil('the queued event at the receiver', () => hook.received.length >= 1);
        await sleep(500);
        expect(summary(bodies(hook))).toEqual(summary(events));
      } finally {
        await delivery.stop();
      }
    } finally {
      await hook.stop();
    }
  });

  it('rsyslog (TCP) down: events wait on disk, survive a restart, then arrive once each, in order', async () => {
    const dir = tempDir('mft-alarms-syslog-outage-');
    const node = `syslog-outage-${randomUUID().slice(0, 8)}`;
    const script = alarmScript();
    const key: AlarmKey = { name: 'XcpMFTPurgeStalledWarn', node };
    const sink = (): AlarmSink => new SyslogSink('rsyslog-tcp', { host: '127.0.0.1', port: rsyslog.tcpPort, protocol: 'tcp', facility: 'daemon', appName: 'mft-retention', timeoutMs: 5_000 });
    const ours = (): SyslogRecord[] => rsyslog.records().filter((r) => r.sd[SD_ID]?.node === node);
    await rsyslog.stop();
    try {
      const observer1 = countingObserver();
      const store1 = await AlarmStore.open(dir);
      const delivery1 = new Delivery([sink()], store1, FAST, captureLog().log, observer1);
      const events = [script.raise(key, 'no successful purge for 7 h'), script.clear(key, 'purged 2025-03-14T10:00:00Z'), script.raise(key, 'no successful purge for 6 h 5 min')];
      await delivery1.enqueue(events);
      await waitUntil('failed deliveries while rsyslog is down', () => observer1.counts.failed >= 2);
      await delivery1.stop();
      expect(summary(outboxOnDisk(dir, 'rsyslog-tcp'))).toEqual(summary(events));

      const observer2 = countingObserver();
      const delivery2 = new Delivery([sink()], await AlarmStore.open(dir), FAST, captureLog().log, observer2);
      delivery2.start();
      await waitUntil('failed deliveries after the restart', () => observer2.counts.failed >= 1);
      await rsyslog.start();
      try {
        expect(await delivery2.flush(30_000)).toBe(true);
      } finally {
        await delivery2.stop();
      }
      await rsyslog.waitForRecord((r) => r.sd[SD_ID]?.id === events[2]!.id);
      await sleep(500);
      expect(ours().map((r) => `${r.sd[SD_ID]!.event} ${r.sd[SD_ID]!.alarmId} ${r.sd[SD_ID]!.id}`)).toEqual(summary(events));
      expect(ours().map((r) => r.severity)).toEqual(['warning', 'notice', 'warning']);
      expect(outboxOnDisk(dir, 'rsyslog-tcp')).toEqual([]);
    } finally {
      await rsyslog.start();
    }
  });

  it('Alertmanager down: a raise queued meanwhile becomes an active alert once it is back, and its clear resolves it', async () => {
    const dir = tempDir('mft-alarms-am-outage-');
    const node = `am-outage-${randomUUID().slice(0, 8)}`;
    const key: AlarmKey = { name: 'XcpMFTDBConnectError', node };
    const script = alarmScript();
    const observer = countingObserver();
    await am.stop();
    const delivery = new Delivery([new AlertmanagerSink('alertmanager', { url: am.url, headers: {}, timeoutMs: 5_000 }, 180_000)], await AlarmStore.open(dir), FAST, captureLog().log, observer);
    try {
      const raised = script.raise(key, 'connect ECONNREFUSED 127.0.0.1:5432');
      await delivery.enqueue([raised]);
      await waitUntil('failed deliveries while Alertmanager is down', () => observer.counts.failed >= 2);
      expect(summary(outboxOnDisk(dir, 'alertmanager'))).toEqual(summary([raised]));
      await am.start();
      expect(await delivery.flush(30_000)).toBe(true);
      await waitUntil('the alert in GET /api/v2/alerts', async () => (await am.alerts()).some((a) => a.labels.node === node));
      await am.waitForNotification((a) => a.labels.node === node && a.status === 'firing');

      const cleared = script.clear(key, 'connected');
      await delivery.enqueue([cleared]);
      expect(await delivery.flush(30_000)).toBe(true);
      const { alert } = await am.waitForNotification((a) => a.labels.node === node && a.status === 'resolved');
      expect(Date.parse(alert.endsAt)).toBe(Date.parse(cleared.clearedAt!));
    } finally {
      await delivery.stop();
      await am.start();
    }
  });

  it('bound: with maxQueued 3, five events queued while the receiver is down drop the two oldest (logged); the other three arrive', async () => {
    const hook = await startWebhookReceiver();
    const dir = tempDir('mft-alarms-bound-');
    try {
      await hook.stop();
      const node = `bound-${randomUUID().slice(0, 8)}`;
      const script = alarmScript();
      const { log, lines } = captureLog();
      const observer = countingObserver();
      const delivery = new Delivery([new WebhookSink('hook', { url: hook.url, headers: {}, timeoutMs: 5_000 })], await AlarmStore.open(dir), { ...FAST, maxQueued: 3 }, log, observer);
      const events = [
        script.raise({ name: 'XcpMFTExtFsFreeSpaceWarn', node }),
        script.raise({ name: 'XcpMFTDBFullError', node }),
        script.clear({ name: 'XcpMFTExtFsFreeSpaceWarn', node }),
        script.raise({ name: 'XcpMFTPurgeStalledWarn', node }),
        script.clear({ name: 'XcpMFTDBFullError', node }),
      ];
      try {
        for (const e of events) await delivery.enqueue([e]);
        await waitUntil('failed deliveries while the receiver is down', () => observer.counts.failed >= 2);
        expect(summary(outboxOnDisk(dir, 'hook'))).toEqual(summary(events.slice(2)));
        expect(observer.counts.dropped).toBe(2);
        const dropLines = lines.filter((l) => String(l.msg).includes('alarm outbox full'));
        expect(dropLines.map((l) => l.eventId)).toEqual([events[0]!.id, events[1]!.id]);
        expect(dropLines.every((l) => l.sink === 'hook' && l.maxQueued === 3 && l.level === 50)).toBe(true);

        await hook.start();
        expect(await delivery.flush(30_000)).toBe(true);
      } finally {
        await delivery.stop();
      }
      await sleep(500);
      expect(summary(bodies(hook))).toEqual(summary(events.slice(2)));
      expect(outboxOnDisk(dir, 'hook')).toEqual([]);
    } finally {
      await hook.stop();
    }
  });
});
