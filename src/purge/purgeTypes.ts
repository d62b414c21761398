// What the purge of a node takes and returns, and what each chat type's and batch's steps work with.
import type { Logger } from 'pino';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import type { ChatTypeStep } from '../core/catchUp.js';
import type { EligibilityContext } from '../core/eligibility.js';
import type { NodeStatus } from '../core/nodeStatus.js';
import type { FileDecision } from '../core/planBatch.js';
import type { ChatTypeStats } from '../core/purgeStats.js';
import type { Backlog, Catalog, FileStore } from '../ports.js';
import type { AuditExport } from './auditExport.js';
import type { LimitOptions, Refusal } from './blastRadius.js';
import type { OrphanDownloads } from './orphanDownloads.js';
import type { Deadline, RunEnd, RunPacing, StepBudget } from './pacing.js';
import type { RowsPendingLedger } from './rowsPending.js';

export interface PurgeOptions {
  dryRun: boolean;
  /** Limit to these chat types (all with a policy when undefined). */
  chatTypes?: ChatType[];
  batchSize: number;
  maxClockSkewMs: number;
  /** Remove hour and date folders the purge emptied (never today's). */
  removeEmptyFolders?: boolean;
  /** The host clock; a dry-run may pass a simulated later date. */
  hostNow: () => Date;
  /** When set, the database clock is ignored (a dry-run simulating another date). */
  simulated?: boolean;
  /** Stops between batches (graceful shutdown): the batch in flight completes. */
  signal?: AbortSignal;
  /** Called for every file considered, in order (the dry-run's per-file output). */
  onFile?: (node: string, file: FileDecision, outcome?: string) => void;
  /**
   * Called after each batch, for progress, with the chat type's backlog as counted before the
   * run, and what this run is to take of it (less with a per-run cap).
   */
  onProgress?: (node: string, stats: ChatTypeStats, backlog: Backlog, step?: StepProgress) => void;
  /** When the run must stop between batches (a purge window's end, --until, --max-duration). */
  deadline?: Deadline;
  /** Run history and approvals for the blast-radius limits (the limits themselves are the node's). */
  limits?: LimitOptions;
}

export interface NodeResult {
  node: string;
  status: NodeStatus;
  chatTypes: ChatTypeStats[];
  /** Blast-radius limits that refused (in a dry-run: would refuse) the node or some chat types. */
  refused?: Refusal[];
  error?: Error;
  clockSkewMs?: number;
  /** Downloads of files already purged, found and deleted after the run's batches. */
  orphanDownloads?: OrphanDownloads;
  startedAt: Date;
  finishedAt?: Date;
  /** What ended the run before its backlog was cleared: a per-run cap, or the time to stop by. */
  ended?: RunEnd;
  /** Per chat type: the expired backlog counted before the run, and the step this run took of it. */
  steps?: Array<{ chatType: ChatType; backlog: Backlog; step: ChatTypeStep }>;
  /** The node's files-per-second limit in force (undefined: none). */
  maxFilesPerSecond?: number;
}

/** What a run is to take of a chat type's backlog, for progress and its ETA. */
export interface StepProgress {
  step: ChatTypeStep;
  maxFilesPerSecond?: number;
}

/** What the purge of one node reads of its configuration: never its connections or secrets. */
export type PurgeTarget = Pick<ResolvedNode, 'name' | 'policies' | 'holds' | 'limits' | 'maxFilesPerSecond'> & { fileServer: Pick<ResolvedNode['fileServer'], 'directory'> };

export interface NodePorts {
  catalog: Catalog;
  files: FileStore | undefined;
  log: Logger;
  /** When set, every row is exported there before it is deleted. */
  audit?: Pick<AuditExport, 'append'>;
  /** Files an earlier run removed without deleting their rows, and this run's. */
  pending?: RowsPendingLedger;
}

/** What every step of one chat type's purge works with (a plan's application too). */
export interface ChatTypeRun {
  node: string;
  ctx: EligibilityContext;
  ports: NodePorts;
  opts: PurgeOptions;
  stats: ChatTypeStats;
  log: Logger;
  /** This chat type's share of a capped run (unbounded without a cap). */
  budget: StepBudget;
  pacing: RunPacing;
  /** The caller's stop signal and the deadline's together. */
  signal: AbortSignal | undefined;
}

/** One batch of expired uploads, decided. */
export interface PlannedBatch {
  files: FileDecision[];
  /** `Post` rows read for this batch, whatever their outcome (for progress). */
  handled: number;
  /** The reader has nothing after this batch. */
  last: boolean;
}
