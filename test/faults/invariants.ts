// The invariants every fault scenario is checked against, on the real servers' state (the file
// tree as the SFTP server's disk holds it, and AFT_LOG as PostgreSQL holds it):
//   1. no file was removed that was not eligible (not expired, current UTC hour, on hold,
//      outside the node's directory, another node's);
//   2. no AFT_LOG row was deleted while its file still exists (nor for a file not eligible);
//   3. after one more normal run, no file this program removed still has rows, and that run
//      exits 0 (and has finished everything eligible);
//   4. nothing outside the node's directory was touched (the canary tree, compared by a full
//      listing with content hashes).
// Eligibility is judged by an oracle written here from the rules as the README states them,
// independently of src/core, so that a bug in the rule itself cannot hide from the check.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { show, type CliResult } from '../helpers/purgeFixture.js';
import { HOUR, type Row, type World } from './world.js';

export interface Entry {
  type: 'F' | 'D' | 'L' | 'O';
  mode: number;
  uid: number;
  size: number;
  mtimeMs: number;
  hash?: string;
  target?: string;
}

export interface Snapshot {
  fs: Map<string, Entry>;
  rows: Row[];
}

/** The interval a purge ran in: its clock read something between these. */
export interface Window {
  nowMin: Date;
  nowMax: Date;
}

function walk(root: string, into: Map<string, Entry>): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(root, name);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    const e: Entry = { type: 'O', mode: st.mode & 0o7777, uid: st.uid, size: st.size, mtimeMs: st.mtimeMs };
    if (st.isSymbolicLink()) {
      e.type = 'L';
      e.target = readlinkSync(p);
    } else if (st.isDirectory()) {
      e.type = 'D';
      into.set(p, e);
      walk(p, into);
      continue;
    } else if (st.isFile()) {
      e.type = 'F';
      e.hash = createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
    }
    into.set(p, e);
  }
}

export async function snapshot(w: World): Promise<Snapshot> {
  const fs = new Map<string, Entry>();
  walk(w.base, fs);
  walk(w.farDir, fs);
  return { fs, rows: await w.rows() };
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

// ---- the oracle -----------------------------------------------------------------------------

/** Milliseconds of an ISO duration as the suite's policies use them (days, hours, minutes, seconds), or undefined for "forever". */
export function retentionMs(text: string): number | undefined {
  if (text === 'forever') return undefined;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) throw new Error(`the fault suite's oracle does not handle retention "${text}"`);
  return Number(m[1] ?? 0) * 24 * HOUR + Number(m[2] ?? 0) * HOUR + Number(m[3] ?? 0) * 60_000 + Number(m[4] ?? 0) * 1000;
}

const CHAT_TYPES = ['im', 'groupchat', 'persistent'];

/** The start of the hour a `files/<ct>/YYYYMMDD/HH[.n]/<name>` path names, or undefined when it is not such a path. */
function layoutHour(path: string, nodeDir: string): { chatType: string; hourStart: number } | undefined {
  const prefix = `${nodeDir}/files/`;
  if (!path.startsWith(prefix)) return undefined;
  // Control characters (C0, DEL, C1) and bidi overrides never occur in MFT's names.
  if (/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(path)) return undefined;
  const parts = path.slice(prefix.length).split('/');
  if (parts.length !== 4 || parts.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const [ct, date, hour, name] = parts as [string, string, string, string];
  // No file system holds a longer name (NAME_MAX), so no such file can be removed.
  if (Buffer.byteLength(name) > 255) return undefined;
  if (!CHAT_TYPES.includes(ct)) return undefined;
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
  const h = /^(\d{2})(\.[1-9]\d*)?$/.exec(hour);
  if (!d || !h || Number(h[1]) > 23) return undefined;
  const t = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(h[1]));
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(d[1]) || back.getUTCMonth() !== Number(d[2]) - 1 || back.getUTCDate() !== Number(d[3])) return undefined;
  return { chatType: ct, hourStart: t };
}

/**
 * The file paths the rules allow to go at `now`: a Post row of a chat type with a finite
 * policy, whose path is `<node>/files/<that chat type>/YYYYMMDD/HH[.n]/<name>`, whose upload
 * time and hour folder are both before the current UTC hour and older than the retention, not
 * uploaded by a held user, and with no other upload record of the same path still unexpired
 * or of another chat type.
 */
