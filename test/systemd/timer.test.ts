// mft-retention-purge.timer and its service in a booted systemd 252 (Debian 12), installed as an
// admin installs them; ProtectSystem=strict against a local file store and an audit export
// directory (the ReadWritePaths= guidance); and commands run by hand as the service runs them
// (bin/mft-retention-as-service).
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAftRows } from '../helpers/aftLogSchema.js';
import { NodeFixture } from '../helpers/daemonHarness.js';
import { APP_DIR, bindApp, dropIn, installMftRetention, writeConfig, type ConfigSpec, type NodeEntry } from '../helpers/mftInContainer.js';
import { MFT_DB_PASSWORD, startPostgres, type PgServer } from '../helpers/pgServer.js';
import { startSshd, type SshdServer } from '../helpers/sshdServer.js';
import { bootSystemdContainer, SYSTEMD_BOOT_TIMEOUT_MS, type SystemdContainer } from '../helpers/systemdContainer.js';

const SERVICE = 'mft-retention-purge.service';
const TIMER = 'mft-retention-purge.timer';
const LOCAL_DIR = '/srv/mftFileStore/node_local';
const AUDIT_OUTSIDE = '/srv/mft-audit';

describe('mft-retention-purge.timer and .service under systemd', () => {
  let pg: PgServer;
  let sshd: SshdServer;
  let node: NodeFixture;
  let local: NodeFixture;
  let ct: SystemdContainer;

  const show = () => ct.show(SERVICE, 'ActiveState', 'Result', 'ExecMainStatus');
  const sftpNode = (extra?: Record<string, unknown>): NodeEntry => ({ fixture: node, extra });
  const localNode: () => NodeEntry = () => ({ fixture: local, fileServer: { type: 'local', directory: LOCAL_DIR } });
  const configure = (spec: ConfigSpec) => writeConfig(ct, spec);
  /** Starts the service as the timer does and waits for the run to end (Type=oneshot). */
  const run = async (): Promise<{ code: number | null; props: Record<string, string>; journal: string }> => {
    const since = (await ct.execOk(['date', '+%Y-%m-%d %H:%M:%S'])).stdout.trim();
    const r = await ct.systemctl('start', SERVICE);
    return { code: r.code, props: await show(), journal: await ct.journal(SERVICE, ['--since', since]) };
  };

  /** Expired files in the local store (host side of the bind) with rows naming them by their path inside. */
  async function seedLocal(count: number): Promise<string[]> {
    const at = new Date(Date.now() - 72 * 3_600_000);
    const rel = join('files', 'im', at.toISOString().slice(0, 10).replace(/-/g, ''), at.toISOString().slice(11, 13));
    mkdirSync(join(local.directory, rel), { recursive: true });
    const names = Array.from({ length: count }, (_, i) => `local-${Date.now()}-${i}.txt`);
    for (const n of names) writeFileSync(join(local.directory, rel, n), 'x');
    await insertAftRows(local.admin, names.map((n) => ({ method: 'Post' as const, chatType: 'im', filePath: join(LOCAL_DIR, rel, n), fileSize: 1, timestamp: at })));
    // The service user owns the store, as on a file server where it runs as MFT's user.
    await ct.execOk(['chown', '-R', 'mft-retention:mft-retention', LOCAL_DIR]);
    return names.map((n) => join(local.directory, rel, n));
  }

  beforeAll(async () => {
    [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
    node = await NodeFixture.create(pg, sshd, 'node_1');
    local = await NodeFixture.create(pg, sshd, 'node_local');
    ct = await bootSystemdContainer({ binds: [bindApp(), { src: local.directory, dst: LOCAL_DIR, readOnly: false }], name: 'mftt-timer' });
    await installMftRetention(ct, { nodes: [sftpNode(), localNode()], sshKey: sshd.clientPrivateKey, dbPassword: MFT_DB_PASSWORD });
    await ct.execOk(['ln', '-s', `${APP_DIR}/bin/mft-retention-as-service`, '/usr/bin/mft-retention-as-service']);
    await ct.execOk(['install', '-d', '-o', 'mft-retention', '-g', 'mft-retention', '-m', '0750', AUDIT_OUTSIDE]);
    // As the README says; the timer also keeps the finished service loaded, so that its Result=
    // and ExecMainStatus= can be read after each run.
    await ct.systemctlOk('enable', '--now', TIMER);
  }, SYSTEMD_BOOT_TIMEOUT_MS);

  afterAll(async () => {
    await ct?.stop();
    await Promise.all([node?.close(), local?.close()]);
    await Promise.all([pg?.destroy(), sshd?.destroy()]);
  });

  it('the enabled timer lists its next run, and a run of the service purges under its own filter and exits 0', async () => {
    const timers = (await ct.systemctlOk('list-timers', '--all', TIMER)).stdout;
    const line = timers.split('\n').find((l) => l.includes(TIMER))!;
    expect(line).toContain(SERVICE);
    expect(line).not.toMatch(/^\s*n\/a/);
    expect((await ct.show(TIMER, 'NextElapseUSecRealtime')).NextElapseUSecRealtime).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect((await ct.show(SERVICE, 'SystemCallFilter')).SystemCallFilter).toContain('pkey_alloc');

    await configure({ nodes: [sftpNode()] });
    const paths = await node.seed(12, { ageHours: 72 });
    const r = await run();
    expect(r.code, r.journal).toBe(0);
    expect(r.props).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    expect(paths.some((f) => existsSync(f))).toBe(false);
    expect((await node.rowsFor(paths)).size).toBe(0);
    expect(r.journal.split('\n').filter((l) => l.includes('"msg":"removed"'))).toHaveLength(12);
  });

  it('a run refused by a safety limit (exit 4) and a failed run (exit 3) show as failed', async () => {
    await configure({ nodes: [sftpNode()], purge: { limits: { maxFiles: 2 } } });
    const paths = await node.seed(5, { ageHours: 72 });
    const refused = await run();
    expect(refused.code).not.toBe(0);
    expect(refused.props).toEqual({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '4' });
    expect((await ct.systemctl('is-failed', SERVICE)).stdout.trim()).toBe('failed');
    expect(paths.every((f) => existsSync(f))).toBe(true);

    await ct.systemctlOk('reset-failed', SERVICE);
    await configure({ nodes: [sftpNode()] });
    // The database unreachable: a port nothing listens on.
    await ct.writeFile('/etc/mft-retention/config.yaml', (await ct.execOk(['cat', '/etc/mft-retention/config.yaml'])).stdout.replace(`"port": ${pg.port}`, '"port": 1'), { mode: 0o640, owner: 'root:mft-retention' });
    const failed = await run();
    expect(failed.props).toEqual({ ActiveState: 'failed', Result: 'exit-code', ExecMainStatus: '3' });
    expect((await ct.systemctl('is-failed', SERVICE)).stdout.trim()).toBe('failed');
    await ct.systemctlOk('reset-failed', SERVICE);
  });

  it('ProtectSystem=strict keeps a local file store read-only until ReadWritePaths= names it', async () => {
    await configure({ nodes: [localNode()] });
    const paths = await seedLocal(4);
    const denied = await run();
    // Exit 1 (partial: files that could not be removed keep their rows, the next run retries),
    // which the unit's SuccessExitStatus=1 does not mark failed; each file's warning says why.
    expect(denied.props, denied.journal).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '1' });
    expect(denied.journal).toMatch(/"reason":"read-only","error":"EROFS: read-only file system/);
    expect(paths.every((f) => existsSync(f))).toBe(true);
    expect((await local.rowsFor(paths.map((p) => p.replace(local.directory, LOCAL_DIR)))).size).toBe(4);
    await ct.systemctlOk('reset-failed', SERVICE);

    await dropIn(ct, SERVICE, `[Service]\nReadWritePaths=${LOCAL_DIR}\n`, 'local-store');
    const ok = await run();
    expect(ok.props, ok.journal).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    expect(paths.some((f) => existsSync(f))).toBe(false);
    expect((await local.rowsFor(paths.map((p) => p.replace(local.directory, LOCAL_DIR)))).size).toBe(0);
  });

  it('an audit export under the StateDirectory= works as shipped; elsewhere it needs ReadWritePaths=', async () => {
    await configure({ nodes: [sftpNode({ auditExport: { directory: '/var/lib/mft-retention/audit' } })] });
    let paths = await node.seed(3, { ageHours: 72 });
    const inState = await run();
    expect(inState.props, inState.journal).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    const exported = (await ct.sh('ls /var/lib/mft-retention/audit/node_1/ && zcat /var/lib/mft-retention/audit/node_1/*.jsonl.gz')).stdout;
    for (const f of paths) expect(exported).toContain(f);

    await configure({ nodes: [sftpNode({ auditExport: { directory: AUDIT_OUTSIDE } })] });
    paths = await node.seed(3, { ageHours: 72 });
    const denied = await run();
    // The node fails before any file is removed; exit 1, as for a partial run (SuccessExitStatus=1).
    expect(denied.props, denied.journal).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '1' });
    expect(denied.journal).toContain(`cannot open the audit export ${AUDIT_OUTSIDE}/node_1`);
    expect(paths.every((f) => existsSync(f))).toBe(true);
    expect((await node.rowsFor(paths)).size).toBe(3);
    await ct.systemctlOk('reset-failed', SERVICE);

    await dropIn(ct, SERVICE, `[Service]\nReadWritePaths=${AUDIT_OUTSIDE}\n`, 'audit');
    const ok = await run();
    expect(ok.props, ok.journal).toEqual({ ActiveState: 'inactive', Result: 'success', ExecMainStatus: '0' });
    expect((await ct.sh(`zcat ${AUDIT_OUTSIDE}/node_1/*.jsonl.gz`)).stdout).toContain(paths[0]!);
  });

  it('by hand as the service runs: doctor, purge --dry-run, a refused purge approved with --approve, alarms', async () => {
    await configure({ nodes: [sftpNode()], purge: { limits: { maxFiles: 2 } } });
    const paths = await node.seed(4, { ageHours: 72 });
    const asService = (...args: string[]) => ct.exec(['mft-retention-as-service', ...args, '--config', '/etc/mft-retention/config.yaml']);

    const doctor = await asService('doctor');
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('PASS  key accepted');
    expect(doctor.stdout).toContain('PASS  login');

    const dry = await asService('purge', '--dry-run');
    expect(dry.code, dry.stdout + dry.stderr).toBe(4); // the limit would refuse
    expect(paths.every((f) => existsSync(f))).toBe(true);

    const refused = await asService('purge');
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    const token = /--approve (\S+)/.exec(refused.stdout + refused.stderr)?.[1];
    expect(token, refused.stdout + refused.stderr).toBeTruthy();
    const approved = await asService('purge', '--node', 'node_1', '--approve', token!);
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(paths.some((f) => existsSync(f))).toBe(false);
    expect((await node.rowsFor(paths)).size).toBe(0);

    const alarms = await asService('alarms');
    expect(alarms.code, alarms.stdout + alarms.stderr).toBe(0);
    // Run as the service user, in the service's state directory: nothing there belongs to root.
    expect((await ct.sh('find /var/lib/mft-retention ! -user mft-retention | wc -l')).stdout.trim()).toBe('0');
  });
});
