import type { ResolvedDaemon } from '../config/loadConfig.js';
import { windowSchedule, windowState } from '../core/purgeWindows.js';
import type { Deadline } from '../purge/pacing.js';

/** Whether the daemon may start a purge now (daemon.windows), and when it must stop. */
export type WindowVerdict = { start: true; deadline?: Deadline } | { start: false; opensAt?: Date };

export function purgeWindowVerdict(daemon: Pick<ResolvedDaemon, 'windows' | 'timezone'>, now: Date): WindowVerdict {
  if (daemon.windows.length === 0) return { start: true };
  const state = windowState(windowSchedule(daemon.windows, daemon.timezone), now);
  if (!state.inside) return { start: false, opensAt: state.opensAt };
  return { start: true, ...(state.endsAt ? { deadline: { at: state.endsAt, reason: 'window' as const } } : {}) };
}
