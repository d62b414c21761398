/** What `mft-retention doctor` reports: one list of checks per node, like Cisco's status pages. */

/**
 * `skip`: the check could not run because one it depends on failed (no TCP connection means no
 * host key to compare). It never fails the run by itself: the check it waited on did.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type CheckGroup = 'file-server' | 'database';

export interface Check {
  group: CheckGroup;
  name: string;
  status: CheckStatus;
  /** What was measured or seen, for a person to read. Never a secret. */
  detail: string;
  /** What to do about a warning or a failure. */
  fix?: string;
  /**
   * A failed connection check (reachable, SSH banner, host key, login): the exit code is then
   * EXIT.connection instead of EXIT.partial. Not part of the JSON document.
   */
  connection?: boolean;
}

export interface GroupReport {
  group: CheckGroup;
  /** The endpoint as the admin configured it, e.g. `sftp mftuser@files.example.com:22 /opt/mftFileStore/node_1`. */
  target: string;
  checks: Check[];
}

export interface NodeReport {
  node: string;
  groups: GroupReport[];
}

export interface DoctorReport {
  nodes: NodeReport[];
  /** No check failed (warnings allowed). */
  ok: boolean;
}

/** Builds the checks of one group without repeating the group on every line. */
export function checkMaker(group: CheckGroup) {
  const make =
    (status: CheckStatus) =>
    (name: string, detail: string, fix?: string, extra?: Pick<Check, 'connection'>): Check => ({
      group,
      name,
      status,
      detail,
      ...(fix ? { fix } : {}),
      ...extra,
    });
  return { pass: make('pass'), warn: make('warn'), fail: make('fail'), skip: make('skip') };
}

export const allChecks = (report: DoctorReport): Check[] => report.nodes.flatMap((n) => n.groups.flatMap((g) => g.checks));

export function makeReport(nodes: NodeReport[]): DoctorReport {
  const report = { nodes, ok: true };
  report.ok = !allChecks(report).some((c) => c.status === 'fail');
  return report;
}

/** The message of anything thrown, without a stack. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
