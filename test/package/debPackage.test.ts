// The Debian package as an admin installs it: in a booted Debian 12 systemd with no Node.js and
// no network reach to any package mirror, `apt-get install ./mft-retention_*.deb`, the command, doctor
// against this suite's PostgreSQL and sshd (on the shared loopback), the daemon unit purging, an
// upgrade that keeps the edited config and the state, then remove and purge.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeFixture, waitFor } from '../helpers/daemonHarness.js';
import { DEB_BUILD_TIMEOUT_MS, ensureDebPackage, packageVersion, repackWithVersion } from '../helpers/debPackage.js';
import { CONFIG, configYaml, ETC, writePolicies } from '../helpers/mftInContainer.js';
import { startPostgres, MFT_DB_PASSWORD, type PgServer } from '../helpers/pgServer.js';
import { freePort, rmrf } from '../helpers/procUtil.js';
import { startSshd, type SshdServer } from '../helpers/sshdServer.js';
import { bootSystemdContainer, type SystemdContainer } from '../helpers/systemdContainer.js';

const RUNTIME = readFileSync(new URL('../../packaging/node-runtime', import.meta.url), 'utf8').match(/^NODE_RUNTIME_VERSION=(.+)$/m)![1]!;
const APT = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-y', '-q'];
// The units the package ships: both are found under /lib/systemd/system once installed.
const UNITS = ['mft-retention.service', 'mft-retention-purge.service', 'mft-retention-purge.timer'];

