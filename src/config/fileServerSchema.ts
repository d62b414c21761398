// The `fileServer:` section of a node: the SFTP server MFT writes to, or a local directory.
import path from 'node:path';
import { z } from 'zod';
import { normaliseNodeDirectory } from '../core/filePath.js';
import { parsePinnedHostKey } from '../core/hostKey.js';
import { nonEmpty, port } from './databaseSchema.js';
import { isoDuration } from './duration.js';
import type { ResolvedFileServer } from './resolvedConfig.js';
import type { Report } from './schemaIssues.js';
import { locateSecret } from './secrets.js';

/** The node's directory, normalised; a problem at `directory` when it cannot be one. */
function nodeDirectory(directory: string, report: Report): string {
  const normalised = normaliseNodeDirectory(directory);
  if (!normalised) {
    report(['directory'], 'an absolute directory other than "/", without "." or ".." segments', {
      fix: 'give the node\'s "External File Server Directory", e.g. /opt/mftFileStore/node_1',
    });
  }
  return normalised ?? directory;
}

const sftpFileServer = z.strictObject({
  type: z.literal('sftp'),
  host: nonEmpty,
  port: port.default(22),
  username: nonEmpty,
  privateKeyFile: nonEmpty.optional(),
  privateKeyCredential: nonEmpty.optional(),
  passphraseFile: nonEmpty.optional(),
  hostKey: nonEmpty,
  directory: nonEmpty,
  /** SFTP requests in flight on the session while removing files. */
  concurrency: z.number().int().min(1).max(1024).default(256),
  connectTimeout: isoDuration('connectTimeout').prefault('PT15S'),
});

function resolveSftp(fs: z.infer<typeof sftpFileServer>, configDirectory: string, report: Report): ResolvedFileServer {
  const directory = nodeDirectory(fs.directory, report);
  const keys = locateSecret(configDirectory, { file: fs.privateKeyFile, credential: fs.privateKeyCredential });
  if (keys.length > 1) {
    report([], 'at most one of privateKeyFile, privateKeyCredential', { value: `${keys.length} sources`, fix: 'keep only one place to read the secret from' });
  }
  if (keys.length === 0) {
    report(['privateKeyFile'], 'privateKeyFile or privateKeyCredential', { fix: 'point it at the private key whose public half is in ~mftuser/.ssh/authorized_keys' });
  }
  const pinnedHostKey = parsePinnedHostKey(fs.hostKey);
  if (!pinnedHostKey) {
    report(['hostKey'], 'the file server\'s host key: "SHA256:..." as ssh-keygen -lf prints it, or a line as ssh-keyscan prints it', {
      fix: 'run: ssh-keyscan -t ed25519 <host>, verify it on the server, and paste the line',
    });
  }
  return {
    type: fs.type,
    host: fs.host,
    port: fs.port,
    username: fs.username,
    directory,
    concurrency: fs.concurrency,
    privateKey: keys[0]!,
    ...(fs.passphraseFile ? { passphrase: { kind: 'file', path: path.resolve(configDirectory, fs.passphraseFile) } as const } : {}),
    pinnedHostKey: pinnedHostKey!,
    connectTimeoutMs: fs.connectTimeout.ms,
  };
}

const localFileServer = z.strictObject({
  type: z.literal('local'),
  directory: nonEmpty,
  concurrency: z.number().int().min(1).max(1024).default(32),
});

/** A node's `fileServer:` as written. */
export const fileServerSchema = z.discriminatedUnion('type', [sftpFileServer, localFileServer], {
  error: 'fileServer.type "sftp" or "local"',
});

/**
 * A node's file server as the file store uses it; relative key files are read from
 * `configDirectory`. When a problem is reported the value returned is never used: the whole
 * config is refused.
 */
export function resolveFileServer(fs: z.infer<typeof fileServerSchema>, configDirectory: string, report: Report): ResolvedFileServer {
  return fs.type === 'sftp' ? resolveSftp(fs, configDirectory, report) : { ...fs, directory: nodeDirectory(fs.directory, report) };
}
