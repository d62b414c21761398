import type { Plan } from '../core/planFile.js';
import type { Refusal } from '../core/limits.js';
import type { PlanApplication } from './planApply.js';

export const RESULT_FORMAT = 'mft-retention-plan-result';

export interface ChatTypeOutcome {
  chatType: string;
  /** Files in the plan. */
  planned: number;
  /** Removed now, or found already missing (their rows deleted). */
  removed: number;
  /** Of `removed`, how many were already missing from the file server. */
  alreadyMissing: number;
  /** Not removed because they changed since the plan, by reason. */
  skipped: Record<string, number>;
  /** Could not be removed (they keep all their rows), by reason. */
  failed: Record<string, number>;
  /** Not reached: the application stopped, failed or was refused before them. */
  notReached: number;
  rowsDeleted: number;
  bytesRemoved: number;
  refused?: Refusal;
}

/** The change record of one application of a plan, written beside it as FILE.result.json. */
export interface PlanResult {
  format: typeof RESULT_FORMAT;
  version: 1;
  plan: { file: string; checksum: string; node: string; createdAt: string; asOf: string };
  startedAt: string;
  finishedAt: string;
  status: string;
  error?: string;
  chatTypes: ChatTypeOutcome[];
  /** Every planned file that was not removed, with why. */
  notRemoved: Array<{ chatType: string; path: string; aftIndex: string; outcome: string; reason?: string; detail?: string }>;
}

const bump = (o: Record<string, number>, k: string): void => {
  o[k] = (o[k] ?? 0) + 1;
};

export function planResult(plan: Plan, file: string, app: PlanApplication): PlanResult {
  const r = app.result;
  const size = new Map(plan.files.map((f) => [f.path, f.size]));
  const chatTypes: ChatTypeOutcome[] = plan.rules.chatTypes.map((c) => {
    const stats = r.chatTypes.find((s) => s.chatType === c.chatType);
    const out: ChatTypeOutcome = { chatType: c.chatType, planned: 0, removed: 0, alreadyMissing: 0, skipped: {}, failed: {}, notReached: 0, rowsDeleted: stats?.rows ?? 0, bytesRemoved: 0, ...(stats?.refused ? { refused: stats.refused } : {}) };
    for (const f of app.files) {
      if (f.chatType !== c.chatType) continue;
      out.planned += 1;
      if (f.outcome === 'removed' || f.outcome === 'missing') {
        out.removed += 1;
        out.bytesRemoved += size.get(f.path) ?? 0;
        if (f.outcome === 'missing') out.alreadyMissing += 1;
      } else if (f.outcome === 'skipped') bump(out.skipped, f.reason ?? 'unknown');
      else if (f.outcome === 'failed') bump(out.failed, f.reason ?? 'unknown');
      else out.notReached += 1;
    }
    return out;
  });
  return {
    format: RESULT_FORMAT,
    version: 1,
    plan: { file, checksum: plan.checksum, node: plan.node, createdAt: plan.createdAt, asOf: plan.asOf },
    startedAt: r.startedAt.toISOString(),
    finishedAt: (r.finishedAt ?? new Date()).toISOString(),
    status: r.status,
    ...(r.error ? { error: r.error.message } : {}),
    chatTypes,
    notRemoved: app.files
      .filter((f) => f.outcome !== 'removed' && f.outcome !== 'missing')
      .map((f) => ({ chatType: f.chatType, path: f.path, aftIndex: f.aftIndex, outcome: f.outcome, ...(f.reason ? { reason: f.reason } : {}), ...(f.detail ? { detail: f.detail } : {}) })),
  };
}