export function eligiblePaths(rows: Row[], now: Date, w: World): Set<string> {
  const currentHour = Math.floor(now.getTime() / HOUR) * HOUR;
  const cutoffOf = (ct: string): number | undefined => {
    const text = (w.policies as Record<string, string | undefined>)[ct];
    const ms = text === undefined ? undefined : retentionMs(text);
    return ms === undefined ? undefined : now.getTime() - ms;
  };
  const expired = (r: Row): boolean => {
    const cutoff = cutoffOf(r.chat_type);
    return cutoff !== undefined && r.at.getTime() < cutoff && r.at.getTime() < currentHour;
  };
  // The rows of each path, so that a large table (the bench's) is checked in linear time.
  const byPath = new Map<string, Row[]>();
  for (const r of rows) {
    const list = byPath.get(r.file_path);
    if (list) list.push(r);
    else byPath.set(r.file_path, [r]);
  }
  const out = new Set<string>();
  for (const r of rows) {
    if (r.method !== 'Post') continue;
    const cutoff = cutoffOf(r.chat_type);
    if (cutoff === undefined) continue;
    const layout = layoutHour(r.file_path, w.nodeDir);
    if (!layout || layout.chatType !== r.chat_type) continue;
    if (!expired(r) || layout.hourStart >= currentHour || layout.hourStart >= cutoff) continue;
    if (w.heldJids.includes(r.jid)) continue;
    // Any other upload record of this path that is not itself expired (or is of another chat
    // type: the records disagree) keeps the file.
    if (byPath.get(r.file_path)!.some((o) => o.method !== 'Get' && (!expired(o) || o.chat_type !== r.chat_type))) continue;
    out.add(r.file_path);
  }
  return out;
}

// ---- the checks -----------------------------------------------------------------------------

