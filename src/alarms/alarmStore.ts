import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { SinkEvent } from './sinkEvent.js';
import { describeReadError, parseStateJson, StateFileError } from '../stateFiles/stateFileError.js';
import { writeFileAtomic } from '../stateFiles/writeFileAtomic.js';
import { coerceError } from '../errors.js';
import { emptyAlarmState, parseAlarmState, type AlarmState } from './alarmState.js';

export interface OutboxEntry {
  event: SinkEvent;
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
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_FIRST_MS;
  /** The last write's error while writes fail; undefined once one succeeds. */
  writeError?: Error;
  /** Told of each change between "writes fail" (with the error) and "writes work" (undefined). */
  onWriteProblem: (file: string, error?: Error) => void = () => undefined;

  private constructor(
    readonly file: string,
    readonly data: AlarmFile,
  ) {}

  static async open(directory: string): Promise<AlarmStore> {
    return new AlarmStore(path.join(directory, ALARM_FILE), await readAlarmFile(directory));
  }

  /**
   * Writes the current data; never rejects. Calls made while a write is running are folded into
   * one more write after it, so a burst of deliveries costs two writes, not one per event. A
   * failed write (directory read-only, disk full) keeps the data in memory, is reported through
   * onWriteProblem, and is retried with a growing delay until it works.
   */
  save(): Promise<void> {
    if (this.dirty) return this.saving;
    this.dirty = true;
    this.saving = this.saving.then(async () => {
      this.dirty = false;
      clearTimeout(this.retryTimer);
      try {
        await writeFileAtomic(this.file, `${JSON.stringify({ version: 1, active: this.data.state.active, outbox: this.data.outbox })}\n`);
        this.retryMs = RETRY_FIRST_MS;
        if (this.writeError) {
          this.writeError = undefined;
          this.onWriteProblem(this.file);
        }
      } catch (err) {
        const first = !this.writeError;
        this.writeError = coerceError(err);
        if (first) this.onWriteProblem(this.file, this.writeError);
        this.retryTimer = setTimeout(() => void this.save(), this.retryMs);
        this.retryTimer.unref();
        this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
      }
    });
    return this.saving;
  }

  /** At shutdown: no more retries (what could not be written is lost with the process). */
  stopRetrying(): void {
    clearTimeout(this.retryTimer);
  }
}

const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 60_000;

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
