import type { Logger } from 'pino';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../core/clock.js';
import { emptyFolderCandidates, finishedHourFolders } from '../core/emptyFolders.js';
import type { EligibilityContext } from '../core/eligibility.js';
import { coerceError, ConnectError, StatementCancelledError } from '../errors.js';
import { infoMany } from '../logger.js';
import type { Backlog, Catalog, CompanionRow, ExpiredUploadReader, FileStore } from '../ports.js';
import { attachCompanions, decideRows, type FileDecision } from '../core/planBatch.js';
import { countFailed, countGone, countKept, emptyStats, type ChatTypeStats } from '../core/purgeStats.js';
import type { AuditExport } from './auditExport.js';
import { checkBlastRadius, type LimitOptions, type Refusal } from './blastRadius.js';
import { deleteFailure, type RowsPendingLedger } from './rowsPending.js';
import { removeOrphanDownloads, type OrphanDownloads } from './orphanDownloads.js';
import type { ChatTypeStep } from '../core/catchUp.js';
import { logRunPlan, pacedFileStore, runPacing, StepBudget, stopSignal, type Deadline, type RunEnd, type RunPacing } from './pacing.js';

export interface PurgeOptions {
  dryRun: boolean;
  /** Limit to these chat types (all with a policy when undefined). */
  chatTypes?: ChatType[];
  batchSize: number;
  maxClockSkewMs: number;
  /** Remove hour and date folders the purge emptied (never today's). */
  removeEmptyFolders?: boolean;
  /** The host clock; a dry-run may pass a simulated later date. */
  hostNow: () => Date;
  /** When set, the database clock is ignored (a dry-run simulating another date). */
  simulated?: boolean;
  /** Stops between batches (graceful shutdown): the batch in flight completes. */
  signal?: AbortSignal;
  /** Called for every file considered, in order (the dry-run's per-file output). */
  onFile?: (node: string, file: FileDecision, outcome?: string) => void;
  /**
   * Called after each batch, for progress, with the chat type's backlog as counted before the
   * run, and what this run is to take of it (less with a per-run cap).
   */
  onProgress?: (node: string, stats: ChatTypeStats, backlog: Backlog, step?: StepProgress) => void;
  /** When the run must stop between batches (a purge window's end, --until, --max-duration). */
  deadline?: Deadline;
  /** Run history and approvals for the blast-radius limits (the limits themselves are the node's). */
  limits?: LimitOptions;
}

export interface NodeResult {
  node: string;
  status: 'ok' | 'partial' | 'failed' | 'stopped' | 'refused';
  chatTypes: ChatTypeStats[];
  /** Blast-radius limits that refused (in a dry-run: would refuse) the node or some chat types. */
  refused?: Refusal[];
  error?: Error;
  clockSkewMs?: number;
  /** Downloads of files already purged, found and deleted after the run's batches. */
  orphanDownloads?: OrphanDownloads;
  startedAt: Date;
  finishedAt?: Date;
  /** What ended the run before its backlog was cleared: a per-run cap, or the time to stop by. */
  ended?: RunEnd;
  /** Per chat type: the expired backlog counted before the run, and the step this run took of it. */
  steps?: Array<{ chatType: ChatType; backlog: Backlog; step: ChatTypeStep }>;
  /** The node's files-per-second limit in force (undefined: none). */
  maxFilesPerSecond?: number;
}

/** What a run is to take of a chat type's backlog, for progress and its ETA. */
export interface StepProgress {
  step: ChatTypeStep;
  maxFilesPerSecond?: number;
}

/** What the purge of one node reads of its configuration: never its connections or secrets. */
export type PurgeTarget = Pick<ResolvedNode, 'name' | 'policies' | 'holds' | 'limits' | 'maxFilesPerSecond'> & { fileServer: Pick<ResolvedNode['fileServer'], 'directory'> };

export interface NodePorts {
  catalog: Catalog;
  files: FileStore | undefined;
  log: Logger;
  /** When set, every row is exported there before it is deleted. */
  audit?: Pick<AuditExport, 'append'>;
  /** Files an earlier run removed without deleting their rows, and this run's. */
  pending?: RowsPendingLedger;
}

/**
 * One purge (or dry-run) of one node: for each chat type with a finite policy, the expired
 * uploads are read once, a batch at a time, with every row of their files; each file is removed
 * first and its rows are deleted after, one atomic statement a batch (see executeBatch).
 */
