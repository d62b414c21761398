import { z } from 'zod';
import { alarmEventSchema } from './alarmEvent.js';

export const ALARM_EVENT_SCHEMA_FILE = 'src/alarms/alarm-event.v1.schema.json';

/** The published JSON Schema of the webhook payload, generated from the one definition. */
export function alarmEventJsonSchema(): Record<string, unknown> {
  // Receivers must accept fields added later within version 1: no additionalProperties: false.
  const { additionalProperties: _closed, ...schema } = z.toJSONSchema(alarmEventSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'urn:mft-retention:alarm-event:v1',
    title: 'mft-retention alarm event, version 1',
  };
}
