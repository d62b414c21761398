import type { ChatTypeStats } from '../purge/stats.js';
import type { StepProgress } from '../purge/purgeNode.js';
import { humanBytes, thousands } from './format.js';

export interface ProgressStream {
  write(text: string): unknown;
  columns?: number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * One line of progress: `node chat [#####.....] 1,234/5,000 files 12 MiB 850/s ETA 4s`. With a
 * per-run cap, the bar is this run's step and the backlog left after it follows; with a rate,
 * the ETA is at that rate.
 */
export function progressLine(node: string, s: ChatTypeStats, backlog: { files: number }, elapsedMs: number, width = 20, step?: StepProgress): string {
  const target = step?.step.capped ? step.step.files : backlog.files;
  const total = Math.max(target, s.handled);
  const fraction = total === 0 ? 1 : Math.min(1, s.handled / total);
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? (s.handled * 1000) / elapsedMs : 0;
  const etaRate = step?.maxFilesPerSecond ?? rate;
  const eta = etaRate > 0 ? (total - s.handled) / etaRate : Number.NaN;
  const line = `${node} ${s.chatType.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${thousands(s.handled)}/${thousands(total)} files  ${humanBytes(s.bytes)}  ${thousands(Math.round(rate))} files/s  ETA ${formatDuration(eta)}`;
  if (!step?.step.capped) return line;
  const left = Math.max(0, backlog.files - s.files);
  const backlogEta = etaRate > 0 ? left / etaRate : Number.NaN;
  return `${line}  backlog ${thousands(left)} left (${formatDuration(backlogEta)} of removing)`;
}

/**
 * A progress bar per node and chat type on a terminal. Redraws at most every 100 ms on one
 * line, and ends each chat type with a newline so the finished lines stay on screen.
 */
export class ProgressDisplay {
  private readonly started = new Map<string, number>();
  private lastDraw = 0;
  private openLine = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly now: () => number = Date.now,
  ) {}

  update(node: string, s: ChatTypeStats, backlog: { files: number }, step?: StepProgress): void {
    const key = `${node}\0${s.chatType}`;
    const t = this.now();
    if (!this.started.has(key)) this.started.set(key, t);
    const done = s.handled >= (step?.step.capped ? step.step.files : backlog.files);
    if (!done && t - this.lastDraw < 100) return;
    this.lastDraw = t;
    const line = progressLine(node, s, backlog, t - this.started.get(key)!, 20, step);
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
    this.openLine = true;
    if (done) this.finish();
  }

  /** Ends the current line (after the last update of a chat type, or before other output). */
  finish(): void {
    if (this.openLine) this.stream.write('\n');
    this.openLine = false;
  }
}
