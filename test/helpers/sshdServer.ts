// A private OpenSSH server (Debian openssh-server) for SFTP integration tests: its own
// config, ed25519 host key, client key and port on 127.0.0.1; nothing system-wide is
// touched except `mkdir -p /run/sshd` (privilege-separation dir) and, for
// `startSshd({ user: 'mfttest' })`, an idempotent `useradd` of that system user.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import {
  descendants,
  freePort,
  killQuietly,
  onProcessExit,
  pidAlive,
  rmrf,
  run,
  runOk,
  shq,
  sleep,
  waitForPidExit,
  Watchdog,
} from './procUtil.js';

export const SSHD_PATH = '/usr/sbin/sshd';
export const SSH_KEYGEN_PATH = '/usr/bin/ssh-keygen';

export interface StartSshdOptions {
  /** Fixed port; default: a free one (retried if taken meanwhile). */
  port?: number;
  /** Login user. Default: the current user (root). Any other name is created as a system user if missing. */
  user?: string;
  /** Serve the SFTP subsystem (default true); false: logins work, SFTP is refused. */
  sftp?: boolean;
}

export interface SshdServer {
  host: '127.0.0.1';
  port: number;
  /** The login user: 'root' (current user) or the requested one, e.g. 'mfttest'. */
  username: string;
  /** OpenSSH-format ed25519 private key authorised for `username` (no passphrase). */
  clientPrivateKeyPath: string;
  /** Contents of clientPrivateKeyPath. */
  clientPrivateKey: string;
  /** As ssh-keyscan prints it: "[127.0.0.1]:<port> ssh-ed25519 AAAA..." ("127.0.0.1 ..." on port 22). */
  hostPublicKeyLine: string;
  /** A known_hosts file containing hostPublicKeyLine. */
  knownHostsPath: string;
  /** 'SHA256:<base64 without padding>' as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** Fingerprint of another, unrelated ed25519 key (for wrong-host-key tests). */
  otherHostKeyFingerprint: string;
  /** A temp dir for tests to use as the file store (owned by `username`, mode 0755). */
  rootDir: string;
  /** The temp dir holding config, keys, pid file (and rootDir). */
  dir: string;
  /** SIGTERM sshd and every per-connection child (open sessions are dropped). Restartable. */
  stop(): Promise<void>;
  /** SIGKILL sshd and every per-connection child. Restartable. */
  kill(): Promise<void>;
  /** (Re)start on the same port with the same keys; no-op if running. */
  start(): Promise<void>;
  /** stop() and remove the temp dir (including rootDir). Final. */
  destroy(): Promise<void>;
  isRunning(): boolean;
  /** sshd's stderr so far (all starts). */
  log(): string;
}

/** sha256 fingerprint of an SSH public key blob, formatted like ssh-keygen: 'SHA256:...'. */
export function sshFingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

async function keygen(path: string, comment: string): Promise<{ pubLine: string; fingerprint: string }> {
  await runOk(SSH_KEYGEN_PATH, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  const pubLine = readFileSync(`${path}.pub`, 'utf8').trim();
  const fp = await runOk(SSH_KEYGEN_PATH, ['-l', '-E', 'sha256', '-f', `${path}.pub`]);
  // "256 SHA256:xxxx comment (ED25519)"
  const fingerprint = fp.stdout.trim().split(/\s+/)[1] ?? '';
  if (!fingerprint.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${fp.stdout}`);
  return { pubLine, fingerprint };
}

/** Creates `name` as a system user if missing (safe against parallel test files) and unlocks it for pubkey login. */
export async function ensureSystemUser(name: string): Promise<{ uid: number; gid: number }> {
  if (!/^[a-z_][a-z0-9_-]*$/.test(name)) throw new Error(`bad user name ${name}`);
  let lastErr = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    const id = await run('id', ['-u', name]);
    if (id.code === 0) {
      await unlockUser(name);
      const gid = await runOk('id', ['-g', name]);
      return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
    }
    if (process.getuid?.() !== 0) throw new Error(`user ${name} does not exist and creating it needs root`);
    const r = await run('useradd', [
      '--system', '--user-group', '--create-home', '--home-dir', `/var/lib/${name}`,
      '--shell', '/bin/sh', '--password', '*', name,
    ]);
    if (r.code !== 0) {
      // 9 = exists (created by a parallel worker), 10 = cannot lock /etc/passwd: re-check / retry
      lastErr = r.stderr;
      await sleep(100 + Math.random() * 200);
    }
  }
  throw new Error(`could not create user ${name}: ${lastErr}`);
}

async function unlockUser(name: string): Promise<void> {
  // With UsePAM no, sshd refuses accounts whose password field starts with '!' (locked).
  if (process.getuid?.() !== 0) return;
  for (let attempt = 0; attempt < 50; attempt++) {
    const line = readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${name}:`));
    const pw = line?.split(':')[1] ?? '';
    if (!pw.startsWith('!')) return;
    const r = await run('usermod', ['--password', '*', name]);
    if (r.code === 0) return;
    await sleep(100 + Math.random() * 200);
  }
  throw new Error(`could not unlock user ${name} for ssh login`);
}

