import { allChecks, type CheckGroup, type CheckStatus, type DoctorReport } from './types.js';

const GROUP_TITLES: Record<CheckGroup, string> = { 'file-server': 'File server', database: 'Database' };
const STATUS_LABELS: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The `--json` document: `{ nodes: [{ node, checks: [{ group, name, status, detail, fix? }] }], ok }`. */
export function reportJson(report: DoctorReport): Record<string, unknown> {
  return {
    nodes: report.nodes.map((n) => ({
      node: n.node,
      checks: n.groups.flatMap((g) => g.checks.map(({ group, name, status, detail, fix }) => ({ group, name, status, detail, ...(fix ? { fix } : {}) }))),
    })),
    ok: report.ok,
  };
}

/** A table per node, one line per check; what to do goes under the check it belongs to. */
export function renderReport(report: DoctorReport): string {
  const checks = allChecks(report);
  const nameWidth = Math.max(...checks.map((c) => c.name.length), 12) + 2;
  const titleWidth = Math.max(...Object.values(GROUP_TITLES).map((t) => t.length)) + 2;
  const fixIndent = ' '.repeat(4 + 6 + nameWidth);
  const lines: string[] = [];
  for (const node of report.nodes) {
    lines.push(`Node ${node.node}`);
    for (const g of node.groups) {
      lines.push(`  ${GROUP_TITLES[g.group].padEnd(titleWidth)}${g.target}`);
      for (const c of g.checks) {
        lines.push(`    ${STATUS_LABELS[c.status]}  ${c.name.padEnd(nameWidth)}${c.detail}`);
        // A fix of several lines (a statement to paste) keeps each statement on a line of its own.
        if (c.fix && c.status !== 'pass') c.fix.split('\n').forEach((l, i) => lines.push(`${fixIndent}${i === 0 ? '-> ' : '   '}${l}`));
      }
    }
    lines.push('');
  }
  const count = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  const nodes = report.nodes.length;
  lines.push(
    `${plural(nodes, 'node')}, ${plural(checks.length, 'check')}: ${count('pass')} passed, ${plural(count('warn'), 'warning')}, ${count('fail')} failed, ${count('skip')} skipped`,
  );
  lines.push(
    !report.ok
      ? 'Result: FAILED. Fix the checks marked FAIL (what to do follows "->"), then run doctor again.'
      : count('warn') > 0
        ? 'Result: OK with warnings. The purge can run; the warnings say what would make it better.'
        : 'Result: OK. The purge can run.',
  );
  return lines.join('\n');
}
