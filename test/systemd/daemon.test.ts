// mft-retention.service in a booted systemd 252 (Debian 12), installed as an admin installs it:
// the shipped unit (its own SystemCallFilter= and sandbox), the service user, /etc/mft-retention,
// credentials through LoadCredential=, the host's PostgreSQL and sshd as the node.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeFixture, waitFor } from '../helpers/daemonHarness.js';
import { bindApp, CONFIG, dropIn, installMftRetention, writeConfig, writePolicies, type ConfigSpec } from '../helpers/mftInContainer.js';
import { MFT_DB_PASSWORD, startPostgres, type PgServer } from '../helpers/pgServer.js';
import { freePort, sleep } from '../helpers/procUtil.js';
import { startSshd, type SshdServer } from '../helpers/sshdServer.js';
import { bootSystemdContainer, SYSTEMD_BOOT_TIMEOUT_MS, type SystemdContainer } from '../helpers/systemdContainer.js';

const UNIT = 'mft-retention.service';
// Makes the daemon's event loop spin forever 3 s after start while /run/mft-test-hang exists.
const HANG_MODULE = `import { existsSync } from 'node:fs';
if (existsSync('/run/mft-test-hang')) setTimeout(() => { for (;;); }, 3000);
`;

describe('mft-retention.service under systemd', () => {
  let pg: PgServer;
  let sshd: SshdServer;
  let node: NodeFixture;
  let ct: SystemdContainer;
  let port: number;
  let spec: ConfigSpec;

  const healthz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => ({ status: 0 }))).status;
  const show = (...props: string[]) => ct.show(UNIT, ...props);

  beforeAll(async () => {
    [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
    node = await NodeFixture.create(pg, sshd, 'node_1');
    port = await freePort();
    ct = await bootSystemdContainer({ binds: [bindApp()], name: 'mftt-daemon' });
    spec = { nodes: [{ fixture: node }], httpPort: port, policies: { im: 'P2D', groupchat: 'P1D', persistent: 'forever' } };
    await installMftRetention(ct, { ...spec, sshKey: sshd.clientPrivateKey, dbPassword: MFT_DB_PASSWORD });
    await ct.writeFile('/usr/local/lib/mft-test-hang.mjs', HANG_MODULE);
  }, SYSTEMD_BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await ct?.stop();
    await node?.close();
    await Promise.all([pg?.destroy(), sshd?.destroy()]);
  });

  it('starts under its own system-call filter, is ready once /healthz answers, and stays active as the service user', async () => {
    const filter = (await show('SystemCallFilter')).SystemCallFilter!;
    expect(filter).toContain('pkey_alloc');
    expect(filter).not.toMatch(/\breboot\b/);
    const start = await ct.systemctl('start', UNIT);
    expect(start.code, start.stderr + (await ct.journal(UNIT))).toBe(0);
    // Type=notify: `systemctl start` returned only once the daemon served.
    expect(await healthz()).toBe(200);
    const p = await show('Type', 'ActiveState', 'SubState', 'StatusText', 'MainPID', 'NRestarts');
    expect(p).toMatchObject({ Type: 'notify', ActiveState: 'active', SubState: 'running', NRestarts: '0' });
    expect(p.StatusText).toBe(`serving http://127.0.0.1:${port}`);
    expect((await ct.execOk(['ps', '-o', 'user=', '-p', p.MainPID!])).stdout.trim()).toBe('mft-retention');
    await sleep(2500);
    expect(await show('ActiveState', 'SubState', 'NRestarts', 'MainPID')).toEqual({ ActiveState: 'active', SubState: 'running', NRestarts: '0', MainPID: p.MainPID });
    // StateDirectory=mft-retention, StateDirectoryMode=0700: the service's own, private.
    expect((await ct.execOk(['stat', '-c', '%U:%G %a', '/var/lib/mft-retention'])).stdout.trim()).toBe('mft-retention:mft-retention 700');
  });

  it('a scheduled purge removes the expired files on the file server and their rows', async () => {
    const paths = await node.seed(20, { ageHours: 72 });
    await waitFor('the seeded files and rows to be purged', async () => paths.every((f) => !existsSync(f)) && (await node.rowsFor(paths)).size === 0, 30_000, 200);
    const removed = (await ct.journal(UNIT)).split('\n').filter((l) => l.includes('"msg":"removed"') && paths.some((f) => l.includes(f)));
    expect(removed).toHaveLength(20);
    expect(removed.every((l) => JSON.parse(l).trigger === 'schedule' || JSON.parse(l).trigger === 'catch-up')).toBe(true);
  });

  it('systemctl reload rejects a bad config, keeps running, then applies a changed policy', async () => {
    const paths = await node.seed(5, { ageHours: 30 });
    await sleep(4500); // two scheduled runs: im is kept for 2 days, the files stay
    expect(paths.every((f) => existsSync(f))).toBe(true);

    await ct.writeFile(CONFIG, 'nodes: []\nbogus: 1\n', { mode: 0o640, owner: 'root:mft-retention' });
    await ct.systemctlOk('reload', UNIT);
    await waitFor('the reload to be rejected', async () => (await ct.journal(UNIT)).includes('config reload rejected'), 15_000, 200);
    expect(await show('ActiveState', 'SubState')).toEqual({ ActiveState: 'active', SubState: 'running' });

    await writeConfig(ct, spec);
    await writePolicies(ct, { im: 'P1D', groupchat: 'P1D', persistent: 'forever' });
    await ct.systemctlOk('reload', UNIT);
    await waitFor('the files the new policy expires to be purged', async () => paths.every((f) => !existsSync(f)) && (await node.rowsFor(paths)).size === 0, 30_000, 200);
  });

  it('journald files each line under its level: `journalctl -p warning` shows warnings and errors, not the per-file lines', async () => {
    const warnings = (await ct.journal(UNIT, ['-p', 'warning'])).split('\n').filter((l) => l.startsWith('{'));
    expect(warnings.length).toBeGreaterThan(0);
    for (const l of warnings) expect(JSON.parse(l).level, l).toBeGreaterThanOrEqual(40);
    expect(warnings.some((l) => l.includes('config reload rejected'))).toBe(true);
    expect(warnings.some((l) => l.includes('"msg":"removed"'))).toBe(false);
    // The full journal: per-file lines at priority 6 (info), their MESSAGE the JSON line without the prefix.
    const entries = (await ct.journal(UNIT, ['-o', 'json'])).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const removed = entries.filter((e) => typeof e.MESSAGE === 'string' && e.MESSAGE.includes('"msg":"removed"'));
    expect(removed.length).toBeGreaterThanOrEqual(25);
    for (const e of removed) {
      expect(e.PRIORITY).toBe('6');
      expect(JSON.parse(e.MESSAGE!).level).toBe(30);
    }
  });

  it('kill -9 of the main process is restarted by Restart=on-failure', async () => {
    // RestartSec=10s as shipped; 1 s keeps the test short.
    await dropIn(ct, UNIT, '[Service]\nRestartSec=1s\n', 'test-restart');
    const before = (await show('MainPID')).MainPID!;
    await ct.execOk(['kill', '-9', before]);
    await waitFor('the restart', async () => {
      const p = await show('ActiveState', 'SubState', 'MainPID', 'NRestarts');
      return p.ActiveState === 'active' && p.SubState === 'running' && p.MainPID !== before && p.MainPID !== '0' && p.NRestarts === '1';
    }, 30_000, 200);
    expect(await ct.journal(UNIT)).toContain('Main process exited, code=killed, status=9/KILL');
    await waitFor('/healthz after the restart', async () => (await healthz()) === 200, 15_000, 200);
  });

  it('a hung event loop stops the watchdog pings: systemd kills the daemon and restarts it', async () => {
    await dropIn(ct, UNIT, '[Service]\nWatchdogSec=3s\nEnvironment="NODE_OPTIONS=--max-old-space-size=128 --import=/usr/local/lib/mft-test-hang.mjs"\n', 'test-hang');
    await ct.execOk(['touch', '/run/mft-test-hang']);
    await ct.systemctlOk('restart', UNIT);
    const hung = (await show('MainPID')).MainPID!;
    await waitFor('the watchdog to fire', async () => (await ct.journal(UNIT)).includes('Watchdog timeout'), 30_000, 100).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await ct.journal(UNIT, ['-n', '30'])}\n${JSON.stringify(await show('MainPID', 'WatchdogUSec', 'Environment', 'ActiveState', 'SubState'))}`);
    });
    await ct.execOk(['rm', '-f', '/run/mft-test-hang']);
    await waitFor('the restart after the watchdog', async () => {
      const p = await show('ActiveState', 'SubState', 'MainPID');
      return p.ActiveState === 'active' && p.SubState === 'running' && p.MainPID !== hung && p.MainPID !== '0';
    }, 30_000, 200);
    await dropIn(ct, UNIT, '', 'test-hang');
    await ct.systemctlOk('restart', UNIT);
    await sleep(4000); // the normal daemon pings within WatchdogSec=30s: no watchdog kill
    expect(await show('ActiveState', 'SubState', 'NRestarts')).toEqual({ ActiveState: 'active', SubState: 'running', NRestarts: '0' });
  });

  it('systemctl stop drains and ends with Result=success', async () => {
    await ct.systemctlOk('stop', UNIT);
    expect(await show('ActiveState', 'Result', 'ExecMainStatus')).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    expect(await healthz()).toBe(0);
  });

  it('a config error (exit 2) is not restarted (RestartPreventExitStatus=2)', async () => {
    await ct.writeFile(CONFIG, 'nodes: []\nbogus: 1\n', { mode: 0o640, owner: 'root:mft-retention' });
    const start = await ct.systemctl('start', UNIT);
    expect(start.code).not.toBe(0);
    await sleep(2500); // RestartSec=1s: a restart would have come
    expect(await show('ActiveState', 'Result', 'ExecMainStatus', 'NRestarts')).toEqual({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '2', NRestarts: '0' });
    expect(await ct.journal(UNIT)).toContain('bogus');
  });
});
