import { describe, expect, it } from 'vitest';
import { applyObservations, emptyAlarmState, parseAlarmState, type AlarmState, type Observation } from '../../src/alarms/alarmState.js';

const T0 = new Date('2026-03-01T10:00:00Z');
const at = (min: number): Date => new Date(T0.getTime() + min * 60_000);

function obs(verdict: Observation['verdict'], o: Partial<Observation> = {}): Observation {
  return { key: { name: 'XcpMFTExtFsFreeSpaceWarn', node: 'node_1' }, cause: 'free-space', verdict, value: `v-${verdict}`, threshold: 't', at: T0, ...o };
}

function run(state: AlarmState, ...o: Observation[]) {
  return applyObservations(state, o);
}

describe('applyObservations', () => {
  it('raises once on the first raise and never again while the alarm stays raised', () => {
    const a = run(emptyAlarmState(), obs('raise'));
    expect(a.transitions.map((t) => t.kind)).toEqual(['raise']);
    expect(a.transitions[0]!.alarm).toMatchObject({ name: 'XcpMFTExtFsFreeSpaceWarn', node: 'node_1', severity: 'warning', raisedAt: T0.toISOString(), value: 'v-raise' });
    const b = run(a.state, obs('raise', { at: at(5), value: 'worse' }), obs('raise', { at: at(10), value: 'worse still' }));
    expect(b.transitions).toEqual([]);
    expect(Object.values(b.state.active)[0]).toMatchObject({ raisedAt: T0.toISOString(), value: 'worse still', updatedAt: at(10).toISOString() });
  });

  it('holds in the hysteresis band: no transition either way', () => {
    const held = run(emptyAlarmState(), obs('hold'));
    expect(held.transitions).toEqual([]);
    expect(held.state.active).toEqual({});
    const raised = run(emptyAlarmState(), obs('raise')).state;
    const stillRaised = run(raised, obs('hold', { value: 'in the band' }));
    expect(stillRaised.transitions).toEqual([]);
    expect(Object.values(stillRaised.state.active)[0]!.value).toBe('in the band');
  });

  it('clears once, with the value and time of the clearing observation', () => {
    const raised = run(emptyAlarmState(), obs('raise')).state;
    const c = run(raised, obs('clear', { at: at(30), value: 'plenty' }), obs('clear', { at: at(35) }));
    expect(c.transitions).toHaveLength(1);
    expect(c.transitions[0]).toMatchObject({ kind: 'clear', clearedAt: at(30).toISOString(), value: 'plenty', alarm: { raisedAt: T0.toISOString() } });
    expect(c.state.active).toEqual({});
  });

  it('a clear without a raised alarm does nothing', () => {
    expect(run(emptyAlarmState(), obs('clear')).transitions).toEqual([]);
  });

  it('an alarm with two causes stays raised until both have cleared', () => {
    const db = (cause: string, verdict: Observation['verdict'], min: number): Observation => obs(verdict, { key: { name: 'XcpMFTDBFullError', node: 'n' }, cause, at: at(min) });
    const a = run(emptyAlarmState(), db('sqlstate', 'raise', 0), db('usage', 'raise', 1));
    expect(a.transitions.map((t) => t.kind)).toEqual(['raise']);
    const b = run(a.state, db('usage', 'clear', 2));
    expect(b.transitions).toEqual([]);
    expect(Object.keys(Object.values(b.state.active)[0]!.causes)).toEqual(['sqlstate']);
    const c = run(b.state, db('sqlstate', 'clear', 3));
    expect(c.transitions.map((t) => t.kind)).toEqual(['clear']);
  });

  it('keeps alarms of different nodes and chat types apart', () => {
    const r = run(
      emptyAlarmState(),
      obs('raise', { key: { name: 'XcpMFTPurgeStalledWarn', node: 'a', chatType: 'im' }, cause: 'backlog' }),
      obs('raise', { key: { name: 'XcpMFTPurgeStalledWarn', node: 'a', chatType: 'persistent' }, cause: 'backlog' }),
      obs('raise', { key: { name: 'XcpMFTPurgeStalledWarn', node: 'b', chatType: 'im' }, cause: 'backlog' }),
    );
    expect(r.transitions).toHaveLength(3);
    expect(Object.keys(r.state.active).sort()).toEqual(['XcpMFTPurgeStalledWarn/a/im', 'XcpMFTPurgeStalledWarn/a/persistent', 'XcpMFTPurgeStalledWarn/b/im']);
    const cleared = run(r.state, obs('clear', { key: { name: 'XcpMFTPurgeStalledWarn', node: 'a', chatType: 'im' }, cause: 'backlog' }));
    expect(Object.keys(cleared.state.active).sort()).toEqual(['XcpMFTPurgeStalledWarn/a/persistent', 'XcpMFTPurgeStalledWarn/b/im']);
  });

  it('does not change the state it was given', () => {
    const raised = run(emptyAlarmState(), obs('raise')).state;
    const copy = structuredClone(raised);
    run(raised, obs('clear'));
    expect(raised).toEqual(copy);
  });

  it('a persisted state read back is the same state; damaged entries are dropped', () => {
    const raised = run(emptyAlarmState(), obs('raise'), obs('raise', { key: { name: 'XcpMFTDBConnectError', node: 'n2' }, cause: 'connect' })).state;
    expect(parseAlarmState(JSON.parse(JSON.stringify(raised)))).toEqual(raised);
    const damaged = { active: { x: { name: 'NoSuchAlarm', node: 'n', raisedAt: 'x', causes: { a: {} } }, y: null, z: { name: 'XcpMFTDBFullError', node: 'n', raisedAt: T0.toISOString(), causes: {} } } };
    expect(parseAlarmState(damaged).active).toEqual({});
    expect(parseAlarmState('garbage').active).toEqual({});
  });
});
