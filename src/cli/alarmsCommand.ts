import path from 'node:path';
import { pino } from 'pino';
import { describeEvent, testEvent } from '../alarms/alarmEvent.js';
import { ALARM_FILE, readAlarmFile } from '../alarms/alarmStore.js';
import { checkNode } from '../alarms/nodeChecks.js';
import { makeSinks } from '../alarms/sinks/makeSinks.js';
import { loadConfig } from '../config/loadConfig.js';
import { coerceError } from '../errors.js';
import { openCatalog, openFileStore } from '../purge/openPorts.js';
import { readState } from '../daemon/stateFile.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import { assertKnownNodes } from './knownNodes.js';
import type { Io } from './io.js';

export interface AlarmsOptions {
  config: string;
  json: boolean;
  /** Send a test alarm to every sink, right now, and say which got it. */
  test: boolean;
  /** Run the alarm checks now and show their verdicts (changes nothing). */
  check: boolean;
  nodes?: string[];
}

/**
 * `mft-retention alarms`: the alarm state the daemon keeps (active alarms, events waiting
 * for a sink), `--check` to run the checks now, `--test` to prove every sink is reachable.
 */
export async function alarmsCommand(opts: AlarmsOptions, io: Io): Promise<ExitCode> {
  const config = await loadConfig(opts.config, io.env);
  assertKnownNodes(config, opts.nodes);
  if (opts.test) return sendTest(config, opts, io);
  if (opts.check) return runChecks(config, opts, io);
  const dir = config.daemon.stateDirectory;
  const file = await readAlarmFile(dir);
  const active = Object.values(file.state.active).filter((a) => !opts.nodes || opts.nodes.includes(a.node));
  const pending = Object.fromEntries(Object.entries(file.outbox).map(([sink, box]) => [sink, box.length]));
  if (opts.json) {
    io.out(JSON.stringify({ stateFile: path.join(dir, ALARM_FILE), active, pendingDeliveries: pending }, null, 2));
    return EXIT.ok;
  }
  io.out(`Alarm state: ${path.join(dir, ALARM_FILE)}`);
  if (active.length === 0) io.out('\nNo alarm is raised.');
  for (const a of active) {
    io.out(`\n${a.severity.toUpperCase()}  ${a.name}  node ${a.node}${a.chatType ? ` (${a.chatType})` : ''}`);
    io.out(`  raised:    ${a.raisedAt}`);
    io.out(`  value:     ${a.value}`);
    io.out(`  threshold: ${a.threshold}`);
  }
  const waiting = Object.entries(pending).filter(([, n]) => n > 0);
  if (waiting.length > 0) io.out(`\nEvents waiting for delivery: ${waiting.map(([s, n]) => `${s} ${n}`).join(', ')}`);
  return EXIT.ok;
}

async function sendTest(config: Awaited<ReturnType<typeof loadConfig>>, opts: AlarmsOptions, io: Io): Promise<ExitCode> {
  const log = pino({ level: 'info' }, pino.destination(2));
  const event = testEvent(new Date());
  const results = await Promise.all(
    makeSinks(config.alarms, log, io.env).map(async (sink) => {
      try {
        await sink.deliver(event);
        return { sink: sink.name, type: sink.type, ok: true as const };
      } catch (err) {
        return { sink: sink.name, type: sink.type, ok: false as const, error: coerceError(err).message };
      }
    }),
  );
  if (opts.json) io.out(JSON.stringify({ event, results }, null, 2));
  else {
    io.out(`Test alarm ${event.id} (${describeEvent(event)}):`);
    for (const r of results) io.out(`  ${r.ok ? 'delivered' : 'FAILED   '}  ${r.sink} (${r.type})${r.ok ? '' : `: ${r.error}`}`);
  }
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.connection;
}

async function runChecks(config: Awaited<ReturnType<typeof loadConfig>>, opts: AlarmsOptions, io: Io): Promise<ExitCode> {
  const state = await readState(config.daemon.stateDirectory).catch(() => ({ lastSuccess: {} as Record<string, string>, watchedSince: {} as Record<string, string> }));
  const now = new Date();
  const nodes = config.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.name));
  const reports = await Promise.all(
    nodes.map(async (node) => {
      const last = state.lastSuccess[node.name];
      const r = await checkNode({
        node,
        now,
        watchedSince: new Date(state.watchedSince[node.name] ?? now),
        lastSuccess: last ? new Date(last) : undefined,
        openCatalog: () => openCatalog(node, io.env),
        openFileStore: () => openFileStore(node, io.env),
      });
      return { node: node.name, observations: r.observations, problems: r.errors.map((e) => e.message) };
    }),
  );
  const raising = reports.some((r) => r.observations.some((o) => o.verdict === 'raise'));
  if (opts.json) io.out(JSON.stringify(reports, null, 2));
  else {
    for (const r of reports) {
      io.out(`Node ${r.node}`);
      for (const o of r.observations) {
        const word = o.verdict === 'raise' ? 'RAISE' : o.verdict === 'clear' ? 'ok   ' : 'hold ';
        io.out(`  ${word}  ${o.key.name}${o.key.chatType ? ` (${o.key.chatType})` : ''} [${o.cause}]: ${o.value}; ${o.threshold}`);
      }
      for (const p of r.problems) io.out(`  note   ${p}`);
    }
  }
  return raising ? EXIT.partial : EXIT.ok;
}
