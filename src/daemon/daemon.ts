import type { LevelWithSilent, Logger } from 'pino';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { CHAT_TYPES } from '../core/chatType.js';
import { coerceError } from '../errors.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { AlarmService } from '../alarms/alarmService.js';
import type { Transition } from '../alarms/alarmState.js';
import { AlarmMonitor } from './alarmMonitor.js';
import { startHttpServer, type HttpServerHandle } from './httpServer.js';
import { PurgeMetrics } from './metrics.js';
import { NodeWorker, type LockState } from './nodeWorker.js';
import { diffConfigs, loadNewConfig, logNewlyEligible } from './reload.js';
import { scheduleIntervalMs, startSchedule, type Schedule } from './scheduler.js';
import { readState, writeState, type DaemonState } from './stateFile.js';
import { StateWriteHealth } from './stateHealth.js';
import { HistoryKeeper } from './historyKeeper.js';
import { healthBody } from './health.js';
import { LockPoll } from './lockPoll.js';
import type { Observation } from '../alarms/alarmState.js';
import path from 'node:path';

/** How soon a failed write of daemon-state.json is tried again. */
const STATE_RETRY_MS = 30_000;

export interface DaemonDeps {
  log: Logger;
  env: NodeJS.ProcessEnv;
}

/**
 * The long-running purge service: one schedule and one worker per node, the HTTP endpoint,
 * reload and a graceful stop. The composition root of the daemon; nothing starts at import.
 */
export class Daemon {
  private readonly metrics = new PurgeMetrics();
  private readonly stopController = new AbortController();
  private readonly workers = new Map<string, NodeWorker>();
  private schedules: Schedule[] = [];
  private readonly background = new Set<Promise<void>>();
  private http?: HttpServerHandle;
  private stopping?: Promise<ExitCode>;
  private reloading: Promise<void> = Promise.resolve();
  private state: DaemonState = { lastSuccess: {}, watchedSince: {} };
  private alarms!: AlarmService;
  private monitor!: AlarmMonitor;
  private readonly startedAt = new Date();
  /** State files that cannot be written now: the daemon carries on with them in memory. */
  private readonly stateHealth = new StateWriteHealth((o) => this.onStateWriteChange(o));
  private readonly history = new HistoryKeeper(() => this.config.daemon.stateDirectory, this.stateHealth);
  private stateRetry?: NodeJS.Timeout;
  private readonly lockPoll = new LockPoll(
    () => this.workers.values(),
    (w) => this.takeOver(w),
    (p) => this.track(p),
  );
  private settle: (code: ExitCode) => void = () => undefined;
  /** Resolves with the exit code once a stop (see stop()) has finished. */
  readonly stopped = new Promise<ExitCode>((resolve) => (this.settle = resolve));

  private constructor(
    private config: ResolvedConfig,
    private readonly deps: DaemonDeps,
  ) {}

  /** Starts serving HTTP, scheduling, and the catch-up purge of overdue nodes. */
  static async start(config: ResolvedConfig, deps: DaemonDeps): Promise<Daemon> {
    const d = new Daemon(config, deps);
    // The port first: a taken address is a startup error, before any purge is scheduled.
    d.http = await startHttpServer(config.daemon.http, {
      health: () => d.health(),
      metrics: () => d.metrics.render(),
      metricsContentType: d.metrics.contentType,
    });
    d.state = await readState(config.daemon.stateDirectory).catch((err) => {
      deps.log.warn({ stateDirectory: config.daemon.stateDirectory, err: coerceError(err) }, 'cannot read the daemon state; every node counts as overdue');
      return { lastSuccess: {}, watchedSince: {} };
    });
    // A damaged alarm file is a startup error naming the file: alarms must not be forgotten silently.
    d.alarms = await AlarmService.open(config.alarms, config.daemon.stateDirectory, deps.log, deps.env, d.metrics.deliveryObserver).catch(async (err) => {
      await d.http?.close();
      throw err;
    });
    d.alarms.onWriteProblem((file, error) => d.stateHealth.report(file, error));
    for (const a of d.alarms.active()) d.metrics.setAlarm(a.name, a.node, a.chatType, true);
    d.monitor = new AlarmMonitor({
      service: d.alarms,
      config: () => d.config,
      log: deps.log,
      env: deps.env,
      metrics: d.metrics,
      worker: (name) => d.workers.get(name),
      watchedSince: (name) => new Date(d.state.watchedSince[name] ?? d.startedAt),
      onTransition: (t) => d.onAlarm(t),
    });
    for (const node of config.nodes) d.addWorker(node.name);
    d.reschedule();
    deps.log.info({ url: d.http.url, configFile: config.file, nodes: config.nodes.map((n) => n.name), schedule: config.daemon.schedule, timezone: config.daemon.timezone, pid: process.pid }, 'daemon started');
    d.catchUp();
    // The alarm checks start once each node's lock has been tried, so that a standby never
    // speaks for a node whose owner is alive.
    d.track(Promise.all([...d.workers.values()].map((w) => w.claim())).then(() => d.monitor.start()));
    d.lockPoll.schedule(config.alarms.checkIntervalMs);
    return d;
  }

