// A real systemd for tests: Debian 12's systemd 252 booted with systemd-nspawn, driven with nsenter.
//
//   const ct = await bootSystemdContainer({ binds: [{ src: REPO_ROOT, dst: '/usr/lib/mft-retention' }] });
//   await ct.writeFile('/etc/systemd/system/x.service', unitText);
//   await ct.systemctlOk('daemon-reload');
//   await ct.systemctlOk('start', 'x.service');
//   const p = await ct.show('x.service', 'ActiveState', 'Result');   // { ActiveState: 'active', ... }
//   const log = await ct.journal('x.service');
//   await ct.stop();                                                 // in afterAll
//
// - Call it in a beforeAll with a long timeout (SYSTEMD_BOOT_TIMEOUT_MS): the first call on a host
//   builds the tree (about a minute, scripts/build-systemd-test-tree.sh), later ones boot in ~1 s.
// - Every boot starts from the clean tree (--volatile=overlay): files written, users added and
//   units installed vanish at stop(). Bring host files in with `binds` (read-only unless
//   readOnly: false) or copy them with writeFile()/copyIn().
// - The container shares the host's network (no --private-network): the suite's PostgreSQL and
//   sshd on 127.0.0.1 are reachable from inside, and a port a unit listens on is reachable from
//   the test, so pick free ports (procUtil.freePort).
// - The host's /usr/bin/node is bound in read-only unless hostNode: false.
// - Needs root, systemd-nspawn (systemd-container), nsenter and debootstrap: a missing one throws
//   saying how to install it (scripts/install-test-deps.sh).
// - In unit files written by a test, a literal `$` is `$$` and `%` is `%%`.
// - A unit with Restart=on-failure that was killed shows `activating (auto-restart)`, not
//   `failed`: read Result=. A finished oneshot that nothing references may be unloaded: read its
//   properties while a timer (or a test's `systemctl start` that waits) still holds it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onProcessExit, runOk, shq, sleep, Watchdog, type RunResult } from './procUtil.js';

export const SYSTEMD_TREE = process.env.MFT_SYSTEMD_TEST_TREE ?? '/var/cache/mft-retention-test/bookworm-systemd';
/** For the beforeAll that boots: covers building the tree the first time on a host. */
export const SYSTEMD_BOOT_TIMEOUT_MS = 600_000;

/** The checkout: found from this file, which also runs compiled (dist/test/helpers, for the benchmarks). */
export const CHECKOUT = ((): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== '/'; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scripts', 'build-systemd-test-tree.sh'))) return dir;
  }
  throw new Error(`cannot find the checkout (scripts/build-systemd-test-tree.sh) above ${fileURLToPath(import.meta.url)}`);
})();
const BUILD_SCRIPT = join(CHECKOUT, 'scripts', 'build-systemd-test-tree.sh');
const NSPAWN = '/usr/bin/systemd-nspawn';
const NSENTER = '/usr/bin/nsenter';
const PATH_INSIDE = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CGROUP_HIERARCHIES = ['unified', 'systemd'];

export interface Bind {
  /** Host path. */
  src: string;
  /** Path in the container; default the same as src. */
  dst?: string;
  /** Default true. */
  readOnly?: boolean;
}

export interface BootOptions {
  binds?: Bind[];
  /** Bind the host's /usr/bin/node read-only at /usr/bin/node; default true. */
  hostNode?: boolean;
  /** Machine name prefix (letters, digits, '-'); a unique suffix is added. */
  name?: string;
}

export interface ExecOptions {
  /** Written to the command's standard input, which is then closed. */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Extra environment (the command starts from a clean one: PATH, LANG). */
  env?: Record<string, string>;
}

export interface SystemdContainer {
  readonly name: string;
  /** PID (host's view) of the container's systemd. */
  readonly leader: number;
  /** Host path of nspawn's output (the container's console). */
  readonly consoleLog: string;
  /** Runs a command inside (all of the container's namespaces, as root); never throws for an exit status. */
  exec(cmd: string[], opts?: ExecOptions): Promise<RunResult>;
  /** exec() that throws with the output when the exit status is not 0. */
  execOk(cmd: string[], opts?: ExecOptions): Promise<RunResult>;
  /** /bin/sh -c script, inside; throws when the exit status is not 0. */
  sh(script: string, opts?: ExecOptions): Promise<RunResult>;
  systemctl(...args: string[]): Promise<RunResult>;
  systemctlOk(...args: string[]): Promise<RunResult>;
  /** `systemctl show` of the given properties, as an object. */
  show(unit: string, ...props: string[]): Promise<Record<string, string>>;
  /** `journalctl -u UNIT -o cat` (after a journal sync); extra args e.g. ['-p', 'warning'] or ['-o', 'json']. */
  journal(unit: string, args?: string[]): Promise<string>;
  /** Writes a file inside (parents created); mode default 0644, owner default root. */
  writeFile(path: string, content: string | Buffer, opts?: { mode?: number; owner?: string }): Promise<void>;
  /** Copies a host file or directory tree to a path inside. */
  copyIn(hostPath: string, containerPath: string): Promise<void>;
  /** Orderly halt (SIGTERM to nspawn), then cleanup of its cgroups. Idempotent. */
  stop(): Promise<void>;
}

