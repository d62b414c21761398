import type { LogLevel } from '../config/logLevels.js';
import { loadConfig } from '../config/loadConfig.js';
import { coerceError, ConnectError } from '../errors.js';
import { makeLogger } from '../logger.js';
import { openCatalog, openFileStore } from '../purge/openPorts.js';
import { reconcileNode, type ReconcileResult } from '../reconcile/reconcileNode.js';
import { reconcileRecords, renderReconcile } from '../reconcile/renderReconcile.js';
import type { Catalog, FileStore } from '../ports.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { assertKnownNodes } from './knownNodes.js';
import { UsageError, type Io } from './io.js';

export interface ReconcileArgs {
  config: string;
  nodes?: string[];
  json: boolean;
  removeOrphans: boolean;
  logLevel?: LogLevel;
}

/** `mft-retention reconcile`: expired hour folders against AFT_LOG, per node. */
export async function reconcileCommand(args: ReconcileArgs, io: Io): Promise<ExitCode> {
  const config = await loadConfig(args.config, io.env);
  assertKnownNodes(config, args.nodes);
  const log = makeLogger({ level: args.logLevel ?? (args.removeOrphans ? config.log.level : 'warn'), fd: 2 });
  const results: ReconcileResult[] = [];
  for (const node of config.nodes) {
    if (args.nodes && !args.nodes.includes(node.name)) continue;
    let catalog: Catalog | undefined;
    let files: FileStore | undefined;
    try {
      catalog = await openCatalog(node, io.env);
      files = await openFileStore(node, io.env);
      results.push(await reconcileNode(node, { catalog, files, log }, { removeOrphans: args.removeOrphans, hostNow: () => new Date() }));
    } catch (err) {
      const error = coerceError(err);
      log.error({ node: node.name, err: error }, 'cannot reconcile node');
      results.push({ node: node.name, status: 'failed', error, chatTypes: [] });
    } finally {
      await files?.close();
      await catalog?.close();
    }
  }
  if (args.json) for (const rec of reconcileRecords(results, args.removeOrphans)) io.out(JSON.stringify(rec));
  else io.out(renderReconcile(results, args.removeOrphans));
  log.flush?.();
  return reconcileExitCode(results, args.removeOrphans);
}

/** 0: nothing to reconcile (or every orphan removed); 1: something found or not removed; 3: a node unreachable. */
export function reconcileExitCode(results: ReconcileResult[], removeOrphans: boolean): ExitCode {
  if (results.some((r) => r.status === 'failed' && r.error instanceof ConnectError)) return EXIT.connection;
  if (results.some((r) => r.status === 'failed')) return EXIT.partial;
  for (const c of results.flatMap((r) => r.chatTypes)) {
    if (c.missing.length) return EXIT.partial;
    const open = c.orphans.filter((o) => (removeOrphans ? o.action.startsWith('failed') : !o.action.startsWith('kept')));
    if (open.length) return EXIT.partial;
  }
  return EXIT.ok;
}
