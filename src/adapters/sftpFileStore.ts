import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { ResolvedFileServer } from '../config/resolvedConfig.js';
import { readSecret, readSecretBuffer } from '../config/secrets.js';
import { ConnectError, HostKeyMismatchError } from '../errors.js';
import type { DirectoryEntry, FileState, FileStore, FileToRemove, FreeSpace, RemoveOutcome } from '../ports.js';
import { SftpRequestChannel, sftpStatusOf } from './sftp/requestChannel.js';
import { sshLogin, SshLoginError, type SshSession } from './sftp/sshLogin.js';
import { FX, FXP } from './sftp/wire.js';
import { MISSING, NO_FILES_FOLDER, removeEmptyFolders, removeInFolders, type FolderOps } from './removeInFolders.js';

type SftpConfig = Extract<ResolvedFileServer, { type: 'sftp' }>;

function call<T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** The node's directory on the external file server, over SFTP with a pinned host key. */
export class SftpFileStore implements FileStore {
  private ended = false;
  private readonly sftp: SFTPWrapper;

  private constructor(
    private readonly session: SshSession,
    /** Removals and folder checks, many to a packet (see SftpRequestChannel). */
    private readonly requests: SftpRequestChannel,
    private readonly cfg: SftpConfig,
    private readonly realDirectory: string,
    /** Set when the session dropped: every later call fails fast instead of hanging. */
    private lost: { message?: string },
  ) {
    this.sftp = session.sftp;
  }

  static async open(nodeName: string, cfg: SftpConfig, env: NodeJS.ProcessEnv = process.env): Promise<SftpFileStore> {
    const privateKey = await readSecretBuffer(cfg.privateKey, env).catch((err: Error) => {
      throw new ConnectError('file-server', nodeName, `cannot load the SSH private key: ${err.message}`, { cause: err });
    });
    const passphrase = cfg.passphrase ? await readSecret(cfg.passphrase, env) : undefined;
    const lost: { message?: string } = {};
    let session: SshSession;
    try {
      session = await sshLogin(cfg, { privateKey, passphrase }, {
        keepalive: { intervalMs: 15_000, countMax: 4 },
        onLost: (message) => {
          lost.message ??= message;
        },
      });
    } catch (err) {
      if (err instanceof SshLoginError && err.stage === 'host-key' && err.seen && err.seen !== cfg.pinnedHostKey.fingerprint) {
        throw new HostKeyMismatchError(nodeName, cfg.pinnedHostKey.fingerprint, err.seen);
      }
      throw new ConnectError('file-server', nodeName, `cannot connect to ${cfg.username}@${cfg.host}:${cfg.port}: ${(err as Error).message}`, { cause: err });
    }
    const sftp = session.sftp;
    let realDirectory: string;
    let requests: SftpRequestChannel;
    try {
      realDirectory = await call<string>((cb) => sftp.realpath(cfg.directory, cb));
      const st = await call<Stats>((cb) => sftp.stat(realDirectory, cb));
      if (!st.isDirectory()) throw new Error('not a directory');
      await call<Stats>((cb) => sftp.stat(`${realDirectory}/files`, cb)).then(
        (files) => {
          if (!files.isDirectory()) throw new Error(NO_FILES_FOLDER);
        },
        (err) => {
          throw sftpStatusOf(err) === FX.NO_SUCH_FILE ? new Error(NO_FILES_FOLDER) : err;
        },
      );
    } catch (err) {
      await session.end();
      const why = sftpStatusOf(err) === FX.NO_SUCH_FILE ? 'does not exist' : (err as Error).message;
      throw new ConnectError('file-server', nodeName, `the node directory ${cfg.directory} on ${cfg.host} cannot be used: ${why}`, { cause: err });
    }
    try {
      requests = await SftpRequestChannel.open(session.client, { timeoutMs: cfg.connectTimeoutMs, maxInFlight: cfg.concurrency });
    } catch (err) {
      await session.end();
      throw new ConnectError('file-server', nodeName, `cannot open the SFTP session for removals on ${cfg.host}: ${(err as Error).message}`, { cause: err });
    }
    return new SftpFileStore(session, requests, cfg, realDirectory, lost);
  }

