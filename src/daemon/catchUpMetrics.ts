import { Counter, Gauge, type Registry } from 'prom-client';
import type { StepProgress } from '../purge/purgeNode.js';
import type { ChatTypeStats } from '../purge/stats.js';
import type { Backlog } from '../ports.js';

/**
 * The backlog a running purge still has ahead of it and when it should be cleared, updated
 * after every batch (not only at the alarm checks), and the purges the windows held back.
 */
export class CatchUpMetrics {
  private readonly started = new WeakMap<ChatTypeStats, number>();
  private readonly remaining: Gauge;
  private readonly runRemaining: Gauge;
  private readonly eta: Gauge;
  private readonly outside: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.remaining = new Gauge({ name: 'mft_purge_backlog_remaining_files', help: 'Expired files of the chat type still to purge: the count before the run minus what the run has purged since (updated after each batch)', labelNames: ['node', 'chat_type'], registers });
    this.runRemaining = new Gauge({ name: 'mft_purge_run_remaining_files', help: 'Files the running purge still has to remove before it stops (at its per-run cap, or when the backlog is cleared)', labelNames: ['node', 'chat_type'], registers });
    this.eta = new Gauge({ name: 'mft_purge_backlog_eta_seconds', help: 'Seconds of removing left to clear the backlog, at purge.maxFilesPerSecond (without one, at the rate of the running purge); waits between capped runs and windows not counted', labelNames: ['node', 'chat_type'], registers });
    this.outside = new Counter({ name: 'mft_purge_outside_window_total', help: 'Purges not started because the time was outside the purge windows (daemon.windows)', labelNames: ['node'], registers });
  }

  /** After each batch of a run. */
  record(node: string, stats: ChatTypeStats, backlog: Backlog, step: StepProgress | undefined, now = Date.now()): void {
    if (!this.started.has(stats)) this.started.set(stats, now);
    const labels = { node, chat_type: stats.chatType };
    const left = Math.max(0, backlog.files - stats.files);
    this.remaining.set(labels, left);
    const stepFiles = step ? step.step.files : backlog.files;
    this.runRemaining.set(labels, Math.max(0, stepFiles - stats.files));
    const elapsed = (now - this.started.get(stats)!) / 1000;
    const rate = step?.maxFilesPerSecond ?? (elapsed > 0 && stats.files > 0 ? stats.files / elapsed : undefined);
    if (left === 0) this.eta.set(labels, 0);
    else if (rate) this.eta.set(labels, left / rate);
  }

  recordOutsideWindow(node: string): void {
    this.outside.inc({ node });
  }
}
