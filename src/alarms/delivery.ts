import type { Logger } from 'pino';
import { coerceError } from '../errors.js';
import type { AlarmEvent } from './alarmEvent.js';
import { describeSinkEvent, type SinkEvent } from './sinkEvent.js';
import type { AlarmStore, OutboxEntry } from './alarmStore.js';
import { RejectedDeliveryError, type AlarmSink } from './sinks/sink.js';

export interface DeliveryOptions {
  maxQueued: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

export interface DeliveryObserver {
  delivered(sink: string): void;
  failed(sink: string): void;
  dropped(sink: string, n: number): void;
  queueLength(sink: string, n: number): void;
}

/**
 * Delivers events to every sink, each from its own outbox on disk, in order, one at a time
 * (a clear never overtakes its raise). A failed delivery is retried with exponential backoff
 * until it succeeds; the outbox is bounded, and the oldest events are dropped (and logged)
 * when it overflows. Delivery is at least once: after a crash between a delivery and the
 * next save, an event may be sent again with the same id.
 */
export class Delivery {
  private readonly pumps = new Map<string, Promise<void>>();
  private readonly wake = new Map<string, () => void>();
  private readonly backoff = new Map<string, number>();
  private stopped = false;

  constructor(
    private sinks: AlarmSink[],
    private readonly store: AlarmStore,
    private opts: DeliveryOptions,
    private readonly log: Logger,
    private readonly observer?: DeliveryObserver,
  ) {
    for (const sink of sinks) this.outbox(sink.name);
  }

  /** Starts sending what is queued (events left from before a restart). */
  start(): void {
    for (const sink of this.sinks) this.kick(sink);
  }

  /** Swaps the sinks after a reload; outboxes of removed sinks are kept on disk, not sent. */
  reconfigure(sinks: AlarmSink[], opts: DeliveryOptions): void {
    this.sinks = sinks;
    this.opts = opts;
    // Pumps of the old sink objects stop at their next step (and hand over to the new ones).
    for (const w of this.wake.values()) w();
    for (const sink of sinks) this.kick(sink);
  }

  /** Queues the events for every sink (or those `to` picks), saves, then starts delivering. */
  async enqueue(events: SinkEvent[], to: (sink: AlarmSink) => boolean = () => true): Promise<void> {
    if (events.length === 0) return;
    const sinks = this.sinks.filter(to);
    if (sinks.length === 0) return;
    for (const sink of sinks) {
      const box = this.outbox(sink.name);
      for (const event of events) box.push({ event, enqueuedAt: new Date().toISOString(), attempts: 0 });
      this.trim(sink.name, box);
    }
    await this.store.save();
    for (const sink of this.sinks) this.kick(sink);
  }

  /** Re-sends active alarms to sinks that forget them otherwise (Alertmanager), unless one is already queued. */
  async refresh(events: AlarmEvent[]): Promise<void> {
    let changed = false;
    for (const sink of this.sinks.filter((s) => s.wantsRefresh)) {
      const box = this.outbox(sink.name);
      for (const event of events) {
        if (box.some((e) => 'alarmId' in e.event && e.event.alarmId === event.alarmId)) continue;
        box.push({ event, refresh: true, enqueuedAt: new Date().toISOString(), attempts: 0 });
        changed = true;
      }
      this.trim(sink.name, box);
    }
    if (!changed) return;
    await this.store.save();
    for (const sink of this.sinks) this.kick(sink);
  }

  pending(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.store.data.outbox).map(([name, box]) => [name, box.length]));
  }

  /** Waits until every configured sink's outbox is empty, or the time is up. Returns whether all got through. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.sinks.every((s) => this.outbox(s.name).length === 0)) return true;
      if (Date.now() >= deadline) return false;
      for (const sink of this.sinks) this.kick(sink);
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
  }

  /** Stops delivering (at shutdown); what is queued stays on disk for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.wake.values()) w();
    await Promise.all(this.pumps.values());
    await this.store.save();
  }

  private outbox(name: string): OutboxEntry[] {
    return (this.store.data.outbox[name] ??= []);
  }

  private trim(name: string, box: OutboxEntry[]): void {
    // Refreshes go first: they only repeat what the receiver was already told.
    // The oldest may be the one in transit to a receiver that is down: dropping it is the point.
    while (box.length > this.opts.maxQueued) {
      const refresh = box.findIndex((e) => e.refresh);
      const [dropped] = box.splice(refresh >= 0 && refresh < box.length - 1 ? refresh : 0, 1);
      if (!dropped!.refresh) {
        this.log.error({ sink: name, maxQueued: this.opts.maxQueued, dropped: describeSinkEvent(dropped!.event), eventId: dropped!.event.id }, 'alarm outbox full: oldest undelivered alarm event dropped');
        this.observer?.dropped(name, 1);
      }
    }
    this.observer?.queueLength(name, box.length);
  }

  private kick(sink: AlarmSink): void {
    if (this.stopped) return;
    const waking = this.wake.get(sink.name);
    if (waking) {
      // A pump waiting out a backoff: new work does not shorten it, the receiver is still down.
      return;
    }
    if (this.pumps.has(sink.name)) return;
    const run = this.pump(sink).finally(() => {
      this.pumps.delete(sink.name);
      // A reload replaced this sink while it was busy: its successor takes over the outbox.
      const current = this.sinks.find((s) => s.name === sink.name);
      if (current && current !== sink && !this.stopped && this.outbox(sink.name).length > 0) this.kick(current);
    });
    this.pumps.set(sink.name, run);
  }

  private async pump(sink: AlarmSink): Promise<void> {
    const box = this.outbox(sink.name);
    while (!this.stopped && box.length > 0 && this.sinks.includes(sink)) {
      const entry = box[0]!;
      try {
        await sink.deliver(entry.event);
        if (entry.attempts > 0) this.log.info({ sink: sink.name, attempts: entry.attempts + 1, eventId: entry.event.id }, 'alarm delivered after retrying');
        this.backoff.delete(sink.name);
        this.observer?.delivered(sink.name);
      } catch (err) {
        const error = coerceError(err);
        entry.attempts++;
        this.observer?.failed(sink.name);
        if (err instanceof RejectedDeliveryError) {
          this.log.error({ sink: sink.name, err: error, eventId: entry.event.id, alarm: describeSinkEvent(entry.event) }, 'alarm receiver rejected the event; it is dropped (retrying cannot help: check the receiver and the sink config)');
        } else {
          const delay = Math.min(this.opts.retryMaxMs, this.backoff.get(sink.name) ?? this.opts.retryInitialMs);
          this.backoff.set(sink.name, Math.min(this.opts.retryMaxMs, delay * 2));
          if (entry.attempts === 1 || entry.attempts % 10 === 0) {
            this.log.warn({ sink: sink.name, err: error, attempts: entry.attempts, retryInMs: delay, queued: box.length }, 'alarm delivery failed; will retry (the event is kept on disk)');
          }
          void this.store.save();
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delay);
            this.wake.set(sink.name, () => {
              clearTimeout(timer);
              resolve();
            });
          });
          this.wake.delete(sink.name);
          continue;
        }
      }
      // Remove exactly the entry delivered: trim() may have changed the outbox meanwhile.
      const at = box.indexOf(entry);
      if (at >= 0) box.splice(at, 1);
      this.observer?.queueLength(sink.name, box.length);
      void this.store.save();
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
