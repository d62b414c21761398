// Cisco-shaped AFT_LOG table for PostgreSQL (see shared/reference/cisco-mft-facts.md) and a
// fast bulk insert for tests.
import { basename, extname } from 'node:path';
import type pg from 'pg';

/**
 * DDL for `aft_log`: every column NOT NULL, primary key `aft_log_pkey` on aft_index, no
 * other index; `aft_log_aft_index_seq` supplies aft_index by default.
 * Several statements: run it with client.query(AFT_LOG_DDL) (no parameters).
 */
export { AFT_LOG_DDL } from '../../src/demo/aftLogDdl.js';

export const AFT_LOG_DROP_DDL = 'DROP TABLE IF EXISTS aft_log; DROP SEQUENCE IF EXISTS aft_log_aft_index_seq;';

export interface AftRow {
  /** Default: next value of aft_log_aft_index_seq. */
  aftIndex?: bigint | number;
  /** Default 'alice@example.com'. */
  jid?: string;
  /** Default 'bob@example.com'. */
  toJid?: string;
  method: 'Post' | 'Get';
  /** 'im' | 'groupchat' | 'persistent' (any string up to 10 chars). */
  chatType: string;
  /** Absolute path on the file server; '' allowed. */
  filePath: string;
  /** Default 1024. */
  fileSize?: number;
  /** Default fileSize. */
  bytesTransferred?: number;
  /** The instant; stored as its UTC wall-clock time (millisecond precision). */
  timestamp: Date;
  /** Default 'files.example.com'. */
  fileServer?: string;
  /** Default basename(filePath) (or 'file' when empty). */
  filename?: string;
  /** Default same as filename. */
  realFilename?: string;
  /** Default the extension of filePath without dot, cut to 10 chars ('' if none). */
  fileType?: string;
}

/** Anything with pg's promise query(text, values): pg.Client, pg.PoolClient, pg.Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** Date -> 'YYYY-MM-DD HH:MM:SS.mmm', the UTC wall clock (what goes into timestampvalue). */
export function toUtcWallClock(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new Error('invalid Date');
  return d.toISOString().replace('T', ' ').replace(/Z$/, '');
}

/** 'YYYY-MM-DD HH:MM:SS[.fff]' read as UTC wall clock -> Date. */
export function fromUtcWallClock(s: string): Date {
  return new Date(s.replace(' ', 'T') + 'Z');
}

const CHUNK = 20_000;

/**
 * Bulk-inserts rows with bound parameters (one unnest() per chunk of 20 000 rows).
 * Returns the number of inserted rows. When explicit aftIndex values are given, the
 * sequence is moved past the largest aft_index afterwards so later default inserts don't collide.
 */
export async function insertAftRows(client: Queryable, rows: readonly AftRow[]): Promise<number> {
  let inserted = 0;
  let anyExplicit = false;
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    const cols = {
      idx: [] as (string | null)[],
      jid: [] as string[],
      toJid: [] as string[],
      method: [] as string[],
      filename: [] as string[],
      realFilename: [] as string[],
      fileType: [] as string[],
      chatType: [] as string[],
      fileServer: [] as string[],
      filePath: [] as string[],
      fileSize: [] as string[],
      bytes: [] as string[],
      ts: [] as string[],
    };
    for (const r of chunk) {
      if (r.aftIndex !== undefined) anyExplicit = true;
      const name = r.filename ?? (basename(r.filePath) || 'file');
      const size = r.fileSize ?? 1024;
      cols.idx.push(r.aftIndex === undefined ? null : String(r.aftIndex));
      cols.jid.push(r.jid ?? 'alice@example.com');
      cols.toJid.push(r.toJid ?? 'bob@example.com');
      cols.method.push(r.method);
      cols.filename.push(name);
      cols.realFilename.push(r.realFilename ?? name);
      cols.fileType.push(r.fileType ?? extname(r.filePath).replace(/^\./, '').slice(0, 10));
      cols.chatType.push(r.chatType);
      cols.fileServer.push(r.fileServer ?? 'files.example.com');
      cols.filePath.push(r.filePath);
      cols.fileSize.push(String(size));
      cols.bytes.push(String(r.bytesTransferred ?? size));
      cols.ts.push(toUtcWallClock(r.timestamp));
    }
    const res = await client.query(
      `INSERT INTO aft_log (aft_index, jid, to_jid, method, filename, real_filename, file_type,
                            chat_type, file_server, file_path, file_size, bytes_transferred, timestampvalue)
       SELECT COALESCE(t.idx, nextval('aft_log_aft_index_seq')), t.jid, t.to_jid, t.method, t.filename,
              t.real_filename, t.file_type, t.chat_type, t.file_server, t.file_path, t.file_size,
              t.bytes_transferred, t.ts
         FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[],
                     $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], $10::varchar[],
                     $11::bigint[], $12::bigint[], $13::timestamp[])
           AS t(idx, jid, to_jid, method, filename, real_filename, file_type, chat_type,
                file_server, file_path, file_size, bytes_transferred, ts)`,
      [
        cols.idx, cols.jid, cols.toJid, cols.method, cols.filename, cols.realFilename, cols.fileType,
        cols.chatType, cols.fileServer, cols.filePath, cols.fileSize, cols.bytes, cols.ts,
      ],
    );
    inserted += res.rowCount ?? chunk.length;
  }
  if (anyExplicit) {
    await client.query(
      `SELECT setval('aft_log_aft_index_seq', m)
         FROM (SELECT max(aft_index) AS m FROM aft_log) s
        WHERE m IS NOT NULL AND m >= (SELECT last_value FROM aft_log_aft_index_seq)`,
    );
  }
  return inserted;
}