describe('the Debian package, installed in a booted systemd with no Node.js', () => {
  let ct: SystemdContainer;
  let pg: PgServer;
  let sshd: SshdServer;
  let node: NodeFixture;
  let deb: string;
  let newer: string;
  let newerVersion: string;
  let httpPort: number;

  beforeAll(async () => {
    [deb, pg, sshd] = await Promise.all([ensureDebPackage(), startPostgres(), startSshd()]);
    newerVersion = `${packageVersion()}+1`;
    newer = await repackWithVersion(deb, newerVersion);
    node = await NodeFixture.create(pg, sshd, 'node_1');
    httpPort = await freePort();
    ct = await bootSystemdContainer({ name: 'mft-deb', hostNode: false });
    for (const f of [deb, newer]) await ct.copyIn(f, `/root/${basename(f)}`);
  }, DEB_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await ct?.stop();
    await node?.close();
    await Promise.all([pg?.stop(), sshd?.destroy()]);
    if (newer) rmrf(dirname(newer));
  });

  it('installs with apt from the file alone: the command, the account, the units, the conffiles', async () => {
    expect((await ct.exec(['sh', '-c', 'command -v node nodejs'])).stdout).toBe('');
    const install = await ct.execOk([...APT, 'install', `/root/${basename(deb)}`], { timeoutMs: 120_000 });
    expect(install.stdout).toContain('Setting up mft-retention');

    expect((await ct.execOk(['mft-retention', '--version'])).stdout).toBe(`mft-retention ${packageVersion()}\n`);
    const verbose = (await ct.execOk(['mft-retention', '--version', '--verbose'])).stdout;
    expect(verbose).toContain(`Node.js v${RUNTIME} (/usr/lib/mft-retention/node/bin/node)`);

    expect((await ct.execOk(['getent', 'passwd', 'mft-retention'])).stdout).toMatch(/^mft-retention:x:\d+:\d+:[^:]*:\/var\/lib\/mft-retention:\/usr\/sbin\/nologin$/m);
    expect((await ct.execOk(['stat', '-c', '%U:%G %a', ETC])).stdout.trim()).toBe('root:mft-retention 750');
    const conffiles = (await ct.execOk(['dpkg-query', '--showformat=${Conffiles}', '--show', 'mft-retention'])).stdout;
    for (const f of ['config.yaml', 'policies/im.yaml', 'policies/groupchat.yaml', 'policies/persistent.yaml']) expect(conffiles).toContain(`${ETC}/${f} `);

    for (const unit of UNITS) {
      const p = await ct.show(unit, 'FragmentPath', 'UnitFileState', 'ExecStart');
      expect(p.FragmentPath).toBe(`/lib/systemd/system/${unit}`);
      // Nothing starts on a first install: the example config has to be edited first.
      expect(p.UnitFileState).toBe(unit === 'mft-retention-purge.service' ? 'static' : 'disabled');
      if (unit.endsWith('.service')) expect(p.ExecStart).toContain('path=/usr/bin/mft-retention ;');
    }
    expect((await ct.execOk(['ls', '/usr/share/doc/mft-retention'])).stdout.split('\n')).toEqual(expect.arrayContaining(['README.md.gz', 'CHANGELOG.md.gz', 'changelog.gz', 'copyright', 'examples']));
  });

  it('doctor, run as the service runs, passes against the PostgreSQL and sshd on the host', async () => {
    // The admin's steps: the config, the policies, the key and the password the units hand over.
    await ct.writeFile(CONFIG, configYaml({ nodes: [{ fixture: node }], httpPort, schedule: '*/2 * * * * *' }), { mode: 0o640, owner: 'root:mft-retention' });
    await writePolicies(ct);
    await ct.writeFile(`${ETC}/id_ed25519`, sshd.clientPrivateKey, { mode: 0o600 });
    await ct.writeFile(`${ETC}/db-node_1.password`, MFT_DB_PASSWORD, { mode: 0o600 });
    const r = await ct.exec([
      'systemd-run', '--quiet', '--pipe', '--wait', '--collect', '-p', 'User=mft-retention',
      '-p', `LoadCredential=db-node_1:${ETC}/db-node_1.password`, '-p', `LoadCredential=ssh-key:${ETC}/id_ed25519`,
      'mft-retention', 'doctor', '--json', '--config', CONFIG,
    ], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as { ok: boolean; nodes: Array<{ checks: Array<{ name: string; status: string; detail: string }> }> };
    expect(report.nodes[0]!.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(report.nodes[0]!.checks.find((c) => c.name === 'SSH crypto')).toMatchObject({ status: 'pass', detail: expect.stringContaining('native') });
    expect(r.code, r.stderr).toBe(0);
  });

  it('the daemon unit starts and purges the expired files and their rows', async () => {
    const paths = await node.seed(20, { ageHours: 72 });
    await ct.systemctlOk('enable', '--now', 'mft-retention.service');
    expect((await ct.show('mft-retention.service', 'ActiveState')).ActiveState).toBe('active');
    await waitFor('the 20 expired rows purged', async () => (await node.rowsFor(paths)).size === 0, 60_000, 500);
    expect(paths.filter((p) => existsSync(p))).toEqual([]);
    const state = await ct.sh('ls -A /var/lib/mft-retention; stat -c "%U %a" /var/lib/mft-retention');
    expect(state.stdout).toContain('mft-retention 700');
  });

  it('an upgrade keeps the edited config and the state, and restarts the daemon on the new version', async () => {
    const sum = (await ct.sh(`cat ${CONFIG} ${ETC}/policies/*.yaml | sha256sum`)).stdout;
    const stateBefore = (await ct.sh('ls -A /var/lib/mft-retention')).stdout;
    expect(stateBefore.trim()).not.toBe('');
    const pidBefore = (await ct.show('mft-retention.service', 'MainPID')).MainPID;
    await ct.execOk([...APT, 'install', `/root/${basename(newer)}`], { timeoutMs: 120_000 });
    expect((await ct.execOk(['mft-retention', '--version'])).stdout).toBe(`mft-retention ${newerVersion}\n`);
    expect((await ct.sh(`cat ${CONFIG} ${ETC}/policies/*.yaml | sha256sum`)).stdout).toBe(sum);
    expect((await ct.sh('ls -A /var/lib/mft-retention')).stdout).toBe(stateBefore);
    const after = await ct.show('mft-retention.service', 'ActiveState', 'MainPID', 'UnitFileState');
    expect(after).toMatchObject({ ActiveState: 'active', UnitFileState: 'enabled' });
    expect(after.MainPID).not.toBe(pidBefore);
    // ... and it still purges.
    const paths = await node.seed(5, { ageHours: 72 });
    await waitFor('the 5 new expired rows purged', async () => (await node.rowsFor(paths)).size === 0, 60_000, 500);
  });

  it('apt remove stops the daemon and removes the program, keeping config and state; purge removes those too', async () => {
    await ct.execOk([...APT, 'remove', 'mft-retention'], { timeoutMs: 120_000 });
    expect((await ct.exec(['systemctl', 'is-active', 'mft-retention.service'])).stdout.trim()).not.toBe('active');
    expect((await ct.exec(['test', '-e', '/usr/bin/mft-retention'])).code).not.toBe(0);
    expect((await ct.exec(['test', '-e', '/usr/lib/mft-retention'])).code).not.toBe(0);
    expect((await ct.exec(['test', '-e', '/lib/systemd/system/mft-retention.service'])).code).not.toBe(0);
    expect((await ct.execOk(['dpkg-query', '--showformat=${db:Status-Abbrev}', '--show', 'mft-retention'])).stdout.trim()).toBe('rc');
    const kept = (await ct.sh(`ls -A ${ETC}; ls -A /var/lib/mft-retention`)).stdout;
    for (const f of ['config.yaml', 'policies', 'id_ed25519', 'db-node_1.password']) expect(kept).toContain(f);

    await ct.execOk([...APT, 'purge', 'mft-retention'], { timeoutMs: 120_000 });
    expect((await ct.exec(['test', '-e', ETC])).code).not.toBe(0);
    expect((await ct.exec(['test', '-e', '/var/lib/mft-retention'])).code).not.toBe(0);
    expect((await ct.exec(['sh', '-c', 'ls /etc/systemd/system/*.wants/ | grep mft-retention'])).stdout).toBe('');
    expect((await ct.exec(['dpkg-query', '--show', 'mft-retention'])).code).not.toBe(0);
    // The account stays, as Debian leaves system users: files it owned elsewhere keep a known owner.
    expect((await ct.exec(['getent', 'passwd', 'mft-retention'])).code).toBe(0);
  });
});
