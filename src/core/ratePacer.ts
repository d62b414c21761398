/**
 * Paces file removals to at most `perSecond` files a second, smoothly. The clock and the
 * sleep are injected, so the rule is tested without timers.
 *
 * Two rules together:
 *  - spacing (a token bucket of about one chunk): a chunk of n files is due n/perSecond
 *    seconds after the chunk before it was due, so removals are spread over each second rather
 *    than sent in one burst at its start;
 *  - a hard ceiling: the chunks sent in any sliding second never hold more than perSecond
 *    files. A late timer or a slow batch never makes the pacer catch up in a burst.
 */
export class RatePacer {
  /** When the next chunk is due, in the clock's milliseconds. */
  private due = Number.NEGATIVE_INFINITY;
  /** Chunks started within the last second: [start ms, files]. */
  private readonly recent: Array<[number, number]> = [];

  constructor(
    readonly perSecond: number,
    private readonly now: () => number,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new Error(`a rate must be a positive number of files a second, not ${perSecond}`);
  }

  /**
   * The most files one chunk should hold: a fifth of a second of the budget (at least one),
   * so that no chunk is a burst of more than a fraction of the second.
   */
  get chunkSize(): number {
    return chunkSizeFor(this.perSecond);
  }

  /**
   * Takes `files` removals now when the rate allows it and returns 0; otherwise takes nothing
   * and returns how many milliseconds to wait before asking again. The caller sends the chunk
   * right after a 0, so the pacer counts the times the chunks are really sent, however late
   * the caller's timers are.
   */
  tryTake(files: number): number {
    if (files <= 0) return 0;
    const now = this.now();
    const ceiling = Math.max(1, this.perSecond);
    // A chunk larger than the budget of a second counts as the budget: it still waits for an
    // empty second.
    const n = Math.min(files, ceiling);
    const spacing = (n * 1000) / this.perSecond;
    if (now < this.due) return this.due - now;
    // The ceiling: the chunks sent in the last second must leave room for this one.
    this.forget(now);
    let inWindow = this.recent.reduce((a, [, k]) => a + k, 0);
    let until = now;
    for (const [t, k] of this.recent) {
      if (inWindow + n <= ceiling) break;
      until = t + 1000;
      inWindow -= k;
    }
    if (until > now) return until - now;
    this.recent.push([now, n]);
    // The schedule keeps its own time when the caller is a little late (a timer fires a few
    // ms after it was asked to), so the rate holds over a long run; after a longer pause it
    // starts again from now, so no credit is saved up for a burst.
    this.due = (now - this.due <= spacing / 2 ? this.due : now) + spacing;
    return 0;
  }

  private forget(at: number): void {
    while (this.recent.length > 0 && this.recent[0]![0] <= at - 1000) this.recent.shift();
  }
}

/** Waits as long as the pacer says, then takes the chunk (the only place that waits). */
export async function takeWhenAllowed(pacer: RatePacer, files: number, sleep: (ms: number) => Promise<void>): Promise<void> {
  for (let wait = pacer.tryTake(files); wait > 0; wait = pacer.tryTake(files)) await sleep(wait);
}

export function chunkSizeFor(perSecond: number): number {
  return Math.max(1, Math.floor(perSecond / 5));
}

/** Seconds to remove `files` at `perSecond` (undefined rate: unknown). */
export function secondsAt(files: number, perSecond: number | undefined): number | undefined {
  return perSecond && perSecond > 0 ? files / perSecond : undefined;
}
