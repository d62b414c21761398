import type { Logger } from 'pino';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../core/clock.js';
import { parseFilePath } from '../core/filePath.js';
import { findHold } from '../core/holds.js';
import { hourFolderStart, isDateFolder, isHourExpired } from '../core/hourFolders.js';
import { coerceError } from '../errors.js';
import { ORPHAN_DOWNLOADS_A_RUN } from '../purge/orphanDownloads.js';
import type { Catalog, CompanionRow, FileStore } from '../ports.js';

/** A file in an expired hour folder that no `Post` row describes: still downloadable, never purged. */
export interface Orphan {
  path: string;
  hourDir: string;
  size: number;
  /** `Get` rows still naming the file. */
  getRows: number;
  /** What happened: reported (read-only), removed, missing (gone meanwhile), kept:hold:<name>, failed:<reason>. */
  action: string;
}

/** A `Post` row of an expired hour whose file is not on the file server. */
export interface MissingFile {
  aftIndex: string;
  path: string;
  uploadedAt: string | null;
}

/** Something in an hour folder walk that is not a regular file or not a Cisco folder name. */
export interface SkippedEntry {
  path: string;
  type: string;
  why: string;
}

export interface ReconcileChatType {
  chatType: ChatType;
  retention: string;
  /** Expired hour folders walked. */
  hourFolders: number;
  /** Regular files found in them. */
  files: number;
  orphans: Orphan[];
  missing: MissingFile[];
  skipped: SkippedEntry[];
}

export interface ReconcileResult {
  node: string;
  status: 'ok' | 'failed';
  error?: Error;
  asOf?: Date;
  /** `Get` rows of the node's table whose path has no other row (at most ORPHAN_DOWNLOADS_A_RUN counted). */
  orphanDownloads?: number;
  chatTypes: ReconcileChatType[];
}

export interface ReconcileOptions {
  removeOrphans: boolean;
  hostNow: () => Date;
  /** Paths per catalog lookup. */
  chunkSize?: number;
}

/**
 * Walks the node's hour folders that are expired for their chat type, and compares them with
 * AFT_LOG. Read-only unless `removeOrphans`; then orphans go under the purge's rules: only
 * regular files, only in expired hours (never the current one), only inside the node
 * directory (the file store checks each folder's real path), never a held file.
 */
export async function reconcileNode(node: ResolvedNode, ports: { catalog: Catalog; files: FileStore; log: Logger }, opts: ReconcileOptions): Promise<ReconcileResult> {
  const result: ReconcileResult = { node: node.name, status: 'ok', chatTypes: [] };
  const log = ports.log.child({ node: node.name });
  try {
    const times = resolvePurgeTimes(opts.hostNow(), await ports.catalog.databaseNow());
    result.asOf = times.now;
    for (const [chatType, policy] of Object.entries(node.policies) as Array<[ChatType, NonNullable<ResolvedNode['policies'][ChatType]>]>) {
      if (policy.retention === 'forever') continue;
      const cutoff = retentionCutoff(times.now, policy.retention);
      const r: ReconcileChatType = { chatType, retention: policy.retentionText, hourFolders: 0, files: 0, orphans: [], missing: [], skipped: [] };
      result.chatTypes.push(r);
      const listed = await walkExpiredHours(node, chatType, cutoff, times.currentHourStart, ports.files, r);
      await findOrphans(node, listed, ports.catalog, times.currentHourStart, r, opts.chunkSize ?? 1000);
      await findMissing(node, chatType, cutoff, times.currentHourStart, listed, ports.catalog, r);
      if (opts.removeOrphans) await removeOrphans(r, ports.files, log);
    }
    // Downloads of files already purged (see removeOrphanDownloads): reported, never deleted here.
    const downloads = await ports.catalog.findOrphanDownloads?.(times.currentHourStart, ORPHAN_DOWNLOADS_A_RUN);
    if (downloads) result.orphanDownloads = downloads.length;
  } catch (err) {
    result.status = 'failed';
    result.error = coerceError(err);
    log.error({ err: result.error }, 'reconciliation of node failed');
  }
  return result;
}

interface Listed {
  /** Regular files, path -> size and hour folder. */
  files: Map<string, { size: number; hourDir: string }>;
  /** Every entry seen (files and others), to tell "missing" from "not a regular file". */
  seen: Set<string>;
}

