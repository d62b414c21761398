import type { Logger } from 'pino';
import { loadConfig } from '../config/loadConfig.js';
import type { ResolvedConfig, ResolvedNode } from '../config/resolvedConfig.js';
import { CHAT_TYPES } from '../core/chatType.js';
import { coerceError } from '../errors.js';
import { runPurge } from '../purge/runPurge.js';

/** Reads the config file again; on any problem logs why and returns undefined (the old config stays). */
export async function loadNewConfig(file: string, env: NodeJS.ProcessEnv, log: Logger): Promise<ResolvedConfig | undefined> {
  try {
    return await loadConfig(file, env);
  } catch (err) {
    const error = coerceError(err);
    log.error({ file, reason: error.message, err: error }, 'config reload rejected; the running config is kept');
    return undefined;
  }
}

export interface ConfigChanges {
  added: string[];
  removed: string[];
  /** Nodes whose database moved: their lock must be taken again there. */
  databaseChanged: string[];
  /** Nodes where a chat type's retention changed. */
  policiesChanged: string[];
  scheduleChanged: boolean;
  listenChanged: boolean;
}

const databaseIdentity = ({ database: d }: ResolvedNode): string =>
  JSON.stringify(d.type === 'oracle' ? [d.type, d.connectString, d.user, d.owner, d.table] : [d.host, d.port, d.database, d.schema, d.table]);
const retentions = (n: ResolvedNode): string => JSON.stringify(CHAT_TYPES.map((ct) => n.policies[ct]?.retentionText ?? null));

export function diffConfigs(before: ResolvedConfig, after: ResolvedConfig): ConfigChanges {
  const old = new Map(before.nodes.map((n) => [n.name, n]));
  const now = new Map(after.nodes.map((n) => [n.name, n]));
  const kept = after.nodes.filter((n) => old.has(n.name));
  const d = (x: ResolvedConfig): string => JSON.stringify([x.daemon.schedule, x.daemon.timezone, x.daemon.jitterMs]);
  return {
    added: after.nodes.filter((n) => !old.has(n.name)).map((n) => n.name),
    removed: before.nodes.filter((n) => !now.has(n.name)).map((n) => n.name),
    databaseChanged: kept.filter((n) => databaseIdentity(n) !== databaseIdentity(old.get(n.name)!)).map((n) => n.name),
    policiesChanged: kept.filter((n) => retentions(n) !== retentions(old.get(n.name)!)).map((n) => n.name),
    scheduleChanged: d(before) !== d(after),
    listenChanged: JSON.stringify(before.daemon.http) !== JSON.stringify(after.daemon.http),
  };
}

/**
 * Logs, per node and chat type, how many files a policy change made eligible: a dry-run of
 * each config (read-only, AFT_LOG only) and the difference. Stops early on shutdown.
 */
export async function logNewlyEligible(before: ResolvedConfig, after: ResolvedConfig, nodes: string[], env: NodeJS.ProcessEnv, signal: AbortSignal, log: Logger): Promise<void> {
  if (nodes.length === 0) return;
  const quiet = log.child({ check: 'reload-eligibility' }, { level: 'error' });
  const count = async (config: ResolvedConfig): Promise<Map<string, number>> => {
    const results = await runPurge(config, quiet, { dryRun: true, nodes, hostNow: () => new Date(), env, signal });
    return new Map(results.flatMap((r) => r.chatTypes.map((s) => [`${r.node}/${s.chatType}`, s.files] as const)));
  };
  try {
    const [was, will] = [await count(before), await count(after)];
    if (signal.aborted) return;
    for (const node of after.nodes.filter((n) => nodes.includes(n.name))) {
      const previous = before.nodes.find((n) => n.name === node.name)!;
      for (const chatType of CHAT_TYPES) {
        const eligibleBefore = was.get(`${node.name}/${chatType}`) ?? 0;
        const eligibleAfter = will.get(`${node.name}/${chatType}`) ?? 0;
        log.info(
          {
            node: node.name,
            chatType,
            retentionBefore: previous.policies[chatType]?.retentionText ?? 'none',
            retentionAfter: node.policies[chatType]?.retentionText ?? 'none',
            eligibleBefore,
            eligibleAfter,
            newlyEligible: Math.max(0, eligibleAfter - eligibleBefore),
          },
          'files eligible under the reloaded policies',
        );
      }
    }
  } catch (err) {
    log.warn({ err: coerceError(err) }, 'cannot count the files the reloaded policies make eligible');
  }
}