function exists(p: string): boolean {
  if (p === '' || p.includes('\0')) return false;
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

const sameEntry = (a: Entry, b: Entry): boolean =>
  a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.size === b.size && a.mtimeMs === b.mtimeMs && a.hash === b.hash && a.target === b.target;

const sameRow = (a: Row, b: Row): boolean =>
  a.method === b.method && a.chat_type === b.chat_type && a.file_path === b.file_path && a.jid === b.jid && a.at.getTime() === b.at.getTime();

/** Invariants 1, 2 and 4 between two snapshots; `testMutated` are paths the scenario itself changed (the fault). */
export function safetyProblems(w: World, before: Snapshot, after: Snapshot, win: Window, testMutated: string[] = []): string[] {
  const problems: string[] = [];
  const mutated = (p: string): boolean => testMutated.some((m) => under(p, m));
  const eligible = eligiblePaths(before.rows, win.nowMax, w);
  const todayStart = Math.floor(win.nowMax.getTime() / (24 * HOUR)) * 24 * HOUR;

  // (1) inside the node directory: only eligible files (and emptied old folders) went.
  for (const [p, e] of before.fs) {
    if (!under(p, w.nodeDir) || mutated(p)) continue;
    const now = after.fs.get(p);
    if (now) {
      if (!sameEntry(e, now) && e.type !== 'D') problems.push(`(1) changed inside the node directory: ${JSON.stringify(p)}`);
      continue;
    }
    if (e.type === 'D') {
      const m = new RegExp(`^${w.nodeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/files/(im|groupchat|persistent)/(\\d{8})(/[^/]+)?$`).exec(p);
      const day = m ? Date.UTC(Number(m[2]!.slice(0, 4)), Number(m[2]!.slice(4, 6)) - 1, Number(m[2]!.slice(6, 8))) : NaN;
      if (!m || !(day < todayStart)) problems.push(`(1) removed a folder that is not an old date or hour folder: ${JSON.stringify(p)}`);
    } else if (!eligible.has(p)) {
      problems.push(`(1) removed a file that was not eligible: ${JSON.stringify(p)}`);
    }
  }
  for (const p of after.fs.keys()) {
    if (under(p, w.nodeDir) && !before.fs.has(p) && !mutated(p)) problems.push(`(1) appeared inside the node directory: ${JSON.stringify(p)}`);
  }

  // (2) a row went only for an eligible file that no longer exists.
  const afterRows = new Map(after.rows.map((r) => [r.aft_index, r]));
  const beforeIdx = new Set(before.rows.map((r) => r.aft_index));
  for (const r of before.rows) {
    const still = afterRows.get(r.aft_index);
    if (still) {
      if (!sameRow(r, still)) problems.push(`(2) row ${r.aft_index} was modified`);
      continue;
    }
    if (exists(r.file_path)) problems.push(`(2) row ${r.aft_index} (${r.method}) deleted while its file still exists: ${JSON.stringify(r.file_path)}`);
    if (!eligible.has(r.file_path)) problems.push(`(2) row ${r.aft_index} (${r.method}) deleted although its file was not eligible: ${JSON.stringify(r.file_path)}`);
  }
  for (const r of after.rows) if (!beforeIdx.has(r.aft_index)) problems.push(`(2) row ${r.aft_index} appeared`);

  // (4) the canary tree: byte for byte, entry for entry.
  for (const [p, e] of before.fs) {
    if (under(p, w.nodeDir) || mutated(p)) continue;
    const now = after.fs.get(p);
    if (!now) problems.push(`(4) removed outside the node directory: ${JSON.stringify(p)}`);
    else if (!sameEntry(e, now)) problems.push(`(4) changed outside the node directory: ${JSON.stringify(p)}`);
  }
  for (const p of after.fs.keys()) {
    if (!under(p, w.nodeDir) && !before.fs.has(p) && !mutated(p)) problems.push(`(4) appeared outside the node directory: ${JSON.stringify(p)}`);
  }
  return problems;
}

/**
 * Invariant 3 after the follow-up run: it exited 0; no file removed since `before` still has
 * rows; nothing eligible when it started is left; and 1, 2, 4 hold over the whole span.
 */
export function recoveryProblems(w: World, before: Snapshot, final: Snapshot, followUp: CliResult, span: Window, followUpStart: Date, testMutated: string[] = []): string[] {
  const problems = safetyProblems(w, before, final, span, testMutated);
  if (followUp.code !== 0) problems.push(`(3) the follow-up run exited ${followUp.code}, not 0`);
  const mutated = (p: string): boolean => testMutated.some((m) => under(p, m));
  const rowPaths = new Set(final.rows.map((r) => r.file_path));
  for (const [p, e] of before.fs) {
    if (!under(p, w.nodeDir) || mutated(p) || e.type === 'D' || final.fs.has(p)) continue;
    if (rowPaths.has(p)) problems.push(`(3) removed but still has rows after the follow-up run: ${JSON.stringify(p)}`);
  }
  for (const p of eligiblePaths(final.rows, followUpStart, w)) {
    problems.push(`(3) eligible but still has rows after the follow-up run: ${JSON.stringify(p)}`);
  }
  return problems;
}

export interface FaultCheck {
  /** The scenario's name and seed, for the failure message. */
  label: string;
  /** When the faulty run started and ended. */
  window: Window;
  /** Paths the scenario itself changed as part of the fault. */
  testMutated?: string[];
  /** Undoes the fault (restart a server, give back a permission) before the follow-up run. */
  heal?: () => Promise<void>;
  /** Output of the faulty run, for the failure message. */
  faultyRun?: string;
  /** The faulty run's exit code: when 0, nothing eligible may be left (exit 0 never hides work left undone). */
  faultyExit?: number | null;
}

export interface FaultOutcome {
  after: Snapshot;
  final: Snapshot;
  followUp: CliResult;
}

/** Checks 1, 2, 4 right after the fault, then heals, runs one normal purge and checks 3 (and 1, 2, 4 again). */
export async function checkAfterFault(w: World, before: Snapshot, c: FaultCheck): Promise<FaultOutcome> {
  const after = await snapshot(w);
  const p1 = safetyProblems(w, before, after, c.window, c.testMutated);
  if (c.faultyExit === 0) {
    for (const p of eligiblePaths(after.rows, c.window.nowMin, w)) p1.push(`(3) the faulty run exited 0 but left an eligible file with rows: ${JSON.stringify(p)}`);
  }
  expect(p1, `${c.label}: invariants right after the fault\n${c.faultyRun ?? ''}`).toEqual([]);
  await c.heal?.();
  const followUpStart = new Date();
  const followUp = await w.purge('--json');
  const final = await snapshot(w);
  const p3 = recoveryProblems(w, before, final, followUp, { nowMin: c.window.nowMin, nowMax: new Date() }, followUpStart, c.testMutated);
  expect(p3, `${c.label}: invariants after the follow-up run\n--- follow-up ---\n${show(followUp)}\n--- faulty run ---\n${c.faultyRun ?? ''}`).toEqual([]);
  return { after, final, followUp };
}
