import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import { coerceError, StatementCancelledError } from '../errors.js';
import type { Catalog, FileStore } from '../ports.js';
import type { Approval } from '../core/approval.js';
import { AuditExport } from './auditExport.js';
import { openCatalog, openFileStore } from './openPorts.js';
import { PendingFileStore } from './pendingFileStore.js';
import { purgeNode, type NodeResult, type PurgeOptions } from './purgeNode.js';
import { openRunHistory, type RunHistory } from './runHistory.js';
import { openRowsPending, type RowsPendingLedger } from './rowsPending.js';
import type { StopControl } from './stopControl.js';

export interface RunOptions extends Omit<PurgeOptions, 'batchSize' | 'maxClockSkewMs' | 'limits'> {
  nodes?: string[];
  env?: NodeJS.ProcessEnv;
  /** Approvals of runs a blast-radius limit refused (`--approve`). */
  approvals?: Approval[];
  /** Where the daemon keeps the run history between runs (default: read from the state directory). */
  history?: { open(): Promise<RunHistory>; saved(history: RunHistory, error?: Error): void };
  /** The stop signals' effect on the database (see StopControl); its signal is `signal`. */
  stop?: StopControl;
}

/** Opens each node's connections, purges it, closes them. Nodes run one after another, each isolated. */
export async function runPurge(config: ResolvedConfig, log: Logger, opts: RunOptions): Promise<NodeResult[]> {
  const results: NodeResult[] = [];
  const stateDirectory = config.daemon.stateDirectory;
  const history = await (opts.history?.open() ?? openRunHistory(stateDirectory));
  const damaged = config.nodes.map((n) => history.problem(n.name)).find(Boolean);
  if (damaged) log.error({ file: damaged.file, problem: damaged.problem }, `the purge history ${damaged.file} ${damaged.problem}: the limit on unusually large runs refuses what it cannot judge; see mft-retention state reset-history --help`);
  for (const node of config.nodes) {
    if (opts.nodes && !opts.nodes.includes(node.name)) continue;
    if (opts.signal?.aborted) break;
    results.push(await runNode(config, node, log, opts, history));
  }
  if (!opts.dryRun) {
    const error = await history.save().then(
      () => undefined,
      (err: unknown) => coerceError(err),
    );
    if (error) log.warn({ stateDirectory, err: error }, 'cannot save the purge history; the limit on unusually large runs will not know this run');
    opts.history?.saved(history, error);
  }
  return results;
}

async function runNode(config: ResolvedConfig, node: ResolvedNode, log: Logger, opts: RunOptions, history: RunHistory): Promise<NodeResult> {
  let catalog: Catalog | undefined;
  let files: FileStore | undefined;
  let audit: AuditExport | undefined;
  let pendingRows: RowsPendingLedger | undefined;
  let unregister: (() => void) | undefined;
  const startedAt = new Date();
  try {
    // Before anything is removed: an export that cannot be written stops the node here.
    if (!opts.dryRun && node.auditExport) audit = await AuditExport.open(node.auditExport.directory, node.name);
    catalog = await openCatalog(node, opts.env);
    const cat = catalog;
    // A stop cancels the long reads in progress (the daemon's drain too); giving up, every statement.
    const offStop = opts.stop?.onCancel((scope) => cat.cancel?.(scope, 'stopped') ?? Promise.resolve());
    const onAbort = (): void => void cat.cancel?.('reads', 'stopped');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    unregister = () => {
      offStop?.();
      opts.signal?.removeEventListener('abort', onAbort);
    };
    if (!opts.dryRun) {
      pendingRows = await openRowsPending(config.daemon.stateDirectory, node.name).catch((err) => {
        log.warn({ node: node.name, err: coerceError(err) }, 'files an earlier run removed without deleting their rows are reported as already missing');
        return undefined;
      });
    }
    // A dry-run reads AFT_LOG only: it never needs the file server. A purge logs in to it while
    // the database does its first work (see PendingFileStore); the database goes first, since
    // its work is the longer and the login's start-up (loading SSH, the key exchange) would
    // only delay it.
    const pending = opts.dryRun ? undefined : new PendingFileStore(openFileStore(node, opts.env));
    files = pending;
    // Without its file server the node can remove nothing: a count or a cursor being computed
    // meanwhile is cancelled rather than left to finish for nothing.
    void pending?.failure().then((err) => (err ? cat.cancel?.('reads', 'file-server-lost') : undefined));
    const limits = { history, approvals: opts.approvals };
    const result = await purgeNode(node, { catalog, files, log, audit, pending: pendingRows }, { ...opts, limits, batchSize: config.purge.batchSize, removeEmptyFolders: config.purge.removeEmptyFolders, maxClockSkewMs: config.purge.maxClockSkewMs, chatTypes: opts.chatTypes as ChatType[] | undefined });
    // A run with nothing to remove never used the file server: it is checked all the same.
    const fileServerError = await pending?.failure();
    const cancelledForIt = result.error instanceof StatementCancelledError && result.error.reason === 'file-server-lost';
    if (fileServerError && (result.status !== 'failed' || cancelledForIt)) {
      result.status = 'failed';
      result.error = fileServerError;
      log.error({ node: node.name, err: fileServerError }, 'cannot purge node');
    }
    logSummary(log, result, opts.dryRun);
    return result;
  } catch (err) {
    const error = coerceError(err);
    log.error({ node: node.name, err: error }, 'cannot purge node');
    return { node: node.name, status: 'failed', chatTypes: [], error, startedAt, finishedAt: new Date() };
  } finally {
    unregister?.();
    await pendingRows?.save().catch((err) => log.warn({ node: node.name, err: coerceError(err) }, 'cannot save the list of files removed with their rows pending'));
    await files?.close();
    await catalog?.close();
    await audit?.close().catch((err) => log.error({ node: node.name, err: coerceError(err) }, 'cannot write the checksum of the audit export; the next run writes it'));
  }
}

/** The per-node summary line that closes a run's audit trail. */
function logSummary(log: Logger, r: NodeResult, dryRun: boolean): void {
  const chatTypes = Object.fromEntries(r.chatTypes.map((s) => [s.chatType, { files: s.files, bytes: s.bytes, rows: s.rows, alreadyMissing: s.alreadyMissing, kept: s.kept, failed: s.failed }]));
  const line = { node: r.node, status: r.status, dryRun, clockSkewMs: r.clockSkewMs, durationMs: (r.finishedAt ?? new Date()).getTime() - r.startedAt.getTime(), chatTypes };
  if (r.status === 'ok') log.info(line, dryRun ? 'dry-run of node finished' : 'purge of node finished');
  else log.warn(line, dryRun ? 'dry-run of node finished with problems' : 'purge of node finished with problems');
}
