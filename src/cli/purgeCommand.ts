import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import { CHAT_TYPES, isChatType, type ChatType } from '../core/chatType.js';
import { coerceError } from '../errors.js';
import { readAlarmFile } from '../alarms/alarmStore.js';
import { handleSignals, type SignalSource } from '../daemon/signals.js';
import { StopControl } from '../purge/stopControl.js';
import { makeLogger } from '../logger.js';
import { exitAfterLogs } from '../logStream.js';
import { runPurge } from '../purge/runPurge.js';
import { EXIT, type ExitCode } from '../shared/exitCodes.js';
import { exitCodeFor, parseAsOf, type PurgeArgs } from './purgeArgs.js';
import { assertKnownNodes } from './knownNodes.js';
import { fileRecord, renderReport, summaryRecord } from './purgeReport.js';
import { UsageError, type Io } from './io.js';
import { ProgressDisplay } from './progress.js';
import { nextDaemonPurge } from '../daemon/nextRun.js';
import { parseApproval } from '../core/approval.js';
import { checkFileServerReadOnly, renderPreflight, type FileServerPreflight } from '../purge/fileServerPreflight.js';
import { commandDeadline } from './stopBy.js';
import { catchUpPlans, renderCatchUp, renderEnded } from './catchUpReport.js';

/** The process edges a purge touches on a stop, injectable for in-process tests. */
export interface PurgeProcess {
  signals: SignalSource;
  /** Ends the process at once (a second stop signal). */
  exit(code: number): void;
}

// The log is written before the process goes: a forced exit would otherwise cut its last lines.
const realProcess: PurgeProcess = { signals: process, exit: (code) => exitAfterLogs(code) };

/**
 * `mft-retention purge`: one purge cycle (or dry-run) over the configured nodes, then exit.
 * The first SIGTERM or SIGINT (systemctl stop, Ctrl-C) stops it as the daemon stops: no new
 * batch, the batch in flight finishes, the database's long reads are cancelled, the report says
 * `stopped`, exit code 5. A second one gives up at once: every statement of the purge is
 * cancelled on the server and the process exits (5); rows of files already removed are then
 * deleted by the next run.
 */
