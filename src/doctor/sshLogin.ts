import type { Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { ParsedKey, SFTPWrapper } from 'ssh2';
import { sshLogin as login, SshLoginError } from '../adapters/sftp/sshLogin.js';
import type { ResolvedFileServer } from '../config/resolvedConfig.js';
import { describeSecretSource, readSecret, readSecretBuffer } from '../config/secrets.js';
import { fingerprintOf } from '../core/hostKey.js';
import { messageOf } from './types.js';

const { utils } = ssh2;

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
 * Logs in as the purge does (adapters/sftp/sshLogin.ts), and keeps what each check reports:
 * the host key seen, whether our key was refused, the cipher, or the session.
 * `sock`: an open connection to the server to use instead of opening one.
 */
export async function sshLogin(cfg: SftpServerConfig, key: ClientKey, sock?: Socket): Promise<SshLoginResult> {
  try {
    const s = await login(cfg, { privateKey: key.key, passphrase: key.passphrase }, { sock });
    return {
      seenFingerprint: s.hostKey.fingerprint,
      seenKeyType: s.hostKey.keyType,
      hostKeyMatches: true,
      authRejected: false,
      cipher: s.cipher,
      session: { sftp: s.sftp, close: () => void s.end() },
    };
  } catch (err) {
    if (!(err instanceof SshLoginError)) return { hostKeyMatches: false, authRejected: false, error: messageOf(err) };
    return {
      seenFingerprint: err.seen,
      seenKeyType: err.seenKeyType,
      hostKeyMatches: err.seen === cfg.pinnedHostKey.fingerprint,
      authRejected: err.keyRefused,
      error: err.message,
    };
  }
}
