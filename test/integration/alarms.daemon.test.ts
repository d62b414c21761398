// Issue 3: the daemon's alarms end to end, on the real PostgreSQL and sshd: free space read
// over SFTP (statvfs@openssh.com) from a small real file system, a full database (SQLSTATE
// 53100 raised by a trigger, and a capacity below the real size), a wrong host key; each
// alarm delivered once when raised and once when cleared, across a restart and a receiver
// outage, and shown by `mft-retention alarms`.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, getText, metricValue, waitFor, type DaemonProcess } from '../helpers/daemonHarness.js';
import { MFT_DB_PASSWORD, startPostgres } from '../helpers/pgServer.js';
import { runCli } from '../helpers/purgeFixture.js';
import { startSshd } from '../helpers/sshdServer.js';

interface Received {
  status: number;
  body: { id: string; event: string; alarm: string; node: string; value: string; chatType: string | null };
}

/** A real HTTP receiver for the webhook sink; answers 503 to the first `failFirst` posts. */
class WebhookReceiver {
  readonly received: Received[] = [];
  private server!: Server;
  failFirst = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        const status = this.failFirst > 0 ? 503 : 204;
        if (this.failFirst > 0) this.failFirst--;
        this.received.push({ status, body: JSON.parse(text) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/alarms`;
  }

  /** Events the receiver accepted (2xx), optionally of one alarm and node. */
  accepted(alarm?: string, node?: string): Received['body'][] {
    return this.received.filter((r) => r.status < 300 && (!alarm || r.body.alarm === alarm) && (!node || r.body.node === node)).map((r) => r.body);
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const checksDone = (d: DaemonProcess, node: string, after = 0): number => d.lines.slice(after).filter((l) => l.msg === 'alarm check done' && l.node === node).length;

/** A state file that says the node was just purged: no catch-up purge at start. */
function recentlyPurged(configFile: string, node: string): void {
  const dir = join(configFile, '..', 'state');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'daemon-state.json'), JSON.stringify({ lastSuccess: { [node]: new Date().toISOString() } }));
}

describe('alarms raised and cleared by the daemon', () => {
  let bed: DaemonTestBed;
  let hook: WebhookReceiver;
  let hookUrl: string;
  const mounts: string[] = [];

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(async () => {
    await bed.killDaemons();
    await hook?.stop();
    for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  });
  afterAll(() => bed?.close());

  async function freshHook(): Promise<void> {
    hook = new WebhookReceiver();
    hookUrl = await hook.start();
  }

  const alarmsConfig = (extra: Record<string, unknown> = {}) => ({
    log: { level: 'debug' },
    alarms: { checkInterval: 'PT1S', delivery: { retryInitial: 'PT0.2S', retryMax: 'PT0.5S' }, sinks: [{ type: 'webhook', url: hookUrl }], ...extra },
  });

  it('low free space on the file server raises XcpMFTExtFsFreeSpaceWarn, starts a purge at once, and clears when space is back', async () => {
    await freshHook();
    const n = await bed.node('space_1');
    const paths = await n.fillSmallFileSystem(mounts);
    const fs = statfsSync(n.directory);

    const file = bed.config([n], { schedule: '0 0 1 1 *', extra: alarmsConfig() });
    recentlyPurged(file, n.name);
    const d = bed.daemon(file);

    await waitFor('the raised alarm at the webhook', () => hook.accepted('XcpMFTExtFsFreeSpaceWarn').length >= 1);
    const raised = hook.accepted('XcpMFTExtFsFreeSpaceWarn')[0]!;
    expect(raised).toMatchObject({ event: 'raised', node: 'space_1', chatType: null });
    expect(raised.value).toMatch(/% free \(/);
    // The raise starts a purge (the yearly schedule would not); the files go, and the alarm clears.
    await d.waitForLog('a purge started by the alarm', (l) => l.msg === 'purge started' && l.trigger === 'alarm');
    await waitFor('the cleared alarm at the webhook', () => hook.accepted('XcpMFTExtFsFreeSpaceWarn').some((e) => e.event === 'cleared'), 20_000);
    expect(paths.every((p) => !existsSync(p))).toBe(true);
    expect(await n.rowsFor(paths)).toEqual(new Set());

    // Later checks find plenty of space: no second raise, no second clear.
    const mark = d.lines.length;
    await waitFor('three more checks', () => checksDone(d, n.name, mark) >= 3, 20_000);
    expect(hook.accepted('XcpMFTExtFsFreeSpaceWarn').map((e) => e.event)).toEqual(['raised', 'cleared']);
    // The files had been due for 48 h (over the 6 h default): the stalled-purge alarm of the
    // chat type was raised too, and cleared by the same purge.
    const stalled = hook.accepted('XcpMFTPurgeStalledWarn');
    expect(stalled.map((e) => `${e.chatType} ${e.event}`)).toEqual(['im raised', 'im cleared']);
    expect(stalled[0]!.value).toBe('32 expired file(s) waiting; the oldest has been due for 48.0 h');
    expect(hook.accepted().filter((e) => !['XcpMFTExtFsFreeSpaceWarn', 'XcpMFTPurgeStalledWarn'].includes(e.alarm))).toEqual([]);

    const m = (await getText(`${await d.url()}/metrics`)).body;
    expect(metricValue(m, 'mft_alarm_active{alarm="XcpMFTExtFsFreeSpaceWarn",node="space_1",chat_type=""}')).toBe(0);
    expect(metricValue(m, 'mft_file_server_size_bytes{node="space_1"}')).toBe(fs.blocks * fs.bsize);
    expect(metricValue(m, 'mft_file_server_available_ratio{node="space_1"}')).toBeGreaterThan(0.9);
    expect(metricValue(m, 'mft_database_size_bytes{node="space_1"}')).toBeGreaterThan(0);
    expect(metricValue(m, 'mft_expired_backlog_files{node="space_1",chat_type="im"}')).toBe(0);
    expect(metricValue(m, 'mft_alarm_deliveries_total{sink="webhook",result="delivered"}')).toBe(hook.accepted().length);
  });

  it('a wrong host key raises XcpMFTExtFsMountError once, across a receiver outage and a restart; fixing the config clears it', async () => {
    await freshHook();
    hook.failFirst = 2;
    const n = await bed.node('hostkey_1');
    const files = await n.seed(3);
    // The files stay unpurged here on purpose: keep the stalled-purge alarm out of this test.
    const good = bed.config([n], { schedule: '0 0 1 1 *', extra: alarmsConfig({ stalled: { maxBacklogAge: 'P30D' } }) });
    const wrongKey = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const text = readFileSync(good, 'utf8');
    writeFileSync(good, text.replace(bed.sshd.hostKeyFingerprint, wrongKey));

    const first = bed.daemon(good, 'first');
    await waitFor('the raised alarm, after two refused posts', () => hook.accepted('XcpMFTExtFsMountError').length >= 1, 20_000);
    const tries = hook.received.filter((r) => r.body.alarm === 'XcpMFTExtFsMountError');
    expect(tries.map((r) => r.status)).toEqual([503, 503, 204]);
    expect(new Set(tries.map((r) => r.body.id)).size).toBe(1); // the same event, retried
    expect(tries[2]!.body.value).toContain('does not match the pinned key');
    // Refused, so nothing was deleted.
    expect(files.every((p) => existsSync(p))).toBe(true);
    expect(await n.rowsFor(files)).toEqual(new Set(files));

    first.signal('SIGTERM');
    expect((await first.exited).code).toBe(0);
    const shown = await runCli(['alarms', '--config', good]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/CRITICAL\s+XcpMFTExtFsMountError\s+node hostkey_1/);

    // A restart remembers the alarm: more failing checks, still one raise.
    const second = bed.daemon(good, 'second');
    await waitFor('three checks after the restart', () => checksDone(second, n.name) >= 3, 20_000);
    expect(hook.accepted('XcpMFTExtFsMountError')).toHaveLength(1);

    // The right key, a reload: the next check connects and clears the alarm, once.
    writeFileSync(good, text);
    second.signal('SIGHUP');
    await waitFor('the cleared alarm', () => hook.accepted('XcpMFTExtFsMountError').some((e) => e.event === 'cleared'), 20_000);
    const mark = second.lines.length;
    await waitFor('three more checks', () => checksDone(second, n.name, mark) >= 3, 20_000);
    expect(hook.accepted('XcpMFTExtFsMountError').map((e) => e.event)).toEqual(['raised', 'cleared']);
    expect(hook.accepted('XcpMFTDBConnectError'), JSON.stringify(hook.accepted('XcpMFTDBConnectError'))).toEqual([]);
    const after = await runCli(['alarms', '--config', good, '--json']);
    expect(JSON.parse(after.stdout).active).toEqual([]);
  });

  it('a full database (SQLSTATE 53100) raises XcpMFTDBFullError, loses no row, and clears once purges get through', async () => {
    await freshHook();
    const n = await bed.node('dbfull_1');
    const files = await n.seed(5);
    await n.admin.query(`
      CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END $$;
      CREATE TRIGGER disk_full BEFORE DELETE ON aft_log FOR EACH STATEMENT EXECUTE FUNCTION disk_full();`);
    const file = bed.config([n], { schedule: '*/2 * * * * *', extra: alarmsConfig() });
    const d = bed.daemon(file);

    await waitFor('the raised alarm', () => hook.accepted('XcpMFTDBFullError').length >= 1, 20_000);
    expect(hook.accepted('XcpMFTDBFullError')[0]).toMatchObject({ event: 'raised', node: 'dbfull_1' });
    expect(hook.accepted('XcpMFTDBFullError')[0]!.value).toContain('53100');
    // The files may be gone, but every row is still there for the next run.
    expect(await n.rowsFor(files)).toEqual(new Set(files));

    await n.admin.query('DROP TRIGGER disk_full ON aft_log');
    await waitFor('the cleared alarm', () => hook.accepted('XcpMFTDBFullError').some((e) => e.event === 'cleared'), 20_000);
    expect(await n.rowsFor(files)).toEqual(new Set());
    expect(files.every((p) => !existsSync(p))).toBe(true);
    expect(hook.accepted('XcpMFTDBFullError').map((e) => e.event)).toEqual(['raised', 'cleared']);
    await d.waitForLog('a purge that went through', (l) => l.msg === 'purge finished' && l.status === 'ok');
  });

  it('alarms --check compares the database size with a configured capacity (raise below it, ok above)', async () => {
    await freshHook();
    const n = await bed.node('capacity_1');
    mkdirSync(join(n.directory, 'files'));
    const env = { MFT_TEST_DB_PASSWORD: MFT_DB_PASSWORD };
    const small = bed.config([n], { extra: alarmsConfig({ database: { capacity: '1MiB' } }) });
    const r = await runCli(['alarms', '--config', small, '--check'], { env });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/RAISE\s+XcpMFTDBFullError \[usage\]: \d+\.\d % used \(.* of 1\.00 MiB, pg_database_size\)/);
    const big = bed.config([n], { extra: alarmsConfig({ database: { capacity: '10TB' } }) });
    const ok = await runCli(['alarms', '--config', big, '--check'], { env });
    expect(ok.stdout).toMatch(/ok\s+XcpMFTDBFullError \[usage\]/);
    // --check is read-only: nothing was sent anywhere.
    expect(hook.received).toEqual([]);
  });

  it('purge --alarms (the systemd timer) raises once over several runs and clears when a run gets through', async () => {
    await freshHook();
    const n = await bed.node('timer_1');
    const files = await n.seed(4);
    const file = bed.config([n], { extra: alarmsConfig() });
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace(bed.sshd.hostKeyFingerprint, `SHA256:${Buffer.alloc(32, 9).toString('base64').replace(/=+$/, '')}`));
    const env = { MFT_TEST_DB_PASSWORD: MFT_DB_PASSWORD };

    for (let run = 1; run <= 2; run++) {
      const r = await runCli(['purge', '--alarms', '--config', file], { env });
      expect(r.code, r.stderr).toBe(3);
    }
    expect(hook.accepted('XcpMFTExtFsMountError').map((e) => e.event)).toEqual(['raised']);
    expect(await n.rowsFor(files)).toEqual(new Set(files));

    writeFileSync(file, text);
    const ok = await runCli(['purge', '--alarms', '--config', file], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(await n.rowsFor(files)).toEqual(new Set());
    expect(hook.accepted('XcpMFTExtFsMountError').map((e) => e.event)).toEqual(['raised', 'cleared']);
    expect((await runCli(['purge', '--alarms', '--dry-run', '--config', file], { env })).code).toBe(2);
  });

  it('alarms --test sends a test alarm to every sink and says which one cannot be reached (exit 3)', async () => {
    await freshHook();
    const n = await bed.node('test_1');
    // A TCP port with nothing listening: the syslog sink must fail, the webhook succeed.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const file = bed.config([n], { extra: { alarms: { sinks: [{ type: 'webhook', url: hookUrl }, { type: 'syslog', name: 'dead-syslog', host: '127.0.0.1', port: closed, protocol: 'tcp', timeout: 'PT3S' }] } } });
    const r = await runCli(['alarms', '--config', file, '--test']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/delivered\s+webhook \(webhook\)/);
    expect(r.stdout).toMatch(/FAILED\s+dead-syslog \(syslog\): syslog 127\.0\.0\.1:\d+\/tcp: .*ECONNREFUSED/);
    expect(r.stdout).toMatch(/delivered\s+log \(log\)/);
    expect(hook.accepted()).toHaveLength(1);
    expect(hook.accepted()[0]).toMatchObject({ event: 'test', alarm: 'MFTRetentionTestAlarm', severity: 'info' });
  });

  it('a purge refused by a safety limit raises XcpMFTPurgeRefusedWarn and removes nothing; a run that goes ahead clears it', async () => {
    await freshHook();
    const n = await bed.node('refused_1');
    const files = await n.seed(5);
    const file = bed.config([n], { schedule: '*/2 * * * * *', extra: { ...alarmsConfig({ stalled: { maxBacklogAge: 'P30D' } }), purge: { batchSize: 1000, limits: { maxFiles: 2 } } } });
    const d = bed.daemon(file);
    await waitFor('the refused alarm', () => hook.accepted('XcpMFTPurgeRefusedWarn').length >= 1, 20_000);
    const raised = hook.accepted('XcpMFTPurgeRefusedWarn')[0]!;
    expect(raised).toMatchObject({ event: 'raised', node: 'refused_1', chatType: 'all' });
    expect(raised.value).toMatch(/5/);
    expect(files.every((p) => existsSync(p))).toBe(true);
    expect(await n.rowsFor(files)).toEqual(new Set(files));

    // The cap lifted (a reload): the next run goes ahead and clears the alarm, once.
    writeFileSync(file, readFileSync(file, 'utf8').replace('"maxFiles": 2', '"maxFiles": 100'));
    d.signal('SIGHUP');
    await waitFor('the cleared alarm', () => hook.accepted('XcpMFTPurgeRefusedWarn').some((e) => e.event === 'cleared'), 20_000);
    expect(await n.rowsFor(files)).toEqual(new Set());
    expect(hook.accepted('XcpMFTPurgeRefusedWarn').map((e) => `${e.chatType} ${e.event}`)).toEqual(['all raised', 'all cleared']);
  });
});
