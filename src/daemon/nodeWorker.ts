import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { coerceError } from '../errors.js';
import type { NodeLock } from '../ports.js';
import { tryAcquireNodeLock } from '../purge/openPorts.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { runPurge, type RunOptions } from '../purge/runPurge.js';
import { totalFailed } from '../core/purgeStats.js';
import { failureReason, type PurgeMetrics } from './metrics.js';
import type { Refusal } from '../core/limits.js';
import { purgeWindowVerdict } from './windowGate.js';

export interface WorkerContext {
  /** The config in force now (a reload swaps it; a purge in progress keeps its own). */
  config(): ResolvedConfig;
  log: Logger;
  metrics: PurgeMetrics;
  env: NodeJS.ProcessEnv;
  /** Aborted by the shutdown: no new purge starts, a running one stops after its batch. */
  stopping: AbortSignal;
  onSuccess(node: string, at: Date): void;
  /** Every finished purge, whatever its status (the alarm checks follow it). */
  onFinished(result: NodeResult): void;
  /** The run history, kept in memory while it cannot be written. */
  history?: RunOptions['history'];
  /** Told when this instance starts or stops holding the node's lock. */
  onLockChange?(node: string, state: LockState): void;
}

/** Why a purge started: its schedule, the catch-up after downtime, or a raised disk-space alarm. */
export type Trigger = 'schedule' | 'catch-up' | 'alarm' | 'takeover';

/** Who purges the node, as far as this instance knows. */
export type LockState = 'held' | 'elsewhere' | 'unknown';

export interface RunSummary {
  status: NodeResult['status'] | 'not-started';
  startedAt: string;
  finishedAt?: string;
  files: number;
  bytes: number;
  rows: number;
  failures: number;
  error?: string;
  /** Blast-radius limits that refused the run: for the "purge refused" alarm. */
  refused?: Refusal[];
  /** A per-run cap or the purge window's end stopped the run; the next run carries on. */
  ended?: NodeResult['ended'];
}

/**
 * Purges one node for this instance: holds the node's lock (one instance per node) and never
 * runs two purges of the node at once. The purge itself is runPurge, as for the CLI.
 */
export class NodeWorker {
  private lock?: NodeLock;
  private running?: Promise<void>;
  private relock = false;
  private locking?: Promise<NodeLock | undefined>;
  private outsideWindow = false;
  lockState: LockState = 'unknown';
  lastRun?: RunSummary;
  lastSuccessAt?: Date;

  constructor(
    readonly name: string,
    private readonly ctx: WorkerContext,
  ) {}

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when no purge of this node is in progress. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** One purge, when this instance holds the node; never throws, never overlaps. */
  async tick(trigger: Trigger): Promise<void> {
    if (this.ctx.stopping.aborted) return;
    if (this.running) {
      this.reportOverlap(trigger);
      return;
    }
    this.running = this.run(trigger)
      .catch((err) => this.ctx.log.error({ node: this.name, err: coerceError(err) }, 'purge run failed unexpectedly'))
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
  }

  reportOverlap(trigger: Trigger): void {
    this.ctx.log.warn({ node: this.name, trigger }, 'previous purge of the node still running; this run is skipped');
    this.ctx.metrics.recordSkipped(this.name, 'overlap');
  }

  /**
   * Between purges: takes the node's lock if it is free (its owner died or let it go) or checks
   * that the one held is still alive. Never throws; true when this call took the lock.
   */
  async claim(): Promise<boolean> {
    if (this.running || this.ctx.stopping.aborted) return false;
    const config = this.ctx.config();
    if (!config.nodes.some((n) => n.name === this.name)) return false;
    const before = this.lockState;
    await this.ensureLock(config, 'poll').catch(() => undefined);
    return before !== 'held' && this.lockState === 'held';
  }

  /** After a reload moved the node's database: take the lock there before the next purge. */
  markRelock(): void {
    this.relock = true;
  }

  /** Gives the node up (shutdown, or the node left the config). Idempotent. */
  async release(): Promise<void> {
    const lock = this.lock;
    this.lock = undefined;
    this.setLockState('unknown');
    await lock?.release();
  }

