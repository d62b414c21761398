import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * How much recent purge runs found to remove, per node and chat type: what "usual" means for
 * the relative blast-radius limit. Kept in `purge-history.json` in the state directory (beside
 * the daemon's state), shared by the daemon and the command line.
 */
export interface RunHistory {
  /** Files counted by recent runs of this node and chat type that found something, oldest first. */
  recent(node: string, chatType: string): number[];
  /** Adds a run's count (runs that found nothing are not kept: idle hours are not "usual"). */
  record(node: string, chatType: string, files: number): void;
  /** The last run of the chat type, when a per-run cap stopped it: its size and what it left. */
  catchUp(node: string, chatType: string): CatchUpStep | undefined;
  /** Remembers (or, undefined, forgets) the capped step a run of the chat type was. */
  recordCatchUp(node: string, chatType: string, step: CatchUpStep | undefined): void;
  save(): Promise<void>;
}

/** A capped run: the files it was to remove, and the expired files it left for later runs. */
export interface CatchUpStep {
  files: number;
  left: number;
}

interface HistoryFile {
  version: 1;
  nodes: Record<string, Record<string, number[]>>;
  /** Per node and chat type: the last run, when it was a capped step of a catch-up. */
  catchUp?: Record<string, Record<string, CatchUpStep>>;
}

export const HISTORY_FILE = 'purge-history.json';
/** Runs kept per node and chat type: more than any sensible purge.limits.usualRuns. */
const KEEP = 1000;

/** Reads the history; a missing file is an empty history, an unreadable or corrupt one an error. */
export async function openRunHistory(directory: string): Promise<RunHistory> {
  const file = path.join(directory, HISTORY_FILE);
  let data: HistoryFile = { version: 1, nodes: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<HistoryFile>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.nodes !== 'object') throw new Error('not a purge history');
    data = { version: 1, nodes: {} };
    for (const [node, byType] of Object.entries(parsed.nodes ?? {})) {
      data.nodes[node] = {};
      for (const [chatType, runs] of Object.entries(byType ?? {})) {
        if (Array.isArray(runs)) data.nodes[node]![chatType] = runs.filter((v): v is number => Number.isFinite(v) && v > 0);
      }
    }
    for (const [node, byType] of Object.entries(parsed.catchUp ?? {})) {
      for (const [chatType, step] of Object.entries(byType ?? {})) {
        if (Number.isFinite(step?.files) && Number.isFinite(step?.left)) ((data.catchUp ??= {})[node] ??= {})[chatType] = { files: step.files, left: step.left };
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`cannot read the purge history ${file}: ${(err as Error).message}; fix or remove the file (the limit on unusually large runs starts again from scratch)`, { cause: err });
    }
  }
  let dirty = false;
  return {
    recent: (node, chatType) => [...(data.nodes[node]?.[chatType] ?? [])],
    record(node, chatType, files) {
      if (!(files > 0)) return;
      const runs = ((data.nodes[node] ??= {})[chatType] ??= []);
      runs.push(files);
      if (runs.length > KEEP) runs.splice(0, runs.length - KEEP);
      dirty = true;
    },
    catchUp: (node, chatType) => data.catchUp?.[node]?.[chatType],
    recordCatchUp(node, chatType, step) {
      if (step) ((data.catchUp ??= {})[node] ??= {})[chatType] = step;
      else if (data.catchUp?.[node]?.[chatType]) delete data.catchUp[node]![chatType];
      else return;
      dirty = true;
    },
    async save() {
      if (!dirty) return;
      await mkdir(directory, { recursive: true });
      // Temp file + rename: a crash never leaves half a file.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(data)}\n`, { mode: 0o600 });
      await rename(tmp, file);
      dirty = false;
    },
  };
}
