import { loadConfig } from '../config/loadConfig.js';
import { resetHistory } from '../purge/runHistory.js';
import { resetAlarmFile } from '../alarms/alarmStore.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import { UsageError, type Io } from './io.js';
import { assertKnownNodes } from './knownNodes.js';

/**
 * `mft-retention state reset-history`: the deliberate way back from a damaged purge history.
 * The relative limit then has no "usual" for the node until a few runs have been recorded.
 */
export async function resetHistoryCommand(opts: { config: string; nodes?: string[]; all: boolean }, io: Io): Promise<ExitCode> {
  if (!opts.nodes && !opts.all) throw new UsageError('say which history to reset: --node NAME (repeat for several) or --all');
  if (opts.nodes && opts.all) throw new UsageError('--node and --all cannot be combined');
  const config = await loadConfig(opts.config, io.env);
  assertKnownNodes(config, opts.nodes);
  const r = await resetHistory(config.daemon.stateDirectory, opts.nodes);
  if (r.problem) {
    io.out(`The purge history ${r.file} ${r.problem}; nothing in it could be trusted, so the history of every node starts again.`);
    if (r.keptCopy) io.out(`The damaged file was kept as ${r.keptCopy}.`);
  } else {
    io.out(`The purge history of ${r.reset === 'every node' ? 'every node' : r.reset.join(', ')} in ${r.file} starts again.`);
  }
  io.out('Until a few runs are recorded (3), the limit on unusually large runs (purge.limits.maxTimesUsual) has nothing to compare with; the other limits apply as always.');
  if (r.stillDamaged) {
    io.out(`The history of ${r.stillDamaged.join(', ')} is still damaged; reset it with --node too.`);
    return EXIT.partial;
  }
  return EXIT.ok;
}

/** `mft-retention state reset-alarms`: the deliberate way back from a damaged alarms.json. */
export async function resetAlarmsCommand(opts: { config: string }, io: Io): Promise<ExitCode> {
  const config = await loadConfig(opts.config, io.env);
  const r = await resetAlarmFile(config.daemon.stateDirectory);
  io.out(`The alarm state ${r.file} starts again with no active alarm and no queued event.${r.keptCopy ? ` The previous file was kept as ${r.keptCopy}.` : ''}`);
  io.out('Alarms still shown at a receiver are cleared there by hand; the next alarm checks raise again what is still wrong.');
  return EXIT.ok;
}
