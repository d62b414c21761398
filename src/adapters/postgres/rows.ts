// AFT_LOG's rows as this adapter reads them (text) and the instants it binds (the table's wall clock).
import { DateTime } from 'luxon';
import type { UploadRow } from '../../core/eligibility.js';
import { parseWallClock } from './wallClockText.js';

/** A `Post` row as selected by both the keyset query and the one-pass reader, every column as text. */
export type UploadRowText = {
  idx: string;
  file_path: string;
  size: string;
  moved: string;
  chat_type: string;
  jid: string;
  to_jid: string;
  ts: string;
};

/** An instant as AFT_LOG's zone-less timestampvalue holds it: the wall clock in `zone`. */
export function toWall(t: Date, zone: string): string {
  return DateTime.fromJSDate(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss.SSS');
}

export function toUploadRow(row: UploadRowText, zone: string): UploadRow {
  return {
    aftIndex: row.idx,
    filePath: row.file_path,
    fileSize: Number(row.size),
    bytesTransferred: Number(row.moved),
    chatType: row.chat_type,
    uploadedAt: parseWallClock(row.ts, zone),
    jid: row.jid,
    toJid: row.to_jid,
  };
}
