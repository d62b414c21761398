import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Client, SFTPWrapper } from 'ssh2';
import { fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf, type PinnedHostKey } from '../../core/hostKey.js';

/** Where a login stopped. */
export type SshLoginStage =
  /** The TCP connection could not be opened. */
  | 'tcp'
  /** The handshake failed up to and including the host key: another key, or none seen. */
  | 'host-key'
  /** The host key matched, but the login did not complete (our key refused, a timeout). */
  | 'authentication'
  /** Logged in, but the server would not start its SFTP subsystem. */
  | 'sftp';

/** A failed login: its stage, and the host key the server presented if it got that far. */
export class SshLoginError extends Error {
  constructor(
    readonly stage: SshLoginStage,
    message: string,
    readonly pinned: PinnedHostKey,
    /** Fingerprint of the host key the server presented. */
    readonly seen: string | undefined,
    readonly seenKeyType: string | undefined,
    /** The server refused our key (not the network, not a timeout). */
    readonly keyRefused: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SshLoginError';
  }
}

/** The file server to log in to. */
export interface SshTarget {
  host: string;
  port: number;
  username: string;
  pinnedHostKey: PinnedHostKey;
  connectTimeoutMs: number;
}

export interface SshCredentials {
  /** Without a key, the login goes as far as the server's refusal (doctor reports it). */
  privateKey?: Buffer;
  passphrase?: string;
}

export interface SshLoginOptions {
  /** An open connection to the server, to use instead of opening one. */
  sock?: Socket;
  /** SSH keepalives, so a dead server is noticed and a firewall keeps an idle session. */
  keepalive?: { intervalMs: number; countMax: number };
  /** Called once, with why, when the session ends or fails after the login. */
  onLost?: (message: string) => void;
}

/** A logged-in SSH connection with its SFTP session. */
export interface SshSession {
  readonly client: Client;
  readonly sftp: SFTPWrapper;
  readonly hostKey: { fingerprint: string; keyType?: string };
  /** The cipher agreed for what the server sends. */
  readonly cipher?: string;
  /** Ends the connection; resolves once it is closed. Idempotent. */
  end(): Promise<void>;
}

/**
 * Logs in with the pinned host key and our client key, then opens SFTP. The host key is
 * captured in hostVerifier so that a mismatch names both fingerprints; a server presenting
 * another key is never sent our credentials (hostVerifier refuses it first). There is no
 * option to skip the check.
 */
export function sshLogin(target: SshTarget, credentials: SshCredentials, opts: SshLoginOptions = {}): Promise<SshSession> {
  const client = new ssh2.Client();
  const algorithms = hostKeyAlgorithmsFor(target.pinnedHostKey.keyType);
  let connected = Boolean(opts.sock);
  let seen: string | undefined;
  let seenKeyType: string | undefined;
  let cipher: string | undefined;
  let closed = false;
  let session: SshSession | undefined;
  let lostMessage: string | undefined;
  const lose = (message: string): void => {
    if (!session || lostMessage !== undefined) return;
    lostMessage = message;
    opts.onLost?.(message);
  };
  const closing = new Promise<void>((resolve) => client.once('close', () => ((closed = true), resolve())));

  return new Promise<SshSession>((resolve, reject) => {
    const fail = (message: string, keyRefused = false, cause?: unknown): void => {
      if (session) return;
      client.end();
      const mismatch = seen !== undefined && seen !== target.pinnedHostKey.fingerprint;
      const stage: SshLoginStage = !connected ? 'tcp' : seen === undefined || mismatch ? 'host-key' : 'authentication';
      const text = mismatch ? `host key ${seen} does not match the pinned key ${target.pinnedHostKey.fingerprint}` : message;
      reject(new SshLoginError(stage, text, target.pinnedHostKey, seen, seenKeyType, keyRefused, { cause }));
    };
    client.on('connect', () => {
      connected = true;
    });
    client.on('handshake', (negotiated: { sc?: { cipher?: string } }) => {
      cipher = negotiated.sc?.cipher;
    });
    // Also after the login: an 'error' without a listener would end the process.
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (session) lose(err.message);
      else fail(connected ? err.message : tcpMessage(err, target), err.level === 'client-authentication', err);
    });
    client.on('end', () => lose('the SSH session ended'));
    client.on('close', () => {
      lose('the SSH connection closed');
      fail('the connection closed during login');
    });
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) {
          client.end();
          reject(new SshLoginError('sftp', `logged in, but the SFTP subsystem failed: ${err.message}`, target.pinnedHostKey, seen, seenKeyType, false, { cause: err }));
          return;
        }
        session = {
          client,
          sftp,
          hostKey: { fingerprint: seen!, keyType: seenKeyType },
          cipher,
          end: async () => {
            if (!closed) client.end();
            await closing;
          },
        };
        resolve(session);
      });
    });
    try {
      client.connect({
        host: target.host,
        port: target.port,
        ...(opts.sock ? { sock: opts.sock } : {}),
        username: target.username,
        ...(credentials.privateKey ? { privateKey: credentials.privateKey, passphrase: credentials.passphrase } : {}),
        readyTimeout: target.connectTimeoutMs,
        ...(opts.keepalive ? { keepaliveInterval: opts.keepalive.intervalMs, keepaliveCountMax: opts.keepalive.countMax } : {}),
        ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
        hostVerifier: (blob: Buffer) => {
          seen = fingerprintOf(blob);
          seenKeyType = keyTypeOf(blob);
          return seen === target.pinnedHostKey.fingerprint;
        },
      });
      // ssh2 opens its TCP socket inside connect() and leaves Nagle's algorithm on. Set before
      // the socket connects, or each small packet of the login and of every lone request waits
      // for a delayed ACK: about 40 ms apiece, a quarter of a second a login on loopback.
      client.setNoDelay(true);
    } catch (err) {
      fail((err as Error).message, false, err);
    }
  });
}

/** Why the TCP connection failed, in words, with the address. */
function tcpMessage(err: Error & { code?: string }, target: SshTarget): string {
  if (err.code === 'ECONNREFUSED') return `connection refused by ${target.host}:${target.port} (ECONNREFUSED)`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `cannot resolve the host name ${target.host} (${err.code})`;
  return err.message;
}