let counter = 0;

function assertPrerequisites(): void {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (systemd-nspawn and nsenter need it)');
  if (!existsSync(NSPAWN)) missing.push(`${NSPAWN} (package systemd-container)`);
  if (!existsSync(NSENTER)) missing.push(`${NSENTER} (package util-linux)`);
  if (!existsSync(SYSTEMD_TREE) && !existsSync('/usr/sbin/debootstrap')) missing.push('/usr/sbin/debootstrap (package debootstrap)');
  for (const h of CGROUP_HIERARCHIES) {
    if (!existsSync(`/sys/fs/cgroup/${h}`)) missing.push(`the cgroup hierarchy /sys/fs/cgroup/${h}`);
  }
  if (missing.length > 0) {
    throw new Error(`systemd container prerequisites missing:\n  - ${missing.join('\n  - ')}\nFix: run scripts/install-test-deps.sh (as root), or use \`npm test\`, which does it.`);
  }
}

/** Builds the cached Debian 12 tree when it is missing (or of an older recipe); returns its path. */
export async function ensureSystemdTree(): Promise<string> {
  assertPrerequisites();
  const r = await runOk('/bin/bash', [BUILD_SCRIPT, SYSTEMD_TREE], { timeoutMs: SYSTEMD_BOOT_TIMEOUT_MS - 30_000 });
  return r.stdout.trim();
}

function childrenOf(pid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== pid) continue;
      out.push({ pid: Number(name), comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {
      /* gone */
    }
  }
  return out;
}

