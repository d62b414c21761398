import type { Logger } from 'pino';
import type { ResolvedConfig, ResolvedNode } from '../config/resolvedConfig.js';
import type { Approval } from '../core/approval.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes } from '../core/clock.js';
import { configFingerprint, plannedHold, PlanError, rowDigest, sealPlan, type Plan, type PlannedChatType, type PlannedFile, type PlannedServerFile } from '../core/planFile.js';
import { coerceError } from '../errors.js';
import type { Catalog, FileState, FileStore, PlanRow } from '../ports.js';
import { openCatalog, openFileStore } from './openPorts.js';
import type { FileDecision } from '../core/planBatch.js';
import { purgeNode, type NodeResult } from './purgeNode.js';
import type { RunHistory } from './runHistory.js';
import type { Refusal } from '../core/limits.js';
import { checkPlanLimits } from './planLimits.js';

export interface SavePlanOptions {
  hostNow: () => Date;
  simulated: boolean;
  chatTypes?: ChatType[];
  env?: NodeJS.ProcessEnv;
  history?: RunHistory;
  approvals?: Approval[];
  onFile?: (node: string, file: FileDecision, outcome?: string) => void;
}

export interface SavedPlan {
  /** The dry-run, as the report shows it. */
  result: NodeResult;
  /** Undefined when the dry-run failed: no plan is written then. */
  plan?: Plan;
  /** Files the dry-run listed that changed while the plan was being made: left out of it. */
  leftOut: Array<{ path: string; reason: string }>;
  /** What the blast-radius limits would refuse when the plan is applied, with tokens bound to it. */
  refusals?: Refusal[];
}

/** What the dry-run saw of the catalog that the plan records: each chat type's cutoff and high-water mark. */
interface Observed {
  databaseNow?: Date;
  readers: Map<string, { before: Date; highWaterIndex: string }>;
}

/** The catalog as purgeNode uses it, remembering what the plan must record. */
function observing(c: Catalog, seen: Observed): Catalog {
  return {
    databaseNow: async () => (seen.databaseNow = await c.databaseNow()),
    openExpiredUploads: async (chatType, before) => {
      const reader = await c.openExpiredUploads(chatType, before);
      seen.readers.set(chatType, { before, highWaterIndex: reader.highWaterIndex });
      return reader;
    },
    findExpiredUploads: (q) => c.findExpiredUploads(q),
    findRowsByPath: (paths) => c.findRowsByPath(paths),
    countExpiredUploadsByChatType: (counts, totalBefore) => c.countExpiredUploadsByChatType(counts, totalBefore),
    deleteRows: () => Promise.reject(new Error('a dry-run deletes nothing')),
    databaseUsage: () => c.databaseUsage(),
    findPlanRows: (i, p, n) => c.findPlanRows(i, p, n),
    close: () => c.close(),
  };
}

const serverFile = (s: Exclude<FileState, Error | 'missing'>): PlannedServerFile => ({ type: s.type, size: s.size, mtime: s.mtimeMs === undefined ? null : new Date(s.mtimeMs).toISOString() });

/**
 * A dry-run of one node that writes down what it would remove: the purge's own dry-run (the
 * same reading and rules), then, a batch at a time, every row of each file read again in full
 * (to be compared when the plan is applied) and the file examined on the server (lstat:
 * size and modification time). A file whose rows changed in between is left out.
 */