export async function startSshd(opts: StartSshdOptions = {}): Promise<SshdServer> {
  for (const p of [SSHD_PATH, SSH_KEYGEN_PATH]) {
    if (!existsSync(p)) throw new Error(`${p} not found (openssh-server/openssh-client): run scripts/install-test-deps.sh`);
  }
  const current = userInfo().username;
  const username = opts.user ?? current;

  const dir = mkdtempSync('/tmp/sshd-');
  // sshd reads AuthorizedKeysFile as the login user: the dir must be traversable.
  chmodSync(dir, 0o755);
  const rootDir = join(dir, 'files');
  mkdirSync(rootDir, { mode: 0o755 });
  const cfgPath = join(dir, 'sshd_config');
  const pidFile = join(dir, 'sshd.pid');
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const otherKey = join(dir, 'other_host_ed25519_key');
  const clientKey = join(dir, 'client_ed25519_key');
  const authorizedKeys = join(dir, 'authorized_keys');
  const knownHostsPath = join(dir, 'known_hosts');

  const watchdog = new Watchdog(
    `pid=$(cat ${shq(pidFile)} 2>/dev/null); [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; sleep 0.5; rm -rf ${shq(dir)}`,
  );
  let child: ChildProcess | undefined;
  let logText = '';
  const unhookExit = onProcessExit(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      for (const d of descendants(child.pid)) killQuietly(d, 'SIGTERM');
      killQuietly(child.pid, 'SIGTERM');
    }
  });

  let port = opts.port ?? 0;
  let destroyed = false;

  try {
    if (username !== current) {
      const { uid, gid } = await ensureSystemUser(username);
      chownSync(rootDir, uid, gid);
    }
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

    const host = await keygen(hostKey, 'mft-test-host');
    const other = await keygen(otherKey, 'mft-test-other-host');
    const client = await keygen(clientKey, 'mft-test-client');
    writeFileSync(authorizedKeys, client.pubLine + '\n', { mode: 0o644 });
    chmodSync(authorizedKeys, 0o644);

    const writeConfig = (withPenalties: boolean): void => {
      writeFileSync(
        cfgPath,
        [
          '# written by test/helpers/sshdServer.ts',
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `PidFile ${pidFile}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'PermitRootLogin prohibit-password',
          ...(opts.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
          'UseDNS no',
          'PrintMotd no',
          'X11Forwarding no',
          'MaxStartups 100:30:200',
          'MaxSessions 100',
          'LogLevel INFO',
          // OpenSSH >= 9.8 penalises sources that fail auth: would break wrong-key tests.
          ...(withPenalties ? ['PerSourcePenalties no'] : []),
          '',
        ].join('\n'),
      );
    };

    let withPenalties = true;
    const checkConfig = async (): Promise<void> => {
      writeConfig(withPenalties);
      let t = await run(SSHD_PATH, ['-t', '-f', cfgPath]);
      if (t.code !== 0 && withPenalties && /PerSourcePenalties/i.test(t.stderr)) {
        withPenalties = false;
        writeConfig(false);
        t = await run(SSHD_PATH, ['-t', '-f', cfgPath]);
      }
      if (t.code !== 0) throw new Error(`sshd -t -f ${cfgPath} failed:\n${t.stderr}\n--- config ---\n${readFileSync(cfgPath, 'utf8')}`);
    };

    const spawnSshd = (): Promise<{ ok: true } | { ok: false; output: string }> =>
      new Promise((resolve) => {
        let out = '';
        let settled = false;
        const proc = spawn(SSHD_PATH, ['-D', '-e', '-f', cfgPath], { stdio: ['ignore', 'ignore', 'pipe'] });
        child = proc;
        const done = (v: { ok: true } | { ok: false; output: string }): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(v);
        };
        const timer = setTimeout(() => {
          killQuietly(proc.pid ?? -1, 'SIGKILL');
          done({ ok: false, output: `timeout waiting for "Server listening on"\n${out}` });
        }, 20_000);
        proc.stderr!.setEncoding('utf8');
        proc.stderr!.on('data', (s: string) => {
          // keep draining forever: a full pipe would block sshd
          logText = (logText + s).slice(-200_000);
          if (!settled) {
            out += s;
            if (out.includes('Server listening on')) done({ ok: true });
          }
        });
        proc.on('error', (e) => done({ ok: false, output: `spawn error: ${e.message}` }));
        proc.on('exit', (code, sig) => done({ ok: false, output: `sshd exited (code ${code}, signal ${sig})\n${out}` }));
        proc.unref();
        (proc.stderr as unknown as { unref?: () => void }).unref?.();
      });

    if (opts.port) {
      await checkConfig();
      const r = await spawnSshd();
      if (!r.ok) throw new Error(`sshd failed to start on port ${port}:\n${r.output}`);
    } else {
      for (let attempt = 1; ; attempt++) {
        port = await freePort();
        await checkConfig();
        const r = await spawnSshd();
        if (r.ok) break;
        if (attempt >= 5 || !/Address already in use|Cannot bind any address/i.test(r.output)) {
          throw new Error(`sshd failed to start on port ${port} (attempt ${attempt}):\n${r.output}`);
        }
      }
    }

    const [keyType, keyB64] = host.pubLine.split(/\s+/);
    const hostPublicKeyLine = `${port === 22 ? '127.0.0.1' : `[127.0.0.1]:${port}`} ${keyType} ${keyB64}`;
    writeFileSync(knownHostsPath, hostPublicKeyLine + '\n');

    const isRunning = (): boolean =>
      !!child?.pid && child.exitCode === null && child.signalCode === null && pidAlive(child.pid);

    const terminate = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
      const proc = child;
      if (!proc?.pid || !isRunning()) return;
      const pids = [proc.pid, ...descendants(proc.pid)];
      const exited = new Promise<void>((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) r();
        else proc.once('exit', () => r());
      });
      for (const p of pids) killQuietly(p, signal);
      for (const p of pids) {
        if (!(await waitForPidExit(p, 5_000))) killQuietly(p, 'SIGKILL');
      }
      await exited;
    };

    const server: SshdServer = {
      host: '127.0.0.1',
      port,
      username,
      clientPrivateKeyPath: clientKey,
      clientPrivateKey: readFileSync(clientKey, 'utf8'),
      hostPublicKeyLine,
      knownHostsPath,
      hostKeyFingerprint: host.fingerprint,
      otherHostKeyFingerprint: other.fingerprint,
      rootDir,
      dir,
      stop: () => terminate('SIGTERM'),
      kill: () => terminate('SIGKILL'),
      async start() {
        if (destroyed) throw new Error('SshdServer.start() after destroy()');
        if (isRunning()) return;
        // a restart right after kill() can race the old listener's socket: retry briefly
        let last = '';
        for (let attempt = 1; attempt <= 20; attempt++) {
          const r = await spawnSshd();
          if (r.ok) return;
          last = r.output;
          if (!/Address already in use|Cannot bind any address/i.test(last)) break;
          await sleep(100);
        }
        throw new Error(`sshd restart on port ${port} failed:\n${last}`);
      },
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        try {
          await terminate('SIGTERM');
        } finally {
          watchdog.disarm();
          unhookExit();
          rmrf(dir);
        }
      },
      isRunning,
      log: () => logText,
    };
    return server;
  } catch (e) {
    if (child?.pid) killQuietly(child.pid, 'SIGKILL');
    watchdog.disarm();
    unhookExit();
    const err = e instanceof Error ? e : new Error(String(e));
    err.message += `\n--- sshd log ---\n${logText}`;
    rmrf(dir);
    throw err;
  }
}
