import type { ChatTypeStats } from './purgeStats.js';

/** How the purge of one node ended. */
export type NodeStatus = 'ok' | 'partial' | 'failed' | 'stopped' | 'refused';

/**
 * A node's status once its chat types are done: a run that went through is partial when a file
 * could not be removed or rows wait for the next run, and refused when a blast-radius limit
 * refused any of it (so that the exit code and the alarms say so). A failed or stopped run
 * stays as it is.
 */
export function settledStatus(status: NodeStatus, chatTypes: ReadonlyArray<ChatTypeStats>, refused: boolean): NodeStatus {
  let settled = status;
  if (settled === 'ok' && chatTypes.some((s) => Object.keys(s.failed).length > 0 || s.rowsPending > 0)) settled = 'partial';
  if (refused && (settled === 'ok' || settled === 'partial')) settled = 'refused';
  return settled;
}