export async function purgeCommand(args: PurgeArgs, io: Io, proc: PurgeProcess = realProcess): Promise<ExitCode> {
  if (args.plan !== undefined || args.savePlan !== undefined) {
    const { planCommand } = await import('./planCommand.js');
    return planCommand(args, io);
  }
  if (args.alarms && args.dryRun) throw new UsageError('--alarms is for a real purge (the systemd timer); a dry-run changes nothing, alarm state included');
  if (args.html && !args.dryRun) throw new UsageError('--html FILE writes the page of a dry-run; add --dry-run');
  if (args.html && !existsSync(dirname(resolve(args.html)))) throw new UsageError(`--html ${args.html}: the folder ${dirname(resolve(args.html))} does not exist`);
  if (args.offline && !args.dryRun) throw new UsageError('--offline is for a dry-run: a real purge must reach the file server');
  if (args.asOf && !args.dryRun) {
    throw new UsageError('--as-of simulates another date and is only allowed with --dry-run: a real purge always uses the real clock');
  }
  const asOf = args.asOf ? parseAsOf(args.asOf, io) : undefined;
  const chatTypes = args.chatTypes?.map((c) => {
    if (!isChatType(c)) throw new UsageError(`--chat-type "${c}" is not a chat type; expected one of ${CHAT_TYPES.join(', ')}`);
    return c as ChatType;
  });
  const config = await loadConfig(args.config);
  assertKnownNodes(config, args.nodes);
  // A damaged alarm file is a startup error: found before the purge, not after it.
  if (args.alarms) await readAlarmFile(config.daemon.stateDirectory);
  const approvals = (args.approve ?? []).map((token) => {
    const a = parseApproval(token);
    if (typeof a === 'string') throw new UsageError(`--approve ${a}`);
    if (!config.nodes.some((n) => n.name === a.node)) throw new UsageError(`--approve "${token}" is for node "${a.node}", which is not in ${config.file}`);
    if (args.nodes && !args.nodes.includes(a.node)) throw new UsageError(`--approve "${token}" is for node "${a.node}", which this run leaves out (--node ${args.nodes.join(', ')})`);
    return a;
  });
  const started = asOf ?? new Date();
  // A dry-run changes nothing and takes no time to speak of: the time to stop by is for real runs.
  const deadline = commandDeadline({ until: args.until, maxDuration: args.maxDuration }, config.daemon.timezone, new Date());
  // A progress bar only for a person watching a real purge: never in JSON or when piped.
  const progress = !args.dryRun && !args.json && io.progress ? new ProgressDisplay(io.progress) : undefined;
  // On a terminal with a progress bar, one log line per removed file would bury it: only
  // warnings are shown there unless --log-level asks for more (the journal gets everything).
  const level = args.logLevel ?? (args.dryRun || progress ? 'warn' : config.log.level);
  const log = makeLogger({ level: level as never, fd: 2 });
  const stop = new StopControl();
  const removeHandlers = handleSignals(
    proc.signals,
    {
      shutdown: (signal) => {
        log.warn({ signal }, 'stopping: the batch in flight finishes, no new one starts; send the signal again to give up at once');
        void stop.stop();
      },
      ignored: () => undefined,
      force: (signal) => {
        log.error({ signal }, 'second stop signal: giving up at once; statements in progress are cancelled and the next run finishes the work');
        log.flush?.();
        // Exit once the cancel requests have reached the server (each gives up after 2 s).
        void stop.giveUp().finally(() => proc.exit(EXIT.stopped));
      },
    },
    { graceMs: 0 },
  );
  const results = await runPurge(config, log, {
    stop,
    signal: stop.signal,
    dryRun: args.dryRun,
    nodes: args.nodes,
    chatTypes,
    hostNow: () => asOf ?? new Date(),
    simulated: Boolean(asOf),
    env: io.env,
    approvals,
    deadline: args.dryRun ? undefined : deadline,
    onProgress: progress ? (node, stats, backlog, step) => progress.update(node, stats, backlog, step) : undefined,
    onFile: args.json ? (node, f, outcome) => io.out(JSON.stringify(fileRecord(node, f, outcome))) : undefined,
  }).finally(removeHandlers);
  progress?.finish();
  // A dry-run reads only the database; one read-only login per file server catches a wrong host
  // key, key or directory before the real purge does.
  const preflight = args.dryRun && !args.offline ? await Promise.all(config.nodes.filter((n) => !args.nodes || args.nodes.includes(n.name)).map((n) => checkFileServerReadOnly(n, io.env))) : [];
  const plans = args.dryRun ? catchUpPlans(config, results, started) : [];
  if (args.json) {
    for (const p of preflight) io.out(JSON.stringify({ type: 'file-server-check', ...p }));
    io.out(JSON.stringify({ ...summaryRecord(results, args.dryRun, started), ...(plans.length ? { catchUp: plans } : {}) }));
  } else {
    const { schedule, timezone, windows } = config.daemon;
    io.out(renderReport(results, args.dryRun, started, { schedule, timezone, windows: windows.map((w) => w.text), at: nextDaemonPurge(config.daemon, started) }, config.file));
    const more = [...renderCatchUp(plans, config), ...(args.dryRun ? [] : renderEnded(results))];
    if (more.length) io.out(more.join('\n'));
    if (args.dryRun) io.out(renderPreflight(preflight, Boolean(args.offline)).join('\n'));
  }
  if (args.html) {
    const { renderDryRunHtml } = await import('./dryRunHtml.js');
    await writeFile(args.html, renderDryRunHtml(results, started, config.file));
    if (!args.json) io.out(`\nThe same as a page: ${args.html}`);
  }
  const code = withPreflight(exitCodeFor(results), preflight);
  if (args.alarms) {
    // The purge's result is reported above whatever happens here; a failure here is said after it.
    const { raiseAlarmsAfterPurge } = await import('./purgeAlarms.js');
    try {
      await raiseAlarmsAfterPurge(config, results, log, io.env);
    } catch (err) {
      const error = coerceError(err);
      log.debug({ err: error }, 'alarm step failed');
      io.err(`mft-retention: the purge finished (exit ${code}), but the alarm checks after it failed: ${error.message}`);
      log.flush?.();
      return code === EXIT.ok ? EXIT.partial : code;
    }
  }
  log.flush?.();
  return code;
}

/** A dry-run whose file server check failed does not exit 0: 3 for a login, 1 for the rest. */
function withPreflight(code: ExitCode, preflight: FileServerPreflight[]): ExitCode {
  if (code !== EXIT.ok) return code;
  if (preflight.some((p) => p.connectionFailed)) return EXIT.connection;
  return preflight.some((p) => p.status !== 'ok') ? EXIT.partial : code;
}

