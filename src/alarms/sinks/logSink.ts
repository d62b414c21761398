import type { Logger } from 'pino';
import { describeEvent, type AlarmEvent } from '../alarmEvent.js';
import type { AlarmSink } from './sink.js';

/** The daemon's own log (journald under systemd): one line per raise, clear or test. */
export class LogSink implements AlarmSink {
  readonly type = 'log';
  readonly wantsRefresh = false;

  constructor(
    readonly name: string,
    private readonly log: Logger,
  ) {}

  async deliver(e: AlarmEvent): Promise<void> {
    const fields = { alarm: e.alarm, alarmEvent: e.event, severity: e.severity, node: e.node, chatType: e.chatType ?? undefined, value: e.value, threshold: e.threshold, solution: e.solution, alarmId: e.alarmId, eventId: e.id };
    const line = describeEvent(e);
    if (e.event !== 'raised') this.log.info(fields, line);
    else if (e.severity === 'warning') this.log.warn(fields, line);
    else this.log.error(fields, line);
  }
}