export async function purgeNode(node: PurgeTarget, ports: NodePorts, opts: PurgeOptions): Promise<NodeResult> {
  const result: NodeResult = { node: node.name, status: 'ok', chatTypes: [], startedAt: new Date() };
  const log = ports.log.child({ node: node.name });
  try {
    const hostNow = opts.hostNow();
    const dbNow = opts.simulated ? undefined : await ports.catalog.databaseNow();
    // Before any file can be removed: a file whose rows cannot be deleted must stay.
    if (!opts.dryRun) await ports.catalog.checkWritable?.();
    const times = resolvePurgeTimes(hostNow, dbNow);
    result.clockSkewMs = times.skewMs;
    if (Math.abs(times.skewMs) > opts.maxClockSkewMs) {
      log.warn({ skewMs: times.skewMs, hostNow, databaseNow: dbNow }, 'host and database clocks disagree; using the earlier one so nothing recent can be purged');
    }
    const selected = (Object.keys(node.policies) as ChatType[]).filter((ct) => !opts.chatTypes || opts.chatTypes.includes(ct));
    if (opts.signal?.aborted) throw stoppedBeforeStart(node.name);
    // Counted before anything is removed: a refused chat type is not touched at all.
    const gate = await checkBlastRadius(node, ports.catalog, times, selected, opts.limits ?? {}, log, opts.dryRun);
    if (gate.refusals.length) result.refused = gate.refusals;
    const pacing = runPacing(node.maxFilesPerSecond, opts.deadline);
    result.maxFilesPerSecond = node.maxFilesPerSecond;
    result.steps = planned(node, selected, gate);
    logRunPlan(log, result.steps.filter((s) => !gate.refusalFor(s.chatType) || opts.dryRun), pacing, node.limits, hostNow, opts.dryRun);
    const stop = stopSignal(opts.signal, opts.deadline);
    // With a rate, every removal request goes through the pacer.
    const paced: NodePorts = pacing.pacer && ports.files && !opts.dryRun ? { ...ports, files: pacedFileStore(ports.files, pacing.pacer) } : ports;
    for (const [chatType, policy] of Object.entries(node.policies) as Array<[ChatType, NonNullable<ResolvedNode['policies'][ChatType]>]>) {
      if (opts.chatTypes && !opts.chatTypes.includes(chatType)) continue;
      const stats = emptyStats(chatType, policy.retentionText);
      result.chatTypes.push(stats);
      if (policy.retention === 'forever') continue;
      const refusal = gate.refusalFor(chatType);
      if (refusal) stats.refused = refusal;
      // The dry-run still shows what the refused run would have removed.
      if (refusal && !opts.dryRun) continue;
      // Nothing expired when counted, a moment ago, with the same cutoff as the read below:
      // reading would cost a pass over AFT_LOG for nothing.
      const counted = gate.expired(chatType);
      if (counted.files === 0) {
        log.debug({ chatType }, 'no expired uploads counted; AFT_LOG not read for this chat type');
        continue;
      }
      if (opts.signal?.aborted) {
        result.status = 'stopped';
        break;
      }
      const ctx: EligibilityContext = {
        nodeDirectory: node.fileServer.directory,
        chatType,
        // The instant the chat type was counted as of: the run's (to the second) or, for an
        // approved run, its approval's, so that it removes what the approval counted.
        retentionCutoff: retentionCutoff(gate.countedAsOf(chatType), policy.retention),
        currentHourStart: times.currentHourStart,
        holds: node.holds,
        lastDownloadCutoff: policy.keepAfterLastDownload ? retentionCutoff(times.now, policy.keepAfterLastDownload) : undefined,
      };
      // A dry-run reads in whole batches: it removes nothing, so there is nothing to pace.
      const budget = new StepBudget(gate.step(chatType), opts.dryRun ? undefined : pacing);
      await purgeChatType({ node: node.name, ctx, ports: paced, opts, stats, log: log.child({ chatType }), budget, pacing, signal: stop.signal }, counted);
      if (budget.capped) result.ended ??= 'cap';
      if (opts.signal?.aborted) {
        result.status = 'stopped';
        break;
      }
      if (stop.reached()) {
        // The time to stop by: the batches in flight finished; the rest waits for the next run.
        result.ended = opts.deadline!.reason;
        log.info({ stopBy: opts.deadline!.at.toISOString(), reason: opts.deadline!.reason }, 'time to stop reached: the purge stopped between batches; the next run carries on');
        break;
      }
    }
    // Downloads logged after their file's rows were deleted (by this run or an earlier one):
    // looked for after a run that removed files, when more of them may have come.
    if (!opts.dryRun && result.status === 'ok' && !result.ended && ports.files && result.chatTypes.some((s) => s.files > 0)) {
      result.orphanDownloads = await removeOrphanDownloads(ports.catalog, ports.files, node.fileServer.directory, times.now, times.currentHourStart, log);
    }
    stop.dispose();
    if (!opts.dryRun) gate.record();
  } catch (err) {
    const error = coerceError(err);
    if (error instanceof StatementCancelledError && error.reason === 'stopped') {
      // The stop cancelled a long read (counting, computing the reader): nothing half done.
      result.status = 'stopped';
      log.info({ reason: error.message }, 'purge of node stopped');
    } else {
      result.status = 'failed';
      result.error = error;
      log.error({ err: result.error }, 'purge of node failed');
    }
  }
  if (result.status === 'ok' && result.chatTypes.some((s) => Object.keys(s.failed).length > 0 || s.rowsPending > 0)) {
    result.status = 'partial';
  }
  if (result.refused && (result.status === 'ok' || result.status === 'partial')) result.status = 'refused';
  result.finishedAt = new Date();
  return result;
}

