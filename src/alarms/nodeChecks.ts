import { DateTime } from 'luxon';
import type { ResolvedNode } from '../config/resolvedConfig.js';
import type { ChatType } from '../core/chatType.js';
import { resolvePurgeTimes, retentionCutoff } from '../core/clock.js';
import type { EligibilityContext } from '../core/eligibility.js';
import { coerceError, ConnectError, DatabaseFullError } from '../errors.js';
import type { Catalog, DatabaseUsage, FileStore, FreeSpace } from '../ports.js';
import { decideRows } from '../core/planBatch.js';
import type { Observation } from './alarmState.js';
import { backlogVerdict, databaseUsageVerdict, freeSpaceVerdict, noSuccessVerdict, type Verdict } from './evaluate.js';

/** Lowest BIGINT: the keyset starts below every aft_index. */
const KEYSET_START = '-9223372036854775808';
/** Rows looked at to find the oldest file that is really due (not held, not a bad path). */
const BACKLOG_PAGE = 500;
const BACKLOG_PAGES = 4;

export interface BacklogMeasurement {
  files: number;
  bytes: number;
  /** When the oldest file still waiting became due; undefined when none is waiting. */
  oldestDueSince?: Date;
}

export interface NodeMeasurements {
  freeSpace?: FreeSpace;
  freeSpacePercent?: number;
  databaseUsage?: DatabaseUsage;
  databaseUsedPercent?: number;
  backlog: Partial<Record<ChatType, BacklogMeasurement>>;
}

export interface NodeCheckInput {
  node: ResolvedNode;
  now: Date;
  /** When this node was first watched, for "no successful purge since". */
  watchedSince: Date;
  lastSuccess?: Date;
  openCatalog(): Promise<Catalog>;
  openFileStore(): Promise<FileStore>;
}

export interface NodeCheckResult {
  observations: Observation[];
  measurements: NodeMeasurements;
  /** Problems met while measuring that are not alarms of their own (logged by the caller). */
  errors: Error[];
}

/**
 * The node's alarm checks, as Cisco's status pages run them: the file server (reachable,
 * free space) and the database (reachable, capacity), then whether retention keeps up.
 * Read-only. Each check reports its own verdict; one failing does not stop the others.
 */
export async function checkNode(input: NodeCheckInput): Promise<NodeCheckResult> {
  const { node, now } = input;
  const out: NodeCheckResult = { observations: [], measurements: { backlog: {} }, errors: [] };
  const observe = (name: Observation['key']['name'], cause: string, v: Pick<Verdict, 'verdict' | 'value' | 'threshold'>, chatType?: string): void => {
    out.observations.push({ key: { name, node: node.name, ...(chatType ? { chatType } : {}) }, cause, verdict: v.verdict, value: v.value, threshold: v.threshold, at: now });
  };

  const t = node.alarms;
  await withPort(
    input.openFileStore,
    'XcpMFTExtFsMountError',
    observe,
    async (files) => {
      const space = await files.freeSpace();
      if (space === 'unsupported') {
        out.errors.push(new Error('the file server does not offer statvfs@openssh.com: free space cannot be watched (check it with df on the server)'));
        return;
      }
      const v = freeSpaceVerdict(space, t.freeSpace);
      out.measurements.freeSpace = space;
      out.measurements.freeSpacePercent = v.measured;
      observe('XcpMFTExtFsFreeSpaceWarn', 'free-space', v);
    },
    out.errors,
  );

  await withPort(
    input.openCatalog,
    'XcpMFTDBConnectError',
    observe,
    async (catalog) => {
      try {
        const usage = await catalog.databaseUsage();
        out.measurements.databaseUsage = usage;
        const v = databaseUsageVerdict(usage, t.database);
        if (v) {
          out.measurements.databaseUsedPercent = v.measured;
          observe('XcpMFTDBFullError', 'usage', v);
        }
        await measureBacklog(node, catalog, now, out, observe);
      } catch (err) {
        if (err instanceof DatabaseFullError) observe('XcpMFTDBFullError', 'sqlstate', { verdict: 'raise', value: err.message, threshold: 'raised when a statement fails because the database is full' });
        throw err;
      }
    },
    out.errors,
  );

  observe('XcpMFTPurgeStalledWarn', 'no-success', noSuccessVerdict(input.watchedSince, input.lastSuccess, now, t.stalled));
  return out;
}

