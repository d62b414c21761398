// The shipped Prometheus rules (monitoring/alerts.yml, monitoring/recording.yml): valid for
// promtool, each alert unit-tested over synthetic series (fires, stays quiet, resolves),
// documented in the runbook, and Cisco's alarms mirrored with the daemon's own texts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ALARM_DEFINITIONS, ALARM_NAMES } from '../../src/alarms/definitions.js';
import { ALERTS_FILE, RECORDING_FILE, RUNBOOK_FILE, alertRules, type AlertRule } from '../helpers/monitoringFiles.js';
import { promtool } from '../helpers/promtool.js';
import { ALERT_CASES, RECORDING_CASES } from '../monitoring/alertCases.js';

/** GitHub's anchor of a Markdown heading. */
const anchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-');

/** The annotations as Prometheus renders them for these labels (the rules use {{ $labels.x }} only). */
function render(template: string, labels: Record<string, string>): string {
  return template.replace(/\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
}

/** A promtool unit-test file over the given rule files, from ALERT_CASES and RECORDING_CASES. */
function promtoolTests(ruleFiles: string[], rules: AlertRule[]): string {
  const byName = new Map(rules.map((r) => [r.alert, r]));
  const tests = [
    ...ALERT_CASES.map((c) => {
      const rule = byName.get(c.alert);
      if (!rule) throw new Error(`alert case for ${c.alert}, which monitoring/alerts.yml does not define`);
      return {
        name: `${c.alert}: ${c.title}`,
        interval: '1m',
        input_series: c.series,
        alert_rule_test: c.checks.map((k) => ({
          eval_time: k.at,
          alertname: c.alert,
          exp_alerts: k.fires.map((labels) => {
            const all = { ...labels, ...rule.labels };
            return { exp_labels: all, exp_annotations: Object.fromEntries(Object.entries(rule.annotations ?? {}).map(([a, t]) => [a, render(t, { ...all, alertname: c.alert })])) };
          }),
        })),
      };
    }),
    ...RECORDING_CASES.map((c) => ({
      name: `recording: ${c.title}`,
      interval: '1m',
      input_series: c.series,
      promql_expr_test: c.checks.map((k) => ({ expr: k.expr, eval_time: k.at, exp_samples: k.exp })),
    })),
  ];
  return stringify({ rule_files: ruleFiles, evaluation_interval: '1m', tests });
}

describe('shipped Prometheus rules', () => {
  const rules = alertRules();

  it('pass promtool check rules', () => {
    const r = promtool(['check', 'rules', ALERTS_FILE, RECORDING_FILE]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('pass their promtool unit tests: every alert fires, stays quiet and resolves over synthetic series', () => {
    const dir = mkdtempSync('/tmp/mft-promtool-');
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, promtoolTests([ALERTS_FILE, RECORDING_FILE], rules));
    const r = promtool(['test', 'rules', file]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });

  it('have cases that show each alert quiet, then firing, then resolved', () => {
    for (const rule of rules) {
      const checks = ALERT_CASES.filter((c) => c.alert === rule.alert).flatMap((c) => c.checks.map((k, i) => ({ ...k, i, c })));
      const firing = checks.filter((k) => k.fires.length > 0);
      expect(firing.length, `${rule.alert}: no case where it fires`).toBeGreaterThan(0);
      expect(checks.some((k) => k.fires.length === 0 && firing.some((f) => f.c === k.c && f.i > k.i)), `${rule.alert}: no quiet check before it fires`).toBe(true);
      expect(checks.some((k) => k.fires.length === 0 && firing.some((f) => f.c === k.c && f.i < k.i)), `${rule.alert}: no quiet check after it fired (resolved)`).toBe(true);
    }
  });

  it('fail their unit tests when a rule changes (a longer "for:")', () => {
    const dir = mkdtempSync('/tmp/mft-promtool-');
    const changed = join(dir, 'alerts.yml');
    writeFileSync(changed, readFileSync(ALERTS_FILE, 'utf8').replace(/(expr: up\{job="mft-retention"\} == 0\n\s+for: )5m/, '$130m'));
    expect(readFileSync(changed, 'utf8')).toContain('for: 30m');
    const file = join(dir, 'alerts.test.yml');
    writeFileSync(file, promtoolTests([changed, RECORDING_FILE], rules));
    const r = promtool(['test', 'rules', file]);
    expect(r.status, r.output).not.toBe(0);
    expect(r.output).toContain('alertname: MFTRetentionDown');
  });

  it('give every alert a summary, a description and a runbook section of its own', () => {
    const runbook = readFileSync(RUNBOOK_FILE, 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (.+)$/gm)].map((m) => anchor(m[1]!)));
    for (const rule of rules) {
      const a = rule.annotations ?? {};
      expect(a.summary, `${rule.alert}: summary`).toBeTruthy();
      expect(a.description, `${rule.alert}: description`).toBeTruthy();
      expect(a.runbook_url, `${rule.alert}: runbook_url`).toBe(`docs/monitoring.md#${rule.alert.toLowerCase()}`);
      expect(anchors.has(rule.alert.toLowerCase()), `docs/monitoring.md has no section "${rule.alert}"`).toBe(true);
      for (const t of [a.summary!, a.description!]) expect(t.replace(/\{\{\s*\$labels\.\w+\s*\}\}/g, ''), `${rule.alert}: only {{ $labels.x }} templates`).not.toContain('{{');
      expect(['critical', 'warning'], `${rule.alert}: severity`).toContain(rule.labels?.severity);
    }
  });

  it('cover every alarm of the daemon, and mirror Cisco\'s with the daemon\'s name, severity, problem and solution', () => {
    for (const name of ALARM_NAMES) {
      expect(rules.some((r) => r.labels?.mft_alarm === name), `no alert with mft_alarm: ${name}`).toBe(true);
    }
    const cisco = ALARM_NAMES.filter((n) => !['XcpMFTPurgeStalledWarn', 'XcpMFTPurgeRefusedWarn'].includes(n));
    for (const name of cisco) {
      const rule = rules.find((r) => r.alert === name);
      expect(rule, `no alert named ${name}`).toBeDefined();
      const def = ALARM_DEFINITIONS[name];
      expect(rule!.labels?.severity).toBe(def.severity);
      expect(rule!.annotations?.summary).toBe(def.problem);
      expect(rule!.annotations?.description).toBe(`Node {{ $labels.node }}. ${def.solution}`);
      expect(rule!.expr).toContain(`alarm="${name}"`);
    }
  });
});
