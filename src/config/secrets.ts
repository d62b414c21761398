import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Where a secret is read from; its value never appears in a log or error. */
export type SecretSource =
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'credential'; name: string };

export function describeSecretSource(s: SecretSource): string {
  switch (s.kind) {
    case 'file':
      return `file ${s.path}`;
    case 'env':
      return `environment variable ${s.name}`;
    case 'credential':
      return `systemd credential ${s.name}`;
  }
}

export class SecretError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretError';
  }
}

/**
 * Reads a secret. A trailing newline (as `echo pw > file` leaves) is dropped. systemd
 * credentials come from $CREDENTIALS_DIRECTORY, set by LoadCredential= in the unit.
 */
export async function readSecret(source: SecretSource, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const where = describeSecretSource(source);
  let text: string | undefined;
  if (source.kind === 'env') {
    text = env[source.name];
    if (text === undefined || text === '') throw new SecretError(`the ${where} is not set or empty`);
    return text;
  }
  let file: string;
  if (source.kind === 'credential') {
    const dir = env.CREDENTIALS_DIRECTORY;
    if (!dir) {
      throw new SecretError(`cannot read ${where}: $CREDENTIALS_DIRECTORY is not set (it is set by systemd's LoadCredential=; outside systemd use a file or environment variable)`);
    }
    file = path.join(dir, source.name);
  } else {
    file = source.path;
  }
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SecretError(`cannot read the ${where}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  return text.replace(/\r?\n$/, '');
}

/** Reads binary-safe secret material (an SSH private key) as a Buffer. */
export async function readSecretBuffer(source: SecretSource, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  if (source.kind === 'env') return Buffer.from(await readSecret(source, env), 'utf8');
  const file = source.kind === 'file' ? source.path : path.join(env.CREDENTIALS_DIRECTORY ?? '', source.name);
  if (source.kind === 'credential' && !env.CREDENTIALS_DIRECTORY) await readSecret(source, env);
  try {
    return await readFile(file);
  } catch (err) {
    throw new SecretError(`cannot read the ${describeSecretSource(source)}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

/**
 * The places a config section says a secret is read from (a file relative to the config
 * file's directory, a variable, a systemd credential). More than one is the caller's error.
 */
export function locateSecret(configDirectory: string, given: { file?: string; env?: string; credential?: string }): SecretSource[] {
  const found: SecretSource[] = [];
  if (given.file !== undefined) found.push({ kind: 'file', path: path.resolve(configDirectory, given.file) });
  if (given.env !== undefined) found.push({ kind: 'env', name: given.env });
  if (given.credential !== undefined) found.push({ kind: 'credential', name: given.credential });
  return found;
}
