import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedNode } from '../config/resolvedConfig.js';
import type { Approval } from '../core/approval.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../core/clock.js';
import type { EligibilityContext } from '../core/eligibility.js';
import { emptyFolderCandidates } from '../core/emptyFolders.js';
import { configFingerprint, type Plan, type PlannedFile } from '../core/planFile.js';
import { coerceError } from '../errors.js';
import type { Catalog, FileStore, NodeLock } from '../ports.js';
import { AuditExport } from './auditExport.js';
import { openCatalog, openFileStore, tryAcquireNodeLock } from './openPorts.js';
import type { FileDecision } from '../core/planBatch.js';
import { checkPlanLimits } from './planLimits.js';
import { recheckBatch } from './planRecheck.js';
import { runPacing, StepBudget } from './pacing.js';
import { runPipeline } from './batchPipeline.js';
import { executeBatch } from './executeBatch.js';
import type { ChatTypeRun, NodePorts, NodeResult, PlannedBatch, PurgeOptions } from './purgeTypes.js';
import type { RunHistory } from './runHistory.js';
import { emptyStats, type ChatTypeStats } from '../core/purgeStats.js';

/** Why a plan is refused whole, before anything is touched. */
export class PlanRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanRefusedError';
  }
}

export interface ApplyPlanOptions {
  hostNow: () => Date;
  env?: NodeJS.ProcessEnv;
  history?: RunHistory;
  approvals?: Approval[];
  signal?: AbortSignal;
  onFile?: PurgeOptions['onFile'];
}

/** Each planned file's fate, for the change record. */
export interface AppliedFile {
  chatType: string;
  path: string;
  aftIndex: string;
  outcome: 'removed' | 'missing' | 'skipped' | 'failed' | 'not-reached';
  reason?: string;
  detail?: string;
}

export interface PlanApplication {
  result: NodeResult;
  files: AppliedFile[];
}

/**
 * Whether this config may apply the plan at all: the same node, the same rules (fingerprint),
 * not older than purge.planMaxAge, not made in the future. Throws PlanRefusedError.
 */
export function assertPlanApplies(config: ResolvedConfig, plan: Plan, file: string, now: Date): ResolvedNode {
  const node = config.nodes.find((n) => n.name === plan.node);
  if (!node) throw new PlanRefusedError(`the plan ${file} is for node "${plan.node}", which is not in ${config.file} (configured: ${config.nodes.map((n) => n.name).join(', ')}); apply it with the config it was made with`);
  if (configFingerprint(node) !== plan.configFingerprint) {
    throw new PlanRefusedError(
      `the plan ${file} was made under another configuration of node "${plan.node}" (its database, file server directory or policies have changed since ${plan.createdAt}); make the plan again with purge --dry-run --save-plan and have it reviewed`,
    );
  }
  const created = new Date(plan.createdAt).getTime();
  const age = now.getTime() - created;
  if (age > config.purge.planMaxAgeMs) {
    throw new PlanRefusedError(`the plan ${file} was made ${plan.createdAt}, ${Math.round(age / 60_000)} minutes ago: older than purge.planMaxAge (${config.purge.planMaxAgeText}); make it again, or raise purge.planMaxAge`);
  }
  if (created > now.getTime() + config.purge.maxClockSkewMs) {
    throw new PlanRefusedError(`the plan ${file} says it was made ${plan.createdAt}, later than now (${now.toISOString()}); check this host's clock`);
  }
  return node;
}

/**
 * Applies a reviewed plan to its node: only the files in it, each checked again just before it
 * is removed (planRecheck), through the purge's own batch code (executeBatch): files first,
 * then exactly their planned rows, in one transaction a batch. The blast-radius limits apply
 * to the plan as to a run. A kill at any point leaves a state that applying the plan again
 * finishes: removed files whose rows remain are seen missing and their rows deleted; files
 * whose rows were deleted count as already purged.
 */
