import { loadConfig } from '../config/loadConfig.js';
import { renderReport, reportJson } from '../doctor/render.js';
import { runDoctor } from '../doctor/runDoctor.js';
import { allChecks, type DoctorReport } from '../doctor/types.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import { assertKnownNodes } from './knownNodes.js';
import { UsageError, type Io } from './io.js';

export interface DoctorArgs {
  config: string;
  json: boolean;
  nodes?: string[];
}

/** `mft-retention doctor`: the checks of Cisco's External File Server / Database Status pages, per node. */
export async function doctorCommand(args: DoctorArgs, io: Io): Promise<ExitCode> {
  const config = await loadConfig(args.config, io.env);
  assertKnownNodes(config, args.nodes);
  const report = await runDoctor(config, { nodes: args.nodes, env: io.env });
  io.out(args.json ? JSON.stringify(reportJson(report), null, 2) : renderReport(report));
  return doctorExitCode(report);
}

/** 0 when nothing failed (warnings allowed); 3 when a node could not be reached or logged in to; else 1. */
export function doctorExitCode(report: DoctorReport): ExitCode {
  const failed = allChecks(report).filter((c) => c.status === 'fail');
  if (failed.length === 0) return EXIT.ok;
  return failed.some((c) => c.connection) ? EXIT.connection : EXIT.partial;
}
