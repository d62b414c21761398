import path from 'node:path';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import { CHAT_TYPES } from '../core/chatType.js';
import { ConnectError } from '../errors.js';
import type { FileStore } from '../ports.js';
import { openFileStore } from './openPorts.js';

/**
 * What a dry-run checks on a node's file server before it reports: one login (the pinned host
 * key, the key accepted), the node directory, and its `files/` folder. Read-only: nothing is
 * created or removed, unlike doctor's writable check.
 */
export interface FileServerPreflight {
  node: string;
  /** `failed`: a purge could not work there. */
  status: 'ok' | 'failed';
  /** One line a check, for a person. */
  lines: string[];
  /** The login failed (exit 3, as for a purge). */
  connectionFailed?: boolean;
  fix?: string;
}

export async function checkFileServerReadOnly(node: ResolvedNode, env: NodeJS.ProcessEnv, open: (n: ResolvedNode, env: NodeJS.ProcessEnv) => Promise<FileStore> = openFileStore): Promise<FileServerPreflight> {
  const fs = node.fileServer;
  const where = fs.type === 'sftp' ? `${fs.username}@${fs.host}:${fs.port}` : 'this host';
  let store: FileStore;
  try {
    store = await open(node, env);
  } catch (err) {
    const message = (err as Error).message;
    return { node: node.name, status: 'failed', connectionFailed: err instanceof ConnectError, lines: [`${where}: ${message}`], fix: 'run mft-retention doctor for the details' };
  }
  const lines = [fs.type === 'sftp' ? `logged in to ${where}; its host key matches the pinned one` : `using the local directory`];
  try {
    // Opening the store already refused a missing node directory or one without files/ (the
    // parent of the node directories, a file store not mounted): a ConnectError above.
    const filesDir = path.posix.join(fs.directory, 'files');
    const chatFolders = await store.listDirectory(filesDir);
    const found = chatFolders === 'missing' ? [] : CHAT_TYPES.filter((t) => chatFolders.some((e) => e.name === t));
    lines.push(`${fs.directory} exists, with files/${found.length ? ` (${found.join(', ')})` : ' (no chat type folder yet)'}`);
    return { node: node.name, status: 'ok', lines };
  } catch (err) {
    return { node: node.name, status: 'failed', lines: [...lines, `cannot list ${fs.directory}: ${(err as Error).message}`], fix: 'run mft-retention doctor for the details' };
  } finally {
    await store.close().catch(() => undefined);
  }
}

export function renderPreflight(checks: FileServerPreflight[], offline: boolean): string[] {
  if (offline) return ['', 'The file servers were not contacted (--offline): the host keys, the logins and the node directories are not checked.'];
  const out = ['', 'File servers (read-only checks; nothing was changed):'];
  for (const c of checks) {
    out.push(`  ${c.node}: ${c.status === 'ok' ? 'ok' : 'FAILED'}`);
    for (const l of c.lines) out.push(`    ${l}`);
    if (c.fix) out.push(`    -> ${c.fix}`);
  }
  out.push('  Not checked by a dry-run: that the SSH user may delete there (run mft-retention doctor).');
  return out;
}
