import { createHash } from 'node:crypto';

/** The file server's pinned host key, as the admin gave it. */
export interface PinnedHostKey {
  /** OpenSSH-style fingerprint, `SHA256:` + unpadded base64. */
  fingerprint: string;
  /** Key algorithm when known (from an ssh-keyscan line), e.g. `ssh-ed25519`. */
  keyType?: string;
}

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|ssh-dss|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Accepts `SHA256:<base64>` (as `ssh-keygen -lf` prints) or a line as `ssh-keyscan` prints it
 * (`host keytype base64`, or just `keytype base64`). Returns undefined if it is neither.
 */
export function parsePinnedHostKey(text: string): PinnedHostKey | undefined {
  const trimmed = text.trim();
  const fp = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(trimmed);
  if (fp) return { fingerprint: `SHA256:${fp[1]}` };
  const parts = trimmed.split(/\s+/);
  const typeAt = parts.findIndex((p) => KEY_TYPES.test(p));
  if (typeAt < 0 || typeAt > 1 || parts.length < typeAt + 2) return undefined;
  const blob = parts[typeAt + 1]!;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return undefined;
  const key = Buffer.from(blob, 'base64');
  // The blob starts with its own algorithm name; a mismatch means a mangled paste.
  const nameLen = key.length >= 4 ? key.readUInt32BE(0) : -1;
  if (nameLen <= 0 || key.subarray(4, 4 + nameLen).toString('latin1') !== parts[typeAt]) return undefined;
  return { fingerprint: fingerprintOf(key), keyType: parts[typeAt] };
}

/** Host key algorithms to offer so that the server presents the pinned key's type. */
export function hostKeyAlgorithmsFor(keyType: string | undefined): string[] | undefined {
  if (!keyType) return undefined;
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}

/** The algorithm name at the start of an SSH public key blob (RFC 4253 6.6). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : undefined;
}
