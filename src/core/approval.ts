/**
 * Approval tokens for runs a blast-radius limit refused. A token names the node, the scope
 * (one chat type, or `all` for the node-wide caps), the files and bytes the refused run
 * counted, and the instant its count was taken. An approved run counts again as of that
 * instant and goes ahead only if it finds no more files and no more bytes than the token
 * says: a token can never approve a different or a larger run.
 */
import { CHAT_TYPES, type ChatType } from './chatType.js';

export type ApprovalScope = ChatType | 'all';

export interface Approval {
  node: string;
  scope: ApprovalScope;
  files: number;
  bytes: number;
  /** The instant the refused run counted at (second precision). */
  asOf: Date;
  /**
   * For a plan: the first 16 hex digits of its checksum. Such a token approves applying that
   * plan only, never a run that decides for itself.
   */
  plan?: string;
}

const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `20261121T054216Z`: the instant, floored to the second. */
function compactTime(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** `node_1:im:12000:734003200:20261121T054216Z`, `...:plan-<16 hex>` for a plan (node names never contain ":"). */
export function formatApproval(a: Approval): string {
  return `${a.node}:${a.scope}:${a.files}:${a.bytes}:${compactTime(a.asOf)}${a.plan ? `:plan-${a.plan}` : ''}`;
}

/** Floors an instant to the second, as a token keeps it; counting at it can only find less. */
export function approvalInstant(t: Date): Date {
  return new Date(Math.floor(t.getTime() / 1000) * 1000);
}

/** Parses a token; a string error says what is wrong with it. */
export function parseApproval(token: string): Approval | string {
  const parts = token.trim().split(':');
  if (parts.length !== 5 && parts.length !== 6) return `"${token}" is not an approval token; expected NODE:SCOPE:FILES:BYTES:TIME (or, for a plan, NODE:SCOPE:FILES:BYTES:TIME:plan-CHECKSUM) as printed by the refused run`;
  const [node, scope, files, bytes, time, planPart] = parts as [string, string, string, string, string, string | undefined];
  const plan = planPart === undefined ? undefined : /^plan-([0-9a-f]{16})$/.exec(planPart)?.[1];
  if (planPart !== undefined && !plan) return `"${token}": "${planPart}" should be plan- and the first 16 hex digits of the plan's checksum`;
  if (!node) return `"${token}": no node name`;
  if (scope !== 'all' && !(CHAT_TYPES as readonly string[]).includes(scope)) return `"${token}": scope "${scope}" is neither a chat type (${CHAT_TYPES.join(', ')}) nor "all"`;
  if (!/^\d+$/.test(files) || !/^\d+$/.test(bytes)) return `"${token}": files and bytes must be whole numbers`;
  const m = COMPACT.exec(time);
  const asOf = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  if (!asOf || Number.isNaN(asOf.getTime()) || compactTime(asOf) !== time) return `"${token}": "${time}" is not a time such as 20261121T054216Z`;
  return { node, scope: scope as ApprovalScope, files: Number(files), bytes: Number(bytes), asOf, ...(plan ? { plan } : {}) };
}