async function walkExpiredHours(node: ResolvedNode, chatType: ChatType, cutoff: Date, currentHourStart: Date, store: FileStore, r: ReconcileChatType): Promise<Listed> {
  const dir = node.fileServer.directory;
  const listed: Listed = { files: new Map(), seen: new Set() };
  const root = `${dir}/files/${chatType}`;
  const dates = await store.listDirectory(root);
  if (dates === 'missing') return listed;
  for (const d of dates) {
    const datePath = `${root}/${d.name}`;
    if (d.type !== 'directory' || !isDateFolder(dir, chatType, d.name)) {
      r.skipped.push({ path: datePath, type: d.type, why: d.type === 'directory' ? 'not a YYYYMMDD folder' : 'not a folder' });
      continue;
    }
    const hours = await store.listDirectory(datePath);
    if (hours === 'missing') continue;
    for (const h of hours) {
      const hourDir = `${datePath}/${h.name}`;
      const start = h.type === 'directory' ? hourFolderStart(dir, chatType, d.name, h.name) : undefined;
      if (!start) {
        r.skipped.push({ path: hourDir, type: h.type, why: h.type === 'directory' ? 'not an HH or HH.n folder' : 'not a folder' });
        continue;
      }
      if (!isHourExpired(start, cutoff, currentHourStart)) continue;
      const entries = await store.listDirectory(hourDir);
      if (entries === 'missing') continue;
      r.hourFolders += 1;
      for (const e of entries) {
        const p = `${hourDir}/${e.name}`;
        listed.seen.add(p);
        if (e.type === 'file') listed.files.set(p, { size: e.size, hourDir });
        else r.skipped.push({ path: p, type: e.type, why: 'not a regular file' });
      }
    }
  }
  r.files = listed.files.size;
  return listed;
}

async function findOrphans(node: ResolvedNode, listed: Listed, catalog: Catalog, currentHourStart: Date, r: ReconcileChatType, chunkSize: number): Promise<void> {
  const paths = [...listed.files.keys()];
  for (let i = 0; i < paths.length; i += chunkSize) {
    const chunk = paths.slice(i, i + chunkSize);
    const byPath = new Map<string, CompanionRow[]>();
    for (const row of await catalog.findRowsByPath(chunk)) {
      const list = byPath.get(row.filePath);
      if (list) list.push(row);
      else byPath.set(row.filePath, [row]);
    }
    for (const p of chunk) {
      const rows = byPath.get(p) ?? [];
      // Anything that is not a download is an upload record (as in the purge).
      if (rows.some((row) => row.method !== 'Get')) continue;
      const { size, hourDir } = listed.files.get(p)!;
      const hold = heldBy(node, p, currentHourStart);
      r.orphans.push({ path: p, hourDir, size, getRows: rows.length, action: hold ? `kept:hold:${hold}` : 'reported' });
    }
  }
}

/**
 * The hold covering an orphan. Without its upload row there is no uploader or recipient to
 * match, so only holds by path can: an orphan under a held path stays.
 */
function heldBy(node: ResolvedNode, path: string, now: Date): string | undefined {
  return findHold({ aftIndex: '', filePath: path, jid: '', toJid: '' }, node.holds, now)?.name;
}

async function findMissing(node: ResolvedNode, chatType: ChatType, cutoff: Date, currentHourStart: Date, listed: Listed, catalog: Catalog, r: ReconcileChatType): Promise<void> {
  let afterIndex = '-9223372036854775808';
  for (;;) {
    const rows = await catalog.findExpiredUploads({ chatType, before: cutoff, afterIndex, limit: 5000 });
    if (rows.length === 0) return;
    afterIndex = rows[rows.length - 1]!.aftIndex;
    for (const row of rows) {
      const parsed = parseFilePath(row.filePath, node.fileServer.directory);
      // Only rows of hours that were walked: others are the purge's to judge.
      if (!parsed.ok || parsed.value.chatType !== chatType || !isHourExpired(parsed.value.hourStart, cutoff, currentHourStart)) continue;
      if (listed.seen.has(row.filePath!)) continue;
      r.missing.push({ aftIndex: row.aftIndex, path: row.filePath!, uploadedAt: Number.isNaN(row.uploadedAt.getTime()) ? null : row.uploadedAt.toISOString() });
    }
    if (rows.length < 5000) return;
  }
}

async function removeOrphans(r: ReconcileChatType, store: FileStore, log: Logger): Promise<void> {
  const targets = r.orphans.filter((o) => o.action === 'reported');
  if (targets.length === 0) return;
  const outcomes = new Map((await store.removeFiles(targets.map((o) => ({ path: o.path, hourDir: o.hourDir })))).map((o) => [o.path, o]));
  for (const o of targets) {
    const out = outcomes.get(o.path);
    o.action = !out ? 'failed:no-outcome' : out.outcome === 'failed' ? `failed:${out.reason}` : out.outcome;
    if (out?.outcome === 'failed') log.warn({ chatType: r.chatType, path: o.path, reason: out.reason, error: out.message }, 'orphan not removed');
    else log.info({ chatType: r.chatType, path: o.path, size: o.size, getRows: o.getRows }, 'orphan removed');
  }
}
