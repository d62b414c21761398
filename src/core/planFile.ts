/**
 * The plan file: what a dry-run found to go, written down so that an admin can review it and
 * a later `purge --plan` removes exactly that. Pure: the format, its canonical serialization
 * and checksum, and its validation. Documented in docs/plans.md; version 1.
 */
import { createHash } from 'node:crypto';
import { CHAT_TYPES, type ChatType } from './chatType.js';

export const PLAN_FORMAT = 'mft-retention-plan';
export const PLAN_VERSION = 1;

/** One AFT_LOG row of a planned file, as it was when the plan was made. */
export interface PlannedRow {
  aftIndex: string;
  method: string;
  /** timestampvalue, as an instant (ISO, UTC). */
  at: string;
  /** sha256 (first 32 hex digits) of every column the purge compares: see rowDigest. */
  digest: string;
}

/** The file on the server when the plan was made (lstat: a symlink is itself). */
export interface PlannedServerFile {
  type: 'file' | 'symlink' | 'directory' | 'other';
  size: number;
  /** Modification time, ISO; null when the server does not give one. */
  mtime: string | null;
}

export interface PlannedFile {
  chatType: ChatType;
  path: string;
  /** AFT_LOG.file_size of the upload. */
  size: number;
  uploadedAt: string;
  /** aft_index of the upload (`Post`) row that brought the file into the plan. */
  aftIndex: string;
  /** Every row to delete with the file: its Post rows and its Get rows, ascending aft_index. */
  rows: PlannedRow[];
  /** null: the file was already missing; only its rows go. */
  onServer: PlannedServerFile | null;
}

export interface PlannedChatType {
  chatType: ChatType;
  retention: string;
  /** Uploads before this instant were expired (asOf minus the retention). */
  retentionCutoff: string;
  keepAfterLastDownload: string | null;
  /**
   * The largest aft_index when the plan read this chat type: a row of a planned file above it
   * was logged after the plan was made (a new download or upload).
   */
  highWaterIndex: string;
  files: number;
  bytes: number;
  rows: number;
}

export interface PlannedHold {
  name: string;
  reason: string | null;
  expires: string | null;
  jids: string[];
  uploaders: string[];
  recipients: string[];
  paths: string[];
  aftIndexes: string[];
}

export interface PlanBody {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  /** When the plan was written (this host's clock): its age is counted from here. */
  createdAt: string;
  /** The instant the rules were applied at: the purge's "now", or the dry-run's --as-of. */
  asOf: string;
  /** True when asOf was simulated (--as-of) rather than the clock. */
  simulated: boolean;
  node: string;
  configFile: string;
  /** sha256 of what decides which files go on this node: see configFingerprint. */
  configFingerprint: string;
  rules: {
    nodeDirectory: string;
    currentHourStart: string;
    chatTypes: PlannedChatType[];
    holds: PlannedHold[];
    limits: Record<string, number | string | null>;
  };
  files: PlannedFile[];
}

export interface Plan extends PlanBody {
  /** `sha256:<hex>` over canonicalJson of everything else in the file. */
  checksum: string;
}

/**
 * JSON with object keys sorted at every level and no whitespace: the same content always gives
 * the same bytes, whatever order a writer put the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`a plan holds no non-finite number (${value})`);
    return JSON.stringify(value) ?? 'null';
  }
  // Built by concatenation, keys sorted by the default sort (UTF-16 code units): a plan of
  // 10,000 files is some 60,000 objects, hashed on every read.
  let out: string;
  if (Array.isArray(value)) {
    out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const o = value as Record<string, unknown>;
  out = '{';
  let first = true;
  for (const k of Object.keys(o).sort()) {
    const v = o[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** The checksum of a plan's content (everything but `checksum` itself). */
export function planChecksum(body: PlanBody | Plan): string {
  const { checksum: _ignored, ...rest } = body as Plan;
  return `sha256:${sha256(canonicalJson(rest))}`;
}

export function sealPlan(body: PlanBody): Plan {
  return { ...body, checksum: planChecksum(body) };
}

