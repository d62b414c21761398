import type { ResolvedNode } from '../config/resolvedConfig.js';
import { LocalFileStore } from '../adapters/localFileStore.js';
import { PostgresNodeLock } from '../adapters/postgres/nodeLock.js';
import { PostgresCatalog } from '../adapters/postgres/postgresCatalog.js';
import { ConnectError } from '../errors.js';
import type { Catalog, FileStore, NodeLock } from '../ports.js';

// The Oracle adapters are loaded only for an Oracle node, and the SFTP one when a file server is
// opened: their libraries are a good part of the start-up time of every command otherwise (a
// dry-run never opens the file server, and a purge opens it while the database works).

/** The composition point for adapters: the only place that knows which class serves which config. */
export async function openCatalog(node: ResolvedNode, env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  const db = node.database;
  if (db.type !== 'oracle') return PostgresCatalog.open(node.name, db, env);
  const { OracleCatalog } = await import('../adapters/oracle/oracleCatalog.js');
  return OracleCatalog.open(node.name, db, env);
}

/** The node's lock in its own database; undefined when another instance holds it. */
export async function tryAcquireNodeLock(node: Pick<ResolvedNode, 'name' | 'database'>, env: NodeJS.ProcessEnv = process.env): Promise<NodeLock | undefined> {
  const db = node.database;
  if (db.type !== 'oracle') return PostgresNodeLock.tryAcquire(node.name, db, env);
  const { OracleNodeLock } = await import('../adapters/oracle/nodeLock.js');
  return OracleNodeLock.tryAcquire(node.name, db, env);
}

export async function openFileStore(node: ResolvedNode, env: NodeJS.ProcessEnv = process.env): Promise<FileStore> {
  const fs = node.fileServer;
  if (fs.type === 'sftp') {
    const { SftpFileStore } = await import('../adapters/sftpFileStore.js');
    return SftpFileStore.open(node.name, fs, env);
  }
  try {
    return await LocalFileStore.open(fs.directory, fs.concurrency);
  } catch (err) {
    throw new ConnectError('file-server', node.name, (err as Error).message, { cause: err });
  }
}
