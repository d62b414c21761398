/**
 * Paces file removals to at most `perSecond` files a second, smoothly. Pure: the clock is
 * injected and the caller does the waiting, so the rule is tested without timers.
 *
 * Two rules together:
 *  - spacing (a token bucket of about one chunk): a chunk of n files may start n/perSecond
 *    seconds after the chunk before it was due, so removals are spread over each second rather
 *    than sent in one burst at its start;
 *  - a hard ceiling: the chunks started in any sliding second never hold more than perSecond
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
   * Books a chunk of `files` removals and returns how many milliseconds to wait before sending
   * it (0: now). Call once per chunk, in order, and wait the time returned.
   */
  reserve(files: number): number {
    if (files <= 0) return 0;
    const now = this.now();
    // A chunk larger than the whole budget of a second is taken as the budget: it still waits
    // for an empty second.
    const n = Math.min(files, this.perSecond);
    // After a pause (nothing to remove for a while) the schedule starts again from now: no
    // credit is saved up for a burst later.
    let start = Math.max(now, this.due);
    // The ceiling: wait until the chunks of the last second leave room for this one.
    this.forget(start);
    let inWindow = this.recent.reduce((a, [, k]) => a + k, 0);
    while (inWindow + n > this.perSecond && this.recent.length > 0) {
      const [t, k] = this.recent.shift()!;
      start = Math.max(start, t + 1000);
      inWindow -= k;
    }
    this.recent.push([start, n]);
    this.due = start + (n * 1000) / this.perSecond;
    return start - now;
  }

  private forget(at: number): void {
    while (this.recent.length > 0 && this.recent[0]![0] <= at - 1000) this.recent.shift();
  }
}

export function chunkSizeFor(perSecond: number): number {
  return Math.max(1, Math.floor(perSecond / 5));
}

/** Seconds to remove `files` at `perSecond` (undefined rate: unknown). */
export function secondsAt(files: number, perSecond: number | undefined): number | undefined {
  return perSecond && perSecond > 0 ? files / perSecond : undefined;
}
