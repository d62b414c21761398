// The purge of one node run in the test process: the real purgeNode on the in-memory AFT_LOG
// (src/adapters/memory) and the real LocalFileStore on a temporary node directory in Cisco's
// layout, with the host and database clocks fixed, so a test of a purge rule needs neither a
// server nor a wait for the hour's edge. The adapters and the CLI have tests of their own.
import type { z } from 'zod';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach } from 'vitest';
import { LocalFileStore } from '../../src/adapters/localFileStore.js';
import { MemoryCatalog, type MemoryRow, type MemoryRowInput } from '../../src/adapters/memory/memoryCatalog.js';
import { fileRecord, totals } from '../../src/cli/purgeReport.js';
import { limitsSchema, resolveLimits } from '../../src/config/limits.js';
import { makePolicy, type PolicySet } from '../../src/config/policies.js';
import { policyOverrideSchema } from '../../src/config/policySchema.js';
import type { ChatType } from '../../src/core/chatType.js';
import type { Hold } from '../../src/core/holds.js';
import type { FileStore } from '../../src/ports.js';
import { purgeNode, type NodeResult, type PurgeOptions, type PurgeTarget } from '../../src/purge/purgeNode.js';

export const HOUR_MS = 3_600_000;
/** "Now" for every in-process purge: 37 minutes into the 14:00 UTC hour. */
export const NOW = new Date('2026-03-10T14:37:12.345Z');
/** Start of the current UTC hour. */
export const H = new Date('2026-03-10T14:00:00.000Z');
/** An instant `ms` after the start of the current hour (negative: before it). */
export const at = (ms: number): Date => new Date(H.getTime() + ms);

/** `YYYYMMDD` and `HH` of the UTC hour containing `t` (Cisco's folder names). */
export function hourFolders(t: Date): { date: string; hour: string } {
  const iso = t.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), hour: iso.slice(11, 13) };
}

export interface MemoryNodeOptions {
  /** chat type -> retention (`PT1H`, `forever`); short retentions are allowed. */
  policies: Partial<Record<ChatType, string>>;
  name?: string;
  /** The folder's name when it differs from the node's. */
  dirName?: string;
  holds?: Hold[];
  /** As written in config.yaml's `purge.limits`. */
  limits?: z.input<typeof limitsSchema>;
  /** Shared with another node: a base folder that holds both node directories. */
  base?: string;
}

export interface UploadSpec {
  chatType?: ChatType;
  /** The row's chat_type when it differs from the folder's. */
  rowChatType?: string;
  at: Date;
  /** The hour folder's instant when it differs from the row's. */
  folderAt?: Date;
  name?: string;
  /** A path outside the layout (the file is written there unless createFile is false). */
  path?: string;
  size?: number;
  gets?: Date[];
  createFile?: boolean;
  rollover?: number;
}

export interface Upload {
  path: string;
  hourDir: string;
  postIndex: string;
  /** The Post and Get rows, ascending. */
  indexes: string[];
}

export interface PurgeRun {
  result: NodeResult;
  /** Each file considered, as the `--json` report lists it. */
  records: Array<Record<string, any>>;
  /** The run's totals as the report sums them, and the node's result. */
  summary: ReturnType<typeof totals> & { nodes: NodeResult[] };
  /** The log, as JSON objects. */
  logs: Array<Record<string, any>>;
}

export interface RunSpec extends Partial<Omit<PurgeOptions, 'onFile'>> {
  /** Wraps the node's file store (to fail or to watch its calls). */
  files?: (real: FileStore) => FileStore;
  logLevel?: string;
}

export interface MemoryNode {
  name: string;
  base: string;
  dir: string;
  /** A folder beside the node directory, outside it. */
  outsideDir: string;
  catalog: MemoryCatalog;
  target: PurgeTarget;
  layoutPath(chatType: string, folderAt: Date, name: string, rollover?: number): string;
  writeFile(path: string, size?: number): string;
  upload(spec: UploadSpec): Upload;
  insertRows(rows: Array<Omit<MemoryRowInput, 'aftIndex'> & { aftIndex?: bigint | number }>): string[];
  indexes(): string[];
  rows(): MemoryRow[];
  purge(spec?: RunSpec): Promise<PurgeRun>;
  destroy(): void;
}

