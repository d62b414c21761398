/**
 * What bounds one run beside the blast-radius limits: the per-run caps (a capped run takes the
 * oldest expired files of each chat type up to its share and stops), the rate of removals, and
 * the time the run must stop by (a purge window's end, --until, --max-duration). The rules are
 * in core/ (catchUp.ts, ratePacer.ts); this applies them to the batches of a run.
 */
import type { Logger } from 'pino';
import type { ChatType } from '../core/chatType.js';
import type { ChatTypeStep } from '../core/catchUp.js';
import { RatePacer, takeWhenAllowed } from '../core/ratePacer.js';
import type { Backlog } from '../ports.js';
import type { FileDecision } from './planBatch.js';

/** Why a run ends before its backlog is cleared. */
export type RunEnd = 'cap' | 'window' | 'until' | 'max-duration';

/** When a run must stop, and why (for the log and the report). */
export interface Deadline {
  at: Date;
  reason: Exclude<RunEnd, 'cap'>;
}

/** The pacing of one node's run; built once per run. */
export interface RunPacing {
  pacer?: RatePacer;
  deadline?: Deadline;
}

export function runPacing(maxFilesPerSecond: number | undefined, deadline: Deadline | undefined, now: () => number = Date.now): RunPacing {
  return { pacer: maxFilesPerSecond ? new RatePacer(maxFilesPerSecond, now) : undefined, deadline };
}

/** Waits until the rate allows `files` more removals (nothing without a rate). */
export async function paceRemovals(pacing: RunPacing | undefined, files: number): Promise<void> {
  if (pacing?.pacer) await takeWhenAllowed(pacing.pacer, files, (ms) => new Promise((r) => setTimeout(r, ms)));
}

/**
 * An AbortSignal that fires at the deadline, beside the caller's: the batch pipeline reads no
 * new batch after it, and the batches in flight finish (their rows are deleted).
 */
export function stopSignal(signal: AbortSignal | undefined, deadline: Deadline | undefined, now: () => number = Date.now): { signal: AbortSignal | undefined; reached: () => boolean; dispose: () => void } {
  if (!deadline) return { signal, reached: () => false, dispose: () => undefined };
  const controller = new AbortController();
  // Already past: not one batch more.
  if (deadline.at.getTime() <= now()) controller.abort(new Error(`${deadline.reason} reached`));
  const timer = setTimeout(() => controller.abort(new Error(`${deadline.reason} reached`)), Math.max(0, deadline.at.getTime() - now()));
  timer.unref?.();
  return {
    signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    reached: () => controller.signal.aborted,
    dispose: () => clearTimeout(timer),
  };
}

/** One chat type's share of a capped run, used up as its batches are read. */
export class StepBudget {
  private files: number;
  private bytes: number;
  private taken = 0;
  /** The cap cut the run short: some expired files wait for the next run. */
  capped = false;

  constructor(
    readonly step: ChatTypeStep,
    private readonly pacing: RunPacing | undefined,
  ) {
    this.files = step.maxFiles;
    this.bytes = step.maxBytes;
  }

  get exhausted(): boolean {
    return this.files <= 0 || this.bytes <= 0;
  }

  /** Rows to read next: the batch size, no more than the files left, and one chunk of the rate. */
  readSize(batchSize: number): number {
    const chunk = this.pacing?.pacer?.chunkSize ?? Number.POSITIVE_INFINITY;
    return Math.max(1, Math.min(batchSize, this.files, chunk));
  }

  /**
   * The part of a batch that fits the share, in the order read (oldest first). Kept files
   * cost nothing; the first file to remove that no longer fits ends the step, and neither it
   * nor anything after it is touched. A file larger than the whole byte share is taken when it
   * is the step's first, so that every step gets somewhere.
   */
  take(files: FileDecision[], moreToRead: boolean): { files: FileDecision[]; last: boolean } {
    let i = 0;
    for (; i < files.length; i++) {
      const f = files[i]!;
      if (f.decision !== 'delete') continue;
      const fitsBytes = f.fileSize <= this.bytes || (this.taken === 0 && this.bytes === this.step.maxBytes);
      if (this.files <= 0 || !fitsBytes) break;
      this.files -= 1;
      this.bytes -= f.fileSize;
      this.taken += 1;
    }
    const cut = i < files.length;
    // Only a step the plan capped reports it: one whose share was its whole backlog ends with it.
    if (cut || (this.exhausted && moreToRead)) this.capped = this.step.capped;
    return { files: files.slice(0, i), last: cut || this.exhausted || !moreToRead };
  }
}

/** A duration for the log, the report and the progress: 45s, 12m30s, 3h05m, 2d04h. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${String(Math.floor((seconds % 86_400) / 3600)).padStart(2, '0')}h`;
}

/**
 * Before the first removal: what the run is about to do, per chat type and in all, what will
 * end it, and how long it should take at the configured rate.
 */
export function logRunPlan(log: Logger, steps: ReadonlyArray<{ chatType: ChatType; backlog: Backlog; step: ChatTypeStep }>, pacing: RunPacing | undefined, caps: { maxFilesPerRun?: number; maxBytesPerRun?: number }, now: Date, dryRun: boolean): void {
  const files = steps.reduce((a, s) => a + s.step.files, 0);
  const bytes = steps.reduce((a, s) => a + s.step.estimatedBytes, 0);
  if (files === 0) return;
  const backlogFiles = steps.reduce((a, s) => a + s.backlog.files, 0);
  const rate = pacing?.pacer?.perSecond;
  const etaSeconds = rate ? files / rate : undefined;
  const deadline = pacing?.deadline;
  const capped = steps.some((s) => s.step.capped);
  const endsBy: RunEnd | 'backlog cleared' =
    deadline && etaSeconds !== undefined && now.getTime() + etaSeconds * 1000 > deadline.at.getTime() ? deadline.reason : capped ? 'cap' : deadline && etaSeconds === undefined ? deadline.reason : 'backlog cleared';
  const chatTypes = Object.fromEntries(steps.map((s) => [s.chatType, { files: s.step.files, bytes: s.step.estimatedBytes, backlogFiles: s.backlog.files, backlogBytes: s.backlog.bytes, capped: s.step.capped }]));
  const end = endsBy === 'cap' ? `at the per-run cap (${caps.maxFilesPerRun !== undefined ? `maxFilesPerRun ${caps.maxFilesPerRun}` : ''}${caps.maxFilesPerRun !== undefined && caps.maxBytesPerRun !== undefined ? ', ' : ''}${caps.maxBytesPerRun !== undefined ? `maxBytesPerRun ${caps.maxBytesPerRun}` : ''}), ${backlogFiles - files} expired files left for the next runs` : endsBy === 'backlog cleared' ? 'when the backlog is cleared' : `at ${deadline!.at.toISOString()} (${deadline!.reason})`;
  log.info(
    { files, bytes, backlogFiles, chatTypes, endsBy, ...(caps.maxFilesPerRun !== undefined ? { maxFilesPerRun: caps.maxFilesPerRun } : {}), ...(caps.maxBytesPerRun !== undefined ? { maxBytesPerRun: caps.maxBytesPerRun } : {}), ...(deadline ? { stopBy: deadline.at.toISOString(), stopReason: deadline.reason } : {}), ...(rate ? { maxFilesPerSecond: rate, etaSeconds: Math.round(etaSeconds!) } : {}) },
    `${dryRun ? 'a purge would remove' : 'about to remove'} ${files} files (about ${bytes} bytes); the run ends ${end}${rate ? `; about ${formatSeconds(etaSeconds)} at ${rate} files/s` : ''}`,
  );
}
