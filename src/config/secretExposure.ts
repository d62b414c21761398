import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig, ResolvedNode } from './resolvedConfig.js';
import { describeSecretSource, type SecretSource } from './secrets.js';

/** A secret file that users other than its owner and group can read or change. */
export interface SecretExposure {
  node?: string;
  /** What the secret is for: "database password", "SSH private key", ... */
  what: string;
  file: string;
  mode: number;
}

/** The secret sources of a node, with what each is for. */
function nodeSecrets(n: ResolvedNode): Array<[string, SecretSource]> {
  const out: Array<[string, SecretSource]> = [];
  if (n.database.password) out.push(['database password', n.database.password]);
  if (n.database.type === 'oracle' && n.database.tls?.walletPassword) out.push(['Oracle wallet password', n.database.tls.walletPassword]);
  if (n.fileServer.type === 'sftp') {
    out.push(['SSH private key', n.fileServer.privateKey]);
    if (n.fileServer.passphrase) out.push(['SSH key passphrase', n.fileServer.passphrase]);
  }
  return out;
}

/** The file a source is read from here, if it is one (a credential only outside systemd's own directory). */
function fileOf(source: SecretSource, env: NodeJS.ProcessEnv): string | undefined {
  if (source.kind === 'file') return source.path;
  if (source.kind === 'credential' && env.CREDENTIALS_DIRECTORY) return path.join(env.CREDENTIALS_DIRECTORY, source.name);
  return undefined;
}

/**
 * Secret files readable or writable by every user of this host (mode o+r or o+w). Group access
 * is how the service user is meant to read them (0640 root:mft-retention), so it is not flagged.
 * A file that cannot be examined is left to the check that reads it.
 */
export async function findSecretExposures(config: ResolvedConfig, env: NodeJS.ProcessEnv, nodes?: string[]): Promise<SecretExposure[]> {
  const seen = new Set<string>();
  const found: SecretExposure[] = [];
  const consider = async (what: string, source: SecretSource, node?: string) => {
    const file = fileOf(source, env);
    if (!file || seen.has(file)) return;
    seen.add(file);
    const st = await stat(file).catch(() => undefined);
    if (st && st.isFile() && (st.mode & 0o006) !== 0) found.push({ ...(node ? { node } : {}), what, file, mode: st.mode & 0o777 });
  };
  for (const n of config.nodes) {
    if (nodes && !nodes.includes(n.name)) continue;
    for (const [what, source] of nodeSecrets(n)) await consider(what, source, n.name);
  }
  for (const s of config.alarms.sinks) if (s.type === 'webhook' && s.hmac) await consider(`webhook ${s.name} HMAC key`, s.hmac);
  return found;
}

export function describeExposure(e: SecretExposure): string {
  const mode = e.mode.toString(8).padStart(4, '0');
  return `the ${e.what}${e.node ? ` of node ${e.node}` : ''} (${describeSecretSource({ kind: 'file', path: e.file })}) can be read by every user of this host (mode ${mode})`;
}

export const exposureFix = (e: SecretExposure): string => `chmod o-rwx ${e.file} (keep it readable by root and the mft-retention group only: chown root:mft-retention, chmod 0640)`;