  get url(): string {
    return this.http!.url;
  }

  /** SIGHUP: load the config again; a bad one is rejected and the running one kept. Reloads never overlap. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.applyReload()).catch((err) => this.deps.log.error({ err: coerceError(err) }, 'config reload failed unexpectedly; the running config is kept'));
    return this.reloading;
  }

  /** Graceful stop; concurrent callers share it. Resolves with the exit code. */
  stop(reason: string): Promise<ExitCode> {
    this.stopping ??= this.drain(reason).then((code) => {
      this.settle(code);
      return code;
    });
    return this.stopping;
  }

  private addWorker(name: string): void {
    const { log, env } = this.deps;
    this.workers.set(
      name,
      new NodeWorker(name, {
        config: () => this.config,
        log,
        env,
        metrics: this.metrics,
        stopping: this.stopController.signal,
        onSuccess: (node, at) => this.saveSuccess(node, at),
        onFinished: (result) => {
          this.track(this.alarms.purgeFinished(result));
          this.track(this.monitor.afterPurge(result));
        },
        history: this.history,
        onLockChange: (node, state) => this.onLockChange(node, state),
      }),
    );
    if (!this.state.watchedSince[name]) {
      this.state.watchedSince[name] = new Date().toISOString();
      this.saveState();
    }
    this.metrics.registerNode(name, CHAT_TYPES);
    this.metrics.setWatchedSince(name, new Date(this.state.watchedSince[name]!));
    const node = this.config.nodes.find((n) => n.name === name);
    if (node) this.metrics.setThresholds(name, node.alarms);
    const last = this.state.lastSuccess[name];
    if (last) {
      this.workers.get(name)!.lastSuccessAt = new Date(last);
      this.metrics.setLastSuccess(name, new Date(last));
    }
  }

  /** One schedule per node, so that a long purge of one node never delays another. */
  private reschedule(): void {
    for (const s of this.schedules) s.stop();
    const { schedule, timezone, jitterMs } = this.config.daemon;
    this.schedules = [...this.workers.values()].map((w) =>
      startSchedule({ expression: schedule, timezone, jitterMs, name: `purge:${w.name}` }, () => w.tick('schedule'), this.deps.log, () => w.reportOverlap('schedule')),
    );
  }

  /**
   * This instance just took a node's lock between purges: its owner is gone, perhaps in the
   * middle of a purge, and when it last succeeded is not known here. Purge and check it now.
   */
  private takeOver(w: NodeWorker): void {
    if (this.stopping) return;
    this.deps.log.info({ node: w.name }, 'the node lock was free: this instance takes over the node (purge and alarm checks)');
    void this.monitor.check(w.name, 'takeover');
    this.track(w.tick('takeover'));
  }

  /** Alarm state of a node this instance does not hold is not reported here (its owner reports it). */
  private onLockChange(node: string, state: LockState): void {
    if (!this.alarms) return;
    for (const a of this.alarms.active().filter((x) => x.node === node)) {
      if (state === 'elsewhere') this.metrics.forgetAlarm(a.name, a.node, a.chatType);
      else this.metrics.setAlarm(a.name, a.node, a.chatType, true);
    }
  }

  /** After downtime: purge now every node whose last success is older than one schedule interval. */
  private catchUp(): void {
    const { schedule, timezone, jitterMs } = this.config.daemon;
    const overdueAfter = scheduleIntervalMs({ expression: schedule, timezone }) + jitterMs;
    for (const w of this.workers.values()) {
      const last = w.lastSuccessAt?.getTime();
      if (last !== undefined && Date.now() - last <= overdueAfter) continue;
      this.deps.log.info({ node: w.name, lastSuccess: w.lastSuccessAt ?? null }, 'last purge is overdue; purging now');
      void w.tick('catch-up');
    }
  }

  private saveSuccess(node: string, at: Date): void {
    this.state.lastSuccess[node] = at.toISOString();
    this.saveState();
  }

  /** A raised disk-space alarm may start a purge at once (it only removes what is already expired). */
  private onAlarm(t: Transition): void {
    if (t.kind !== 'raise' || t.alarm.name !== 'XcpMFTExtFsFreeSpaceWarn') return;
    const node = this.config.nodes.find((n) => n.name === t.alarm.node);
    const worker = this.workers.get(t.alarm.node);
    if (!node?.alarms.freeSpace.purgeWhenRaised || !worker || this.stopping) return;
    this.deps.log.info({ node: node.name }, 'free space is low: purging the node now instead of waiting for its schedule');
    this.track(worker.tick('alarm'));
  }

