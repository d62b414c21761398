import type { Logger } from 'pino';
import { describeSinkEvent, isAlarmEvent, type SinkEvent } from '../sinkEvent.js';
import type { AlarmSink } from './sink.js';

/** The daemon's own log (journald under systemd): one line per raise, clear or test. */
export class LogSink implements AlarmSink {
  readonly type = 'log';
  readonly wantsRefresh = false;

  constructor(
    readonly name: string,
    private readonly log: Logger,
    readonly purgeFinished = false,
  ) {}

  async deliver(e: SinkEvent): Promise<void> {
    if (!isAlarmEvent(e)) {
      const { node, status, files, bytes, rows, failures, durationSeconds, id } = e;
      this.log.info({ purgeEvent: 'purge-finished', node, status, files, bytes, rows, failures, durationSeconds, eventId: id }, describeSinkEvent(e));
      return;
    }
    const fields = { alarm: e.alarm, alarmEvent: e.event, severity: e.severity, node: e.node, chatType: e.chatType ?? undefined, value: e.value, threshold: e.threshold, solution: e.solution, alarmId: e.alarmId, eventId: e.id };
    const line = describeSinkEvent(e);
    if (e.event !== 'raised') this.log.info(fields, line);
    else if (e.severity === 'warning') this.log.warn(fields, line);
    else this.log.error(fields, line);
  }
}
