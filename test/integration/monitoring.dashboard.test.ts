// The shipped Grafana dashboard (monitoring/dashboard.json): provisioning-ready, every query
// valid PromQL for promtool, and every metric name in the dashboard and the rules one the
// daemon's registry exports (and every metric of the daemon watched by one of them).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PurgeMetrics } from '../../src/daemon/metrics.js';
import { alertRules, dashboard, dashboardExpressions, recordingRules, selectors, withGrafanaVariables } from '../helpers/monitoringFiles.js';
import { promtool } from '../helpers/promtool.js';

/** Every metric of the daemon's registry with its label names: the list is read from the code, not kept by hand. */
function registryMetrics(): Map<string, { type: string; labels: string[] }> {
  const m = new PurgeMetrics();
  const out = new Map<string, { type: string; labels: string[] }>();
  for (const metric of m.registry.getMetricsAsArray()) {
    const { name, labelNames, type } = metric as unknown as { name: string; labelNames?: string[]; type: string };
    const labels = [...(labelNames ?? []), 'job', 'instance'];
    if (type === 'histogram') {
      out.set(`${name}_bucket`, { type: 'counter', labels: [...labels, 'le'] });
      out.set(`${name}_sum`, { type: 'counter', labels });
      out.set(`${name}_count`, { type: 'counter', labels });
    } else {
      out.set(name, { type, labels });
    }
  }
  return out;
}

/** Names used where, for messages. */
function usesIn(sources: Array<{ where: string; expr: string }>): Array<{ where: string; metric: string; labels: string[] }> {
  return sources.flatMap((s) => selectors(s.expr).map((u) => ({ where: s.where, ...u })));
}

const recordedNames = (): Set<string> => new Set(recordingRules().map((r) => r.record));

/** The names and labels that a rule file or the dashboard may select but the registry does not know, with why. */
function unknownUses(uses: Array<{ where: string; metric: string; labels: string[] }>, registry: Map<string, { type: string; labels: string[] }>): string[] {
  const recorded = recordedNames();
  const problems: string[] = [];
  for (const u of uses) {
    if (u.metric === 'up') continue; // Prometheus's own per-target series
    if (u.metric.includes(':')) {
      if (!recorded.has(u.metric)) problems.push(`${u.where}: ${u.metric} is recorded by no rule of monitoring/recording.yml`);
      continue;
    }
    const m = registry.get(u.metric);
    if (!m) {
      problems.push(`${u.where}: ${u.metric} is not a metric of the daemon (src/daemon/metrics.ts)`);
      continue;
    }
    for (const l of u.labels) if (!m.labels.includes(l)) problems.push(`${u.where}: ${u.metric} has no label "${l}" (it has ${m.labels.join(', ')})`);
  }
  return problems;
}

function allUses(d = dashboard()): Array<{ where: string; metric: string; labels: string[] }> {
  return usesIn([
    ...alertRules().map((r) => ({ where: `monitoring/alerts.yml ${r.alert}`, expr: r.expr })),
    ...recordingRules().map((r) => ({ where: `monitoring/recording.yml ${r.record}`, expr: r.expr })),
    ...dashboardExpressions(d).map((t) => ({ where: `monitoring/dashboard.json "${t.panel}" ${t.refId}`, expr: withGrafanaVariables(t.expr) })),
  ]);
}

describe('shipped Grafana dashboard', () => {
  const d = dashboard();

  it('is ready for provisioning: a fixed uid, no id, no import inputs, a datasource and a node variable', () => {
    expect(d.uid).toBe('mft-retention');
    expect(d.id).toBeNull();
    expect(d).not.toHaveProperty('__inputs');
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const node = d.templating.list.find((v) => v.name === 'node');
    expect(node).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, multi: true, includeAll: true });
    for (const p of d.panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, `panel "${p.title}"`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, `panel "${p.title}" has no query`).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource, `panel "${p.title}" ${t.refId}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('filters every per-node query by the node variable', () => {
    const registry = registryMetrics();
    for (const t of dashboardExpressions(d).filter((x) => !x.panel.startsWith('variable'))) {
      const perNode = selectors(withGrafanaVariables(t.expr)).some((u) => registry.get(u.metric)?.labels.includes('node') || /^mft:purge_/.test(u.metric));
      if (perNode) expect(t.expr, `"${t.panel}" ${t.refId}`).toContain('node=~"$node"');
    }
  });

  it('has only queries that promtool accepts', () => {
    const exprs = dashboardExpressions(d);
    expect(exprs.length).toBeGreaterThan(20);
    const rules = exprs.map((t, i) => ({ record: `dashboard:query_${i}:check`, expr: withGrafanaVariables(t.expr), labels: { panel: t.panel, ref: t.refId } }));
    const file = join(mkdtempSync('/tmp/mft-promtool-'), 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
    const r = promtool(['check', 'rules', file]);
    expect(r.status, r.output).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('uses, with the rules, only metric names and labels that the daemon exports, and watches every metric of the daemon', () => {
    const registry = registryMetrics();
    const uses = allUses(d);
    expect(unknownUses(uses, registry)).toEqual([]);
    const used = new Set(uses.map((u) => u.metric));
    const unwatched = [...registry.keys()].filter((n) => n.startsWith('mft_') && !used.has(n) && !/_(sum|count)$/.test(n));
    expect(unwatched, 'metrics of src/daemon/metrics.ts that neither the dashboard nor the rules use').toEqual([]);
    // Each recording rule is drawn by the dashboard.
    const drawn = new Set(dashboardExpressions(d).flatMap((t) => selectors(withGrafanaVariables(t.expr)).map((u) => u.metric)));
    expect(recordingRules().map((r) => r.record).filter((r) => !drawn.has(r))).toEqual([]);
  });

  it('fails the name check when a metric is renamed on one side only', () => {
    const registry = registryMetrics();
    const renamed = structuredClone(d);
    const panel = renamed.panels.find((p) => p.targets?.some((t) => t.expr.includes('mft_expired_backlog_files')))!;
    for (const t of panel.targets!) t.expr = t.expr.replace('mft_expired_backlog_files', 'mft_expired_backlog_file_count');
    expect(unknownUses(allUses(renamed), registry)).toEqual([expect.stringContaining('mft_expired_backlog_file_count is not a metric of the daemon')]);
    const withLabel = structuredClone(d);
    withLabel.panels.find((p) => p.targets?.length)!.targets![0]!.expr = 'mft_purge_files_total{job="mft-retention", chat="im"}';
    expect(unknownUses(allUses(withLabel), registry)).toEqual([expect.stringContaining('mft_purge_files_total has no label "chat"')]);
    const lessRegistry = new Map(registry);
    lessRegistry.delete('mft_purge_lock_held');
    expect(unknownUses(allUses(d), lessRegistry).some((p) => p.includes('mft_purge_lock_held is not a metric of the daemon'))).toBe(true);
  });
});