/** What every step of one chat type's purge works with (a plan's application too). */
export interface ChatTypeRun {
  node: string;
  ctx: EligibilityContext;
  ports: NodePorts;
  opts: PurgeOptions;
  stats: ChatTypeStats;
  log: Logger;
  /** This chat type's share of a capped run (unbounded without a cap). */
  budget: StepBudget;
  pacing: RunPacing;
  /** The caller's stop signal and the deadline's together. */
  signal: AbortSignal | undefined;
}

/** The chat types a run counted, with their backlogs and what this run takes of each. */
function planned(node: PurgeTarget, selected: ChatType[], gate: Awaited<ReturnType<typeof checkBlastRadius>>): NonNullable<NodeResult['steps']> {
  return selected.filter((ct) => node.policies[ct] && node.policies[ct]!.retention !== 'forever').map((chatType) => ({ chatType, backlog: gate.expired(chatType), step: gate.step(chatType) }));
}

/** The hour folders a chat type's purge emptied, and the ones already removed on the way. */
interface EmptiedFolders {
  /** hour folder -> start of its hour */
  emptied: Map<string, Date>;
  removed: Set<string>;
  /** Removals of finished hour folders still under way. */
  pending: Array<Promise<void>>;
}

async function purgeChatType(run: ChatTypeRun, counted: Backlog): Promise<void> {
  const { ctx, ports, opts, stats, log } = run;
  const folders: EmptiedFolders = { emptied: new Map(), removed: new Set(), pending: [] };
  try {
    await purgeBatches(run, folders, counted);
  } finally {
    await Promise.all(folders.pending);
    // Also after a failure: folders emptied before it are as empty as ever. The date folders
    // go here, after their hour folders; so do hour folders the batches did not finish with.
    if (!opts.dryRun && opts.removeEmptyFolders && ports.files && folders.emptied.size > 0) {
      const left = emptyFolderCandidates(folders.emptied, ctx.currentHourStart).filter((d) => !folders.removed.has(d));
      const removed = await ports.files.removeEmptyFolders(left).catch(() => []);
      for (const d of removed) folders.removed.add(d);
    }
    stats.foldersRemoved += folders.removed.size;
    if (folders.removed.size) log.info({ folders: folders.removed.size }, 'removed empty folders');
  }
}

/**
 * Removes the hour folders a batch is done with (see finishedHourFolders) beside the next
 * batches' files, so that the end of the run has only a few left: the file server answers an
 * rmdir far more slowly than an unlink, and at the end nothing else would be going on.
 */
function removeFinishedFolders(gone: FileDecision[], ctx: EligibilityContext, files: FileStore, folders: EmptiedFolders): void {
  const finished = finishedHourFolders(
    gone.map((f) => [f.hourDir!, f.hourStart!] as const),
    ctx.currentHourStart,
  ).filter((d) => !folders.removed.has(d));
  if (finished.length === 0) return;
  folders.pending.push(
    files.removeEmptyFolders(finished).then(
      (removed) => {
        for (const d of removed) folders.removed.add(d);
      },
      // As at the end: a folder that cannot be removed now is offered again then.
      () => undefined,
    ),
  );
}

/** One batch of expired uploads, decided. */
export interface PlannedBatch {
  files: FileDecision[];
  /** `Post` rows read for this batch, whatever their outcome (for progress). */
  handled: number;
  /** The reader has nothing after this batch. */
  last: boolean;
}