  private async run(trigger: Trigger): Promise<void> {
    const config = this.ctx.config();
    const node = config.nodes.find((n) => n.name === this.name);
    if (!node) return;
    // Purges start only inside a purge window (daemon.windows), whatever started them.
    const window = purgeWindowVerdict(config.daemon, new Date());
    if (!window.start) {
      // Said once when a window has closed, then only at debug: the schedule may fire often.
      this.ctx.log[this.outsideWindow ? 'debug' : 'info']({ node: this.name, trigger, nextWindow: window.opensAt?.toISOString() ?? null }, 'outside the purge windows (daemon.windows): the purge waits for the next window');
      this.outsideWindow = true;
      this.ctx.metrics.catchUp.recordOutsideWindow(this.name);
      return;
    }
    this.outsideWindow = false;
    const lock = await this.ensureLock(config, 'purge');
    if (!lock || this.ctx.stopping.aborted) return;
    const log = this.ctx.log.child({ runId: randomUUID().slice(0, 8), trigger });
    this.ctx.metrics.setRunning(this.name, true);
    log.info({ node: this.name, ...(window.deadline ? { stopBy: window.deadline.at.toISOString() } : {}) }, 'purge started');
    let result: NodeResult | undefined;
    try {
      [result] = await runPurge(config, log, {
        dryRun: false,
        nodes: [this.name],
        hostNow: () => new Date(),
        env: this.ctx.env,
        signal: AbortSignal.any([this.ctx.stopping, lock.lost]),
        deadline: window.deadline,
        onProgress: (n, stats, backlog, step) => {
          this.ctx.metrics.recordProgress(n, stats);
          this.ctx.metrics.catchUp.record(n, stats, backlog, step);
        },
        history: this.ctx.history,
      });
    } finally {
      this.ctx.metrics.setRunning(this.name, false);
    }
    if (!result) return;
    this.ctx.metrics.recordResult(result);
    this.ctx.onFinished(result);
    this.lastRun = summarise(result);
    const durationMs = (result.finishedAt ?? new Date()).getTime() - result.startedAt.getTime();
    log.info({ node: this.name, ...this.lastRun, durationMs }, 'purge finished');
    if (result.status === 'ok') {
      this.lastSuccessAt = result.finishedAt ?? new Date();
      this.ctx.onSuccess(this.name, this.lastSuccessAt);
    }
    if (lock.lost.aborted) {
      log.warn({ node: this.name }, 'lost the node lock during the purge (its database connection dropped); the purge stopped after the batch in flight');
      await this.release();
    }
  }

  /** One lock attempt at a time: a poll and a purge starting together share it. */
  private ensureLock(config: ResolvedConfig, purpose: 'purge' | 'poll'): Promise<NodeLock | undefined> {
    this.locking ??= this.takeLock(config, purpose).finally(() => {
      this.locking = undefined;
    });
    return this.locking;
  }

  /** The node's lock, kept from run to run while its connection lives; undefined when another instance has it. */
  private async takeLock(config: ResolvedConfig, purpose: 'purge' | 'poll'): Promise<NodeLock | undefined> {
    const node = config.nodes.find((n) => n.name === this.name)!;
    if (this.lock && this.relock) await this.release();
    this.relock = false;
    if (this.lock) {
      if (await this.lock.isHeld()) return this.lock;
      this.ctx.log.warn({ node: this.name }, 'lost the node lock (its database connection dropped); trying to take it again');
      await this.release();
    }
    try {
      this.lock = await tryAcquireNodeLock(node, this.ctx.env);
    } catch (err) {
      const error = coerceError(err);
      // A poll that cannot reach the database says nothing new: the purges and alarm checks report it.
      if (purpose === 'poll') {
        this.ctx.log.debug({ node: this.name, err: error }, 'lock poll: cannot reach the node database');
        return undefined;
      }
      this.ctx.log.error({ node: this.name, err: error }, 'cannot take the node lock; the node is not purged this time');
      this.ctx.metrics.recordFailure(this.name, error);
      this.ctx.metrics.countFailedStart(this.name);
      this.lastRun = { status: 'failed', startedAt: new Date().toISOString(), files: 0, bytes: 0, rows: 0, failures: 0, error: `${failureReason(error)}: ${error.message}` };
      return undefined;
    }
    if (!this.lock) {
      if (this.lockState !== 'elsewhere') this.ctx.log.info({ node: this.name }, 'node is purged by another instance (it holds the node lock)');
      this.setLockState('elsewhere');
      if (purpose === 'purge') this.ctx.metrics.recordSkipped(this.name, 'locked-elsewhere');
      return undefined;
    }
    this.ctx.log.info({ node: this.name, lockKey: this.lock.key }, 'node lock acquired: this instance purges the node');
    this.setLockState('held');
    return this.lock;
  }

  private setLockState(state: LockState): void {
    const changed = state !== this.lockState;
    this.lockState = state;
    this.ctx.metrics.setLockHeld(this.name, state === 'held');
    if (changed) this.ctx.onLockChange?.(this.name, state);
  }
}

function summarise(r: NodeResult): RunSummary {
  const sum = (f: (s: NodeResult['chatTypes'][number]) => number): number => r.chatTypes.reduce((a, s) => a + f(s), 0);
  return {
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString(),
    files: sum((s) => s.files),
    bytes: sum((s) => s.bytes),
    rows: sum((s) => s.rows),
    failures: sum(totalFailed),
    error: r.error?.message,
    ...(r.refused ? { refused: r.refused } : {}),
    ...(r.ended ? { ended: r.ended } : {}),
  };
}
