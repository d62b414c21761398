// The shipped monitoring files (monitoring/) and the metric names their PromQL uses.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ALERTS_FILE = join(ROOT, 'monitoring/alerts.yml');
export const RECORDING_FILE = join(ROOT, 'monitoring/recording.yml');
export const DASHBOARD_FILE = join(ROOT, 'monitoring/dashboard.json');
export const RUNBOOK_FILE = join(ROOT, 'docs/monitoring.md');

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
}
interface RuleFile<R> {
  groups: Array<{ name: string; rules: R[] }>;
}

export function alertRules(): AlertRule[] {
  return (parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile<AlertRule>).groups.flatMap((g) => g.rules);
}

export function recordingRules(): RecordingRule[] {
  return (parse(readFileSync(RECORDING_FILE, 'utf8')) as RuleFile<RecordingRule>).groups.flatMap((g) => g.rules);
}

export interface DashboardTarget {
  panel: string;
  refId: string;
  expr: string;
}

export interface Dashboard {
  panels: Array<{ id: number; title: string; type: string; datasource?: unknown; targets?: Array<{ refId: string; expr: string; datasource?: unknown }>; panels?: unknown[] }>;
  templating: { list: Array<{ name: string; type: string; query?: unknown; datasource?: unknown; definition?: string }> };
  [key: string]: unknown;
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard: the panels' queries and the variables' label_values(...) queries. */
export function dashboardExpressions(d: Dashboard = dashboard()): DashboardTarget[] {
  const out: DashboardTarget[] = [];
  for (const p of d.panels) for (const t of p.targets ?? []) out.push({ panel: p.title, refId: t.refId, expr: t.expr });
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    const m = /^label_values\((.*),\s*\w+\)$/s.exec(q ?? '');
    if (!m) throw new Error(`dashboard variable ${v.name}: expected a label_values(<selector>, <label>) query, got ${JSON.stringify(q)}`);
    out.push({ panel: `variable ${v.name}`, refId: 'query', expr: m[1]! });
  }
  return out;
}

/** Grafana's variables, replaced by what Prometheus sees once Grafana has filled them in. */
export function withGrafanaVariables(expr: string): string {
  const filled = expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('${node:regex}', '.*')
    .replaceAll('$node', '.*');
  if (filled.includes('$')) throw new Error(`dashboard expression uses a variable the check does not know: ${expr}`);
  return filled;
}

export interface SelectorUse {
  metric: string;
  labels: string[];
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metrics an expression selects, each with the label names its matchers use. Strings,
 * ranges, grouping clauses and function names are taken out first; what is left of the
 * identifiers are metric names.
 */
export function selectors(expr: string): SelectorUse[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  s = s.replace(/#[^\n]*/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: SelectorUse[] = [];
  for (const m of s.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?\s*(\()?/g)) {
    const [, name, braces, call] = m;
    if (call || KEYWORDS.has(name!.toLowerCase())) continue;
    // The exponent or unit of a number (1e3, 5m) is no name.
    if (/[0-9.]$/.test(s.slice(0, m.index))) continue;
    const labels = braces ? [...braces.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!) : [];
    out.push({ metric: name!, labels });
  }
  return out;
}
