import { readdir, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { SFTPWrapper, Stats } from 'ssh2';
import { sftpStatusOf } from '../adapters/sftp/requestChannel.js';
import { FX } from '../adapters/sftp/wire.js';
import type { ResolvedFileServer } from '../config/resolvedConfig.js';
import { describeSecretSource } from '../config/secrets.js';
import { runDirectoryChecks, type DirectoryOps, type FreeSpaceThresholds } from './directoryChecks.js';
import { loadClientKey, sshLogin, type SftpServerConfig } from './sshLogin.js';
import { connectTcp, readSshBanner } from './tcpProbe.js';
import { sshCryptoBindingLoaded, sshCryptoCheck } from './sshCrypto.js';
import { checkMaker, messageOf, type Check, type GroupReport } from './types.js';

const { pass, fail, skip } = checkMaker('file-server');
const connection = { connection: true };

export interface FileServerCheckOptions {
  env: NodeJS.ProcessEnv;
  thresholds: FreeSpaceThresholds;
}

export async function checkFileServer(fs: ResolvedFileServer, opts: FileServerCheckOptions): Promise<GroupReport> {
  if (fs.type === 'local') {
    return { group: 'file-server', target: `local ${fs.directory}`, checks: await checkLocal(fs.directory, opts) };
  }
  return { group: 'file-server', target: `sftp ${fs.username}@${fs.host}:${fs.port} ${fs.directory}`, checks: await checkSftp(fs, opts) };
}

const AFTER_LOGIN = ['SSH crypto', 'directory', 'writable', 'layout', 'free space'];

function skipRest(names: string[], why: string): Check[] {
  return names.map((n) => skip(n, `not checked: ${why}`));
}

async function checkSftp(cfg: SftpServerConfig, opts: FileServerCheckOptions): Promise<Check[]> {
  const at = `${cfg.host}:${cfg.port}`;
  const checks: Check[] = [];
  let conn: Awaited<ReturnType<typeof connectTcp>>;
  try {
    conn = await connectTcp(cfg, cfg.connectTimeoutMs);
    checks.push(pass('reachable', `TCP connect to ${at} in ${conn.ms} ms`));
  } catch (err) {
    checks.push(
      fail('reachable', `cannot open TCP to ${at}: ${messageOf(err)}`, `check fileServer.host and port, that sshd runs on the file server, and that firewalls let this host reach TCP port ${cfg.port}`, connection),
      ...skipRest(['SSH banner', 'host key', 'key accepted', ...AFTER_LOGIN], 'the server is not reachable'),
    );
    return checks;
  }
  try {
    const banner = await readSshBanner(conn.socket, cfg.connectTimeoutMs);
    if (!/^SSH-(2\.0|1\.99)-/.test(banner)) {
      conn.socket.destroy();
      checks.push(fail('SSH banner', `the server speaks an old protocol: ${banner}`, 'MFT needs SSHv2 (OpenSSH): upgrade the SSH server', connection));
      return [...checks, ...skipRest(['host key', 'key accepted', ...AFTER_LOGIN], 'no SSHv2 server answered')];
    }
    checks.push(pass('SSH banner', `listening for SSH: ${banner}`));
  } catch (err) {
    conn.socket.destroy();
    checks.push(fail('SSH banner', `${at} is not an SSH server: ${messageOf(err)}`, `check that port ${cfg.port} is the file server's sshd and not another service`, connection));
    return [...checks, ...skipRest(['host key', 'key accepted', ...AFTER_LOGIN], 'no SSH server answered')];
  }

  // The same connection goes on to the handshake and login: one connection per check run.
  const key = await loadClientKey(cfg, opts.env);
  const login = await sshLogin(cfg, key, conn.socket);
  try {
    checks.push(hostKeyCheck(cfg, login));
    if (!login.hostKeyMatches) return [...checks, ...skipRest(['key accepted', ...AFTER_LOGIN], 'the host key did not match, so no credentials were sent')];
    checks.push(keyAcceptedCheck(cfg, key, login));
    if (!login.session) return [...checks, ...skipRest(AFTER_LOGIN, 'not logged in')];
    checks.push(sshCryptoCheck(sshCryptoBindingLoaded(), login.cipher));
    const ctx = { directory: cfg.directory, user: cfg.username, where: `on ${cfg.host}`, thresholds: opts.thresholds };
    checks.push(...(await runDirectoryChecks(sftpOps(login.session.sftp, cfg.connectTimeoutMs), ctx)));
    return checks;
  } finally {
    if (login.session) login.session.close();
    else conn.socket.destroy();
  }
}

function hostKeyCheck(cfg: SftpServerConfig, login: Awaited<ReturnType<typeof sshLogin>>): Check {
  const pinned = cfg.pinnedHostKey;
  const pinnedText = `${pinned.fingerprint}${pinned.keyType ? ` (${pinned.keyType})` : ''}`;
  const keyscan = `ssh-keyscan -t ${shortKeyType(pinned.keyType ?? login.seenKeyType)} -p ${cfg.port} ${cfg.host}`;
  if (!login.seenFingerprint) {
    const wanted = pinned.keyType ? ` Does the server have a ${pinned.keyType} host key?` : '';
    return fail('host key', `no host key received: ${login.error ?? 'handshake failed'}`, `pinned ${pinnedText}.${wanted} Compare with: ${keyscan}`, connection);
  }
  const seen = `${login.seenFingerprint}${login.seenKeyType ? ` (${login.seenKeyType})` : ''}`;
  if (login.hostKeyMatches) return pass('host key', `${seen} matches the pinned key`);
  const fix = [
    `verify the key on the server itself: ssh-keygen -lf /etc/ssh/ssh_host_${shortKeyType(login.seenKeyType)}_key.pub`,
    'if it was changed on purpose, put the new key in fileServer.hostKey; if not, someone may be intercepting the connection: stop and investigate',
    // A bare fingerprint does not say which key type to ask for: the server may present another of its keys.
    ...(pinned.keyType ? [] : [`pin the whole line from "${keyscan}" so that the same key type is always asked for`]),
  ];
  return fail('host key', `saw ${seen}, pinned ${pinnedText}`, fix.join('\n'), connection);
}

/** The key type as ssh-keyscan -t and the host key file names spell it. */
function shortKeyType(keyType: string | undefined): string {
  if (!keyType || keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType === 'ssh-rsa') return 'rsa';
  if (keyType === 'ssh-dss') return 'dsa';
  return keyType.startsWith('ecdsa-') ? 'ecdsa' : keyType;
}

function keyAcceptedCheck(cfg: SftpServerConfig, key: Awaited<ReturnType<typeof loadClientKey>>, login: Awaited<ReturnType<typeof sshLogin>>): Check {
  const authorized = `~${cfg.username}/.ssh/authorized_keys on ${cfg.host}`;
  if (key.problem) {
    return fail('key accepted', key.problem, `fix the private key (${describeSecretSource(cfg.privateKey)}); its public half (ssh-keygen -y -f <key>) goes into ${authorized}`, connection);
  }
  if (login.session) return pass('key accepted', `logged in as ${cfg.username} with key ${key.publicKey}`);
  if (login.authRejected) {
    return fail(
      'key accepted',
      `${cfg.username} refused our key ${key.publicKey}: ${login.error}`,
      `add our public key (ssh-keygen -y -f <private key file>) to ${authorized}; the file must belong to ${cfg.username} and not be writable by others`,
      connection,
    );
  }
  return fail('key accepted', `login as ${cfg.username} failed: ${login.error}`, `check sshd's log on ${cfg.host} (journalctl -u ssh)`, connection);
}

function call<T>(timeoutMs: number, fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from the SFTP server within ${timeoutMs} ms`)), timeoutMs);
    fn((err, value) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(value as T);
    });
  });
}

const missing = (err: unknown): boolean => sftpStatusOf(err) === FX.NO_SUCH_FILE || (err as { code?: unknown }).code === 'ENOENT';

function sftpOps(sftp: SFTPWrapper, timeoutMs: number): DirectoryOps {
  return {
    kind: (p) =>
      call<Stats>(timeoutMs, (cb) => sftp.stat(p, cb)).then(
        (st) => (st.isDirectory() ? 'directory' : 'other'),
        (err) => (missing(err) ? 'missing' : Promise.reject(err)),
      ),
    async createFile(p) {
      const handle = await call<Buffer>(timeoutMs, (cb) => sftp.open(p, 'wx', { mode: 0o600 }, cb));
      const data = Buffer.from('mft-retention doctor write test\n');
      try {
        await call<void>(timeoutMs, (cb) => sftp.write(handle, data, 0, data.length, 0, (err) => cb(err)));
      } finally {
        await call<void>(timeoutMs, (cb) => sftp.close(handle, cb));
      }
    },
    removeFile: (p) => call<void>(timeoutMs, (cb) => sftp.unlink(p, cb)),
    list: (p) =>
      call<Array<{ filename: string }>>(timeoutMs, (cb) => sftp.readdir(p, cb)).then(
        (entries) => entries.map((e) => e.filename),
        (err) => (missing(err) ? 'missing' : Promise.reject(err)),
      ),
    async freeSpace(p) {
      let request: Promise<{ f_frsize: number; f_blocks: number; f_bavail: number }>;
      try {
        // Throws synchronously when the server did not announce statvfs@openssh.com.
        request = call(timeoutMs, (cb) => sftp.ext_openssh_statvfs(p, cb));
      } catch {
        return 'unsupported';
      }
      const v = await request;
      return { availableBytes: Number(v.f_bavail) * Number(v.f_frsize), totalBytes: Number(v.f_blocks) * Number(v.f_frsize) };
    },
  };
}

async function checkLocal(directory: string, opts: FileServerCheckOptions): Promise<Check[]> {
  const code = (err: unknown): unknown => (err as NodeJS.ErrnoException).code;
  const ops: DirectoryOps = {
    kind: (p) =>
      stat(p).then(
        (st) => (st.isDirectory() ? 'directory' : 'other'),
        (err) => (code(err) === 'ENOENT' ? 'missing' : Promise.reject(err)),
      ),
    createFile: (p) => writeFile(p, 'mft-retention doctor write test\n', { flag: 'wx', mode: 0o600 }),
    removeFile: (p) => unlink(p),
    list: (p) => readdir(p).catch((err) => (code(err) === 'ENOENT' ? ('missing' as const) : Promise.reject(err))),
    async freeSpace(p) {
      const s = await statfs(p);
      return { availableBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
    },
  };
  return runDirectoryChecks(ops, { directory, user: userInfo().username, where: 'on this host', thresholds: opts.thresholds });
}
