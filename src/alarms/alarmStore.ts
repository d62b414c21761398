import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { SinkEvent } from './sinkEvent.js';
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
 * Active alarms and the per-sink outboxes live in ONE file, replaced atomically (write, fsync,
 * rename): a crash can never leave an alarm marked raised whose event was not queued, nor an
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
        return writeAtomically(this.file, `${JSON.stringify({ version: 1, active: this.data.state.active, outbox: this.data.outbox })}\n`);
      });
    return this.saving;
  }
}

/** Reads the alarm file; a missing one is empty. A damaged one is an error naming the file. */
export async function readAlarmFile(directory: string): Promise<AlarmFile> {
  const file = path.join(directory, ALARM_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptyAlarmState(), outbox: {} };
    throw err;
  }
  let data: { outbox?: unknown };
  try {
    data = JSON.parse(text) as { outbox?: unknown };
  } catch (err) {
    throw new Error(`the alarm state file ${file} is damaged (${(err as Error).message}); move it aside to start with no active alarms`, { cause: err });
  }
  const outbox: Record<string, OutboxEntry[]> = {};
  if (data.outbox && typeof data.outbox === 'object') {
    for (const [sink, entries] of Object.entries(data.outbox as Record<string, unknown>)) {
      if (Array.isArray(entries)) outbox[sink] = entries.filter((e): e is OutboxEntry => Boolean(e && typeof e === 'object' && (e as OutboxEntry).event?.id));
    }
  }
  return { state: parseAlarmState(data), outbox };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}
