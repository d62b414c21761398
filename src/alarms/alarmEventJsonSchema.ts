import { z } from 'zod';
import { sinkEventSchema } from './sinkEvent.js';

export const ALARM_EVENT_SCHEMA_FILE = 'src/alarms/alarm-event.v1.schema.json';

/** The published JSON Schema of the webhook payload (alarm and purge finished events), generated from the one definition. */
export function alarmEventJsonSchema(): Record<string, unknown> {
  const schema = openObjects(z.toJSONSchema(sinkEventSchema, { target: 'draft-2020-12' })) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'urn:mft-retention:alarm-event:v1',
    title: 'mft-retention event, version 1',
  };
}

/** Receivers must accept fields added later within version 1: no additionalProperties: false anywhere. */
function openObjects(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(openObjects);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k, x]) => !(k === 'additionalProperties' && x === false)).map(([k, x]) => [k, openObjects(x)]));
}