/** The columns of a row the plan vouches for; a change in any of them is a changed row. */
export interface RowColumns {
  aftIndex: string;
  method: string;
  chatType: string;
  filePath: string;
  uploadedAt: Date;
  fileSize: number;
  bytesTransferred: number;
  jid: string;
  toJid: string;
}

/** A digest of a row's columns: the plan can tell a changed row without holding users' JIDs. */
export function rowDigest(r: RowColumns): string {
  const t = r.uploadedAt.getTime();
  return sha256(
    canonicalJson([r.aftIndex, r.method, r.chatType, r.filePath, Number.isNaN(t) ? null : t, r.fileSize, r.bytesTransferred, r.jid, r.toJid]),
  ).slice(0, 32);
}

/** What makes a plan refused before anything is touched. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const INDEX = /^-?\d{1,19}$/;

/**
 * Reads a plan file's text: valid JSON, this format and version, every field of the right
 * kind, and the checksum matching the content. Throws PlanError naming the file, the field
 * and what was expected.
 */
export function parsePlan(text: string, file: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PlanError(`${file} is not a plan file: not JSON (${(err as Error).message}); write one with: purge --dry-run --save-plan ${file}`);
  }
  const bad = (key: string, value: unknown, expected: string): never => {
    const shown = JSON.stringify(value);
    throw new PlanError(`${file}: ${key} is ${shown === undefined ? 'missing' : shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}; expected ${expected}. A plan is written by purge --dry-run --save-plan and must not be edited`);
  };
  const o = data as Record<string, unknown>;
  if (!o || typeof o !== 'object' || Array.isArray(o)) bad('the content', data, 'a JSON object');
  if (o.format !== PLAN_FORMAT) bad('format', o.format, `"${PLAN_FORMAT}"`);
  if (o.version !== PLAN_VERSION) bad('version', o.version, `${PLAN_VERSION} (this version of mft-retention reads plan version ${PLAN_VERSION}; make the plan again with it)`);
  if (typeof o.checksum !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(o.checksum)) bad('checksum', o.checksum, '"sha256:" and 64 hex digits');
  // The checksum first: an edited plan is refused as edited, whatever else is wrong with it.
  const actual = planChecksum(o as unknown as Plan);
  if (actual !== o.checksum) {
    throw new PlanError(`${file} was changed after it was written: its checksum is ${String(o.checksum)}, its content gives ${actual}. Make the plan again with purge --dry-run --save-plan and have it reviewed`);
  }
  for (const k of ['createdAt', 'asOf'] as const) if (typeof o[k] !== 'string' || !ISO.test(o[k] as string)) bad(k, o[k], 'an ISO time in UTC');
  if (typeof o.node !== 'string' || !o.node) bad('node', o.node, 'a node name');
  if (typeof o.configFingerprint !== 'string') bad('configFingerprint', o.configFingerprint, 'a sha256 hex string');
  const rules = o.rules as PlanBody['rules'] | undefined;
  if (!rules || typeof rules !== 'object' || !Array.isArray(rules.chatTypes)) bad('rules.chatTypes', rules?.chatTypes, 'a list');
  const sections = new Set<string>();
  rules!.chatTypes.forEach((c, i) => {
    if (!(CHAT_TYPES as readonly string[]).includes(c?.chatType)) bad(`rules.chatTypes[${i}].chatType`, c?.chatType, CHAT_TYPES.join(', '));
    if (!INDEX.test(String(c.highWaterIndex))) bad(`rules.chatTypes[${i}].highWaterIndex`, c.highWaterIndex, 'an aft_index as a decimal string');
    if (!ISO.test(String(c.retentionCutoff))) bad(`rules.chatTypes[${i}].retentionCutoff`, c.retentionCutoff, 'an ISO time in UTC');
    sections.add(c.chatType);
  });
  if (!Array.isArray(o.files)) bad('files', o.files, 'a list');
  const seen = new Set<string>();
  (o.files as PlannedFile[]).forEach((f, i) => {
    const at = `files[${i}]`;
    if (!sections.has(f?.chatType)) bad(`${at}.chatType`, f?.chatType, `one of the plan's chat types (${[...sections].join(', ')})`);
    if (typeof f.path !== 'string' || !f.path.startsWith('/')) bad(`${at}.path`, f.path, 'an absolute path');
    if (seen.has(f.path)) bad(`${at}.path`, f.path, 'each path once');
    seen.add(f.path);
    if (!INDEX.test(String(f.aftIndex))) bad(`${at}.aftIndex`, f.aftIndex, 'an aft_index as a decimal string');
    if (!Number.isSafeInteger(f.size)) bad(`${at}.size`, f.size, 'a whole number of bytes');
    if (!Array.isArray(f.rows) || f.rows.length === 0) bad(`${at}.rows`, f.rows, 'the file\'s rows (at least its Post row)');
    f.rows.forEach((r, j) => {
      if (!INDEX.test(String(r?.aftIndex))) bad(`${at}.rows[${j}].aftIndex`, r?.aftIndex, 'an aft_index as a decimal string');
      if (typeof r.digest !== 'string') bad(`${at}.rows[${j}].digest`, r.digest, 'a hex digest');
    });
    if (!f.rows.some((r) => r.aftIndex === f.aftIndex)) bad(`${at}.rows`, f.rows.map((r) => r.aftIndex), `a list holding the file's own aft_index ${f.aftIndex}`);
    if (f.onServer !== null && (typeof f.onServer !== 'object' || !Number.isSafeInteger(f.onServer.size))) bad(`${at}.onServer`, f.onServer, 'null or { type, size, mtime }');
  });
  return o as unknown as Plan;
}

