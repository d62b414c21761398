import type { ResolvedDaemon } from '../config/resolvedConfig.js';
import { windowSchedule, windowState, type WindowSchedule } from '../core/purgeWindows.js';
import type { Deadline } from '../purge/pacing.js';

/** Whether the daemon may start a purge now (daemon.windows), and when it must stop. */
export type WindowVerdict = { start: true; deadline?: Deadline } | { start: false; opensAt?: Date };

// The timetable of a config's windows, built once (a dry-run's plan asks thousands of times).
const timetables = new WeakMap<ResolvedDaemon['windows'], Map<string, WindowSchedule>>();

function timetable(daemon: Pick<ResolvedDaemon, 'windows' | 'timezone'>): WindowSchedule {
  let byZone = timetables.get(daemon.windows);
  if (!byZone) timetables.set(daemon.windows, (byZone = new Map()));
  let s = byZone.get(daemon.timezone);
  if (!s) byZone.set(daemon.timezone, (s = windowSchedule(daemon.windows, daemon.timezone)));
  return s;
}

export function purgeWindowVerdict(daemon: Pick<ResolvedDaemon, 'windows' | 'timezone'>, now: Date): WindowVerdict {
  if (daemon.windows.length === 0) return { start: true };
  const state = windowState(timetable(daemon), now);
  if (!state.inside) return { start: false, opensAt: state.opensAt };
  return { start: true, ...(state.endsAt ? { deadline: { at: state.endsAt, reason: 'window' as const } } : {}) };
}