  /** Writes daemon-state.json; while that fails the state stays in memory and the write is retried. */
  private saveState(): void {
    const dir = this.config.daemon.stateDirectory;
    const file = path.join(dir, 'daemon-state.json');
    clearTimeout(this.stateRetry);
    this.stateRetry = undefined;
    this.track(
      writeState(dir, this.state).then(
        () => this.stateHealth.report(file),
        (err) => {
          const error = coerceError(err);
          this.deps.log.warn({ stateDirectory: dir, err: error }, 'cannot save the daemon state; it is kept in memory and saved again in 30 s');
          this.stateHealth.report(file, error);
          if (!this.stopping) {
            this.stateRetry = setTimeout(() => this.saveState(), STATE_RETRY_MS);
            this.stateRetry.unref();
          }
        },
      ),
    );
  }

  /** The state directory became unwritable (or writable again): the daemon's own alarm says so. */
  private onStateWriteChange(o: Observation): void {
    const log = this.deps.log;
    if (o.verdict === 'raise') log.error({ problems: this.stateHealth.list() }, `cannot write the state directory ${this.config.daemon.stateDirectory}: carrying on with the state in memory and retrying`);
    else log.info({ stateDirectory: this.config.daemon.stateDirectory }, 'the state directory can be written again');
    if (!this.alarms) return;
    this.track(
      this.alarms.observe([o]).then(
        () => this.metrics.setAlarm(o.key.name, o.key.node, undefined, o.verdict === 'raise'),
        () => undefined,
      ),
    );
  }

  private track(p: Promise<void>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  private async applyReload(): Promise<void> {
    if (this.stopping) return;
    const { log, env } = this.deps;
    log.info({ file: this.config.file }, 'SIGHUP: reloading the config');
    const next = await loadNewConfig(this.config.file, env, log);
    if (!next || this.stopping) {
      this.metrics.recordReload('rejected');
      return;
    }
    const before = this.config;
    const changes = diffConfigs(before, next);
    this.config = next;
    log.level = next.log.level as LevelWithSilent;
    for (const name of changes.added) this.addWorker(name);
    for (const name of changes.databaseChanged) this.workers.get(name)?.markRelock();
    for (const name of changes.removed) this.retireWorker(name);
    for (const node of next.nodes) this.metrics.setThresholds(node.name, node.alarms);
    if (changes.scheduleChanged || changes.added.length > 0 || changes.removed.length > 0) this.reschedule();
    this.alarms.reconfigure(next.alarms);
    this.monitor.reschedule();
    this.lockPoll.schedule(next.alarms.checkIntervalMs);
    if (changes.listenChanged) log.warn({ listen: next.daemon.http, serving: this.url }, 'daemon.http.listen changed: restart the service to apply it');
    this.metrics.recordReload('applied');
    log.info({ nodes: next.nodes.map((n) => n.name), schedule: next.daemon.schedule, ...changes }, 'config reloaded');
    this.track(logNewlyEligible(before, next, changes.policiesChanged, env, this.stopController.signal, log));
  }

  private retireWorker(name: string): void {
    const w = this.workers.get(name);
    if (!w) return;
    this.workers.delete(name);
    this.track(
      w.idle().then(async () => {
        await w.release();
        this.metrics.removeNode(name);
        this.deps.log.info({ node: name }, 'node removed from the config; its lock is released');
      }),
    );
  }

  private async drain(reason: string): Promise<ExitCode> {
    const { log } = this.deps;
    const timeoutMs = this.config.daemon.drainTimeoutMs;
    const running = [...this.workers.values()].filter((w) => w.isRunning).map((w) => w.name);
    log.info({ reason, running, drainTimeoutMs: timeoutMs }, 'stopping: no new purges; purges in progress finish their batch in flight');
    for (const s of this.schedules) s.stop();
    clearTimeout(this.stateRetry);
    this.lockPoll.stop();
    this.stopController.abort(new Error(`daemon stopping (${reason})`));
    const checks = this.monitor.stop();
    const work = Promise.all([...[...this.workers.values()].map((w) => w.idle()), ...this.background, this.reloading, checks]);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([work.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    await this.alarms.stop(Math.min(5_000, timeoutMs / 4));
    await this.http?.close();
    if (!drained) {
      // The locks stay with this process: its exit ends their sessions, after the purge can no longer touch anything.
      const still = [...this.workers.values()].filter((w) => w.isRunning).map((w) => w.name);
      log.error({ drainTimeoutMs: timeoutMs, running: still }, 'drain timeout passed with a purge still running; exiting anyway (the next start finishes the work)');
      return EXIT.partial;
    }
    await Promise.all([...this.workers.values()].map((w) => w.release()));
    log.info({ reason }, 'stopped');
    return EXIT.ok;
  }

  private health(): { ok: boolean; body: unknown } {
    return healthBody({
      config: this.config,
      stopping: this.stopping !== undefined,
      startedAt: this.startedAt,
      now: new Date(),
      workers: [...this.workers.values()],
      nextTicks: new Map(this.schedules.map((s) => [s.name, s.nextRun()])),
      stateProblems: this.stateHealth.list(),
      alarms: this.alarms.active(),
      alarmOutbox: this.alarms.pending(),
    });
  }
}
