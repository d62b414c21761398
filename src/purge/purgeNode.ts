import type { ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../core/clock.js';
import type { EligibilityContext } from '../core/eligibility.js';
import { settledStatus } from '../core/nodeStatus.js';
import { emptyStats } from '../core/purgeStats.js';
import { coerceError, StatementCancelledError } from '../errors.js';
import { checkBlastRadius } from './blastRadius.js';
import { removeOrphanDownloads } from './orphanDownloads.js';
import { logRunPlan, pacedFileStore, runPacing, StepBudget, stopSignal } from './pacing.js';
import { purgeChatType } from './purgeChatType.js';
import type { NodePorts, NodeResult, PurgeOptions, PurgeTarget } from './purgeTypes.js';

export type { ChatTypeRun, NodePorts, NodeResult, PlannedBatch, PurgeOptions, PurgeTarget, StepProgress } from './purgeTypes.js';

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
  result.status = settledStatus(result.status, result.chatTypes, Boolean(result.refused));
  result.finishedAt = new Date();
  return result;
}

/** The chat types a run counted, with their backlogs and what this run takes of each. */
function planned(node: PurgeTarget, selected: ChatType[], gate: Awaited<ReturnType<typeof checkBlastRadius>>): NonNullable<NodeResult['steps']> {
  return selected.filter((ct) => node.policies[ct] && node.policies[ct]!.retention !== 'forever').map((chatType) => ({ chatType, backlog: gate.expired(chatType), step: gate.step(chatType) }));
}

/** A stop that came before the node's first long read: nothing was read or removed. */
function stoppedBeforeStart(node: string): StatementCancelledError {
  return new StatementCancelledError(node, 'stopped', 'the purge was stopped before it read AFT_LOG');
}
