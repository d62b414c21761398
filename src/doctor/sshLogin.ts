import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { ParsedKey, SFTPWrapper } from 'ssh2';
import type { ResolvedFileServer } from '../config/loadConfig.js';
import { describeSecretSource, readSecret, readSecretBuffer } from '../config/secrets.js';
import { fingerprintOf, hostKeyAlgorithmsFor } from '../core/hostKey.js';
import { messageOf } from './types.js';

const { Client, utils } = ssh2;

export type SftpServerConfig = Extract<ResolvedFileServer, { type: 'sftp' }>;

/** Our client key, as far as it could be loaded; its public half is what authorized_keys must hold. */
export interface ClientKey {
  key?: Buffer;
  passphrase?: string;
  /** Fingerprint and type of the public half, e.g. `SHA256:... (ssh-ed25519)`. */
  publicKey?: string;
  /** Why the key cannot be used. */
  problem?: string;
}

export interface SshLoginResult {
  /** The host key the server presented, if the handshake got that far. */
  seenFingerprint?: string;
  seenKeyType?: string;
  hostKeyMatches: boolean;
  /** The SFTP session once logged in; the caller ends `close`. */
  session?: { sftp: SFTPWrapper; close: () => void };
  /** Why the connection, handshake or login failed. */
  error?: string;
  /** The failure was the server refusing our key (not the network or handshake). */
  authRejected: boolean;
  /** The cipher agreed for what the server sends, once the handshake is done. */
  cipher?: string;
}

/** The algorithm name at the start of an SSH public key blob (RFC 4253 6.6). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : undefined;
}

export async function loadClientKey(cfg: SftpServerConfig, env: NodeJS.ProcessEnv): Promise<ClientKey> {
  let key: Buffer;
  let passphrase: string | undefined;
  try {
    key = await readSecretBuffer(cfg.privateKey, env);
    passphrase = cfg.passphrase ? await readSecret(cfg.passphrase, env) : undefined;
  } catch (err) {
    return { problem: messageOf(err) };
  }
  const parsed = utils.parseKey(key, passphrase) as ParsedKey | ParsedKey[] | Error;
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!first || first instanceof Error) {
    const why = first instanceof Error ? first.message : 'no key found';
    return { problem: `the private key from ${describeSecretSource(cfg.privateKey)} cannot be used: ${why}` };
  }
  if (!first.isPrivateKey()) {
    return { problem: `${describeSecretSource(cfg.privateKey)} holds a public key; point privateKeyFile at the private half` };
  }
  return { key, passphrase, publicKey: `${fingerprintOf(first.getPublicSSH())} (${first.type})` };
}

/**
 * Connects with the pinned host key and our client key, then opens SFTP. The host key is
 * captured in hostVerifier so that a mismatch can be reported with both fingerprints; a
 * mismatching server is never sent our credentials (hostVerifier returns false first).
 * `sock`: an open connection to the server to use instead of opening one.
 */
export function sshLogin(cfg: SftpServerConfig, key: ClientKey, sock?: Socket): Promise<SshLoginResult> {
  const result: SshLoginResult = { hostKeyMatches: false, authRejected: false };
  const client = new Client();
  const algorithms = hostKeyAlgorithmsFor(cfg.pinnedHostKey.keyType);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      if (error !== undefined) {
        result.error = error;
        client.end();
      }
      resolve(result);
    };
    client.on('error', (err: Error & { level?: string }) => {
      result.authRejected = err.level === 'client-authentication';
      finish(err.message);
    });
    client.on('close', () => finish('the connection closed during login'));
    client.on('handshake', (negotiated: { sc?: { cipher?: string } }) => {
      result.cipher = negotiated.sc?.cipher;
    });
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return finish(`logged in, but the SFTP subsystem failed: ${err.message}`);
        result.session = { sftp, close: () => client.end() };
        finish();
      });
    });
    try {
      client.connect({
        host: cfg.host,
        port: cfg.port,
        ...(sock ? { sock } : {}),
        username: cfg.username,
        ...(key.key ? { privateKey: key.key, passphrase: key.passphrase } : {}),
        readyTimeout: cfg.connectTimeoutMs,
        ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
        hostVerifier: (blob: Buffer) => {
          result.seenFingerprint = fingerprintOf(blob);
          result.seenKeyType = keyTypeOf(blob);
          result.hostKeyMatches = result.seenFingerprint === cfg.pinnedHostKey.fingerprint;
          return result.hostKeyMatches;
        },
      });
      // ssh2 leaves Nagle's algorithm on: each SFTP round trip then waits for a delayed ACK (~40 ms).
      client.setNoDelay(true);
    } catch (err) {
      finish(messageOf(err));
    }
  });
}