type Observe = (name: Observation['key']['name'], cause: string, v: Pick<Verdict, 'verdict' | 'value' | 'threshold'>, chatType?: string) => void;

/** Opens a port: failing to is the connection alarm; succeeding clears it. Then measures. */
async function withPort<P extends { close(): Promise<void> }>(
  open: () => Promise<P>,
  alarm: 'XcpMFTExtFsMountError' | 'XcpMFTDBConnectError',
  observe: Observe,
  measure: (port: P) => Promise<void>,
  errors: Error[],
): Promise<void> {
  const threshold = 'raised when a connection attempt fails, cleared when one succeeds';
  let port: P;
  try {
    port = await open();
  } catch (err) {
    observe(alarm, 'connect', { verdict: 'raise', value: coerceError(err).message, threshold });
    return;
  }
  observe(alarm, 'connect', { verdict: 'clear', value: 'connected', threshold });
  try {
    await measure(port);
  } catch (err) {
    // Lost the connection while measuring: that is the connection alarm too.
    if (err instanceof ConnectError) observe(alarm, 'connect', { verdict: 'raise', value: err.message, threshold });
    else errors.push(coerceError(err));
  } finally {
    await port.close().catch(() => undefined);
  }
}

/**
 * Per chat type: how many expired files wait (the metric) and, for the stalled alarm, since
 * when the oldest one that the purge would really remove has been due. Held files, bad
 * paths and the like are kept on purpose and do not count as a stalled purge.
 */
async function measureBacklog(node: ResolvedNode, catalog: Catalog, now: Date, out: NodeCheckResult, observe: Observe): Promise<void> {
  const times = resolvePurgeTimes(now, await catalog.databaseNow());
  const measured = (Object.entries(node.policies) as Array<[ChatType, NonNullable<ResolvedNode['policies'][ChatType]>]>).flatMap(([chatType, policy]) =>
    policy.retention === 'forever' ? [] : [{ chatType, retention: policy.retention, before: retentionCutoff(times.now, policy.retention) }],
  );
  // Every chat type's backlog in one pass over the table.
  const counts = await catalog.countExpiredUploadsByChatType(measured.map(({ chatType, before }) => ({ chatType, before })));
  for (const [i, { chatType, retention, before: cutoff }] of measured.entries()) {
    const counted = counts[i]!;
    const ctx: EligibilityContext = { nodeDirectory: node.fileServer.directory, chatType, retentionCutoff: cutoff, currentHourStart: times.currentHourStart, holds: node.holds };
    let oldestDueSince: Date | undefined;
    let afterIndex = KEYSET_START;
    for (let page = 0; page < BACKLOG_PAGES && !oldestDueSince; page++) {
      const rows = await catalog.findExpiredUploads({ chatType, before: cutoff, afterIndex, limit: BACKLOG_PAGE });
      const due = decideRows(rows, ctx).find((d) => d.decision === 'delete');
      if (due) {
        const byAge = DateTime.fromJSDate(due.uploadedAt).plus(retention).toJSDate();
        const byFolder = new Date((due.hourStart ?? due.uploadedAt).getTime() + 3_600_000);
        oldestDueSince = byAge > byFolder ? byAge : byFolder;
      }
      if (rows.length < BACKLOG_PAGE) break;
      afterIndex = rows[rows.length - 1]!.aftIndex;
    }
    out.measurements.backlog[chatType] = { ...counted, oldestDueSince };
    observe('XcpMFTPurgeStalledWarn', 'backlog', backlogVerdict(oldestDueSince, counted.files, now, node.alarms.stalled), chatType);
  }
}