export async function makePlan(config: ResolvedConfig, node: ResolvedNode, log: Logger, opts: SavePlanOptions): Promise<SavedPlan> {
  const seen: Observed = { readers: new Map() };
  const going: FileDecision[] = [];
  let hostNow: Date | undefined;
  let catalog: Catalog | undefined;
  let files: FileStore | undefined;
  const leftOut: SavedPlan['leftOut'] = [];
  try {
    catalog = await openCatalog(node, opts.env);
    const result = await purgeNode(node, { catalog: observing(catalog, seen), files: undefined, log }, {
      dryRun: true,
      chatTypes: opts.chatTypes,
      batchSize: config.purge.batchSize,
      maxClockSkewMs: config.purge.maxClockSkewMs,
      hostNow: () => (hostNow = opts.hostNow()),
      simulated: opts.simulated,
      limits: { history: opts.history, approvals: opts.approvals },
      onFile: (n, f, outcome) => {
        if (f.decision === 'delete') going.push(f);
        opts.onFile?.(n, f, outcome);
      },
    });
    if (result.status === 'failed') return { result, leftOut };
    const times = resolvePurgeTimes(hostNow!, seen.databaseNow);
    if (going.length > 0) files = await openFileStore(node, opts.env);
    const planned: PlannedFile[] = [];
    for (let i = 0; i < going.length; i += config.purge.batchSize) {
      planned.push(...(await recordBatch(going.slice(i, i + config.purge.batchSize), catalog, files!, seen, leftOut)));
    }
    for (const l of leftOut) log.warn({ path: l.path, reason: l.reason }, 'file left out of the plan: it changed while the plan was made');
    const chatTypes: PlannedChatType[] = [];
    for (const s of result.chatTypes) {
      const policy = node.policies[s.chatType as ChatType];
      const reader = seen.readers.get(s.chatType);
      if (!policy || policy.retention === 'forever' || !reader) continue;
      const mine = planned.filter((f) => f.chatType === s.chatType);
      chatTypes.push({
        chatType: s.chatType as ChatType,
        retention: policy.retentionText,
        retentionCutoff: reader.before.toISOString(),
        keepAfterLastDownload: policy.keepAfterLastDownloadText ?? null,
        highWaterIndex: reader.highWaterIndex,
        files: mine.length,
        bytes: mine.reduce((a, f) => a + f.size, 0),
        rows: mine.reduce((a, f) => a + f.rows.length, 0),
      });
    }
    const plan = sealPlan({
      format: 'mft-retention-plan',
      version: 1,
      createdAt: new Date().toISOString(),
      asOf: times.now.toISOString(),
      simulated: opts.simulated,
      node: node.name,
      configFile: config.file,
      configFingerprint: configFingerprint(node),
      rules: {
        nodeDirectory: node.fileServer.directory,
        currentHourStart: times.currentHourStart.toISOString(),
        chatTypes,
        holds: node.holds.map(plannedHold),
        limits: Object.fromEntries(Object.entries(node.limits).map(([k, v]) => [k, v ?? null])) as Record<string, number | string | null>,
      },
      files: planned,
    });
    const gate = await checkPlanLimits(node, plan, catalog, { history: opts.history, now: times.now, log, applying: false });
    return { result, plan, leftOut, refusals: gate.refusals };
  } catch (err) {
    if (err instanceof PlanError) throw err;
    const error = coerceError(err);
    log.error({ node: node.name, err: error }, 'cannot make the plan');
    return { result: { node: node.name, status: 'failed', chatTypes: [], error, startedAt: new Date(), finishedAt: new Date() }, leftOut };
  } finally {
    await files?.close();
    await catalog?.close();
  }
}

/** One batch of the dry-run's files, with their rows read in full and their state on the server. */
async function recordBatch(batch: FileDecision[], catalog: Catalog, files: FileStore, seen: Observed, leftOut: SavedPlan['leftOut']): Promise<PlannedFile[]> {
  const paths = batch.map((f) => f.filePath!);
  // The chat types of a batch share one mark: the lowest, so that no late row is missed.
  const marks = [...new Set(batch.map((f) => seen.readers.get(f.chatType)!.highWaterIndex))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const [rows, states] = await Promise.all([catalog.findPlanRows(batch.flatMap((f) => f.rowIndexes), paths, marks[0]!), files.statFiles(paths)]);
  // Each row to the file it belongs to: by its aft_index when planned, else by its path.
  const fileOfIndex = new Map<string, string>();
  for (const f of batch) for (const idx of f.rowIndexes) fileOfIndex.set(idx, f.filePath!);
  const rowsOf = new Map<string, PlanRow[]>();
  for (const r of rows) {
    const owner = fileOfIndex.get(r.aftIndex) ?? r.filePath;
    const list = rowsOf.get(owner);
    if (list) list.push(r);
    else rowsOf.set(owner, [r]);
  }
  const out: PlannedFile[] = [];
  batch.forEach((f, i) => {
    const state = states[i]!;
    if (state instanceof Error) throw new Error(`cannot examine ${f.filePath} on the file server for the plan: ${state.message}; no plan was written`, { cause: state });
    const mine = rowsOf.get(f.filePath!) ?? [];
    const expected = new Set(f.rowIndexes);
    if (mine.length !== expected.size || mine.some((r) => !expected.has(r.aftIndex) || r.filePath !== f.filePath)) {
      leftOut.push({ path: f.filePath!, reason: 'its rows changed while the plan was made' });
      return;
    }
    const post = mine.find((r) => r.aftIndex === f.aftIndex)!;
    out.push({
      chatType: f.chatType as ChatType,
      path: f.filePath!,
      size: post.fileSize,
      uploadedAt: post.uploadedAt.toISOString(),
      aftIndex: f.aftIndex,
      rows: mine.map((r) => ({ aftIndex: r.aftIndex, method: r.method, at: Number.isNaN(r.uploadedAt.getTime()) ? '' : r.uploadedAt.toISOString(), digest: rowDigest(r) })),
      onServer: state === 'missing' ? null : serverFile(state),
    });
  });
  return out;
}
