import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { describeReadError, parseStateJson, StateFileError } from '../stateFiles/stateFileError.js';
import { writeFileAtomic } from '../stateFiles/writeFileAtomic.js';
import type { AlarmEvent } from './alarmEvent.js';
import { emptyAlarmState, parseAlarmState, type AlarmState } from './alarmState.js';

export interface OutboxEntry {
  event: AlarmEvent;
  /** A re-send of an active alarm (Alertmanager only): dropped first, never queued twice. */
  refresh?: boolean;
  enqueuedAt: string;
  attempts: number;
}

/** Everything alarm-related the daemon must not forget: active alarms and undelivered events. */
export interface AlarmFile {
  state: AlarmState;
  outbox: Record<string, OutboxEntry[]>;
}

export const ALARM_FILE = 'alarms.json';

/**
 * Active alarms and the per-sink outboxes live in ONE file, replaced atomically (see writeFileAtomic): a crash can never leave an alarm marked raised whose event was not queued, nor an
 * event queued for an alarm the state forgot.
 */
export class AlarmStore {
  private saving: Promise<void> = Promise.resolve();
  private dirty = false;

  private constructor(
    readonly file: string,
    readonly data: AlarmFile,
  ) {}

  static async open(directory: string): Promise<AlarmStore> {
    return new AlarmStore(path.join(directory, ALARM_FILE), await readAlarmFile(directory));
  }

  /**
   * Writes the current data. Calls made while a write is running are folded into one more
   * write after it, so a burst of deliveries costs two writes, not one per event.
   */
  save(): Promise<void> {
    if (this.dirty) return this.saving;
    this.dirty = true;
    this.saving = this.saving
      .catch(() => undefined)
      .then(() => {
        this.dirty = false;
        return writeFileAtomic(this.file, `${JSON.stringify({ version: 1, active: this.data.state.active, outbox: this.data.outbox })}\n`);
      });
    return this.saving;
  }
}

/** How to start again from a damaged alarm file, for the error messages. */
export const RESET_ALARMS_HINT = 'look at the file, then start with no active alarms deliberately: mft-retention state reset-alarms --config FILE (alarms still shown at a receiver are then cleared there by hand)';

/** Reads the alarm file; a missing one is empty. A damaged or unreadable one is a StateFileError naming the file. */
export async function readAlarmFile(directory: string): Promise<AlarmFile> {
  const file = path.join(directory, ALARM_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyAlarmState(), outbox: {} };
    throw new StateFileError(file, describeReadError(err), RESET_ALARMS_HINT, { cause: err });
  }
  const parsed = parseStateJson(text);
  if (!parsed.ok) throw new StateFileError(file, parsed.problem, RESET_ALARMS_HINT);
  const data = parsed.value as { active?: unknown; outbox?: unknown } | null;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new StateFileError(file, `holds ${data === null ? 'null' : Array.isArray(data) ? 'a list' : `a ${typeof data}`} instead of the alarm state ({"version": 1, "active": {...}, "outbox": {...}})`, RESET_ALARMS_HINT);
  }
  for (const key of ['active', 'outbox'] as const) {
    const v = data[key];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) throw new StateFileError(file, `has "${key}" that is not an object`, RESET_ALARMS_HINT);
  }
  const outbox: Record<string, OutboxEntry[]> = {};
  if (data.outbox && typeof data.outbox === 'object') {
    for (const [sink, entries] of Object.entries(data.outbox as Record<string, unknown>)) {
      if (Array.isArray(entries)) outbox[sink] = entries.filter((e): e is OutboxEntry => Boolean(e && typeof e === 'object' && (e as OutboxEntry).event?.id));
    }
  }
  return { state: parseAlarmState(data), outbox };
}

/** Moves a damaged alarm file aside (kept as alarms.json.damaged-<time>) and starts with none. */
export async function resetAlarmFile(directory: string, now = new Date()): Promise<{ file: string; keptCopy?: string }> {
  const file = path.join(directory, ALARM_FILE);
  const keptCopy = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '')}`;
  const moved = await rename(file, keptCopy).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, active: {}, outbox: {} })}\n`);
  return { file, ...(moved ? { keptCopy } : {}) };
}
