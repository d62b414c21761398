import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeReadError, parseStateJson } from '../stateFiles/stateFileError.js';
import { writeFileAtomic } from '../stateFiles/writeFileAtomic.js';

/**
 * How much recent purge runs found to remove, per node and chat type: what "usual" means for
 * the relative blast-radius limit. Kept in `purge-history.json` in the state directory (beside
 * the daemon's state), shared by the daemon and the command line.
 */
export interface RunHistory {
  /** Files counted by recent runs of this node and chat type that found something, oldest first. */
  recent(node: string, chatType: string): number[];
  /**
   * Why the history of this node cannot be trusted (damaged or unreadable file), if it cannot:
   * the relative limit then refuses what it cannot judge instead of letting it through.
   */
  problem(node: string): HistoryProblem | undefined;
  /** Adds a run's count (runs that found nothing are not kept: idle hours are not "usual"). */
  record(node: string, chatType: string, files: number): void;
  /** Writes what was recorded; a damaged file is never written over (see `state reset-history`). */
  /** The last run of the chat type, when a per-run cap stopped it: its size and what it left. */
  catchUp(node: string, chatType: string): CatchUpStep | undefined;
  /** Remembers (or, undefined, forgets) the capped step a run of the chat type was. */
  recordCatchUp(node: string, chatType: string, step: CatchUpStep | undefined): void;
  save(): Promise<void>;
}

export interface HistoryProblem {
  file: string;
  /** What is wrong, in words: "is empty", "is a directory, not a file", ... */
  problem: string;
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

export type HistoryRead =
  | { data: HistoryFile; problem?: undefined; nodeProblems: Record<string, string>; raw: Record<string, unknown> }
  | { data?: undefined; problem: string; nodeProblems?: undefined; raw?: undefined };

/**
 * Reads and checks the history file. A missing file is an empty history; an unreadable or
 * malformed one is a problem for every node, an entry of the wrong shape one for its node.
 */
export async function readHistoryFile(file: string): Promise<HistoryRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { data: { version: 1, nodes: {} }, nodeProblems: {}, raw: {} };
    return { problem: describeReadError(err) };
  }
  const parsed = parseStateJson(text);
  if (!parsed.ok) return { problem: parsed.problem };
  const v = parsed.value as Partial<HistoryFile> | null;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { problem: `holds ${v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`} instead of a purge history ({"version": 1, "nodes": {...}})` };
  if (v.version !== 1) return { problem: `has version ${JSON.stringify(v.version)}; expected 1` };
  if (v.nodes === null || typeof v.nodes !== 'object' || Array.isArray(v.nodes)) return { problem: 'has no "nodes" object' };
  const data: HistoryFile = { version: 1, nodes: {} };
  const nodeProblems: Record<string, string> = {};
  for (const [node, byType] of Object.entries(v.nodes)) {
    if (byType === null || typeof byType !== 'object' || Array.isArray(byType)) {
      nodeProblems[node] = `has no chat types under nodes.${node}`;
      continue;
    }
    const runs: Record<string, number[]> = {};
    for (const [chatType, list] of Object.entries(byType as Record<string, unknown>)) {
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) {
        nodeProblems[node] = `has nodes.${node}.${chatType} that is not a list of positive file counts`;
        break;
      }
      runs[chatType] = list as number[];
    }
    if (!nodeProblems[node]) data.nodes[node] = runs;
  }
  // A capped step remembered wrongly only costs the catch-up its allowance: such entries are dropped.
  for (const [node, byType] of Object.entries(v.catchUp ?? {})) {
    for (const [chatType, step] of Object.entries(byType ?? {})) {
      if (Number.isFinite(step?.files) && Number.isFinite(step?.left)) ((data.catchUp ??= {})[node] ??= {})[chatType] = { files: step.files, left: step.left };
    }
  }
  return { data, nodeProblems, raw: v.nodes };
}

/** Reads the history; damage is reported per node through problem(), never thrown. */
export async function openRunHistory(directory: string): Promise<RunHistory> {
  const file = path.join(directory, HISTORY_FILE);
  const read = await readHistoryFile(file);
  const data: HistoryFile = read.data ?? { version: 1, nodes: {} };
  let dirty = false;
  return {
    recent: (node, chatType) => [...(data.nodes[node]?.[chatType] ?? [])],
    problem(node) {
      const problem = read.problem ?? read.nodeProblems?.[node];
      return problem ? { file, problem } : undefined;
    },
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
      // A damaged file stays as it is, for the admin to look at and reset deliberately.
      if (!dirty || read.problem || Object.keys(read.nodeProblems ?? {}).length > 0) return;
      await writeFileAtomic(file, `${JSON.stringify(data)}\n`);
      dirty = false;
    },
  };
}

/**
 * Empties the history of the given nodes (every node when `nodes` is undefined). A damaged file
 * is kept beside as `purge-history.json.damaged-<time>`, and since nothing in it can be trusted,
 * the history of every node starts again. Returns what was done, in words.
 */
export async function resetHistory(
  directory: string,
  nodes: string[] | undefined,
  now = new Date(),
): Promise<{ file: string; reset: string[] | 'every node'; keptCopy?: string; problem?: string; stillDamaged?: string[] }> {
  const file = path.join(directory, HISTORY_FILE);
  const read = await readHistoryFile(file);
  if (read.problem) {
    const { rename, rm } = await import('node:fs/promises');
    const keptCopy = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '')}`;
    await rename(file, keptCopy).catch(async (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await rm(file, { recursive: true });
    });
    await writeFileAtomic(file, `${JSON.stringify({ version: 1, nodes: {} })}\n`);
    return { file, reset: 'every node', keptCopy, problem: read.problem };
  }
  // Entries of the wrong shape are dropped only for the nodes being reset: the others stay as they are (and refused).
  const kept = Object.fromEntries(Object.entries(read.raw ?? {}).filter(([node]) => nodes !== undefined && !nodes.includes(node)));
  await writeFileAtomic(file, `${JSON.stringify({ version: 1, nodes: kept })}\n`);
  const stillDamaged = Object.keys(read.nodeProblems ?? {}).filter((n) => n in kept);
  return { file, reset: nodes ?? 'every node', ...(stillDamaged.length ? { stillDamaged } : {}) };
}