/** Reads the next batch and applies the eligibility rules to it; undefined when nothing is left. */
async function readBatch(reader: ExpiredUploadReader, ctx: EligibilityContext, batchSize: number): Promise<PlannedBatch | undefined> {
  const uploads = await reader.next(batchSize);
  if (uploads.length === 0) return undefined;
  const first = decideRows(uploads.map((u) => u.upload), ctx);
  // Two Post rows of one path each list the other (and the same Get rows): one copy of each row.
  const companions = new Map<string, CompanionRow>();
  for (const u of uploads) for (const c of u.companions) companions.set(c.aftIndex, c);
  return { files: attachCompanions(first, [...companions.values()], ctx), handled: uploads.length, last: uploads.length < batchSize };
}

/**
 * Batches removed side by side at most. While one batch's files are being removed, the next
 * batch is read from the database and the previous batch's rows are deleted, so the file
 * server always has requests waiting. Memory holds at most this many batches plus the one
 * being read, whatever the backlog.
 */
const PIPELINE_DEPTH = 2;

async function purgeBatches(run: ChatTypeRun, folders: EmptiedFolders, backlog: Backlog): Promise<void> {
  const { node, ctx, ports, opts, stats, budget, pacing } = run;
  const progress: StepProgress = { step: budget.step, maxFilesPerSecond: pacing.pacer?.perSecond };
  // The backlog is the count taken before the run (blast-radius limits): counting again would
  // cost another pass over AFT_LOG.
  opts.onProgress?.(node, stats, backlog, progress);
  const reader = await ports.catalog.openExpiredUploads(ctx.chatType, ctx.retentionCutoff);
  const afterBatch = (batch: PlannedBatch): void => {
    stats.handled += batch.handled;
    opts.onProgress?.(node, stats, backlog, progress);
  };
  // With a cap, a batch is cut to the chat type's share and the step ends there; with a rate,
  // batches are one chunk of it.
  const read = async (): Promise<PlannedBatch | undefined> => {
    if (budget.exhausted) return undefined;
    const batch = await readBatch(reader, ctx, budget.readSize(opts.batchSize));
    if (!batch) return undefined;
    const fit = budget.take(batch.files, !batch.last);
    return { ...batch, files: fit.files, last: fit.last };
  };
  try {
    await runPipeline(read, run.signal, async (batch, previous) => {
      if (opts.dryRun) {
        await previous;
        countDryRun(run, batch.files);
      } else {
        const gone = await executeBatch(run, batch.files, previous, reader.lateRowsAbove ?? reader.highWaterIndex);
        for (const f of gone) folders.emptied.set(f.hourDir!, f.hourStart!);
        if (opts.removeEmptyFolders && ports.files) removeFinishedFolders(gone, ctx, ports.files, folders);
      }
      afterBatch(batch);
    });
  } finally {
    await reader.close();
  }
}

/** A dry-run's batch: counted and reported, nothing touched. */
function countDryRun({ node, opts, stats }: ChatTypeRun, files: FileDecision[]): void {
  for (const f of files) {
    if (f.decision === 'delete') {
      countGone(stats, f, false);
      stats.rows += f.rowIndexes.length;
    } else countKept(stats, f.reason);
    opts.onFile?.(node, f);
  }
}

/**
 * Starts `step` for each batch as soon as it is read, with at most PIPELINE_DEPTH batches in
 * flight. Each step receives the previous step's completion, to delete rows in batch order.
 * After a failure or a stop no new batch is read, but the batches in flight always finish:
 * their files are already being removed, and the rows of the ones confirmed gone must go too.
 */
