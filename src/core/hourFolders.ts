import type { ChatType } from './chatType.js';
import { parseFilePath } from './filePath.js';

const HOUR_MS = 3_600_000;

/**
 * The start of the hour a `YYYYMMDD/HH[.n]` folder pair names, or undefined when the names are
 * not Cisco's (the same strict rules as for file paths).
 */
export function hourFolderStart(nodeDirectory: string, chatType: ChatType, dateFolder: string, hourFolder: string): Date | undefined {
  const parsed = parseFilePath(`${nodeDirectory}/files/${chatType}/${dateFolder}/${hourFolder}/x`, nodeDirectory);
  return parsed.ok ? parsed.value.hourStart : undefined;
}

/** Whether `YYYYMMDD` is a real date folder name. */
export function isDateFolder(nodeDirectory: string, chatType: ChatType, name: string): boolean {
  return hourFolderStart(nodeDirectory, chatType, name, '00') !== undefined;
}

/**
 * Whether every file an hour folder can hold is older than the retention: the whole hour ends
 * at or before the cutoff, and before the current UTC hour. Without a row, the folder is all
 * that says how old a file is, so the hour is judged by its end, not its start.
 */
export function isHourExpired(hourStart: Date, retentionCutoff: Date, currentHourStart: Date): boolean {
  const end = hourStart.getTime() + HOUR_MS;
  return end <= retentionCutoff.getTime() && end <= currentHourStart.getTime();
}
