import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeAlarmThresholds } from '../config/resolveAlarms.js';
import { ConnectError, DatabaseFullError, HostKeyMismatchError } from '../errors.js';
import type { NodeResult } from '../purge/purgeNode.js';
import type { ChatTypeStats } from '../purge/stats.js';
import type { DeliveryObserver } from '../alarms/delivery.js';
import type { NodeMeasurements } from '../alarms/nodeChecks.js';
import { readBuildInfo } from './buildInfo.js';
import { CatchUpMetrics } from './catchUpMetrics.js';
import { droppedLogLines } from '../logger.js';

/** What has already been counted of one ChatTypeStats (stats are cumulative within a run). */
interface Counted {
  failedTransfers: number;
  files: number;
  bytes: number;
  rows: number;
  failed: Record<string, number>;
}

/**
 * The daemon's Prometheus metrics, on a registry of its own (never prom-client's global one).
 * Names follow Cisco's MFT counters where one fits (files and bytes purged), in Prometheus form.
 */
export class PurgeMetrics {
  readonly registry = new Registry();
  private readonly counted = new WeakMap<ChatTypeStats, Counted>();

  private readonly files = new Counter({ name: 'mft_purge_files_total', help: 'Files purged (removed, or found already gone) with their AFT_LOG rows', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly bytes = new Counter({ name: 'mft_purge_bytes_total', help: 'Bytes of the files purged (AFT_LOG.file_size)', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly failedTransfers = new Counter({ name: 'mft_purge_failed_transfers_total', help: 'Purged files whose upload had failed (AFT_LOG bytes_transferred differs from file_size, Cisco\'s sign of a failed transfer)', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly rows = new Counter({ name: 'mft_purge_rows_total', help: 'AFT_LOG rows deleted', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly failures = new Counter({ name: 'mft_purge_failures_total', help: 'Files not purged, and purges that failed, by reason', labelNames: ['node', 'reason'], registers: [this.registry] });
  private readonly lastDuration = new Gauge({ name: 'mft_purge_last_duration_seconds', help: 'Duration of the last purge of the node', labelNames: ['node'], registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: 'mft_purge_last_success_timestamp_seconds', help: 'Unix time at which the last successful purge of the node finished', labelNames: ['node'], registers: [this.registry] });
  private readonly running = new Gauge({ name: 'mft_purge_running', help: '1 while this instance purges the node', labelNames: ['node'], registers: [this.registry] });
  private readonly lockHeld = new Gauge({ name: 'mft_purge_lock_held', help: '1 when this instance holds the node lock (it is the one that purges the node)', labelNames: ['node'], registers: [this.registry] });
  private readonly skipped = new Counter({ name: 'mft_purge_skipped_runs_total', help: 'Scheduled purges not started, by reason (overlap: the previous one was still running; locked-elsewhere: another instance purges the node)', labelNames: ['node', 'reason'], registers: [this.registry] });
  private readonly alarmActive = new Gauge({ name: 'mft_alarm_active', help: '1 while the alarm is raised (XcpMFTExtFsFreeSpaceWarn, XcpMFTDBFullError, XcpMFTExtFsMountError, XcpMFTDBConnectError, XcpMFTPurgeStalledWarn, XcpMFTPurgeRefusedWarn), 0 once cleared', labelNames: ['alarm', 'node', 'chat_type'], registers: [this.registry] });
  private readonly fsFree = new Gauge({ name: 'mft_file_server_available_bytes', help: 'Free space of the node directory\'s file system on the file server (statvfs f_bavail, as df shows it)', labelNames: ['node'], registers: [this.registry] });
  private readonly fsSize = new Gauge({ name: 'mft_file_server_size_bytes', help: 'Size of the node directory\'s file system on the file server', labelNames: ['node'], registers: [this.registry] });
  private readonly fsFreeRatio = new Gauge({ name: 'mft_file_server_available_ratio', help: 'Free space of the file server as a fraction (XcpMFTExtFsFreeSpaceWarn compares it with its thresholds)', labelNames: ['node'], registers: [this.registry] });
  private readonly dbSize = new Gauge({ name: 'mft_database_size_bytes', help: 'Size of the node\'s database (PostgreSQL pg_database_size; Oracle tablespace or quota usage)', labelNames: ['node'], registers: [this.registry] });
  private readonly dbUsedRatio = new Gauge({ name: 'mft_database_used_ratio', help: 'Used fraction of the database capacity (when a capacity is known)', labelNames: ['node'], registers: [this.registry] });
  private readonly backlogFiles = new Gauge({ name: 'mft_expired_backlog_files', help: 'Expired uploads still in AFT_LOG (due for purging, including held ones)', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly backlogBytes = new Gauge({ name: 'mft_expired_backlog_bytes', help: 'Bytes of the expired uploads still in AFT_LOG', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly backlogAge = new Gauge({ name: 'mft_expired_backlog_oldest_overdue_seconds', help: 'How long the oldest file that the purge would remove has been due (0 when none waits)', labelNames: ['node', 'chat_type'], registers: [this.registry] });
  private readonly deliveries = new Counter({ name: 'mft_alarm_deliveries_total', help: 'Alarm event deliveries by sink and result (delivered, failed: retried, dropped: outbox full)', labelNames: ['sink', 'result'], registers: [this.registry] });
  private readonly outbox = new Gauge({ name: 'mft_alarm_outbox_events', help: 'Alarm events waiting on disk for delivery, by sink', labelNames: ['sink'], registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'mft_config_reloads_total', help: 'SIGHUP config reloads, by result (applied, rejected)', labelNames: ['result'], registers: [this.registry] });

  // ---- Build, runs by outcome, run duration, and the alarm thresholds in force ----
  // The shipped alert rules and dashboard (monitoring/) compare the measurements with these
  // thresholds, so that Prometheus alerts on the same values the daemon's alarms use.
  private readonly buildInfo = new Gauge({ name: 'mft_retention_build_info', help: 'Always 1; its labels give the version of mft-retention and of the runtime it runs on', labelNames: ['version', 'runtime', 'runtime_version'], registers: [this.registry] });
  private readonly runs = new Counter({ name: 'mft_purge_runs_total', help: `Purges of the node by outcome (${RUN_OUTCOMES.join(', ')}); failed includes a purge that could not take the node lock`, labelNames: ['node', 'outcome'], registers: [this.registry] });
  private readonly runDuration = new Histogram({ name: 'mft_purge_run_duration_seconds', help: 'Duration of purges of the node, from start to finish, whatever their outcome', labelNames: ['node'], buckets: RUN_DURATION_BUCKETS, registers: [this.registry] });
  private readonly watchedSince = new Gauge({ name: 'mft_purge_watched_since_timestamp_seconds', help: 'Unix time at which the daemon first watched the node (its state file keeps it across restarts); a node never purged successfully counts as stalled from here', labelNames: ['node'], registers: [this.registry] });
  private readonly maxTimeWithoutSuccess = new Gauge({ name: 'mft_purge_max_time_without_success_seconds', help: 'alarms.stalled.maxTimeWithoutSuccess of the node: longest time allowed without a successful purge', labelNames: ['node'], registers: [this.registry] });
  private readonly maxBacklogAge = new Gauge({ name: 'mft_purge_max_backlog_age_seconds', help: 'alarms.stalled.maxBacklogAge of the node: longest time an expired file may wait for the purge', labelNames: ['node'], registers: [this.registry] });
  private readonly fsFreeRatioThreshold = new Gauge({ name: 'mft_file_server_available_ratio_threshold', help: 'alarms.freeSpace thresholds of XcpMFTExtFsFreeSpaceWarn as fractions (bound="lower": raised at or below; bound="upper": cleared at or above)', labelNames: ['node', 'bound'], registers: [this.registry] });
  private readonly fsFreeBytesThreshold = new Gauge({ name: 'mft_file_server_available_bytes_threshold', help: 'alarms.freeSpace lowerFreeBytes and upperFreeBytes of XcpMFTExtFsFreeSpaceWarn, when configured', labelNames: ['node', 'bound'], registers: [this.registry] });
  private readonly dbCapacity = new Gauge({ name: 'mft_database_capacity_bytes', help: 'alarms.database.capacity of the node, when configured (the size its database may reach)', labelNames: ['node'], registers: [this.registry] });
  private readonly dbUsedRatioThreshold = new Gauge({ name: 'mft_database_used_ratio_threshold', help: 'alarms.database thresholds of XcpMFTDBFullError as fractions of the capacity (bound="raise": raised at or above; bound="clear": cleared at or below)', labelNames: ['node', 'bound'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const build = readBuildInfo();
    this.buildInfo.set({ version: build.version, runtime: build.runtime, runtime_version: build.runtimeVersion }, 1);
    new Counter({
      name: 'mft_log_lines_dropped_total',
      help: 'Log lines dropped because the log reader (journald, a pipe) did not keep up and the log buffer was full',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(droppedLogLines());
      },
    });
  }

  // ---- Catch-up (rate, caps, windows): remaining backlog and ETA, in catchUpMetrics.ts ----
  readonly catchUp = new CatchUpMetrics(this.registry);
  // ---- end of catch-up ----

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Exports a node's series at zero from the start, before its first purge. */
  registerNode(node: string, chatTypes: readonly string[]): void {
    for (const chatType of chatTypes) {
      for (const c of [this.files, this.bytes, this.rows, this.failedTransfers]) c.inc({ node, chat_type: chatType }, 0);
    }
    this.running.set({ node }, 0);
    this.lockHeld.set({ node }, 0);
    for (const outcome of RUN_OUTCOMES) this.runs.inc({ node, outcome }, 0);
  }

  /** Adds what a run's stats gained since they were last seen; called after each batch and at the end. */
  recordProgress(node: string, stats: ChatTypeStats): void {
    const before = this.counted.get(stats) ?? { files: 0, bytes: 0, rows: 0, failedTransfers: 0, failed: {} };
    const labels = { node, chat_type: stats.chatType };
    this.files.inc(labels, stats.files - before.files);
    this.bytes.inc(labels, stats.bytes - before.bytes);
    this.rows.inc(labels, stats.rows - before.rows);
    this.failedTransfers.inc(labels, stats.failedTransfers - before.failedTransfers);
    for (const [reason, n] of Object.entries(stats.failed)) {
      this.failures.inc({ node, reason }, n - (before.failed[reason] ?? 0));
    }
    this.counted.set(stats, { files: stats.files, bytes: stats.bytes, rows: stats.rows, failedTransfers: stats.failedTransfers, failed: { ...stats.failed } });
  }

  recordResult(result: NodeResult): void {
    for (const stats of result.chatTypes) this.recordProgress(result.node, stats);
    const finished = result.finishedAt ?? new Date();
    this.lastDuration.set({ node: result.node }, (finished.getTime() - result.startedAt.getTime()) / 1000);
    if (result.status === 'ok') this.lastSuccess.set({ node: result.node }, finished.getTime() / 1000);
    if (result.status === 'failed') this.recordFailure(result.node, result.error);
    this.runs.inc({ node: result.node, outcome: result.status });
    this.runDuration.observe({ node: result.node }, Math.max(0, finished.getTime() - result.startedAt.getTime()) / 1000);
  }

  /** A purge that could not run or broke off: counted under a reason derived from its error. */
  recordFailure(node: string, error: Error | undefined): void {
    this.failures.inc({ node, reason: failureReason(error) });
  }

  setRunning(node: string, running: boolean): void {
    this.running.set({ node }, running ? 1 : 0);
  }

  setLockHeld(node: string, held: boolean): void {
    this.lockHeld.set({ node }, held ? 1 : 0);
  }

  recordSkipped(node: string, reason: 'overlap' | 'locked-elsewhere' | 'alarm-check-overlap'): void {
    this.skipped.inc({ node, reason });
  }

  recordReload(result: 'applied' | 'rejected'): void {
    this.reloads.inc({ result });
  }

  setAlarm(alarm: string, node: string, chatType: string | undefined, active: boolean): void {
    this.alarmActive.set({ alarm, node, chat_type: chatType ?? '' }, active ? 1 : 0);
  }

  /** Drops an alarm's series: another instance speaks for the node now. */
  forgetAlarm(alarm: string, node: string, chatType: string | undefined): void {
    this.alarmActive.remove({ alarm, node, chat_type: chatType ?? '' });
  }

  /** The measurements of an alarm check (absent ones are left as they were). */
  recordMeasurements(node: string, m: NodeMeasurements, now: Date): void {
    if (m.freeSpace) {
      this.fsFree.set({ node }, m.freeSpace.availableBytes);
      this.fsSize.set({ node }, m.freeSpace.totalBytes);
      if (m.freeSpacePercent !== undefined) this.fsFreeRatio.set({ node }, m.freeSpacePercent / 100);
    }
    if (m.databaseUsage) this.dbSize.set({ node }, m.databaseUsage.usedBytes);
    if (m.databaseUsedPercent !== undefined) this.dbUsedRatio.set({ node }, m.databaseUsedPercent / 100);
    for (const [chatType, b] of Object.entries(m.backlog)) {
      const labels = { node, chat_type: chatType };
      this.backlogFiles.set(labels, b.files);
      this.backlogBytes.set(labels, b.bytes);
      this.backlogAge.set(labels, b.oldestDueSince ? Math.max(0, (now.getTime() - b.oldestDueSince.getTime()) / 1000) : 0);
    }
  }

  /** Counts alarm deliveries; plugs into the alarm delivery. */
  readonly deliveryObserver: DeliveryObserver = {
    delivered: (sink) => this.deliveries.inc({ sink, result: 'delivered' }),
    failed: (sink) => this.deliveries.inc({ sink, result: 'failed' }),
    dropped: (sink, n) => this.deliveries.inc({ sink, result: 'dropped' }, n),
    queueLength: (sink, n) => this.outbox.set({ sink }, n),
  };

  /** Forgets a node removed by a reload, so that it stops being exported. */
  removeNode(node: string): void {
    for (const g of [this.lastDuration, this.lastSuccess, this.running, this.lockHeld, this.fsFree, this.fsSize, this.fsFreeRatio, this.dbSize, this.dbUsedRatio]) g.remove({ node });
    this.watchedSince.remove({ node });
    this.removeNodeThresholds(node);
  }

  // ---- Build, runs by outcome, run duration, and the alarm thresholds in force ----

  /** A purge that could not start (the node lock could not be taken): a failed run. */
  countFailedStart(node: string): void {
    this.runs.inc({ node, outcome: 'failed' });
  }

  /** The last success known from the state file, so that a restart does not blank it until the next purge. */
  setLastSuccess(node: string, at: Date): void {
    this.lastSuccess.set({ node }, at.getTime() / 1000);
  }

  setWatchedSince(node: string, at: Date): void {
    this.watchedSince.set({ node }, at.getTime() / 1000);
  }

  /** The alarm thresholds in force for the node (at start and after each reload). */
  setThresholds(node: string, t: NodeAlarmThresholds): void {
    this.removeNodeThresholds(node);
    this.maxTimeWithoutSuccess.set({ node }, t.stalled.maxTimeWithoutSuccessMs / 1000);
    this.maxBacklogAge.set({ node }, t.stalled.maxBacklogAgeMs / 1000);
    this.fsFreeRatioThreshold.set({ node, bound: 'lower' }, t.freeSpace.lowerPercent / 100);
    this.fsFreeRatioThreshold.set({ node, bound: 'upper' }, t.freeSpace.upperPercent / 100);
    if (t.freeSpace.lowerFreeBytes !== undefined) this.fsFreeBytesThreshold.set({ node, bound: 'lower' }, t.freeSpace.lowerFreeBytes);
    if (t.freeSpace.upperFreeBytes !== undefined) this.fsFreeBytesThreshold.set({ node, bound: 'upper' }, t.freeSpace.upperFreeBytes);
    if (t.database.capacityBytes !== undefined) this.dbCapacity.set({ node }, t.database.capacityBytes);
    this.dbUsedRatioThreshold.set({ node, bound: 'raise' }, t.database.raisePercent / 100);
    this.dbUsedRatioThreshold.set({ node, bound: 'clear' }, t.database.clearPercent / 100);
  }

  private removeNodeThresholds(node: string): void {
    for (const g of [this.maxTimeWithoutSuccess, this.maxBacklogAge, this.dbCapacity]) g.remove({ node });
    for (const bound of ['lower', 'upper']) {
      this.fsFreeRatioThreshold.remove({ node, bound });
      this.fsFreeBytesThreshold.remove({ node, bound });
    }
    for (const bound of ['raise', 'clear']) this.dbUsedRatioThreshold.remove({ node, bound });
  }
}

/** Every status a purge can end with (NodeResult.status). */
export const RUN_OUTCOMES = ['ok', 'partial', 'refused', 'stopped', 'failed'] as const satisfies ReadonlyArray<NodeResult['status']>;

/** From a quick run of a small node to an 8-hour first purge of a years-old backlog. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];

export function failureReason(error: Error | undefined): string {
  if (error instanceof HostKeyMismatchError) return 'host-key-mismatch';
  if (error instanceof ConnectError) return `${error.endpoint}-unreachable`;
  if (error instanceof DatabaseFullError) return 'database-full';
  return 'error';
}