export async function runPipeline(
  read: () => Promise<PlannedBatch | undefined>,
  signal: AbortSignal | undefined,
  step: (batch: PlannedBatch, previous: Promise<void>) => Promise<void>,
): Promise<void> {
  const inFlight: Array<Promise<void>> = [];
  let previous: Promise<void> = Promise.resolve();
  let failed: { error: unknown } | undefined;
  try {
    while (!signal?.aborted && !failed) {
      const batch = await read();
      if (!batch) break;
      // Settled, never rejected: the next batch only waits for its turn.
      previous = step(batch, previous).catch((error: unknown) => {
        failed ??= { error };
      });
      inFlight.push(previous);
      if (inFlight.length >= PIPELINE_DEPTH) await inFlight.shift();
      if (batch.last) break;
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failed) throw failed.error;
}

/**
 * The only code that deletes: files first, then, for files confirmed gone, their rows. The
 * files are removed at once, side by side with the previous batch; the rows wait for the
 * previous batch's turn, so rows are deleted (and files reported) in batch order.
 */
export async function executeBatch(run: ChatTypeRun, files: FileDecision[], previous: Promise<void>, newerThanIndex: string): Promise<FileDecision[]> {
  const { node, ports, opts, stats, log } = run;
  const toRemove = files.filter((f) => f.decision === 'delete');
  if (toRemove.length > 0 && !ports.files) throw new Error('no file store is open for this node');
  // 1. Remove the files. Never throws for one file: each path gets an outcome.
  const removal = toRemove.length > 0 ? ports.files!.removeFiles(toRemove.map((f) => ({ path: f.filePath!, hourDir: f.hourDir! }))) : Promise.resolve([]);
  const outcomes = await removal;
  await previous;
  for (const f of files) {
    if (f.decision === 'keep') {
      countKept(stats, f.reason);
      opts.onFile?.(node, f, 'kept');
    }
  }
  if (toRemove.length === 0) return [];
  // 2. Sort out which files are confirmed gone; any other keeps all its rows.
  const outcomeByPath = new Map(outcomes.map((o) => [o.path, o]));
  const gone: FileDecision[] = [];
  let fatal: Error | undefined;
  for (const f of toRemove) {
    const o = outcomeByPath.get(f.filePath!);
    if (o && o.outcome !== 'failed') {
      gone.push(f);
      continue;
    }
    const reason = o?.outcome === 'failed' ? o.reason : 'no-outcome';
    countFailed(stats, reason);
    log.warn({ path: f.filePath, reason, error: o?.outcome === 'failed' ? o.message : undefined }, 'file not removed; its rows are kept');
    opts.onFile?.(node, f, `failed:${reason}`);
    if (reason === 'connection-lost' && !fatal) {
      fatal = new ConnectError('file-server', node, `connection to the file server lost during the purge: ${o?.outcome === 'failed' ? o.message : ''}`);
    }
  }
  // 3. Rows are deleted here, and only here: after their files are confirmed gone.
  if (gone.length > 0) {
    const indexes = gone.flatMap((f) => f.rowIndexes);
    let deleted: number;
    try {
      const audit = ports.audit;
      deleted = await ports.catalog.deleteRows(indexes, gone.map((f) => f.filePath!), newerThanIndex, audit ? (rows) => audit.append(rows) : undefined);
    } catch (err) {
      // The files are gone but their rows remain: they are reported as removed, with their
      // rows pending, and noted for the next run, which finds the files missing and deletes
      // the rows then. Nothing is lost, and no further file is removed (the error stops the run).
      stats.rowsPending += gone.length;
      reportGone(run, gone, outcomeByPath, true);
      await ports.pending?.add(gone.map((f) => ({ aftIndex: f.aftIndex, path: f.filePath! })));
      throw deleteFailure(err, node, gone.length);
    }
    stats.rows += deleted;
    reportGone(run, gone, outcomeByPath, false);
  }
  if (fatal) throw fatal;
  return gone;
}

/** 4. Reports each removal (one log line a file: the audit trail). */
function reportGone(run: ChatTypeRun, gone: FileDecision[], outcomeByPath: Map<string, { outcome: string }>, rowsPending: boolean): void {
  const { node, ports, opts, stats, log } = run;
  const lines: Array<Record<string, unknown>> = [];
  for (const f of gone) {
    const missing = outcomeByPath.get(f.filePath!)?.outcome === 'missing';
    countGone(stats, f, missing);
    // A file missing because an earlier run removed it and could not delete its rows says so.
    const leftBy = missing ? ports.pending?.earlier(f.aftIndex) : undefined;
    lines.push({
      path: f.filePath,
      size: f.fileSize,
      rows: f.rowIndexes.length,
      aftIndex: f.aftIndex,
      alreadyMissing: missing,
      ...(leftBy ? { removedByEarlierRun: leftBy } : {}),
      ...(rowsPending ? { rowsPending: true } : {}),
    });
    if (!rowsPending) ports.pending?.done(f.aftIndex);
    opts.onFile?.(node, f, `${missing ? 'missing' : 'removed'}${rowsPending ? ':rows-pending' : ''}`);
  }
  infoMany(log, 'removed', lines);
  if (rowsPending) log.warn({ files: gone.length }, 'these files were removed but their AFT_LOG rows could not be deleted; the next run deletes them');
}

/** A stop that came before the node's first long read: nothing was read or removed. */
function stoppedBeforeStart(node: string): StatementCancelledError {
  return new StatementCancelledError(node, 'stopped', 'the purge was stopped before it read AFT_LOG');
}
