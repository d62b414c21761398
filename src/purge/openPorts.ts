import type { ResolvedNode } from '../config/loadConfig.js';
import { LocalFileStore } from '../adapters/localFileStore.js';
import { PostgresCatalog } from '../adapters/postgres/postgresCatalog.js';
import { SftpFileStore } from '../adapters/sftpFileStore.js';
import { ConnectError } from '../errors.js';
import type { Catalog, FileStore } from '../ports.js';

/** The composition point for adapters: the only place that knows which class serves which config. */
export async function openCatalog(node: ResolvedNode, env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  return PostgresCatalog.open(node.name, node.database, env);
}

export async function openFileStore(node: ResolvedNode, env: NodeJS.ProcessEnv = process.env): Promise<FileStore> {
  const fs = node.fileServer;
  if (fs.type === 'sftp') return SftpFileStore.open(node.name, fs, env);
  try {
    return await LocalFileStore.open(fs.directory, fs.concurrency);
  } catch (err) {
    throw new ConnectError('file-server', node.name, (err as Error).message, { cause: err });
  }
}
