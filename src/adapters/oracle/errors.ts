/**
 * What an error from oracledb means to the purge. Pure: classifies by the ORA-/NJS- code the
 * driver puts on the error, so it can be tested without a server.
 */

/**
 * "The database cannot grow": Cisco's XcpMFTDBFullError condition on Oracle. Named so that an
 * alarm text and a test can say which one it was.
 */
export const ORA_DATABASE_FULL: Readonly<Record<number, string>> = {
  1653: 'unable to extend a table in its tablespace',
  1654: 'unable to extend an index in its tablespace',
  1688: 'unable to extend a table partition',
  1683: 'unable to extend an index partition',
  1691: 'unable to extend a LOB segment',
  1652: 'unable to extend a temporary segment',
  1536: 'space quota exceeded for the tablespace',
  1950: 'no privileges (quota) on the tablespace',
  30036: 'unable to extend the undo tablespace',
};

/** Server-side codes for a lost or refused session (the driver's own are NJS-5xx). */
const ORA_CONNECTION = new Set([
  1012, // not logged on
  1017, // invalid username/password
  1033, // initialization or shutdown in progress
  1034, // ORACLE not available
  1089, // immediate shutdown in progress
  1092, // instance terminated
  2396, // exceeded maximum idle time
  3113, // end-of-file on communication channel
  3114, // not connected
  3135, // connection lost contact
  12170, // connect timeout
  12514, // listener does not know the service
  12505, // listener does not know the SID
  12516, // listener has no handler
  12520, // listener has no handler for the server type
  12537, // connection closed
  12541, // no listener
  12543, // destination host unreachable
  12545, // host or object does not exist
  28000, // account locked
  28001, // password expired
]);

/** Driver codes (NJS-nnn) for a broken, refused or timed-out connection, and NJS-003 "invalid connection". */
const NJS_CONNECTION = /^NJS-(003|5(0[0-9]|1[0-1]|21|30))$/;

export type OracleErrorKind = { kind: 'full'; ora: number; meaning: string } | { kind: 'connection' } | { kind: 'other' };

export interface OracleErrorLike {
  errorNum?: number;
  code?: string;
  message?: string;
}

/** The ORA- number of an error, from errorNum or from an `ORA-nnnnn` code/message. */
export function oraNumber(err: OracleErrorLike): number | undefined {
  if (typeof err.errorNum === 'number' && err.errorNum > 0) return err.errorNum;
  const m = /^ORA-(\d{5})/.exec(err.code ?? '') ?? /\bORA-(\d{5})\b/.exec(err.message ?? '');
  return m ? Number(m[1]) : undefined;
}

export function classifyOracleError(err: unknown): OracleErrorKind {
  const e = (err ?? {}) as OracleErrorLike;
  const ora = oraNumber(e);
  if (ora !== undefined && ORA_DATABASE_FULL[ora]) return { kind: 'full', ora, meaning: ORA_DATABASE_FULL[ora]! };
  if (ora !== undefined && ORA_CONNECTION.has(ora)) return { kind: 'connection' };
  if (NJS_CONNECTION.test(e.code ?? '')) return { kind: 'connection' };
  // Node's own socket errors (ECONNRESET, ...) reach us unwrapped from the thin driver.
  if (/^E[A-Z]+$/.test(e.code ?? '') && /ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND/.test(e.code ?? '')) return { kind: 'connection' };
  return { kind: 'other' };
}

/** ORA-00942 "table or view does not exist" (also what a missing SELECT grant looks like). */
export const isTableOrViewMissing = (err: unknown): boolean => oraNumber((err ?? {}) as OracleErrorLike) === 942;

/** ORA-5 digit display, e.g. 1653 -> "ORA-01653". */
export const oraCode = (n: number): string => `ORA-${String(n).padStart(5, '0')}`;
