import type { ResolvedPostgresDatabase } from '../../config/resolvedConfig.js';
import type { CompanionRow, ExpiredUpload, ExpiredUploadReader } from '../../ports.js';
import { oneAtATime } from '../oneAtATime.js';
import { RowGroups } from '../rowGroups.js';
import { toUploadRow } from './rows.js';
import { TEXT_TYPES, type PostgresSession } from './session.js';
import * as sql from './sql.js';
import { parseWallClock } from './wallClockText.js';

/**
 * A row of the expired-uploads cursor, as text (rowMode 'array'): every row of an expired
 * file, labelled with the file's expired `Post`; the file's details only on the Post's own row.
 */
type CursorRow = [
  post: string,
  idx: string,
  method: string,
  chatType: string,
  ts: string,
  filePath: string | null,
  size: string | null,
  moved: string | null,
  jid: string | null,
  toJid: string | null,
];

/** Cursor rows fetched at a time at least (a batch's files, with their companions, are more). */
const MIN_FETCH = 1000;
/** Rows fetched for each file a batch still needs. */
const ROWS_A_FILE = 2;

/**
 * The purge's one-pass reader on PostgreSQL: a cursor over every row of the expired files of
 * `chatType` (uploaded before `cutoff`, the table's wall clock), fetched as the batches need it.
 */
export async function openExpiredCursor(session: PostgresSession, table: string, db: ResolvedPostgresDatabase, chatType: string, cutoff: string): Promise<ExpiredUploadReader> {
  const { highWaterIndex, lateRowsAbove } = await session.exclusive(() => session.computingReader(() => declareCursor(session, table, db, chatType, cutoff)));
  let open = true;
  let ended = false;
  const groups = new RowGroups<CursorRow>((r) => r[0]);
  // The connection also deletes the batches' rows: its FETCHes wait their turn there.
  const fetch = async (n: number): Promise<void> => {
    const r = await session.exclusive(() => session.run(false, (client) => client.query<CursorRow>({ text: sql.fetchExpiredCursor(n), rowMode: 'array', types: TEXT_TYPES })));
    groups.add(r.rows);
    if (r.rows.length < n) ended = true;
  };
  // One call of the reader at a time.
  const inTurn = oneAtATime();
  return {
    highWaterIndex,
    lateRowsAbove,
    next: (limit) =>
      inTurn(async () => {
        if (!open) return [];
        const out: ExpiredUpload[] = [];
        for (;;) {
          for (const g of groups.take(limit - out.length, ended)) out.push(toExpiredUpload(g, db.timestampZone));
          if (out.length >= limit || ended) return out;
          // A file is its Post and its downloads (in a chat, mostly one): rows enough for that
          // fill most batches in one round trip, and what is left over starts the next batch.
          await fetch(Math.max(ROWS_A_FILE * limit, MIN_FETCH));
        }
      }),
    close: () =>
      inTurn(async () => {
        if (!open) return;
        open = false;
        await session.exclusive(() => session.client.query(sql.closeExpiredCursor).catch(() => undefined));
      }),
  };
}

/**
 * Declares the reader's cursor and has it computed (at COMMIT: the cursor is WITH HOLD), in a
 * REPEATABLE READ transaction that also fixes the high-water marks in the same snapshot.
 */
async function declareCursor(session: PostgresSession, table: string, db: ResolvedPostgresDatabase, chatType: string, cutoff: string): Promise<{ highWaterIndex: string; lateRowsAbove: string }> {
  let settled = sql.BIGINT_MIN;
  const max = await session.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ', async () => {
    await session.query(sql.tuneCursorTransaction);
    const max = (await session.query<{ idx: string }>(sql.selectMaxIndex(table))).rows[0]!.idx;
    settled = (await session.query<{ idx: string }>(sql.selectSettledIndex(table), [db.timestampZone])).rows[0]!.idx;
    await session.query(sql.declareExpiredCursor(table), [chatType, cutoff]);
    return max;
  });
  return { highWaterIndex: max, lateRowsAbove: BigInt(settled) < BigInt(max) ? settled : max };
}

/** One file's rows from the cursor: its expired Post and the other rows of its path. */
function toExpiredUpload(rows: CursorRow[], zone: string): ExpiredUpload {
  const post = rows.find((r) => r[1] === r[0]);
  if (!post) throw new Error(`the expired-uploads cursor returned rows of aft_index ${rows[0]![0]} without that row itself`);
  const filePath = post[5] ?? '';
  const companions: CompanionRow[] = [];
  for (const r of rows) {
    if (r !== post) companions.push({ aftIndex: r[1], filePath, method: r[2], chatType: r[3], uploadedAt: parseWallClock(r[4], zone) });
  }
  return {
    upload: toUploadRow({ idx: post[1], file_path: filePath, size: post[6] ?? '0', moved: post[7] ?? '0', chat_type: post[3], jid: post[8] ?? '', to_jid: post[9] ?? '', ts: post[4] }, zone),
    companions,
  };
}
