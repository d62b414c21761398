import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { syncDirectory, writeFileAtomic } from '../stateFiles/writeFileAtomic.js';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AuditRow } from '../ports.js';

/** The audit export could not be written: no row was deleted. */
export class AuditExportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditExportError';
  }
}

/** `aft_log-20261121.jsonl.gz`: one file per UTC day of deletion. */
export function exportFileName(day: Date): string {
  return `aft_log-${day.toISOString().slice(0, 10).replace(/-/g, '')}.jsonl.gz`;
}

/**
 * The rows a purge deletes, appended before they are deleted to
 * `<directory>/<node>/aft_log-YYYYMMDD.jsonl.gz` (JSON Lines, one row a line, every column;
 * each batch is one gzip member, which gzip, zcat and zlib read as one stream), with a
 * `.sha256` beside each file in `sha256sum -c` format, written at the end of each run and
 * when the day rolls over.
 */
export class AuditExport {
  private current?: { name: string; handle: FileHandle };
  /** Files appended to by this run, whose checksum must be (re)written. */
  private readonly touched = new Set<string>();

  private constructor(
    readonly directory: string,
    private readonly now: () => Date,
  ) {}

  /** Creates `<directory>/<node>` and opens today's file: a directory that cannot be written stops the purge before anything is removed. */
  static async open(directory: string, node: string, now: () => Date = () => new Date()): Promise<AuditExport> {
    const dir = path.join(directory, node);
    const x = new AuditExport(dir, now);
    try {
      await mkdir(dir, { recursive: true, mode: 0o750 });
      await x.fileFor(now());
    } catch (err) {
      throw x.failure(err, 'open');
    }
    return x;
  }

  /**
   * Appends rows and flushes them to disk (fsync). Throws AuditExportError when that fails;
   * a partly written batch is cut off again so the file stays readable.
   */
  async append(rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort((a, b) => compareIndex(a.aft_index, b.aft_index));
    const data = gzipSync(Buffer.from(sorted.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8'));
    let file: { name: string; handle: FileHandle } | undefined;
    let size = 0;
    try {
      file = await this.fileFor(this.now());
      size = (await file.handle.stat()).size;
      await file.handle.write(data, 0, data.length, size);
      await file.handle.sync();
      this.touched.add(file.name);
    } catch (err) {
      if (file) await file.handle.truncate(size).catch(() => undefined);
      throw this.failure(err, `append ${rows.length} rows to`, file?.name);
    }
  }

  /** Writes the checksums of the files this run appended to, and closes. */
  async close(): Promise<void> {
    await this.current?.handle.close().catch(() => undefined);
    this.current = undefined;
    for (const name of this.touched) await this.writeChecksum(name);
    this.touched.clear();
  }

  /** The open file for the day of `t`; on a new day the previous file gets its checksum. */
  private async fileFor(t: Date): Promise<{ name: string; handle: FileHandle }> {
    const name = exportFileName(t);
    if (this.current?.name === name) return this.current;
    const previous = this.current;
    if (previous) {
      this.current = undefined;
      await previous.handle.close();
      if (this.touched.delete(previous.name)) await this.writeChecksum(previous.name);
    }
    const handle = await open(path.join(this.directory, name), 'a', 0o640);
    await syncDirectory(this.directory);
    this.current = { name, handle };
    return this.current;
  }

  private async writeChecksum(name: string): Promise<void> {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path.join(this.directory, name))) hash.update(chunk as Buffer);
    await writeFileAtomic(path.join(this.directory, `${name}.sha256`), `${hash.digest('hex')}  ${name}\n`, 0o640);
  }

  private failure(err: unknown, what: string, name?: string): AuditExportError {
    const where = name ? path.join(this.directory, name) : this.directory;
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return new AuditExportError(
      `cannot ${what} the audit export ${where} (${why}); no AFT_LOG rows are deleted until it can be written. Make the directory writable by the user mft-retention runs as (under systemd, also list it in ReadWritePaths=)`,
      { cause: err },
    );
  }
}

function compareIndex(a: string | null | undefined, b: string | null | undefined): number {
  const [x, y] = [BigInt(a ?? 0), BigInt(b ?? 0)];
  return x < y ? -1 : x > y ? 1 : 0;
}
