import type { Logger } from 'pino';
import { AlarmService } from '../alarms/alarmService.js';
import { checkNode } from '../alarms/nodeChecks.js';
import { observationsFromPurge } from '../alarms/purgeObservations.js';
import type { ResolvedConfig } from '../config/resolvedConfig.js';
import { readState, writeState } from '../daemon/stateFile.js';
import { coerceError } from '../errors.js';
import type { NodeResult } from '../purge/purgeNode.js';
import { openCatalog, openFileStore } from '../purge/openPorts.js';

/** How long a one-shot purge waits for its alarm events to be delivered before leaving them queued. */
const FLUSH_MS = 10_000;

/**
 * `purge --alarms` (the systemd timer): what the daemon does after each purge, once. The
 * alarm state, the undelivered events and the last success per node are kept in the same
 * state directory as the daemon's, so each run carries on where the previous one stopped.
 * Use either the timer or the daemon, not both: they would share this state.
 */
export async function raiseAlarmsAfterPurge(config: ResolvedConfig, results: NodeResult[], log: Logger, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = config.daemon.stateDirectory;
  const now = new Date();
  const state = await readState(dir).catch((err) => {
    log.warn({ stateDirectory: dir, err: coerceError(err) }, 'cannot read the state; every node counts as never purged');
    return { lastSuccess: {} as Record<string, string>, watchedSince: {} as Record<string, string> };
  });
  for (const r of results) {
    state.watchedSince[r.node] ??= now.toISOString();
    if (r.status === 'ok') state.lastSuccess[r.node] = (r.finishedAt ?? now).toISOString();
  }
  await writeState(dir, state);
  const service = await AlarmService.open(config.alarms, dir, log, env);
  for (const r of results) {
    const node = config.nodes.find((n) => n.name === r.node);
    if (!node) continue;
    await service.observe(observationsFromPurge(r, now));
    const last = state.lastSuccess[r.node];
    const checked = await checkNode({
      node,
      now,
      watchedSince: new Date(state.watchedSince[r.node]!),
      lastSuccess: last ? new Date(last) : undefined,
      openCatalog: () => openCatalog(node, env),
      openFileStore: () => openFileStore(node, env),
    });
    for (const err of checked.errors) log.warn({ node: r.node, err }, 'alarm check could not measure everything');
    await service.observe(checked.observations);
  }
  await service.refresh();
  await service.stop(FLUSH_MS);
  if (service.writeError) throw new Error(`cannot save the alarm state in ${dir} (${service.writeError.message}); raises and clears were sent but will be sent again by the next run`, { cause: service.writeError });
}
