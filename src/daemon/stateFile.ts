import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeReadError, parseStateJson, StateFileError } from '../stateFiles/stateFileError.js';
import { writeFileAtomic } from '../stateFiles/writeFileAtomic.js';

/** What the daemon remembers across restarts: when each node was last purged successfully. */
export interface DaemonState {
  lastSuccess: Record<string, string>;
  /** When the daemon first watched each node (the stalled-purge alarm counts from there until a first success). */
  watchedSince: Record<string, string>;
}

const FILE = 'daemon-state.json';
const FIX = 'the daemon then counts every node as overdue and purges it at once; the file is rewritten after the next purge';

/** Reads the state; a missing file is an empty state, an unreadable or damaged one a StateFileError. */
export async function readState(directory: string): Promise<DaemonState> {
  const file = path.join(directory, FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lastSuccess: {}, watchedSince: {} };
    throw new StateFileError(file, describeReadError(err), FIX, { cause: err });
  }
  const parsed = parseStateJson(text);
  if (!parsed.ok) throw new StateFileError(file, parsed.problem, FIX);
  const data = parsed.value as Partial<DaemonState> | null;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new StateFileError(file, 'is not an object', FIX);
  return { lastSuccess: times(data.lastSuccess), watchedSince: times(data.watchedSince) };
}

/** Writes the state atomically: a crash or a full disk never leaves half a file. */
export async function writeState(directory: string, state: DaemonState): Promise<void> {
  await writeFileAtomic(path.join(directory, FILE), `${JSON.stringify(state, null, 2)}\n`);
}

function times(record: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [node, at] of Object.entries(record ?? {})) {
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) out[node] = at;
  }
  return out;
}
