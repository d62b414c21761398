/**
 * Catch-up in steps: how much of a node's expired backlog one run takes when the run is capped
 * (purge.limits.maxFilesPerRun / maxBytesPerRun), and how many runs and how long the whole
 * backlog needs. Pure: counts in, plan out.
 */
import type { ChatType } from './chatType.js';

export interface StepCaps {
  maxFilesPerRun?: number;
  maxBytesPerRun?: number;
}

export interface Amount {
  files: number;
  bytes: number;
}

/** One chat type's share of a capped run. */
export interface ChatTypeStep extends Amount {
  chatType: ChatType;
  /** Most files and bytes this run removes from the chat type (Infinity: no cap). */
  maxFiles: number;
  maxBytes: number;
  /** The cap leaves part of the backlog for later runs. */
  capped: boolean;
  /**
   * The bytes the step should come to, in proportion to its files (for the log and the plan);
   * `bytes` is the bound the limits judge: with a file cap only, the backlog's bytes.
   */
  estimatedBytes: number;
}

/**
 * Splits the caps between the chat types in proportion to their backlogs (largest remainder),
 * so that every chat type's oldest files go in each step and all finish together. Within a
 * chat type the purge takes its oldest expired files first. `files`/`bytes` of each step are
 * what the run is expected to remove (an upper bound, but for one file larger than the
 * chat type's byte share: a step always takes at least one file).
 */
export function planStep(backlogs: ReadonlyArray<Amount & { chatType: ChatType }>, caps: StepCaps): ChatTypeStep[] {
  const fileShares = share(caps.maxFilesPerRun, backlogs.map((b) => b.files));
  const byteShares = share(caps.maxBytesPerRun, backlogs.map((b) => b.bytes));
  return backlogs.map((b, i) => {
    const maxFiles = fileShares[i]!;
    const maxBytes = byteShares[i]!;
    const files = Math.min(b.files, maxFiles);
    const bytes = Math.min(b.bytes, maxBytes);
    const capped = b.files > maxFiles || b.bytes > maxBytes;
    // With a byte cap only, the files are in proportion to the bytes (at least one).
    const filesByBytes = b.bytes > maxBytes && b.files > 0 ? Math.max(1, Math.floor((b.files * maxBytes) / b.bytes)) : b.files;
    const stepFiles = Math.min(files, filesByBytes);
    const estimatedBytes = b.files > 0 ? Math.min(bytes, Math.round((b.bytes * stepFiles) / b.files)) : 0;
    return { chatType: b.chatType, maxFiles, maxBytes, files: stepFiles, bytes, capped, estimatedBytes };
  });
}

/** `cap` split in proportion to `weights`, in whole units; Infinity each without a cap. */
function share(cap: number | undefined, weights: number[]): number[] {
  if (cap === undefined) return weights.map(() => Number.POSITIVE_INFINITY);
  const total = weights.reduce((a, w) => a + w, 0);
  if (total <= cap) return weights.map((w) => Math.max(w, 0));
  const exact = weights.map((w) => (w * cap) / total);
  const out = exact.map(Math.floor);
  let left = cap - out.reduce((a, v) => a + v, 0);
  const order = exact.map((v, i) => [v - Math.floor(v), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i]! += 1;
    left -= 1;
  }
  // A chat type with a backlog gets at least one file a step, so none waits for the others.
  return out.map((v, i) => (v === 0 && weights[i]! > 0 ? 1 : v));
}

export interface CatchUpSettings extends StepCaps {
  /** purge.maxFilesPerSecond; undefined: as fast as it goes (the time is then not estimated). */
  maxFilesPerSecond?: number;
  /** The next run start at or after an instant (the schedule inside the windows); undefined: none. */
  nextStart: (after: Date) => Date | undefined;
  /** When a run started at an instant must stop (its window's end); undefined: never. */
  stopBy: (start: Date) => Date | undefined;
}

export interface CatchUpPlan {
  /** Runs until the backlog is cleared (1 when one run does it all). */
  runs: number;
  /** Files the first run removes. */
  firstRun: Amount;
  /** When the last run is expected to finish; undefined without a rate (unknown) or when the runs never get through. */
  clearedBy?: Date;
  /** Seconds of removing at the configured rate, all runs together. */
  removingSeconds?: number;
  /** The plan gave up after this many runs (a window too short for any progress, say). */
  unbounded?: boolean;
}

const MAX_RUNS = 10_000;

/**
 * Runs needed to clear a node's backlog, taking the caps, the rate and the windows into account.
 * New expirations during the catch-up are not counted: it is the backlog of now.
 */
export function planCatchUp(backlog: Amount, now: Date, s: CatchUpSettings): CatchUpPlan {
  const perRunFiles = Math.min(s.maxFilesPerRun ?? Number.POSITIVE_INFINITY, s.maxBytesPerRun !== undefined && backlog.bytes > 0 ? Math.max(1, Math.floor((backlog.files * s.maxBytesPerRun) / backlog.bytes)) : Number.POSITIVE_INFINITY);
  const firstFiles = Math.min(backlog.files, perRunFiles);
  const firstRun = { files: firstFiles, bytes: backlog.files > 0 ? Math.round((backlog.bytes * firstFiles) / backlog.files) : 0 };
  const rate = s.maxFilesPerSecond && s.maxFilesPerSecond > 0 ? s.maxFilesPerSecond : undefined;
  if (backlog.files === 0) return { runs: 0, firstRun, clearedBy: now, removingSeconds: 0 };
  if (!rate) {
    // Without a rate, a run's length is not known: only the caps count the runs.
    return { runs: Number.isFinite(perRunFiles) ? Math.ceil(backlog.files / perRunFiles) : 1, firstRun };
  }
  let left = backlog.files;
  let runs = 0;
  let t = now;
  while (left > 0 && runs < MAX_RUNS) {
    const start = s.nextStart(t);
    if (!start) return { runs, firstRun, unbounded: true, removingSeconds: backlog.files / rate };
    const stop = s.stopBy(start);
    let files = Math.min(left, perRunFiles);
    let end = new Date(start.getTime() + (files / rate) * 1000);
    if (stop && end.getTime() > stop.getTime()) {
      files = Math.floor(((stop.getTime() - start.getTime()) / 1000) * rate);
      end = stop;
    }
    runs += 1;
    left -= Math.max(0, files);
    // The next run starts after this one ends (a run of the node never overlaps another).
    t = new Date(Math.max(end.getTime(), start.getTime() + 1000));
    if (left <= 0) return { runs, firstRun, clearedBy: end, removingSeconds: backlog.files / rate };
  }
  return { runs, firstRun, unbounded: true, removingSeconds: backlog.files / rate };
}
