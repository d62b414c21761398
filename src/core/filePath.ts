import { isChatType, type ChatType } from './chatType.js';

/**
 * A file path from AFT_LOG that parsed strictly as
 * `<node dir>/files/<chat_type>/YYYYMMDD/HH[.n]/<file_name>`.
 */
export interface ParsedFilePath {
  chatType: ChatType;
  /** Start of the UTC hour named by the `YYYYMMDD/HH[.n]` folders. */
  hourStart: Date;
  /** `YYYYMMDD` folder name. */
  dateFolder: string;
  /** `HH` or `HH.n` folder name. */
  hourFolder: string;
  /** Absolute path of the hour folder (the file's parent directory). */
  hourDir: string;
  fileName: string;
}

export type PathRejection =
  | 'empty-path'
  | 'bad-characters'
  | 'outside-directory'
  | 'bad-path'
  | 'bad-date-folder'
  | 'bad-hour-folder';

export type PathParseResult =
  | { ok: true; value: ParsedFilePath }
  | { ok: false; reason: PathRejection; detail: string };

const DATE_FOLDER = /^(\d{4})(\d{2})(\d{2})$/;
// Roll-over folders are `HH.n` with n = 1, 2, ... (a new folder per 1,000 files in an hour).
const HOUR_FOLDER = /^([01]\d|2[0-3])(?:\.([1-9]\d{0,5}))?$/;
// Control characters (C0 incl. NUL, CR, LF; DEL; C1) and bidirectional overrides never occur in
// MFT's generated names; a row that has one is corrupt or hostile, and such a path could
// confuse logs, terminals or shell tools downstream.
const CONTROL_CHARS = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
// The longest file name Linux file systems allow (ext4, xfs: NAME_MAX), in bytes.
const NAME_MAX = 255;

/**
 * Normalises a configured node directory: absolute, no trailing slash, no `.`/`..`/empty
 * segments. Returns undefined when the directory cannot be used safely.
 */
export function normaliseNodeDirectory(directory: string): string | undefined {
  if (!directory.startsWith('/') || CONTROL_CHARS.test(directory)) return undefined;
  const trimmed = directory.replace(/\/+$/, '');
  const segments = trimmed.split('/').slice(1);
  if (trimmed === '' || segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return trimmed;
}

function parseDateFolder(name: string): { y: number; m: number; d: number } | undefined {
  const match = DATE_FOLDER.exec(name);
  if (!match) return undefined;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // Round-trip through Date.UTC so 20241340 or 20230229 are rejected rather than rolled over.
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return undefined;
  return { y, m, d };
}

/**
 * Parses an AFT_LOG `file_path` against the node's directory. Purely lexical: it never
 * touches the file system, so symlinks are checked separately by the file store.
 *
 * @param nodeDirectory already normalised with {@link normaliseNodeDirectory}
 */
export function parseFilePath(filePath: string | null | undefined, nodeDirectory: string): PathParseResult {
  if (filePath === null || filePath === undefined || filePath === '') {
    return { ok: false, reason: 'empty-path', detail: 'file_path is empty' };
  }
  const sameHour = lastHour !== undefined && lastHour.nodeDirectory === nodeDirectory && filePath.startsWith(lastHour.hourDirSlash) ? lastHour : undefined;
  if (sameHour) {
    const fileName = filePath.slice(sameHour.hourDirSlash.length);
    // Anything else about the name is reported by the full parse below.
    if (isPlainFileName(fileName)) {
      const { chatType, dateFolder, hourFolder, hourDir, hourStartMs } = sameHour;
      return { ok: true, value: { chatType, hourStart: new Date(hourStartMs), dateFolder, hourFolder, hourDir, fileName } };
    }
  }
  if (CONTROL_CHARS.test(filePath)) {
    return { ok: false, reason: 'bad-characters', detail: 'file_path contains control characters' };
  }
  const prefix = `${nodeDirectory}/files/`;
  if (!filePath.startsWith(prefix)) {
    return { ok: false, reason: 'outside-directory', detail: `not under ${prefix}` };
  }
  const segments = filePath.slice(prefix.length).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return { ok: false, reason: 'bad-path', detail: 'empty, "." or ".." path segment' };
  }
  if (segments.length !== 4) {
    return { ok: false, reason: 'bad-path', detail: 'expected files/<chat_type>/YYYYMMDD/HH[.n]/<file_name>' };
  }
  const [chatType, dateFolder, hourFolder, fileName] = segments as [string, string, string, string];
  if (Buffer.byteLength(fileName, 'utf8') > NAME_MAX) {
    // No such file can exist, so it could never be removed: every purge would fail on it
    // ("Bad message" over SFTP, exit 1 forever) and the dry-run would promise a deletion.
    return { ok: false, reason: 'bad-path', detail: `file name longer than ${NAME_MAX} bytes` };
  }
  if (!isChatType(chatType)) {
    return { ok: false, reason: 'bad-path', detail: `unknown chat type folder "${chatType}"` };
  }
  const date = parseDateFolder(dateFolder);
  if (!date) return { ok: false, reason: 'bad-date-folder', detail: `"${dateFolder}" is not a valid YYYYMMDD date` };
  const hour = HOUR_FOLDER.exec(hourFolder);
  if (!hour) return { ok: false, reason: 'bad-hour-folder', detail: `"${hourFolder}" is not HH or HH.n (00-23)` };
  const hourStart = new Date(Date.UTC(date.y, date.m - 1, date.d, Number(hour[1])));
  const hourDir = `${prefix}${chatType}/${dateFolder}/${hourFolder}`;
  lastHour = { nodeDirectory, hourDirSlash: `${hourDir}/`, chatType, dateFolder, hourFolder, hourDir, hourStartMs: hourStart.getTime() };
  return { ok: true, value: { chatType, hourStart, dateFolder, hourFolder, hourDir, fileName } };
}

/**
 * The hour folder of the last path that parsed. A purge reads its rows in upload order, so
 * hundreds in a row share one: for those only the file name is left to check, and the folder's
 * strings are shared rather than built again for every row.
 */
let lastHour: (Omit<ParsedFilePath, 'fileName' | 'hourStart'> & { nodeDirectory: string; hourDirSlash: string; hourStartMs: number }) | undefined;

/** A last path segment the full parse would accept as it is. */
function isPlainFileName(name: string): boolean {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || CONTROL_CHARS.test(name)) return false;
  // A UTF-16 unit is at most 3 bytes of UTF-8: short names need no count.
  return name.length * 3 <= NAME_MAX || Buffer.byteLength(name, 'utf8') <= NAME_MAX;
}
