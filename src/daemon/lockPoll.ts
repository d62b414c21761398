import type { NodeWorker } from './nodeWorker.js';

/** How often a node not held here is tried (its owner may have died): well within a minute. */
export const LOCK_POLL_MS = 15_000;

/**
 * Tries every node's lock on a fixed beat between purges, so that a standby notices a lost
 * owner within LOCK_POLL_MS (or the alarm check interval, if shorter), not only at its next
 * scheduled purge, and checks that the locks held are still alive.
 */
export class LockPoll {
  private timer?: NodeJS.Timeout;
  private intervalMs = 0;

  constructor(
    private readonly workers: () => Iterable<NodeWorker>,
    /** Called when this instance has just taken a node's lock between purges. */
    private readonly onTakeover: (w: NodeWorker) => void,
    private readonly track: (p: Promise<void>) => void,
  ) {}

  /** Starts, or after a reload applies a new alarm check interval. */
  schedule(alarmCheckIntervalMs: number): void {
    const ms = Math.min(LOCK_POLL_MS, alarmCheckIntervalMs);
    if (this.timer && ms === this.intervalMs) return;
    clearInterval(this.timer);
    this.intervalMs = ms;
    this.timer = setInterval(() => {
      for (const w of this.workers()) this.track(w.claim().then((took) => (took ? this.onTakeover(w) : undefined)));
    }, ms);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
