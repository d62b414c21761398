import { z } from 'zod';
import { alarmEventSchema, describeEvent, type AlarmEvent } from './alarmEvent.js';
import { purgeFinishedEventSchema, type PurgeFinishedEvent } from './purgeFinishedEvent.js';

/** What a sink receives: an alarm event, or (for sinks that opt in) a purge finished event. Tell them apart by `event`. */
export const sinkEventSchema = z.union([alarmEventSchema, purgeFinishedEventSchema]).describe('mft-retention event, version 1: an alarm event (event raised, cleared or test) or a purge finished event (event purge-finished)');

export type SinkEvent = AlarmEvent | PurgeFinishedEvent;

export const isAlarmEvent = (e: SinkEvent): e is AlarmEvent => e.event !== 'purge-finished';

/** One line for logs and terminals. */
export function describeSinkEvent(e: SinkEvent): string {
  if (isAlarmEvent(e)) return describeEvent(e);
  return `purge of ${e.node} finished: ${e.status}, ${e.files} files, ${e.bytes} bytes, ${e.rows} rows, ${e.failures} failures in ${e.durationSeconds.toFixed(1)} s`;
}