export function memoryNode(opts: MemoryNodeOptions): MemoryNode {
  const name = opts.name ?? 'node_1';
  const base = opts.base ?? mkdtempSync(join(tmpdir(), 'mft-purge-'));
  const dir = join(base, opts.dirName ?? name);
  const outsideDir = join(base, 'outside');
  mkdirSync(join(dir, 'files'), { recursive: true });
  mkdirSync(outsideDir, { recursive: true });
  const catalog = new MemoryCatalog([], { now: () => NOW });
  const policies: PolicySet = {};
  for (const [chatType, retention] of Object.entries(opts.policies) as Array<[ChatType, string]>) {
    policies[chatType] = makePolicy(chatType, policyOverrideSchema.parse({ retention, allowShortRetention: true }), `${base}/policies/${chatType}.yaml`);
  }
  const target: PurgeTarget = { name, policies, holds: opts.holds ?? [], limits: resolveLimits(limitsSchema.parse(opts.limits ?? {}), undefined), fileServer: { directory: dir } };
  let next = 1n;
  let files = 0;

  const layoutPath = (chatType: string, folderAt: Date, file: string, rollover?: number): string => {
    const f = hourFolders(folderAt);
    return join(dir, 'files', chatType, f.date, rollover ? `${f.hour}.${rollover}` : f.hour, file);
  };
  const writeFile = (path: string, size = 16): string => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(size, 0x61));
    return path;
  };
  const insertRows: MemoryNode['insertRows'] = (rows) =>
    rows.map((r) => {
      const aftIndex = r.aftIndex === undefined ? next++ : BigInt(r.aftIndex);
      if (aftIndex >= next) next = aftIndex + 1n;
      catalog.insert([{ ...r, aftIndex }]);
      return aftIndex.toString();
    });

  return {
    name,
    base,
    dir,
    outsideDir,
    catalog,
    target,
    layoutPath,
    writeFile,
    insertRows,
    upload(u) {
      const chatType = u.chatType ?? 'im';
      const path = u.path ?? layoutPath(chatType, u.folderAt ?? u.at, u.name ?? `file-${++files}.txt`, u.rollover);
      if (u.createFile !== false) writeFile(path, Math.min(u.size ?? 16, 4096));
      const rowChatType = u.rowChatType ?? chatType;
      const [postIndex, ...gets] = insertRows([
        { method: 'Post', chatType: rowChatType, filePath: path, timestamp: u.at, fileSize: u.size ?? 16 },
        ...(u.gets ?? []).map((t) => ({ method: 'Get', chatType: rowChatType, filePath: path, timestamp: t })),
      ]);
      return { path, hourDir: dirname(path), postIndex: postIndex!, indexes: [postIndex!, ...gets] };
    },
    indexes: () => catalog.indexes(),
    rows: () => catalog.all(),
    async purge(spec = {}) {
      const { files: wrap, logLevel, ...options } = spec;
      const logs: Array<Record<string, any>> = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, any>);
          cb();
        },
      });
      const local = await LocalFileStore.open(dir, 8);
      const store = wrap ? wrap(local) : local;
      const records: PurgeRun['records'] = [];
      try {
        const result = await purgeNode(
          target,
          { catalog, files: store, log: pino({ level: logLevel ?? 'info' }, sink) },
          {
            dryRun: false,
            batchSize: 1000,
            maxClockSkewMs: 60_000,
            removeEmptyFolders: true,
            hostNow: () => NOW,
            ...options,
            onFile: (n, f, outcome) => records.push(fileRecord(n, f, outcome)),
          },
        );
        return { result, records, summary: { ...totals([result]), nodes: [result] }, logs };
      } finally {
        await store.close();
      }
    },
    destroy() {
      if (!opts.base) rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Whether anything (a file, a folder, a dangling symlink) is at `path`. */
export function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** memoryNode for a test file: every node made is destroyed after its test. */
export function useMemoryNodes(): (opts: MemoryNodeOptions) => MemoryNode {
  const made: MemoryNode[] = [];
  afterEach(() => {
    for (const n of made.splice(0)) n.destroy();
  });
  return (opts) => {
    const n = memoryNode(opts);
    made.push(n);
    return n;
  };
}
