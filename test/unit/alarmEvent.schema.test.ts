// The published JSON Schema of the alarm event (the webhook payload) is generated from the
// zod definition: the committed file must be exactly what the generator gives, and events
// the daemon makes must validate against it, with a standard validator (ajv, draft 2020-12).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ajv2020Module from 'ajv/dist/2020.js';
import ajvFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { eventFromTransition, testEvent, type AlarmEvent } from '../../src/alarms/alarmEvent.js';
import { ALARM_EVENT_SCHEMA_FILE, alarmEventJsonSchema } from '../../src/alarms/alarmEventJsonSchema.js';
import { applyObservations, emptyAlarmState, type Observation } from '../../src/alarms/alarmState.js';
import type { AlarmKey } from '../../src/alarms/alarmKey.js';
import { purgeFinishedEvent } from '../../src/alarms/purgeFinishedEvent.js';
import type { NodeResult } from '../../src/purge/purgeNode.js';

// CommonJS packages: under NodeNext the default import is module.exports; the class is its `default`.
const Ajv2020 = ajv2020Module.default;
const addFormats = ajvFormatsModule.default;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCHEMA_PATH = path.join(ROOT, ALARM_EVENT_SCHEMA_FILE);
const REGENERATE = `node -e "import('./dist/src/alarms/alarmEventJsonSchema.js').then(m => require('fs').writeFileSync(m.ALARM_EVENT_SCHEMA_FILE, JSON.stringify(m.alarmEventJsonSchema(), null, 2) + '\\n'))"`;

const committed = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
/** The two kinds of event: alarm events (raised, cleared, test) and purge finished events. */
const branches = committed.anyOf as Array<{ properties: Record<string, { const?: unknown; enum?: unknown[] }>; required: string[] }>;
const alarmBranch = branches.find((b) => b.properties.event?.enum?.includes('raised'))!;
const purgeBranch = branches.find((b) => b.properties.event?.const === 'purge-finished')!;

function validator(): (data: unknown) => { ok: boolean; errors: string } {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  const validate = ajv.compile(committed);
  return (data) => {
    const ok = validate(data) as boolean;
    return { ok, errors: ajv.errorsText(validate.errors) };
  };
}

/** A raise and its clear, made the way the daemon makes them (hysteresis state -> transitions -> events). */
function raiseAndClear(key: AlarmKey): { raised: AlarmEvent; cleared: AlarmEvent } {
  const at = (s: number): Date => new Date(Date.UTC(2025, 2, 14, 9, 26, s));
  const obs = (verdict: Observation['verdict'], s: number, value: string): Observation => ({ key, cause: 'measured', verdict, value, threshold: 'raised at or below 10 %, cleared at or above 15 %', at: at(s) });
  const first = applyObservations(emptyAlarmState(), [obs('raise', 0, '8.2 % free')]);
  const second = applyObservations(first.state, [obs('clear', 30, '16.0 % free')]);
  expect(first.transitions).toHaveLength(1);
  expect(second.transitions).toHaveLength(1);
  return { raised: eventFromTransition(first.transitions[0]!, 'imp-pub.example.com'), cleared: eventFromTransition(second.transitions[0]!, 'imp-pub.example.com') };
}