  private readonly ops: FolderOps = {
    realpaths: async (paths) => {
      const results = await this.requests.run(FXP.REALPATH, paths);
      return results.map((r) => {
        if (typeof r === 'string') return r;
        if (r instanceof Error) return sftpStatusOf(r) === FX.NO_SUCH_FILE ? MISSING : this.lostOr(r);
        return new Error('the server answered REALPATH without a name');
      });
    },
    unlinks: async (paths) => {
      const results = await this.requests.run(FXP.REMOVE, paths);
      return results.map((r) => {
        if (r === FX.OK) return 'removed';
        if (r instanceof Error) return sftpStatusOf(r) === FX.NO_SUCH_FILE ? 'missing' : this.lostOr(r);
        return new Error('the server answered REMOVE with a name');
      });
    },
    rmdirs: async (paths) => {
      const results = await this.requests.run(FXP.RMDIR, paths);
      return results.map((r) => (r === FX.OK ? 'removed' : r instanceof Error ? r : new Error('the server answered RMDIR with a name')));
    },
    classify: (err) => {
      switch (sftpStatusOf(err)) {
        case FX.PERMISSION_DENIED:
          return 'permission-denied';
        case FX.FAILURE:
          // OpenSSH answers a generic failure for unlink on a directory, among others.
          return 'remove-failed';
        default:
          return this.lost.message || sftpStatusOf(err) === undefined ? 'connection-lost' : 'io-error';
      }
    },
    isFatal: (err) => Boolean(this.lost.message) || sftpStatusOf(err) === undefined,
  };

  private lostError(): Error {
    return new Error(`connection to ${this.cfg.host} lost: ${this.lost.message}`);
  }

  /** The error, or the connection's loss when that is what ended the request. */
  private lostOr(err: Error): Error {
    return this.lost.message && sftpStatusOf(err) === undefined ? this.lostError() : err;
  }

  private assertAlive(): void {
    if (this.lost.message) throw this.lostError();
  }

  removeFiles(files: FileToRemove[]): Promise<RemoveOutcome[]> {
    return removeInFolders(files, this.ops, this.cfg.directory, this.realDirectory);
  }

  removeEmptyFolders(dirs: string[]): Promise<string[]> {
    return removeEmptyFolders(dirs, this.ops, this.cfg.directory, this.realDirectory);
  }

  async listDirectory(path: string): Promise<DirectoryEntry[] | 'missing'> {
    this.assertAlive();
    let list: FileEntryWithStats[];
    try {
      list = await call<FileEntryWithStats[]>((cb) => this.sftp.readdir(path, cb));
    } catch (err) {
      if (sftpStatusOf(err) === FX.NO_SUCH_FILE) return 'missing';
      throw err;
    }
    // OpenSSH's sftp-server fills readdir attributes with lstat: a symlink stays a symlink.
    return list
      .filter((e) => e.filename !== '.' && e.filename !== '..')
      .map((e): DirectoryEntry => ({
        name: e.filename,
        type: e.attrs.isSymbolicLink() ? 'symlink' : e.attrs.isFile() ? 'file' : e.attrs.isDirectory() ? 'directory' : 'other',
        size: Number(e.attrs.size ?? 0),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async exists(path: string): Promise<boolean> {
    this.assertAlive();
    try {
      await call<Stats>((cb) => this.sftp.lstat(path, cb));
      return true;
    } catch (err) {
      if (sftpStatusOf(err) === FX.NO_SUCH_FILE) return false;
      throw err;
    }
  }

  /** lstat of each path, many to a packet on the removals' request channel (read-only, for plans). */
  async statFiles(paths: string[]): Promise<FileState[]> {
    this.assertAlive();
    const results = await this.requests.run(FXP.LSTAT, paths);
    return results.map((r): FileState => {
      if (r instanceof Error) return sftpStatusOf(r) === FX.NO_SUCH_FILE ? 'missing' : this.lostOr(r);
      if (typeof r !== 'object') return new Error('the server answered LSTAT without attributes');
      const format = (r.permissions ?? 0) & 0o170000;
      const type = format === 0o120000 ? 'symlink' : format === 0o100000 ? 'file' : format === 0o040000 ? 'directory' : 'other';
      // SFTP version 3 gives whole seconds, and only when the server sends the times.
      return { type, size: r.size ?? 0, ...(r.mtime !== undefined ? { mtimeMs: r.mtime * 1000 } : {}) };
    });
  }

  async freeSpace(): Promise<FreeSpace | 'unsupported'> {
    this.assertAlive();
    let request: Promise<{ f_frsize: number; f_blocks: number; f_bavail: number }>;
    try {
      // Throws synchronously when the server did not announce statvfs@openssh.com.
      request = call((cb) => this.sftp.ext_openssh_statvfs(this.realDirectory, cb));
    } catch {
      return 'unsupported';
    }
    const v = await request;
    return { availableBytes: Number(v.f_bavail) * Number(v.f_frsize), totalBytes: Number(v.f_blocks) * Number(v.f_frsize) };
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.requests.close();
    await this.session.end();
  }
}
