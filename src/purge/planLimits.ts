import type { Logger } from 'pino';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import { approvalInstant, formatApproval, type Approval } from '../core/approval.js';
import type { ChatType } from '../core/chatType.js';
import { evaluateLimits, needsTotal, type ChatTypeMeasure, type Refusal } from '../core/limits.js';
import { shortChecksum, type Plan } from '../core/planFile.js';
import type { Catalog } from '../ports.js';
import type { RunHistory } from './runHistory.js';

// Post rows "of the chat type": all of them, whatever their time (as the run's limits count).
const FAR_FUTURE = new Date(Date.UTC(9999, 0, 1));

/** What a plan would remove from each of its chat types: its files and their AFT_LOG sizes. */
export function planMeasures(plan: Plan): Map<ChatType, { files: number; bytes: number }> {
  const out = new Map<ChatType, { files: number; bytes: number }>(plan.rules.chatTypes.map((c) => [c.chatType, { files: 0, bytes: 0 }]));
  for (const f of plan.files) {
    const m = out.get(f.chatType)!;
    m.files += 1;
    m.bytes += f.size;
  }
  return out;
}

export interface PlanLimitGate {
  refusals: Refusal[];
  refusalFor(chatType: ChatType): Refusal | undefined;
  /** Remembers the chat types applied, as a run does (real applications only). */
  record(): void;
}

/**
 * The blast-radius limits, on what the plan would remove (the run's own limits, counted on the
 * plan instead of the table). A refusal is lifted only by an approval token bound to this
 * plan's checksum, for the same node and scope and no more files or bytes; the token printed
 * here is such a one, valid from the plan's creation for purge.limits.approvalValidity.
 */
export async function checkPlanLimits(
  node: ResolvedNode,
  plan: Plan,
  catalog: Catalog | undefined,
  opts: { history?: RunHistory; approvals?: Approval[]; now: Date; log: Logger; applying: boolean },
): Promise<PlanLimitGate> {
  const limits = node.limits;
  const short = shortChecksum(plan.checksum);
  const issued = approvalInstant(new Date(plan.createdAt));
  const tokens = (opts.approvals ?? []).filter((a) => {
    if (a.node !== node.name || a.plan !== short) return false;
    if (opts.now.getTime() - a.asOf.getTime() > limits.approvalValidityMs) {
      opts.log.warn({ approval: formatApproval(a) }, 'approval expired; it is ignored (see purge.limits.approvalValidity)');
      return false;
    }
    return true;
  });
  const counted = planMeasures(plan);
  const sections = plan.rules.chatTypes.filter((c) => node.policies[c.chatType] && node.policies[c.chatType]!.retention !== 'forever');
  // The relative limits compare with the chat type's Post rows: counted only where needed.
  const wanted = sections.filter((c) => needsTotal(counted.get(c.chatType)!, limits));
  const totals = catalog && wanted.length > 0 ? await catalog.countExpiredUploadsByChatType(wanted.map((c) => ({ chatType: c.chatType, before: new Date(c.retentionCutoff) })), FAR_FUTURE) : [];
  const measures: ChatTypeMeasure[] = sections.map((c) => {
    const policy = node.policies[c.chatType]!;
    const m = counted.get(c.chatType)!;
    const t = wanted.indexOf(c);
    return {
      chatType: c.chatType,
      files: m.files,
      bytes: m.bytes,
      total: t >= 0 ? totals[t]?.total : undefined,
      retentionMs: policy.retention === 'forever' ? Infinity : policy.retention.as('milliseconds'),
      retentionText: policy.retentionText,
      allowShortRetention: policy.allowShortRetention,
      allowPurgeAll: policy.allowPurgeAll,
      recent: opts.history?.recent(node.name, c.chatType) ?? [],
      source: policy.source,
    };
  });
  const refusals: Refusal[] = [];
  for (const r of evaluateLimits(node.name, measures, limits)) {
    if (r.limit === 'minRetention') {
      refusals.push(r);
      continue;
    }
    const token = tokens.find((a) => a.scope === r.chatType && r.files <= a.files && r.bytes <= a.bytes);
    if (token) {
      opts.log.warn({ limit: r.limit, chatType: r.chatType, files: r.files, bytes: r.bytes, approval: formatApproval(token) }, 'limit lifted by an approval of this plan');
      continue;
    }
    const approval = formatApproval({ node: node.name, scope: r.chatType, files: r.files, bytes: r.bytes, asOf: issued, plan: short });
    refusals.push({ ...r, fix: 'approve this plan once with the token below, or raise the limit in the config', approval: { token: approval, validUntil: new Date(issued.getTime() + limits.approvalValidityMs).toISOString() } });
  }
  for (const r of refusals) {
    opts.log[opts.applying ? 'error' : 'warn']({ refused: r }, `${opts.applying ? 'plan refused' : 'applying this plan would be refused'} by a safety limit (${r.limit}): ${r.message}`);
  }
  return {
    refusals,
    refusalFor: (ct) => refusals.find((r) => r.chatType === ct) ?? refusals.find((r) => r.chatType === 'all'),
    record() {
      for (const m of measures) if (!refusals.some((r) => r.chatType === m.chatType || r.chatType === 'all')) opts.history?.record(node.name, m.chatType, m.files);
    },
  };
}
