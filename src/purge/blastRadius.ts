import type { Logger } from 'pino';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import { approvalInstant, formatApproval, type Approval, type ApprovalScope } from '../core/approval.js';
import type { ChatType } from '../core/chatType.js';
import { retentionCutoff, type PurgeTimes } from '../core/clock.js';
import { evaluateLimits, needsTotal, type ChatTypeMeasure, type Refusal } from '../core/limits.js';
import { planStep, type ChatTypeStep } from '../core/catchUp.js';
import type { Backlog, Catalog } from '../ports.js';
import type { RunHistory } from './runHistory.js';

/** What the limits read of a node's configuration. */
export type LimitTarget = Pick<ResolvedNode, 'name' | 'policies' | 'limits'>;

export interface LimitOptions {
  /** Recent run sizes; without it the limit on unusually large runs does not apply. */
  history?: RunHistory;
  /** Approvals given for this run (`--approve`). */
  approvals?: Approval[];
}

/** The outcome of the limits for one node run. */
export interface LimitGate {
  refusals: Refusal[];
  /** The refusal that stops this chat type (its own, or a node-wide one). */
  refusalFor(chatType: ChatType): Refusal | undefined;
  /**
   * The instant a chat type was counted as of, which its purge uses too, so that the purge
   * reads exactly what was counted: its approval's instant, or the run's, rounded down to the
   * second as approvals are.
   */
  countedAsOf(chatType: ChatType): Date;
  /**
   * The expired uploads (and their bytes) counted for a chat type before the run: one of those
   * asked for, with a finite retention.
   */
  expired(chatType: ChatType): Backlog;
  /**
   * What this run is to remove from a chat type: its whole backlog, or, with a per-run cap,
   * its share of the cap (the oldest expired files). The limits judge this, not the backlog.
   */
  step(chatType: ChatType): ChatTypeStep;
  /** Remembers what the run counted for the chat types it purged (real runs only). */
  record(): void;
}

// Post rows "of the chat type": all of them, whatever their time.
const FAR_FUTURE = new Date(Date.UTC(9999, 0, 1));

/**
 * Counts what the run would remove from each chat type, before anything is removed, and
 * checks it against the node's limits. Approvals lift a refusal only for the same node and
 * scope, and only when the run, counted as of the approval's instant, is no larger than it.
 */
