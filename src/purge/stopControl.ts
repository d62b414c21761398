/**
 * A purge's stop, in two steps, as the signals ask for it: `stop` (the first SIGTERM or
 * SIGINT) lets the batch in flight finish and cancels the long reads on the database (a
 * count, a cursor being computed), which would otherwise run on for minutes; `giveUp` (a second
 * signal) cancels every statement in progress, the batch's DELETE included, for the process
 * to exit at once. The nodes being purged register what cancels their statements.
 */
export type CancelScope = 'reads' | 'all';

export class StopControl {
  private readonly controller = new AbortController();
  private readonly cancellers = new Set<(scope: CancelScope) => Promise<void>>();
  private gaveUp = false;

  /** Aborted by `stop`: no new batch is read. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Registers what cancels a node's statements (called at once when already stopped); returns the unregistration. */
  onCancel(cancel: (scope: CancelScope) => Promise<void>): () => void {
    this.cancellers.add(cancel);
    if (this.gaveUp) void cancel('all');
    else if (this.signal.aborted) void cancel('reads');
    return () => this.cancellers.delete(cancel);
  }

  /** The first stop signal. Resolves once the cancel requests are sent. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.cancelAll('reads');
  }

  /** The second: every statement in progress is cancelled. Resolves once the requests are sent. */
  async giveUp(): Promise<void> {
    this.gaveUp = true;
    this.controller.abort();
    await this.cancelAll('all');
  }

  private async cancelAll(scope: CancelScope): Promise<void> {
    await Promise.all([...this.cancellers].map((c) => c(scope).catch(() => undefined)));
  }
}
