import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { keyId } from './alarmKey.js';
import type { Transition } from './alarmState.js';
import { ALARM_DEFINITIONS, ALARM_NAMES } from './definitions.js';

/** The alarm `--test` sends: not one of the real alarms, so that nobody acts on it. */
export const TEST_ALARM = 'MFTRetentionTestAlarm';

/**
 * One alarm event, as every sink receives it and as the webhook posts it. Versioned: fields
 * are only ever added within version 1. The JSON Schema published beside this file
 * (alarm-event.v1.schema.json) is generated from this definition.
 */
export const alarmEventSchema = z
  .strictObject({
    version: z.literal(1),
    id: z.uuid().describe('Unique per event; a receiver that sees an id twice (a retried delivery) can drop the second.'),
    alarmId: z.string().describe('Stable for one alarm instance (alarm/node[/chat type]); a raise and its clear share it.'),
    event: z.enum(['raised', 'cleared', 'test']),
    alarm: z.enum([...ALARM_NAMES, TEST_ALARM]),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    node: z.string(),
    chatType: z.string().nullable(),
    problem: z.string(),
    solution: z.string(),
    value: z.string().describe('The measurement that raised or cleared the alarm.'),
    threshold: z.string(),
    raisedAt: z.iso.datetime(),
    clearedAt: z.iso.datetime().nullable(),
    occurredAt: z.iso.datetime().describe('When the event happened (raisedAt or clearedAt, or the test time).'),
    host: z.string().describe('The host running mft-retention.'),
  })
  .describe('mft-retention alarm event, version 1');

export type AlarmEvent = z.infer<typeof alarmEventSchema>;

export function eventFromTransition(t: Transition, host = hostname()): AlarmEvent {
  const a = t.alarm;
  const def = ALARM_DEFINITIONS[a.name];
  const cleared = t.kind === 'clear';
  return {
    version: 1,
    id: randomUUID(),
    alarmId: keyId(a),
    event: cleared ? 'cleared' : 'raised',
    alarm: a.name,
    severity: a.severity,
    node: a.node,
    chatType: a.chatType ?? null,
    problem: def.problem,
    solution: def.solution,
    value: cleared ? t.value : a.value,
    threshold: cleared ? t.threshold : a.threshold,
    raisedAt: a.raisedAt,
    clearedAt: cleared ? t.clearedAt : null,
    occurredAt: cleared ? t.clearedAt : a.raisedAt,
    host,
  };
}

export function testEvent(now: Date, host = hostname()): AlarmEvent {
  const at = now.toISOString();
  return {
    version: 1,
    id: randomUUID(),
    alarmId: `${TEST_ALARM}/${host}`,
    event: 'test',
    alarm: TEST_ALARM,
    severity: 'info',
    node: '-',
    chatType: null,
    problem: 'This is a test alarm sent by mft-retention alarms --test; nothing is wrong.',
    solution: 'Nothing to do: it checks that alarms reach this receiver.',
    value: 'test',
    threshold: 'test',
    raisedAt: at,
    clearedAt: null,
    occurredAt: at,
    host,
  };
}

/** One line for logs and terminals. */
export function describeEvent(e: AlarmEvent): string {
  const scope = e.chatType ? `${e.node}/${e.chatType}` : e.node;
  return `${e.alarm} ${e.event} on ${scope}: ${e.value} (${e.threshold})`;
}
