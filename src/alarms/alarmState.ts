import { ALARM_DEFINITIONS, ALARM_NAMES, type AlarmName, type Severity } from './definitions.js';
import { keyId, type AlarmKey } from './alarmKey.js';

/**
 * What a check concluded about one cause of one alarm. An alarm can have several independent
 * causes (the database alarm: its measured size, and a statement that failed with "disk
 * full"); it is active while any of them is. `hold` is the hysteresis band: no change.
 */
export interface Observation {
  key: AlarmKey;
  cause: string;
  verdict: 'raise' | 'clear' | 'hold';
  /** The measured value, for people: "8.2 % free (8.2 GiB of 100 GiB)". */
  value: string;
  /** The threshold it was compared with: "raised at or below 10 %, cleared at or above 15 %". */
  threshold: string;
  at: Date;
}

export interface CauseState {
  since: string;
  value: string;
  threshold: string;
}

export interface ActiveAlarm extends AlarmKey {
  severity: Severity;
  raisedAt: string;
  /** The latest measurement of any active cause. */
  value: string;
  threshold: string;
  updatedAt: string;
  causes: Record<string, CauseState>;
}

/** Active alarms, persisted so that a restart neither raises them again nor forgets them. */
export interface AlarmState {
  version: 1;
  active: Record<string, ActiveAlarm>;
}

export type Transition =
  | { kind: 'raise'; alarm: ActiveAlarm; cause: string }
  | { kind: 'clear'; alarm: ActiveAlarm; clearedAt: string; value: string; threshold: string };

export function emptyAlarmState(): AlarmState {
  return { version: 1, active: {} };
}

/**
 * Applies observations: an alarm is raised once, when its first cause raises it, and cleared
 * once, when its last cause clears. Repeated raises and clears change nothing but the value
 * shown. Pure: the caller persists the new state and delivers the transitions.
 */
export function applyObservations(state: AlarmState, observations: readonly Observation[]): { state: AlarmState; transitions: Transition[] } {
  const active: Record<string, ActiveAlarm> = structuredClone(state.active);
  const transitions: Transition[] = [];
  for (const o of observations) {
    const id = keyId(o.key);
    const alarm = active[id];
    const at = o.at.toISOString();
    if (o.verdict === 'raise') {
      if (!alarm) {
        const raised: ActiveAlarm = {
          ...o.key,
          severity: ALARM_DEFINITIONS[o.key.name].severity,
          raisedAt: at,
          value: o.value,
          threshold: o.threshold,
          updatedAt: at,
          causes: { [o.cause]: { since: at, value: o.value, threshold: o.threshold } },
        };
        active[id] = raised;
        transitions.push({ kind: 'raise', alarm: structuredClone(raised), cause: o.cause });
        continue;
      }
      alarm.causes[o.cause] = { since: alarm.causes[o.cause]?.since ?? at, value: o.value, threshold: o.threshold };
      Object.assign(alarm, { value: o.value, threshold: o.threshold, updatedAt: at });
    } else if (o.verdict === 'clear') {
      if (!alarm || !alarm.causes[o.cause]) continue;
      delete alarm.causes[o.cause];
      if (Object.keys(alarm.causes).length > 0) continue;
      delete active[id];
      transitions.push({ kind: 'clear', alarm, clearedAt: at, value: o.value, threshold: o.threshold });
    } else if (alarm?.causes[o.cause]) {
      alarm.causes[o.cause] = { ...alarm.causes[o.cause]!, value: o.value, threshold: o.threshold };
      Object.assign(alarm, { value: o.value, threshold: o.threshold, updatedAt: at });
    }
  }
  return { state: { version: 1, active }, transitions };
}

/**
 * Reads a persisted state, keeping only well-formed alarms: a damaged entry is dropped
 * rather than stopping the daemon (the next check raises it again if it still holds).
 */
export function parseAlarmState(data: unknown): AlarmState {
  const out = emptyAlarmState();
  const active = (data as { active?: unknown } | null)?.active;
  if (!active || typeof active !== 'object') return out;
  for (const a of Object.values(active as Record<string, Partial<ActiveAlarm>>)) {
    if (!a || typeof a.node !== 'string' || !ALARM_NAMES.includes(a.name as AlarmName) || typeof a.raisedAt !== 'string') continue;
    if (!a.causes || typeof a.causes !== 'object' || Object.keys(a.causes).length === 0) continue;
    const alarm: ActiveAlarm = {
      name: a.name as AlarmName,
      node: a.node,
      ...(typeof a.chatType === 'string' ? { chatType: a.chatType } : {}),
      severity: ALARM_DEFINITIONS[a.name as AlarmName].severity,
      raisedAt: a.raisedAt,
      value: String(a.value ?? ''),
      threshold: String(a.threshold ?? ''),
      updatedAt: String(a.updatedAt ?? a.raisedAt),
      causes: a.causes,
    };
    out.active[keyId(alarm)] = alarm;
  }
  return out;
}
