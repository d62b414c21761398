import { ConnectError, DatabaseFullError } from '../errors.js';
import type { NodeResult } from '../purge/purgeNode.js';
import type { Observation } from './alarmState.js';

const CONNECT_THRESHOLD = 'raised when a connection attempt fails, cleared when one succeeds';

/**
 * What a finished purge says about the alarms: a connection it could not make or lost, a
 * statement refused because the database is full; and, when it got through, that the
 * connections work and the database accepts deletes again.
 */
export function observationsFromPurge(r: NodeResult, now: Date): Observation[] {
  const out: Observation[] = [];
  const add = (name: Observation['key']['name'], cause: string, verdict: Observation['verdict'], value: string, threshold: string): void => {
    out.push({ key: { name, node: r.node }, cause, verdict, value, threshold, at: now });
  };
  const err = r.error;
  if (err instanceof ConnectError) {
    add(err.endpoint === 'database' ? 'XcpMFTDBConnectError' : 'XcpMFTExtFsMountError', 'connect', 'raise', err.message, CONNECT_THRESHOLD);
  }
  if (err instanceof DatabaseFullError) {
    add('XcpMFTDBFullError', 'sqlstate', 'raise', err.message, 'raised when a statement fails because the database is full');
    add('XcpMFTDBConnectError', 'connect', 'clear', 'connected', CONNECT_THRESHOLD);
  }
  if (r.status !== 'failed') {
    // Both connections were open for the whole run (a lost one fails the run).
    add('XcpMFTDBConnectError', 'connect', 'clear', 'connected', CONNECT_THRESHOLD);
    add('XcpMFTExtFsMountError', 'connect', 'clear', 'connected', CONNECT_THRESHOLD);
  }
  if (r.status === 'ok' || r.status === 'partial' || r.status === 'refused') {
    add('XcpMFTDBFullError', 'sqlstate', 'clear', 'a purge completed its deletes', 'cleared when a later purge completes');
  }
  out.push(...refusalObservations(r, now));
  return out;
}

/**
 * A refused scope (a chat type, or `all` for a node-wide cap) raises XcpMFTPurgeRefusedWarn;
 * a later run that gets through that scope clears it.
 */
function refusalObservations(r: NodeResult, now: Date): Observation[] {
  const refused = r.refused ?? [];
  const threshold = 'raised when a safety limit refuses a purge, cleared when a later purge of the scope goes ahead';
  const out: Observation[] = refused.map((x) => ({
    key: { name: 'XcpMFTPurgeRefusedWarn', node: r.node, chatType: x.chatType },
    cause: 'refused',
    verdict: 'raise',
    value: x.message,
    threshold,
    at: now,
  }));
  if (r.status === 'failed' || r.status === 'stopped') return out;
  const scopes = new Set<string>(refused.map((x) => x.chatType));
  const cleared = [...r.chatTypes.map((s) => s.chatType), 'all'].filter((c) => !scopes.has(c) && !scopes.has('all'));
  for (const chatType of cleared) {
    out.push({ key: { name: 'XcpMFTPurgeRefusedWarn', node: r.node, chatType }, cause: 'refused', verdict: 'clear', value: 'the purge went ahead', threshold, at: now });
  }
  return out;
}
