// A private OpenSSH server (Debian openssh-server) for SFTP integration tests: its own
// config, ed25519 host key, client key and port on 127.0.0.1; nothing system-wide is
// touched except `mkdir -p /run/sshd` (privilege-separation dir) and, for
// `startSshd({ user: 'mfttest' })`, an idempotent `useradd` of that system user.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { freePort, run, runOk, ServerProcess, sleep, type StartOutcome } from './procUtil.js';

export const SSHD_PATH = '/usr/sbin/sshd';
export const SSH_KEYGEN_PATH = '/usr/bin/ssh-keygen';

/** sshd's words for a port another process holds. */
const ADDRESS_IN_USE = /Address already in use|Cannot bind any address/i;
/** How long sshd and its children get to exit after a signal before SIGKILL. */
const STOP_GRACE_MS = 5_000;

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

  const daemon = new ServerProcess({ pidFile, dir, withDescendants: true });

  let port = opts.port ?? 0;

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

    const spawnSshd = (): Promise<StartOutcome> =>
      daemon.spawn(SSHD_PATH, ['-D', '-e', '-f', cfgPath], {
        name: 'sshd',
        timeoutMs: 20_000,
        waitingFor: '"Server listening on"',
        readyWhen: (output) => output.includes('Server listening on'),
      });

    if (opts.port) {
      await checkConfig();
      const r = await spawnSshd();
      if (!r.ok) throw new Error(`sshd failed to start on port ${port}:\n${r.output}`);
    } else {
      await daemon.firstStart(
        async () => {
          port = await freePort();
          await checkConfig();
          return spawnSshd();
        },
        ADDRESS_IN_USE,
        (output, attempt) => `sshd failed to start on port ${port} (attempt ${attempt}):\n${output}`,
      );
    }

    const [keyType, keyB64] = host.pubLine.split(/\s+/);
    const hostPublicKeyLine = `${port === 22 ? '127.0.0.1' : `[127.0.0.1]:${port}`} ${keyType} ${keyB64}`;
    writeFileSync(knownHostsPath, hostPublicKeyLine + '\n');

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
      stop: () => daemon.stop('SIGTERM', STOP_GRACE_MS),
      kill: () => daemon.stop('SIGKILL', STOP_GRACE_MS),
      // A restart right after kill() can race the old listener's socket: retried briefly.
      start: () => daemon.restart('SshdServer', spawnSshd, ADDRESS_IN_USE, 100, (last) => `sshd restart on port ${port} failed:\n${last}`),
      destroy: () => daemon.destroy(STOP_GRACE_MS),
      isRunning: daemon.isRunning,
      log: () => daemon.log,
    };
    return server;
  } catch (e) {
    daemon.abandon();
    const err = e instanceof Error ? e : new Error(String(e));
    err.message += `\n--- sshd log ---\n${daemon.log}`;
    throw err;
  }
}