export async function applyPlan(config: ResolvedConfig, node: ResolvedNode, plan: Plan, log: Logger, opts: ApplyPlanOptions): Promise<PlanApplication> {
  const result: NodeResult = { node: node.name, status: 'ok', chatTypes: [], startedAt: new Date() };
  const fates = new Map<string, AppliedFile>(plan.files.map((f) => [f.path, { chatType: f.chatType, path: f.path, aftIndex: f.aftIndex, outcome: 'not-reached' }]));
  let catalog: Catalog | undefined;
  let files: FileStore | undefined;
  let audit: AuditExport | undefined;
  let lock: NodeLock | undefined;
  const plog = log.child({ node: node.name, plan: plan.checksum });
  try {
    // One purge of a node at a time: the daemon keeps the node's lock while it runs.
    lock = await tryAcquireNodeLock(node, opts.env);
    if (!lock) {
      throw new PlanRefusedError(
        `node "${node.name}" is being purged by another mft-retention instance (it holds the node lock; the daemon keeps it while it runs): stop it for the change window (systemctl stop mft-retention.service), then apply the plan`,
      );
    }
    // A lost lock (its database session dropped) stops the application between batches.
    const signal = opts.signal ? AbortSignal.any([opts.signal, lock.lost]) : lock.lost;
    if (node.auditExport) audit = await AuditExport.open(node.auditExport.directory, node.name);
    catalog = await openCatalog(node, opts.env);
    const times = resolvePurgeTimes(opts.hostNow(), await catalog.databaseNow());
    result.clockSkewMs = times.skewMs;
    const gate = await checkPlanLimits(node, plan, catalog, { history: opts.history, approvals: opts.approvals, now: times.now, log: plog, applying: true });
    if (gate.refusals.length) result.refused = gate.refusals;
    if (plan.files.some((f) => !gate.refusalFor(f.chatType))) files = await openFileStore(node, opts.env);
    // Every exported row names the plan it was deleted by.
    const ports: NodePorts = { catalog, files, log: plog, audit: audit && { append: (rows) => audit!.append(rows.map((r) => ({ ...r, plan_checksum: plan.checksum }))) } };
    const onFile: PurgeOptions['onFile'] = (n, f, outcome) => {
      const fate = fates.get(f.filePath ?? '');
      if (fate) Object.assign(fate, outcomeOf(f, outcome));
      opts.onFile?.(n, f, outcome);
    };
    for (const section of plan.rules.chatTypes) {
      const policy = node.policies[section.chatType]!;
      const stats = emptyStats(section.chatType, policy.retentionText);
      result.chatTypes.push(stats);
      const refusal = gate.refusalFor(section.chatType);
      if (refusal) {
        stats.refused = refusal;
        continue;
      }
      if (policy.retention === 'forever') continue;
      const planned = plan.files.filter((f) => f.chatType === section.chatType);
      const asOf = Math.min(new Date(plan.asOf).getTime(), times.now.getTime());
      const ctx: EligibilityContext = {
        nodeDirectory: node.fileServer.directory,
        chatType: section.chatType,
        // Today's rules: expired as of the plan, and still expired now (a plan made --as-of a
        // later date is held to the clock); the current hour and the holds are today's.
        retentionCutoff: new Date(Math.min(new Date(section.retentionCutoff).getTime(), retentionCutoff(new Date(asOf), policy.retention).getTime())),
        currentHourStart: times.currentHourStart,
        holds: node.holds,
        lastDownloadCutoff: policy.keepAfterLastDownload ? retentionCutoff(times.now, policy.keepAfterLastDownload) : undefined,
      };
      // A plan is not capped (it is what was approved), but keeps to the rate limit.
      const pacing = runPacing(node.maxFilesPerSecond, undefined);
      const step = { chatType: section.chatType, files: planned.length, bytes: planned.reduce((a, f) => a + f.size, 0), maxFiles: Infinity, maxBytes: Infinity, capped: false, estimatedBytes: planned.reduce((a, f) => a + f.size, 0) };
      const run: ChatTypeRun = {
        node: node.name,
        ctx,
        ports,
        opts: { dryRun: false, batchSize: config.purge.batchSize, maxClockSkewMs: config.purge.maxClockSkewMs, hostNow: opts.hostNow, onFile },
        stats,
        log: plog.child({ chatType: section.chatType }),
        budget: new StepBudget(step, pacing),
        pacing,
        signal,
      };
      await applyChatType(run, planned, section.highWaterIndex, config, signal);
      if (signal.aborted) {
        result.status = 'stopped';
        break;
      }
    }
    gate.record();
  } catch (err) {
    if (err instanceof PlanRefusedError) throw err;
    result.status = 'failed';
    result.error = coerceError(err);
    plog.error({ err: result.error }, 'applying the plan failed');
  } finally {
    await files?.close();
    await catalog?.close();
    await lock?.release().catch(() => undefined);
    await audit?.close().catch((err) => plog.error({ err: coerceError(err) }, 'cannot write the checksum of the audit export; the next run writes it'));
  }
  const applied = [...fates.values()];
  if (result.status === 'ok' && applied.some((f) => f.outcome !== 'removed' && f.outcome !== 'missing' && f.reason !== 'already-purged')) result.status = 'partial';
  if (result.refused && (result.status === 'ok' || result.status === 'partial')) result.status = 'refused';
  result.finishedAt = new Date();
  return { result, files: applied };
}

function outcomeOf(f: FileDecision, outcome: string | undefined): Partial<AppliedFile> {
  if (outcome === 'removed' || outcome === 'missing') return { outcome, reason: undefined, detail: undefined };
  if (outcome?.startsWith('failed:')) return { outcome: 'failed', reason: outcome.slice('failed:'.length) };
  return { outcome: 'skipped', reason: f.reason, detail: f.detail };
}

/** A chat type's planned files, a batch at a time, through the purge's own pipeline. */
async function applyChatType(run: ChatTypeRun, planned: PlannedFile[], highWaterIndex: string, config: ResolvedConfig, signal: AbortSignal | undefined): Promise<void> {
  const { ctx, ports, stats } = run;
  const size = config.purge.batchSize;
  let next = 0;
  const emptied = new Map<string, Date>();
  const read = async (): Promise<PlannedBatch | undefined> => {
    if (next >= planned.length) return undefined;
    const batch = planned.slice(next, next + size);
    next += batch.length;
    const paths = batch.map((f) => f.path);
    // One query for the batch's rows, and one lstat each on the file server, side by side.
    const [live, states] = await Promise.all([ports.catalog.findPlanRows(batch.flatMap((f) => f.rows.map((r) => r.aftIndex)), paths, highWaterIndex), ports.files!.statFiles(paths)]);
    return { files: recheckBatch(batch, live, states, ctx), handled: batch.length, last: next >= planned.length };
  };
  try {
    await runPipeline(read, signal, async (batch, previous) => {
      // Rows found later than the plan's mark for a removed file (a download in the moment
      // between the check and the removal) go with it, as in a run: the file is gone.
      const gone = await executeBatch(run, batch.files, previous, highWaterIndex);
      for (const f of gone) emptied.set(f.hourDir!, f.hourStart!);
      stats.handled += batch.handled;
    });
  } finally {
    if (config.purge.removeEmptyFolders && ports.files && emptied.size > 0) {
      const removed = await ports.files.removeEmptyFolders(emptyFolderCandidates(emptied, ctx.currentHourStart)).catch(() => []);
      stats.foldersRemoved += removed.length;
    }
  }
}
