import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { checkDatabase } from './databaseChecks.js';
import { CISCO_FREE_SPACE_THRESHOLDS, type FreeSpaceThresholds } from './directoryChecks.js';
import { checkFileServer } from './fileServerChecks.js';
import { checkOracleDatabase } from './oracleChecks.js';
import { checkMaker, makeReport, type DoctorReport } from './types.js';
import { describeExposure, exposureFix, findSecretExposures } from '../config/secretExposure.js';

export interface DoctorOptions {
  /** Only these nodes (all when undefined); names already validated against the config. */
  nodes?: string[];
  env: NodeJS.ProcessEnv;
  /** @defaultValue Cisco's 10 % / 15 % */
  thresholds?: FreeSpaceThresholds;
}

/**
 * Every check of every node: nodes side by side, and within a node the file server and the
 * database side by side. Read-only except for one temp file created and deleted per node
 * directory. Never throws for a node's problem: that is a failed check.
 */
export async function runDoctor(config: ResolvedConfig, opts: DoctorOptions): Promise<DoctorReport> {
  const nodes = config.nodes.filter((n) => !opts.nodes || opts.nodes.includes(n.name));
  const reports = await Promise.all(
    nodes.map(async (n) => ({
      node: n.name,
      groups: await Promise.all([
        // The node's XcpMFTExtFsFreeSpaceWarn thresholds (Cisco's 10/15 % unless configured).
        checkFileServer(n.fileServer, { env: opts.env, thresholds: opts.thresholds ?? n.alarms?.freeSpace ?? CISCO_FREE_SPACE_THRESHOLDS }),
        n.database.type === 'oracle'
          ? checkOracleDatabase(n.name, n.database, { env: opts.env, maxClockSkewMs: config.purge.maxClockSkewMs })
          : checkDatabase(n.database, { env: opts.env, maxClockSkewMs: config.purge.maxClockSkewMs }),
      ]),
    })),
  );
  // A secret others can read is a warning on the group that uses it (password: database; key: file server).
  for (const e of await findSecretExposures(config, opts.env, opts.nodes)) {
    const group = reports.find((r) => r.node === e.node)?.groups.find((g) => g.group === (/SSH/.test(e.what) ? 'file-server' : 'database'));
    group?.checks.push(checkMaker(group.group).warn('secret file', describeExposure(e), exposureFix(e)));
  }
  return makeReport(reports);
}
