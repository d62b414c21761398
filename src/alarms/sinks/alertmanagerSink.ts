import type { AlarmEvent } from '../alarmEvent.js';
import { isAlarmEvent, type SinkEvent } from '../sinkEvent.js';
import { postJson, RejectedDeliveryError, type AlarmSink } from './sink.js';

/**
 * Prometheus Alertmanager, API v2 (POST /api/v2/alerts). An active alert carries an endsAt
 * in the near future and is re-sent on every check, as Prometheus itself does: if this
 * daemon dies, Alertmanager resolves the alert after `validityMs` instead of keeping a stale
 * one forever. A cleared alarm is sent with endsAt = the time it cleared.
 */
export class AlertmanagerSink implements AlarmSink {
  readonly type = 'alertmanager';
  readonly wantsRefresh = true;
  /** Alertmanager takes alerts only; the config does not allow purgeFinished here. */
  readonly purgeFinished = false;

  constructor(
    readonly name: string,
    private readonly cfg: { url: string; headers: Record<string, string>; timeoutMs: number },
    private readonly validityMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  deliver(event: SinkEvent): Promise<void> {
    if (!isAlarmEvent(event)) return Promise.reject(new RejectedDeliveryError('Alertmanager takes alerts only, not purge finished events'));
    return postJson(`${this.cfg.url}/api/v2/alerts`, JSON.stringify([this.toAlert(event)]), this.cfg.headers, this.cfg.timeoutMs);
  }

  toAlert(e: AlarmEvent): Record<string, unknown> {
    const endsAt = e.clearedAt ?? new Date(this.now().getTime() + this.validityMs).toISOString();
    return {
      labels: {
        alertname: e.alarm,
        severity: e.severity,
        node: e.node,
        ...(e.chatType ? { chat_type: e.chatType } : {}),
        service: 'mft-retention',
        instance: e.host,
      },
      annotations: {
        summary: e.problem,
        description: `${e.value} (${e.threshold})`,
        solution: e.solution,
        value: e.value,
        threshold: e.threshold,
      },
      startsAt: e.raisedAt,
      endsAt,
    };
  }
}
