/**
 * The catch-up lines of a purge report: with a per-run cap or a rate, a dry-run says how many
 * runs the backlog needs and when it should be cleared; a real run that a cap or the time to
 * stop by ended says what it left for the next run.
 */
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { planCatchUp, type Amount, type CatchUpPlan } from '../core/catchUp.js';
import { nextPurgeStart, scheduleTimes } from '../daemon/nextRun.js';
import { purgeWindowVerdict } from '../daemon/windowGate.js';
import { formatSeconds } from '../purge/pacing.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { humanBytes, thousands } from '../shared/format.js';

export interface NodeCatchUp extends CatchUpPlan {
  node: string;
  /** Expired files and bytes due now (the chat types the run counted). */
  backlog: Amount;
  maxFilesPerRun?: number;
  maxBytesPerRun?: number;
  maxFilesPerSecond?: number;
}

/** The catch-up plan of each node that has a per-run cap or a rate. */
export function catchUpPlans(config: ResolvedConfig, results: NodeResult[], now: Date): NodeCatchUp[] {
  const out: NodeCatchUp[] = [];
  for (const r of results) {
    const node = config.nodes.find((n) => n.name === r.node);
    if (!node || !r.steps) continue;
    const { maxFilesPerRun, maxBytesPerRun } = node.limits;
    const rate = node.maxFilesPerSecond;
    if (maxFilesPerRun === undefined && maxBytesPerRun === undefined && !rate) continue;
    const backlog = r.steps.reduce((a, s) => ({ files: a.files + s.backlog.files, bytes: a.bytes + s.backlog.bytes }), { files: 0, bytes: 0 });
    // One matcher for the whole plan: a plan may step through thousands of runs.
    const times = scheduleTimes(config.daemon.schedule, config.daemon.timezone);
    let plan: CatchUpPlan;
    try {
      plan = planCatchUp(backlog, now, {
        maxFilesPerRun,
        maxBytesPerRun,
        maxFilesPerSecond: rate,
        nextStart: (after) => nextPurgeStart(times, config.daemon, after),
        stopBy: (start) => {
          const v = purgeWindowVerdict(config.daemon, start);
          return v.start ? v.deadline?.at : start;
        },
      });
    } finally {
      times.close();
    }
    out.push({ node: r.node, backlog, ...plan, ...(maxFilesPerRun !== undefined ? { maxFilesPerRun } : {}), ...(maxBytesPerRun !== undefined ? { maxBytesPerRun } : {}), ...(rate ? { maxFilesPerSecond: rate } : {}) });
  }
  return out;
}

/** The text lines of the plans, for the dry-run report. */
export function renderCatchUp(plans: NodeCatchUp[], config: ResolvedConfig): string[] {
  if (plans.length === 0) return [];
  const { schedule, timezone, windows } = config.daemon;
  const out = ['', 'Catch-up plan (daemon runs on daemon.schedule' + ` "${schedule}", ${timezone}${windows.length ? `, inside daemon.windows ${windows.map((w) => `"${w.text}"`).join(', ')}` : ''}):`];
  for (const p of plans) {
    const limits = [
      p.maxFilesPerRun !== undefined ? `maxFilesPerRun ${thousands(p.maxFilesPerRun)}` : undefined,
      p.maxBytesPerRun !== undefined ? `maxBytesPerRun ${humanBytes(p.maxBytesPerRun)}` : undefined,
      p.maxFilesPerSecond ? `maxFilesPerSecond ${thousands(p.maxFilesPerSecond)}` : undefined,
    ].filter(Boolean);
    out.push(`  ${p.node}: ${thousands(p.backlog.files)} expired files (${humanBytes(p.backlog.bytes)}) due now; ${limits.join(', ')}.`);
    if (p.backlog.files === 0) continue;
    out.push(`    The next run removes ${thousands(p.firstRun.files)} files (${humanBytes(p.firstRun.bytes)})${p.removingSeconds !== undefined ? `, about ${formatSeconds(p.firstRun.files / p.maxFilesPerSecond!)} of removing` : ''}.`);
    if (p.unbounded) {
      out.push(p.runs >= 10_000 ? `    Clearing it takes more than ${thousands(p.runs)} runs: raise the cap or the rate, or widen the windows.` : '    The schedule never starts a run inside the windows: the backlog is never cleared; check daemon.schedule and daemon.windows.');
    } else if (p.clearedBy) {
      out.push(`    Clearing it takes ${thousands(p.runs)} run${p.runs === 1 ? '' : 's'} (${formatSeconds(p.removingSeconds)} of removing): cleared by about ${p.clearedBy.toISOString()}, new expirations not counted.`);
    } else {
      out.push(`    Clearing it takes ${thousands(p.runs)} run${p.runs === 1 ? '' : 's'}; how long each takes is not known without purge.maxFilesPerSecond.`);
    }
  }
  return out;
}

/** After a real run: what ended it before its backlog was cleared. */
export function renderEnded(results: NodeResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (!r.ended || !r.steps) continue;
    const backlog = r.steps.reduce((a, s) => a + s.backlog.files, 0);
    const done = r.chatTypes.reduce((a, s) => a + s.files, 0);
    const why = r.ended === 'cap' ? 'stopped at its per-run cap (purge.limits.maxFilesPerRun / maxBytesPerRun)' : r.ended === 'window' ? 'stopped at the end of its purge window' : `stopped at its ${r.ended === 'until' ? '--until' : '--max-duration'} time`;
    out.push('', `Node ${r.node}: the run ${why}; about ${thousands(Math.max(0, backlog - done))} expired files are left for the next run, which carries on with the oldest.`);
  }
  return out;
}
