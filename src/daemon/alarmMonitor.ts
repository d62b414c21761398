import type { Logger } from 'pino';
import type { AlarmService } from '../alarms/alarmService.js';
import type { Observation, Transition } from '../alarms/alarmState.js';
import { checkNode } from '../alarms/nodeChecks.js';
import { observationsFromPurge } from '../alarms/purgeObservations.js';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { coerceError } from '../errors.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { openCatalog, openFileStore } from '../purge/openPorts.js';
import type { PurgeMetrics } from './metrics.js';
import type { NodeWorker } from './nodeWorker.js';

export interface MonitorDeps {
  service: AlarmService;
  config(): ResolvedConfig;
  log: Logger;
  env: NodeJS.ProcessEnv;
  metrics: PurgeMetrics;
  worker(node: string): NodeWorker | undefined;
  /** When the node was first watched by any run of the daemon (for "no successful purge since"). */
  watchedSince(node: string): Date;
  /** Called for each raise or clear, after it is saved and queued. */
  onTransition(t: Transition): void;
}

/**
 * Runs the alarm checks of every node on their own interval, independently of purges, and
 * right after each purge. A node purged by another instance (it holds the node's lock) is
 * checked there, not here, so that sinks do not hear of one alarm from every instance.
 */
export class AlarmMonitor {
  private timer?: NodeJS.Timeout;
  private intervalMs = 0;
  private readonly inFlight = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: MonitorDeps) {}

  start(): void {
    this.reschedule();
    this.checkAll('start');
  }

  /** After a reload: a new interval takes effect at once. */
  reschedule(): void {
    const ms = this.deps.config().alarms.checkIntervalMs;
    if (this.timer && ms === this.intervalMs) return;
    clearInterval(this.timer);
    this.intervalMs = ms;
    this.timer = setInterval(() => this.checkAll('interval'), ms);
  }

  checkAll(reason: string): void {
    for (const node of this.deps.config().nodes) void this.check(node.name, reason);
  }

  /** After a purge: what the run showed (connections, a full database), then a full check. */
  async afterPurge(result: NodeResult): Promise<void> {
    if (this.stopped) return;
    await this.apply(observationsFromPurge(result, new Date()));
    await this.check(result.node, 'after-purge');
  }

  /** One check of a node; a check still running is not stacked. Never throws. */
  check(node: string, reason: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const running = this.inFlight.get(node);
    if (running) return running;
    const run = this.runCheck(node, reason)
      .catch((err) => this.deps.log.error({ node, err: coerceError(err) }, 'alarm check failed unexpectedly'))
      .finally(() => this.inFlight.delete(node));
    this.inFlight.set(node, run);
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.all(this.inFlight.values());
  }

  private async runCheck(name: string, reason: string): Promise<void> {
    const config = this.deps.config();
    const node = config.nodes.find((n) => n.name === name);
    const worker = this.deps.worker(name);
    // Only the instance holding the node's lock speaks for it. 'unknown' (the database cannot be
    // reached, so nobody can hold the lock) still checks: the connection alarm must be raised.
    if (!node || worker?.lockState === 'elsewhere') return;
    const { env, log } = this.deps;
    const now = new Date();
    const result = await checkNode({
      node,
      now,
      watchedSince: this.deps.watchedSince(name),
      lastSuccess: worker?.lastSuccessAt,
      openCatalog: () => openCatalog(node, env),
      openFileStore: () => openFileStore(node, env),
    });
    for (const err of result.errors) log.warn({ node: name, err }, 'alarm check could not measure everything');
    this.deps.metrics.recordMeasurements(name, result.measurements, now);
    await this.apply(result.observations);
    log.debug({ node: name, reason, active: this.deps.service.active().length }, 'alarm check done');
    await this.deps.service.refresh();
  }

  private async apply(observations: Observation[]): Promise<void> {
    const transitions = await this.deps.service.observe(observations);
    for (const o of observations) {
      if (o.verdict !== 'hold') this.deps.metrics.setAlarm(o.key.name, o.key.node, o.key.chatType, this.deps.service.active().some((a) => a.name === o.key.name && a.node === o.key.node && a.chatType === o.key.chatType));
    }
    for (const t of transitions) this.deps.onTransition(t);
  }
}