/** The hold as the plan records it (for the reviewer: what was in force). */
export function plannedHold(h: { name: string; reason?: string; expires?: Date; jids: string[]; uploaders: string[]; recipients: string[]; paths: string[]; aftIndexes: string[] }): PlannedHold {
  return {
    name: h.name,
    reason: h.reason ?? null,
    expires: h.expires ? h.expires.toISOString() : null,
    jids: [...h.jids],
    uploaders: [...h.uploaders],
    recipients: [...h.recipients],
    paths: [...h.paths],
    aftIndexes: [...h.aftIndexes],
  };
}

/**
 * What of a node's configuration decides which of its files go, and where: the node, its
 * database and table, its file server and directory, and each chat type's policy. A plan made
 * under other values is refused. Holds and limits are left out on purpose: a hold added since
 * skips the files it covers (the rest of the plan stands), and the limits are checked again
 * when the plan is applied.
 */
export function configFingerprint(node: {
  name: string;
  database: { type: string; host?: string; port?: number; database?: string; schema?: string; connectString?: string; owner?: string; table: string; timestampZone: string };
  fileServer: { type: string; host?: string; port?: number; directory: string };
  policies: Partial<Record<string, { retentionText: string; keepAfterLastDownloadText?: string } | undefined>>;
}): string {
  const db = node.database;
  const fs = node.fileServer;
  const policies = Object.fromEntries(
    CHAT_TYPES.filter((ct) => node.policies[ct]).map((ct) => [ct, { retention: node.policies[ct]!.retentionText, keepAfterLastDownload: node.policies[ct]!.keepAfterLastDownloadText ?? null }]),
  );
  return sha256(
    canonicalJson({
      node: node.name,
      database: db.type === 'oracle' ? { type: db.type, connectString: db.connectString, owner: db.owner ?? null, table: db.table, timestampZone: db.timestampZone } : { type: db.type, host: db.host, port: db.port, database: db.database, schema: db.schema, table: db.table, timestampZone: db.timestampZone },
      fileServer: fs.type === 'sftp' ? { type: fs.type, host: fs.host, port: fs.port, directory: fs.directory } : { type: fs.type, directory: fs.directory },
      policies,
    }),
  );
}

/** The first 16 hex digits of a checksum: what an approval token carries to name its plan. */
export function shortChecksum(checksum: string): string {
  return checksum.replace(/^sha256:/, '').slice(0, 16);
}
