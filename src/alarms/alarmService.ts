import type { Logger } from 'pino';
import type { ResolvedAlarms } from '../config/resolveAlarms.js';
import { coerceError } from '../errors.js';
import { eventFromTransition, type AlarmEvent } from './alarmEvent.js';
import { applyObservations, type ActiveAlarm, type Observation, type Transition } from './alarmState.js';
import { AlarmStore } from './alarmStore.js';
import { Delivery, type DeliveryObserver } from './delivery.js';
import { makeSinks } from './sinks/makeSinks.js';
import { purgeFinishedEvent } from './purgeFinishedEvent.js';
import type { NodeResult } from '../purge/purgeNode.js';

/**
 * Alarm state and delivery for the daemon: observations in, raise/clear events out to every
 * sink, the state and the undelivered events kept on disk across restarts.
 */
export class AlarmService {
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: AlarmStore,
    private readonly delivery: Delivery,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async open(alarms: ResolvedAlarms, stateDirectory: string, log: Logger, env: NodeJS.ProcessEnv, observer?: DeliveryObserver): Promise<AlarmService> {
    const store = await AlarmStore.open(stateDirectory);
    const delivery = new Delivery(makeSinks(alarms, log, env), store, alarms.delivery, log, observer);
    const service = new AlarmService(store, delivery, log, env);
    const queued = Object.entries(delivery.pending()).filter(([, n]) => n > 0);
    if (queued.length > 0) log.info({ pending: Object.fromEntries(queued) }, 'undelivered alarm events from before the restart are sent now');
    delivery.start();
    return service;
  }

  /** Applies observations in order (calls never interleave) and queues the resulting events. */
  observe(observations: Observation[]): Promise<Transition[]> {
    const run = this.chain.then(async () => {
      const { state, transitions } = applyObservations(this.store.data.state, observations);
      this.store.data.state = state;
      const events = transitions.map((t) => eventFromTransition(t));
      // One save covers both the new state and the queued events (see AlarmStore).
      if (events.length > 0) await this.delivery.enqueue(events);
      else await this.store.save();
      return transitions;
    });
    this.chain = run.catch((err) => this.log.error({ err: coerceError(err) }, 'cannot save the alarm state'));
    return run;
  }

  /** After each purge: its summary to the sinks that asked for it (purgeFinished: true), kept on disk like alarms. */
  purgeFinished(result: NodeResult): Promise<void> {
    const run = this.chain.then(() => this.delivery.enqueue([purgeFinishedEvent(result, new Date())], (s) => s.purgeFinished));
    this.chain = run.catch((err) => this.log.error({ node: result.node, err: coerceError(err) }, 'cannot queue the purge finished event'));
    return this.chain as Promise<void>;
  }

  /** Re-sends the active alarms to the sinks that need it (Alertmanager). */
  refresh(): Promise<void> {
    const events: AlarmEvent[] = this.active().map((a) =>
      eventFromTransition({ kind: 'raise', alarm: a, cause: Object.keys(a.causes)[0] ?? 'refresh' }),
    );
    return this.delivery.refresh(events);
  }

  active(): ActiveAlarm[] {
    return Object.values(this.store.data.state.active);
  }

  pending(): Record<string, number> {
    return this.delivery.pending();
  }

  /** Reports whether alarms.json can be written (the daemon's health and its own alarm). */
  onWriteProblem(report: (file: string, error?: Error) => void): void {
    this.store.onWriteProblem = report;
  }

  /** The error of the last write of alarms.json while writes fail. */
  get writeError(): Error | undefined {
    return this.store.writeError;
  }

  reconfigure(alarms: ResolvedAlarms): void {
    this.delivery.reconfigure(makeSinks(alarms, this.log, this.env), alarms.delivery);
  }

  /** At shutdown: give queued events a moment, then keep the rest on disk for the next start. */
  async stop(flushMs: number): Promise<void> {
    await this.chain;
    const all = await this.delivery.flush(flushMs);
    if (!all) this.log.warn({ pending: this.delivery.pending() }, 'stopping with undelivered alarm events; they are kept on disk and sent after the next start');
    await this.delivery.stop();
    this.store.stopRetrying();
  }
}