function execIn(leader: number, cmd: string[], opts: ExecOptions = {}): Promise<RunResult> {
  const env = Object.entries({ PATH: PATH_INSIDE, LANG: 'C.UTF-8', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0', ...opts.env }).map(([k, v]) => `${k}=${v}`);
  const args = ['-t', String(leader), '-a', '/usr/bin/env', '-i', ...env, ...cmd];
  return new Promise((resolve, reject) => {
    const child = spawn(NSENTER, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${NSENTER}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + (signal ? `\n[killed by ${signal}${signal === 'SIGKILL' ? ' (timeout?)' : ''}]` : '');
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function failed(what: string[], r: RunResult): Error {
  return new Error(`in the container, failed (exit ${r.code}): ${what.join(' ')}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
}

/** Boots a fresh container from the cached tree (building it first if needed) and waits until systemd is up. */
export async function bootSystemdContainer(opts: BootOptions = {}): Promise<SystemdContainer> {
  const root = await ensureSystemdTree();
  const name = `${(opts.name ?? 'mftt').replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${++counter}`;
  const logDir = mkdtempSync(join(tmpdir(), 'mft-nspawn-'));
  const consoleLog = join(logDir, 'console.log');
  writeFileSync(consoleLog, '');

  const binds: string[] = [];
  if (opts.hostNode ?? true) binds.push('--bind-ro=/usr/bin/node');
  for (const b of opts.binds ?? []) {
    if (!existsSync(b.src)) throw new Error(`systemd container: bind source ${b.src} does not exist`);
    binds.push(`${b.readOnly === false ? '--bind' : '--bind-ro'}=${b.src}:${b.dst ?? b.src}`);
  }
  const cgroups = CGROUP_HIERARCHIES.map((h) => `/sys/fs/cgroup/${h}/nspawn-${name}`);
  // Its own cgroups first, so that nspawn's payload/supervisor groups do not land in the root one.
  const script =
    `for d in ${cgroups.map(shq).join(' ')}; do mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || exit 1; done; ` +
    `exec ${NSPAWN} --register=no --keep-unit --console=read-only -M ${shq(name)} -D ${shq(root)} --volatile=overlay ${binds.map(shq).join(' ')} -b >>${shq(consoleLog)} 2>&1`;
  const nspawn: ChildProcess = spawn('/bin/bash', ['-c', script], { stdio: 'ignore', detached: true });
  const nspawnPid = nspawn.pid!;
  let exited = false;
  const exitedP = new Promise<void>((res) => {
    nspawn.on('exit', () => {
      exited = true;
      res();
    });
    nspawn.on('error', () => {
      exited = true;
      res();
    });
  });
  const cleanupCgroups = `for d in ${cgroups.map(shq).join(' ')}; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done; true`;
  // Should this worker die, halt the container (then force it) and remove its cgroups.
  const watchdog = new Watchdog(`kill -TERM ${nspawnPid} 2>/dev/null; sleep 3; kill -KILL ${nspawnPid} 2>/dev/null; sleep 1; ${cleanupCgroups}`);
  const forgetExitHook = onProcessExit(() => {
    try {
      process.kill(nspawnPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      try {
        process.kill(nspawnPid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(nspawnPid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 10_000);
      await exitedP;
      clearTimeout(t);
    }
    await runOk('/bin/sh', ['-c', cleanupCgroups]).catch(() => undefined);
    forgetExitHook();
    watchdog.disarm();
  };

  const bootFailure = async (why: string): Promise<Error> => {
    await stop();
    return new Error(`systemd container ${name} did not boot: ${why}\n--- console (${consoleLog}) ---\n${readFileSync(consoleLog, 'utf8').slice(-4000)}`);
  };

  // The leader: nspawn's child named systemd.
  let leader = 0;
  const deadline = Date.now() + 30_000;
  while (!leader) {
    if (exited) throw await bootFailure('systemd-nspawn exited');
    if (Date.now() > deadline) throw await bootFailure('no systemd process under systemd-nspawn after 30 s');
    leader = childrenOf(nspawnPid).find((c) => c.comm === 'systemd')?.pid ?? 0;
    if (!leader) await sleep(20);
  }
  // is-system-running --wait answers once boot is done: "running", or "degraded" if a unit failed.
  let state = '';
  while (state !== 'running' && state !== 'degraded') {
    if (exited) throw await bootFailure('systemd-nspawn exited');
    if (Date.now() > deadline) throw await bootFailure(`systemd state "${state}" after 30 s`);
    const r = await execIn(leader, ['systemctl', 'is-system-running', '--wait'], { timeoutMs: 20_000 });
    state = r.stdout.trim();
    if (state !== 'running' && state !== 'degraded') await sleep(50);
  }

  const exec = (cmd: string[], o?: ExecOptions): Promise<RunResult> => execIn(leader, cmd, o);
  const execOk = async (cmd: string[], o?: ExecOptions): Promise<RunResult> => {
    const r = await exec(cmd, o);
    if (r.code !== 0) throw failed(cmd, r);
    return r;
  };
  const ct: SystemdContainer = {
    name,
    leader,
    consoleLog,
    exec,
    execOk,
    sh: (s, o) => execOk(['/bin/sh', '-c', s], o),
    systemctl: (...args) => exec(['systemctl', '--no-pager', ...args]),
    systemctlOk: (...args) => execOk(['systemctl', '--no-pager', ...args]),
    async show(unit, ...props) {
      const r = await execOk(['systemctl', 'show', unit, ...props.map((p) => `--property=${p}`)]);
      const out: Record<string, string> = {};
      for (const line of r.stdout.split('\n')) {
        const i = line.indexOf('=');
        if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
      }
      return out;
    },
    async journal(unit, args = []) {
      await exec(['journalctl', '--sync']);
      const r = await execOk(['journalctl', '--no-pager', '-u', unit, ...(args.includes('-o') ? [] : ['-o', 'cat']), ...args]);
      return r.stdout;
    },
    async writeFile(path, content, o = {}) {
      const mode = (o.mode ?? 0o644).toString(8);
      await execOk(
        ['/bin/sh', '-c', `mkdir -p "$(dirname "$1")" && cat > "$1" && chmod ${mode} "$1" && chown ${o.owner ?? 'root'} "$1"`, 'sh', path],
        { input: content },
      );
    },
    async copyIn(hostPath, containerPath) {
      if (statSync(hostPath).isDirectory()) {
        await new Promise<void>((resolve, reject) => {
          const pack = spawn('/bin/tar', ['-C', hostPath, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
          const unpack = spawn(NSENTER, ['-t', String(leader), '-a', '/bin/sh', '-c', `mkdir -p ${shq(containerPath)} && tar -C ${shq(containerPath)} -xf -`], { stdio: ['pipe', 'inherit', 'inherit'] });
          pack.stdout.pipe(unpack.stdin);
          unpack.on('error', reject);
          unpack.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`copyIn ${hostPath} -> ${containerPath}: tar exit ${code}`))));
        });
      } else {
        await ct.writeFile(containerPath, readFileSync(hostPath), { mode: statSync(hostPath).mode & 0o7777 });
      }
    },
    stop,
  };
  return ct;
}
