// A RECORDING STAND-IN for an oracledb Connection: not a database. No Oracle server can run
// where the default test suite runs, so the Oracle adapter's SQL text, bind variables and
// transaction calls are checked against this recorder; each test scripts the answers. What a
// real Oracle does with that SQL is verified only by `npm run test:oracle` (see README.md).
import type { OracleConnection } from '../../src/adapters/oracle/connection.js';

export type RecordedCall =
  | { op: 'execute'; sql: string; binds: Record<string, unknown>; options: Record<string, unknown> }
  | { op: 'executeMany'; sql: string; binds: Array<Record<string, unknown>>; options: Record<string, unknown> }
  | { op: 'commit' | 'rollback' | 'ping' | 'close' | 'break' };

/** Answers one execute/executeMany call: a result, or throw to simulate a server error. */
export type Responder = (call: Extract<RecordedCall, { op: 'execute' | 'executeMany' }>) => { rows?: unknown[]; rowsAffected?: number; outBinds?: Record<string, unknown> } | undefined;

/** An oracledb error as thin mode raises it: message "ORA-01653: ...", errorNum 1653, code "ORA-01653". */
export function oraError(num: number, text = 'simulated'): Error {
  const code = `ORA-${String(num).padStart(5, '0')}`;
  return Object.assign(new Error(`${code}: ${text}`), { errorNum: num, code });
}

export function njsError(code: string, text = 'simulated'): Error {
  return Object.assign(new Error(`${code}: ${text}`), { code });
}

export class RecordingOracleConnection implements OracleConnection {
  callTimeout = 0;
  readonly calls: RecordedCall[] = [];
  pingError?: Error;

  constructor(private readonly respond: Responder = () => undefined) {}

  /** The operations in order, e.g. ['executeMany', 'executeMany', 'commit']. */
  get ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  async execute<R>(sql: string, binds: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Promise<{ rows?: R[]; rowsAffected?: number; outBinds?: Record<string, unknown> }> {
    const call = { op: 'execute' as const, sql, binds, options };
    this.calls.push(call);
    return (this.respond(call) ?? { rows: [] }) as { rows?: R[] };
  }

  async executeMany(sql: string, binds: Array<Record<string, unknown>>, options: Record<string, unknown> = {}): Promise<{ rowsAffected?: number }> {
    const call = { op: 'executeMany' as const, sql, binds, options };
    this.calls.push(call);
    return (this.respond(call) ?? { rowsAffected: binds.length }) as { rowsAffected?: number };
  }

  async commit(): Promise<void> {
    this.calls.push({ op: 'commit' });
  }

  async rollback(): Promise<void> {
    this.calls.push({ op: 'rollback' });
  }

  async ping(): Promise<void> {
    this.calls.push({ op: 'ping' });
    if (this.pingError) throw this.pingError;
  }

  async close(): Promise<void> {
    this.calls.push({ op: 'close' });
  }

  async break(): Promise<void> {
    this.calls.push({ op: 'break' });
  }
}