describe('alarm-event.v1.schema.json', () => {
  it('is exactly what alarmEventJsonSchema() generates from the event definition', () => {
    const generated = JSON.parse(JSON.stringify(alarmEventJsonSchema())) as Record<string, unknown>;
    expect(committed, `${ALARM_EVENT_SCHEMA_FILE} is out of date with src/alarms/alarmEvent.ts; regenerate it after \`npm run build\` with:\n  ${REGENERATE}`).toEqual(generated);
  });

  it('is a valid draft 2020-12 schema (ajv strict mode) of two kinds of event, each requiring every field it defines', () => {
    expect(committed.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(() => validator()).not.toThrow();
    expect(branches).toHaveLength(2);
    expect(alarmBranch).toBeDefined();
    expect(purgeBranch).toBeDefined();
    for (const b of branches) expect([...b.required].sort()).toEqual(Object.keys(b.properties).sort());
    // Fields are only ever added within version 1: no object of the schema is closed.
    expect(JSON.stringify(committed)).not.toContain('"additionalProperties":false');
  });

  const validate = validator();

  it.each([
    ['a raise and a clear with a chat type', { name: 'XcpMFTExtFsFreeSpaceWarn', node: 'imp-pub', chatType: 'group' } as AlarmKey],
    ['a raise and a clear without a chat type', { name: 'XcpMFTDBFullError', node: 'imp-sub-1' } as AlarmKey],
  ])('events from eventFromTransition validate: %s', (_what, key) => {
    const { raised, cleared } = raiseAndClear(key);
    for (const e of [raised, cleared]) {
      const r = validate(e);
      expect(r.ok, r.errors).toBe(true);
    }
    expect(raised).toMatchObject({ event: 'raised', clearedAt: null, chatType: key.chatType ?? null });
    expect(cleared).toMatchObject({ event: 'cleared', clearedAt: cleared.occurredAt, alarmId: raised.alarmId });
    // What a receiver sees is the JSON text, not the object.
    const r = validate(JSON.parse(JSON.stringify(cleared)));
    expect(r.ok, r.errors).toBe(true);
  });

  it('the test event of `alarms --test` validates', () => {
    const r = validate(testEvent(new Date('2025-03-14T09:26:53.589Z'), 'imp-pub.example.com'));
    expect(r.ok, r.errors).toBe(true);
  });

  const good = (): Record<string, unknown> => ({ ...raiseAndClear({ name: 'XcpMFTDBConnectError', node: 'imp-pub' }).cleared });

  it.each(Object.keys(alarmBranch.properties))('an alarm event without "%s" is invalid', (field) => {
    const e = good();
    expect(validate(e).ok).toBe(true);
    delete e[field];
    const r = validate(e);
    expect(r.ok).toBe(false);
    expect(r.errors).toContain(`must have required property '${field}'`);
  });

  it.each([
    ['event', 'resolved'],
    ['alarm', 'XcpMFTSomethingElse'],
    ['severity', 'major'],
    ['version', 2],
    ['id', 'not-a-uuid'],
    ['raisedAt', '14/03/2025 09:26'],
    ['clearedAt', 'yesterday'],
    ['chatType', 7],
  ])('an event with %s = %j is invalid', (field, value) => {
    const e = good();
    e[field] = value;
    const r = validate(e);
    expect(r.ok).toBe(false);
    expect(r.errors).toContain(`/${field}`);
  });

  /** A finished purge as purgeNode reports it: two chat types, one refused. */
  const result = (): NodeResult => ({
    node: 'imp-pub',
    status: 'refused',
    startedAt: new Date('2025-03-14T09:05:00.000Z'),
    finishedAt: new Date('2025-03-14T09:05:42.500Z'),
    chatTypes: [
      { chatType: 'im', retention: 'P7D', files: 1200, bytes: 52_000_000, rows: 3100, alreadyMissing: 3, oldestHour: '2025-03-06T08:00Z', newestHour: '2025-03-07T08:00Z', kept: { 'hold:legal-1': 4 }, failed: { 'permission-denied': 2 }, rowsPending: 0, byDay: {}, failedTransfers: 1, foldersRemoved: 25, handled: 1206 },
      { chatType: 'persistent', retention: 'P1Y', files: 0, bytes: 0, rows: 0, alreadyMissing: 0, kept: {}, failed: {}, rowsPending: 0, byDay: {}, failedTransfers: 0, foldersRemoved: 0, handled: 0, refused: { node: 'imp-pub', chatType: 'persistent', limit: 'maxFiles', measured: 90_000, threshold: 50_000, unit: 'files', files: 90_000, bytes: 1, message: 'would remove 90000 files, more than purge.limits.maxFiles (50000)', fix: 'approve it' } },
    ],
  });

  it('a purge finished event validates, with its summary per chat type', () => {
    const e = purgeFinishedEvent(result(), new Date(), 'imp-pub.example.com');
    const r = validate(JSON.parse(JSON.stringify(e)));
    expect(r.ok, r.errors).toBe(true);
    expect(e).toMatchObject({ event: 'purge-finished', node: 'imp-pub', status: 'refused', durationSeconds: 42.5, files: 1200, rows: 3100, failures: 2, error: null });
    expect(e.chatTypes[0]).toMatchObject({ chatType: 'im', kept: { 'hold:legal-1': 4 }, failed: { 'permission-denied': 2 }, refused: null });
    expect(e.chatTypes[1]!.refused).toContain('maxFiles');
  });

  it('a purge finished event with a field added later (a newer daemon) still validates', () => {
    const e = JSON.parse(JSON.stringify(purgeFinishedEvent(result(), new Date(), 'h'))) as Record<string, unknown> & { chatTypes: Array<Record<string, unknown>> };
    e.somethingNew = 1;
    e.chatTypes[0]!.somethingNew = 'x';
    const r = validate(e);
    expect(r.ok, r.errors).toBe(true);
  });

  it.each(Object.keys(purgeBranch.properties))('a purge finished event without "%s" is invalid', (field) => {
    const e = JSON.parse(JSON.stringify(purgeFinishedEvent(result(), new Date(), 'h'))) as Record<string, unknown>;
    delete e[field];
    const r = validate(e);
    expect(r.ok).toBe(false);
    expect(r.errors).toContain(`must have required property '${field}'`);
  });

  it.each([
    ['status', 'done'],
    ['files', -1],
    ['finishedAt', 'soon'],
    ['chatTypes', [{ chatType: 'im' }]],
  ])('a purge finished event with %s = %j is invalid', (field, value) => {
    const e = JSON.parse(JSON.stringify(purgeFinishedEvent(result(), new Date(), 'h'))) as Record<string, unknown>;
    e[field] = value;
    expect(validate(e).ok).toBe(false);
  });
});