export async function checkBlastRadius(
  node: LimitTarget,
  catalog: Catalog,
  times: PurgeTimes,
  chatTypes: readonly ChatType[],
  opts: LimitOptions,
  log: Logger,
  dryRun: boolean,
): Promise<LimitGate> {
  const limits = node.limits;
  const tokens = validApprovals(node, times.now, opts.approvals ?? [], log);
  const asOf = (ct: ChatType): Date | undefined => earliest(tokens.filter((a) => a.scope === ct || a.scope === 'all').map((a) => a.asOf));
  const countedAsOf = (ct: ChatType): Date => asOf(ct) ?? approvalInstant(times.now);
  const counted = chatTypes.flatMap((chatType) => {
    const policy = node.policies[chatType];
    if (!policy || policy.retention === 'forever') return [];
    return [{ chatType, policy, retention: policy.retention, before: retentionCutoff(countedAsOf(chatType), policy.retention) }];
  });
  // One scan for every chat type gives both counts; the total is kept only where a limit needs it.
  const counts = counted.length > 0 ? await catalog.countExpiredUploadsByChatType(counted.map(({ chatType, before }) => ({ chatType, before })), FAR_FUTURE) : [];
  // A capped run is a step of its own: the limits judge what it will remove, not the backlog.
  const steps = planStep(counted.map(({ chatType }, i) => ({ chatType, files: counts[i]!.files, bytes: counts[i]!.bytes })), limits);
  const measures: ChatTypeMeasure[] = counted.map(({ chatType, policy, retention }, i) => {
    const { total, ...found } = counts[i]!;
    const step = steps[i]!;
    const judged = { files: step.files, bytes: step.bytes };
    const before = opts.history?.catchUp(node.name, chatType);
    // It continues a catch-up when the run before was a capped step and the backlog has not
    // grown by more than a step since (a sudden mass expiry is judged as ever).
    const continues = before && found.files <= before.left + before.files ? before.files : undefined;
    return {
      chatType,
      ...judged,
      total: needsTotal(judged, limits) ? total : undefined,
      ...(continues !== undefined ? { catchUpStep: continues } : {}),
      retentionMs: retention.as('milliseconds'),
      retentionText: policy.retentionText,
      allowShortRetention: policy.allowShortRetention,
      allowPurgeAll: policy.allowPurgeAll,
      recent: opts.history?.recent(node.name, chatType) ?? [],
      source: policy.source,
      ...historyProblem(opts.history, node.name),
    };
  });
  const refusals: Refusal[] = [];
  for (const r of evaluateLimits(node.name, measures, limits)) {
    if (r.limit === 'minRetention') {
      refusals.push(r);
      continue;
    }
    const token = tokens.find((a) => a.scope === r.chatType);
    if (token && r.files <= token.files && r.bytes <= token.bytes) {
      log.warn({ limit: r.limit, chatType: r.chatType, files: r.files, bytes: r.bytes, approval: formatApproval(token) }, 'limit lifted by an approval for this run');
      continue;
    }
    const basis = r.chatType === 'all' ? earliest(measures.map((m) => countedAsOf(m.chatType)))! : countedAsOf(r.chatType);
    const approval = { node: node.name, scope: r.chatType, files: r.files, bytes: r.bytes, asOf: basis };
    const tooSmall = token ? ` (approval ${formatApproval(token)} covers only ${token.files} files and ${token.bytes} bytes)` : '';
    refusals.push({
      ...r,
      message: r.message + tooSmall,
      approval: { token: formatApproval(approval), validUntil: new Date(basis.getTime() + limits.approvalValidityMs).toISOString() },
    });
  }
  for (const r of refusals) {
    log[dryRun ? 'warn' : 'error']({ refused: r }, `${dryRun ? 'a purge would be refused' : 'purge refused'} by a safety limit (${r.limit}): ${r.message}`);
  }
  return {
    refusals,
    refusalFor: (ct) => refusals.find((r) => r.chatType === ct) ?? refusals.find((r) => r.chatType === 'all'),
    countedAsOf,
    expired: (ct) => {
      const m = measures.find((x) => x.chatType === ct);
      if (!m) throw new Error(`the expired uploads of chat type ${ct} were not counted before the run`);
      const i = measures.indexOf(m);
      return { files: counts[i]!.files, bytes: counts[i]!.bytes };
    },
    step: (ct) => {
      const s = steps.find((x) => x.chatType === ct);
      if (!s) throw new Error(`the expired uploads of chat type ${ct} were not counted before the run`);
      return s;
    },
    record() {
      measures.forEach((m, i) => {
        if (refusals.some((r) => r.chatType === m.chatType || r.chatType === 'all')) return;
        opts.history?.record(node.name, m.chatType, m.files);
        const s = steps[i]!;
        opts.history?.recordCatchUp(node.name, m.chatType, s.capped ? { files: s.files, left: counts[i]!.files - s.files } : undefined);
      });
    },
  };
}

function historyProblem(history: RunHistory | undefined, node: string): { historyProblem?: string } {
  const p = history?.problem(node);
  return p ? { historyProblem: `the purge history ${p.file} ${p.problem}` } : {};
}

function earliest(dates: Date[]): Date | undefined {
  return dates.reduce<Date | undefined>((a, d) => (!a || d.getTime() < a.getTime() ? d : a), undefined);
}

/** This node's approvals that are still valid; the others are reported and ignored. */
function validApprovals(node: LimitTarget, now: Date, approvals: Approval[], log: Logger): Approval[] {
  return approvals.filter((a) => {
    if (a.node !== node.name) return false;
    if (a.plan) {
      log.warn({ approval: formatApproval(a) }, 'this approval is bound to a plan and approves only purge --plan with that plan; it is ignored');
      return false;
    }
    const expired = now.getTime() - a.asOf.getTime() > node.limits.approvalValidityMs;
    if (a.asOf.getTime() > now.getTime() || expired) {
      log.warn({ approval: formatApproval(a), validUntil: new Date(a.asOf.getTime() + node.limits.approvalValidityMs).toISOString() }, expired ? 'approval expired; it is ignored (see purge.limits.approvalValidity)' : 'approval is dated in the future; it is ignored');
      return false;
    }
    return true;
  });
}

export type { Refusal, ApprovalScope };
