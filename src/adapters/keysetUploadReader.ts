import type { ChatType } from '../core/chatType.js';
import type { UploadRow } from '../core/eligibility.js';
import type { Catalog, CompanionRow, ExpiredUpload, ExpiredUploadReader } from '../ports.js';

/** What an adapter needs to offer for the generic reader. */
export interface KeysetSource extends Pick<Catalog, 'findExpiredUploads' | 'findRowsByPath'> {
  /** The largest aft_index in the table now, as a decimal string; KEYSET_START when it is empty. */
  maxAftIndex(): Promise<string>;
}

/** Lowest BIGINT / NUMBER(19): the keyset starts below every aft_index. */
export const KEYSET_START = '-9223372036854775808';

/**
 * An ExpiredUploadReader built from keyset pages of expired `Post` rows and a lookup of their
 * companions by path, one page at a time, for a database without the PostgreSQL adapter's
 * single-pass cursor (Oracle). Each batch costs one keyset query on the primary key and one
 * lookup by file_path per 1,000 paths (a scan of the table per lookup unless file_path has an
 * index).
 *
 * It behaves like the cursor: the high-water mark is the largest aft_index when the reader
 * opens, and nothing above it is handed out, neither as an upload nor as a companion. A row
 * logged after the reader opened for a path the purge removes (a late download) is deleted by
 * deleteRows through its `newerThanIndex`, which the purge sets to this mark.
 */
export async function openKeysetUploadReader(source: KeysetSource, chatType: ChatType, before: Date): Promise<ExpiredUploadReader> {
  const highWaterIndex = await source.maxAftIndex();
  const high = BigInt(highWaterIndex);
  let afterIndex = KEYSET_START;
  let done = false;
  return {
    highWaterIndex,
    async next(limit) {
      if (done) return [];
      const page = await source.findExpiredUploads({ chatType, before, afterIndex, limit });
      const uploads = page.filter((u) => BigInt(u.aftIndex) <= high);
      // A short page is the last; so is one that reached past the mark (keyset order).
      if (page.length < limit || uploads.length < page.length) done = true;
      if (uploads.length === 0) {
        done = true;
        return [];
      }
      afterIndex = uploads[uploads.length - 1]!.aftIndex;
      return withCompanions(uploads, await source.findRowsByPath(pathsOf(uploads)), high);
    },
    async close() {
      done = true;
    },
  };
}

/** The paths to look up: each once, never an empty one (Oracle reads '' as NULL; neither joins). */
function pathsOf(uploads: UploadRow[]): string[] {
  return [...new Set(uploads.map((u) => u.filePath).filter((p): p is string => p !== null && p !== ''))];
}

/** Each upload with every other row of its path at or below the mark, ascending aft_index. */
function withCompanions(uploads: UploadRow[], rows: CompanionRow[], high: bigint): ExpiredUpload[] {
  const byPath = new Map<string, CompanionRow[]>();
  const seen = new Set<string>();
  for (const r of rows) {
    // findRowsByPath may return a row twice (a padded IN list): one copy of each.
    if (seen.has(r.aftIndex) || BigInt(r.aftIndex) > high) continue;
    seen.add(r.aftIndex);
    const list = byPath.get(r.filePath);
    if (list) list.push(r);
    else byPath.set(r.filePath, [r]);
  }
  for (const list of byPath.values()) list.sort((a, b) => compareIndex(a.aftIndex, b.aftIndex));
  return uploads.map((upload) => ({
    upload,
    companions: upload.filePath ? (byPath.get(upload.filePath) ?? []).filter((c) => c.aftIndex !== upload.aftIndex) : [],
  }));
}

const compareIndex = (a: string, b: string): number => {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
};
