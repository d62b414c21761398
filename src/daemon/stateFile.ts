import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What the daemon remembers across restarts: when each node was last purged successfully. */
export interface DaemonState {
  lastSuccess: Record<string, string>;
  /** When the daemon first watched each node (the stalled-purge alarm counts from there until a first success). */
  watchedSince: Record<string, string>;
}

const FILE = 'daemon-state.json';

/** Reads the state; a missing file is an empty state, an unreadable one an error. */
export async function readState(directory: string): Promise<DaemonState> {
  let text: string;
  try {
    text = await readFile(path.join(directory, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lastSuccess: {}, watchedSince: {} };
    throw err;
  }
  const data = JSON.parse(text) as Partial<DaemonState>;
  return { lastSuccess: times(data.lastSuccess), watchedSince: times(data.watchedSince) };
}

/** Writes the state atomically (temp file + rename): a crash never leaves half a file. */
export async function writeState(directory: string, state: DaemonState): Promise<void> {
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

function times(record: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [node, at] of Object.entries(record ?? {})) {
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at))) out[node] = at;
  }
  return out;
}
