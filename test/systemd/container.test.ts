// The systemd container the unit tests boot: systemd 252 runs as PID 1, units run with their
// sandboxing, and the host's loopback and bind mounts are visible inside.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootSystemdContainer, SYSTEMD_BOOT_TIMEOUT_MS, type SystemdContainer } from '../helpers/systemdContainer.js';

describe('systemd container', () => {
  let ct: SystemdContainer;
  let hostDir: string;
  let server: net.Server;
  let port = 0;

  beforeAll(async () => {
    hostDir = mkdtempSync('/tmp/mft-ct-');
    chmodSync(hostDir, 0o755);
    writeFileSync(join(hostDir, 'hello.txt'), 'from the host\n');
    server = net.createServer((s) => s.end('pong\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    ct = await bootSystemdContainer({ binds: [{ src: hostDir, dst: '/srv/host' }] });
  }, SYSTEMD_BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await ct?.stop();
    server?.close();
  });

  it('boots Debian 12 systemd 252 as PID 1 and runs a sandboxed unit', async () => {
    const v = await ct.execOk(['systemctl', '--version']);
    expect(v.stdout).toMatch(/^systemd 252 /);
    expect((await ct.execOk(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    await ct.writeFile('/etc/systemd/system/probe.service', [
      '[Service]', 'Type=oneshot', 'DynamicUser=yes', 'ProtectSystem=strict', 'StateDirectory=probe',
      'ExecStart=/bin/sh -c "id -u > $${STATE_DIRECTORY}/who; cat /srv/host/hello.txt; touch /etc/x || echo ro-ok"', '',
    ].join('\n'));
    await ct.systemctlOk('daemon-reload');
    await ct.systemctlOk('start', 'probe.service');
    const log = await ct.journal('probe.service');
    expect(log).toContain('from the host');
    expect(log).toContain('ro-ok');
    expect(Number((await ct.sh('cat /var/lib/private/probe/who')).stdout.trim())).toBeGreaterThan(60000);
  });

  it('reaches the host loopback, sees the host node, and copies files in', async () => {
    const r = await ct.execOk(['/usr/bin/node', '-e', `require('net').connect(${port}, '127.0.0.1').on('data', d => { process.stdout.write(d); process.exit(0); })`]);
    expect(r.stdout).toBe('pong\n');
    await ct.copyIn(hostDir, '/opt/copied');
    expect((await ct.execOk(['cat', '/opt/copied/hello.txt'])).stdout).toBe('from the host\n');
    const ro = await ct.exec(['/bin/sh', '-c', 'echo x > /srv/host/new']);
    expect(ro.code).not.toBe(0);
  });
});
