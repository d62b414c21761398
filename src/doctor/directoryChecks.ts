import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { humanBytes } from '../shared/format.js';
import { CHAT_TYPES } from '../core/chatType.js';
import { checkMaker, messageOf, type Check } from './types.js';

/**
 * Cisco's *External File Server Available Space* thresholds (service parameters of the Cisco
 * XCP File Transfer Manager): XcpMFTExtFsFreeSpaceWarn is raised at or below the lower one
 * and cleared at or above the upper one.
 */
export interface FreeSpaceThresholds {
  /** @defaultValue 10 (percent) */
  lowerPercent: number;
  /** @defaultValue 15 (percent) */
  upperPercent: number;
}

export const CISCO_FREE_SPACE_THRESHOLDS: FreeSpaceThresholds = { lowerPercent: 10, upperPercent: 15 };

/** The few file operations the directory checks need, over SFTP or on the local disk. */
export interface DirectoryOps {
  /** What is at `p`; throws on anything but "does not exist". */
  kind(p: string): Promise<'directory' | 'other' | 'missing'>;
  /** Creates `p` exclusively, writes a few bytes, closes it. */
  createFile(p: string): Promise<void>;
  removeFile(p: string): Promise<void>;
  /** Names in a directory; 'missing' when it does not exist. */
  list(p: string): Promise<string[] | 'missing'>;
  /** Space on the file system holding `p`; 'unsupported' when the server cannot tell. */
  freeSpace(p: string): Promise<{ availableBytes: number; totalBytes: number } | 'unsupported'>;
}

export interface DirectoryContext {
  directory: string;
  /** Who the purge runs as there, for the fix text: `mftuser` or `this process`. */
  user: string;
  /** Where the directory lives, for the fix text: `on files.example.com` or `on this host`. */
  where: string;
  thresholds: FreeSpaceThresholds;
}

const { pass, warn, fail, skip } = checkMaker('file-server');

export const TEMP_FILE_PREFIX = '.mft-retention-doctor-';

/** directory, writable, layout and free space: what Cisco's External File Server Status page checks after login. */
export async function runDirectoryChecks(ops: DirectoryOps, ctx: DirectoryContext): Promise<Check[]> {
  const exists = await directoryCheck(ops, ctx);
  if (exists.status !== 'pass') {
    const why = 'not checked: the node directory cannot be used';
    return [exists, skip('writable', why), skip('layout', why), skip('free space', why)];
  }
  return [exists, await writableCheck(ops, ctx), await layoutCheck(ops, ctx), await freeSpaceCheck(ops, ctx)];
}

async function directoryCheck(ops: DirectoryOps, ctx: DirectoryContext): Promise<Check> {
  const fix = `create it ${ctx.where} (mkdir -p ${ctx.directory}; chown ${ctx.user} ${ctx.directory}) or correct fileServer.directory: it is the node's "External File Server Directory" in IM and Presence Administration`;
  try {
    const kind = await ops.kind(ctx.directory);
    if (kind === 'directory') return pass('directory', `${ctx.directory} exists`);
    if (kind === 'missing') return fail('directory', `${ctx.directory} does not exist ${ctx.where}`, fix);
    return fail('directory', `${ctx.directory} is not a directory`, fix);
  } catch (err) {
    return fail('directory', `cannot look at ${ctx.directory}: ${messageOf(err)}`, `give ${ctx.user} access to ${ctx.directory} and every directory above it`);
  }
}

async function writableCheck(ops: DirectoryOps, ctx: DirectoryContext): Promise<Check> {
  const probe = path.posix.join(ctx.directory, `${TEMP_FILE_PREFIX}${randomBytes(6).toString('hex')}`);
  const fix = `let ${ctx.user} create and delete files in ${ctx.directory} and below (e.g. chown -R ${ctx.user} ${ctx.directory}): the purge deletes files there`;
  try {
    await ops.createFile(probe);
  } catch (err) {
    return fail('writable', `cannot create ${probe}: ${messageOf(err)}`, fix);
  }
  try {
    await ops.removeFile(probe);
  } catch (err) {
    return fail('writable', `created ${probe} but cannot delete it: ${messageOf(err)}`, `${fix}; then delete ${probe} by hand`);
  }
  return pass('writable', `created and deleted ${path.posix.basename(probe)}`);
}

async function layoutCheck(ops: DirectoryOps, ctx: DirectoryContext): Promise<Check> {
  const files = path.posix.join(ctx.directory, 'files');
  const expected = `MFT stores files as ${files}/<im|groupchat|persistent>/YYYYMMDD/HH/<file>`;
  let names: string[] | 'missing';
  try {
    names = await ops.list(files);
  } catch (err) {
    return fail('layout', `cannot list ${files}: ${messageOf(err)}`, `give ${ctx.user} read access to ${files}`);
  }
  if (names === 'missing') {
    return warn('layout', `${files} does not exist`, `${expected}; either no file was transferred yet or fileServer.directory is not the node's directory`);
  }
  const found = CHAT_TYPES.filter((t) => names.includes(t));
  if (found.length === 0) {
    return warn('layout', `no im, groupchat or persistent folder in ${files}`, `${expected}; check that fileServer.directory is the node's directory`);
  }
  const absent = CHAT_TYPES.filter((t) => !found.includes(t));
  return pass('layout', `files/${found.join(', files/')} found${absent.length ? ` (no ${absent.join(', ')} files yet)` : ''}`);
}

async function freeSpaceCheck(ops: DirectoryOps, ctx: DirectoryContext): Promise<Check> {
  let space: Awaited<ReturnType<DirectoryOps['freeSpace']>>;
  try {
    space = await ops.freeSpace(ctx.directory);
  } catch (err) {
    return warn('free space', `cannot measure: ${messageOf(err)}`, `check free space by hand ${ctx.where}: df -h ${ctx.directory}`);
  }
  if (space === 'unsupported') {
    return warn('free space', 'the server does not offer statvfs@openssh.com, so free space cannot be measured', `check it by hand ${ctx.where}: df -h ${ctx.directory}`);
  }
  return evaluateFreeSpace(space.availableBytes, space.totalBytes, ctx.thresholds);
}

/** Cisco's rule: alarm at or below the lower threshold, clear at or above the upper one. */
export function evaluateFreeSpace(availableBytes: number, totalBytes: number, t: FreeSpaceThresholds): Check {
  const percent = totalBytes > 0 ? (availableBytes / totalBytes) * 100 : 0;
  const detail = `${humanBytes(availableBytes)} free of ${humanBytes(totalBytes)} (${percent.toFixed(1)} %; warn below ${t.upperPercent} %, fail at or below ${t.lowerPercent} %)`;
  const fix = 'purge expired files (mft-retention purge), shorten the retention policies, or grow the file system';
  if (percent <= t.lowerPercent) return fail('free space', detail, `Cisco raises XcpMFTExtFsFreeSpaceWarn at this level: ${fix}`);
  if (percent < t.upperPercent) return warn('free space', detail, `close to Cisco's XcpMFTExtFsFreeSpaceWarn threshold: ${fix}`);
  return pass('free space', detail);
}
