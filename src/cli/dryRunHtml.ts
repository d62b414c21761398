import type { NodeResult } from '../purge/purgeNode.js';
import { humanBytes, thousands } from './format.js';
import { totals } from './purgeReport.js';

const COLORS: Record<string, string> = { im: '#2f6db5', groupchat: '#d08a1e', persistent: '#5a9b4c' };

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Per-day bars, stacked by chat type: what would go, by the UTC date of the hour folder. */
function dayChart(r: NodeResult): string {
  const days = new Map<string, Record<string, number>>();
  for (const s of r.chatTypes) {
    if (s.refused) continue;
    for (const [day, v] of Object.entries(s.byDay)) {
      const d = days.get(day) ?? {};
      d[s.chatType] = (d[s.chatType] ?? 0) + v.files;
      days.set(day, d);
    }
  }
  if (days.size === 0) return '<p class="none">Nothing would go.</p>';
  const sorted = [...days.entries()].sort(([a], [b]) => a.localeCompare(b));
  const max = Math.max(...sorted.map(([, d]) => Object.values(d).reduce((a, b) => a + b, 0)));
  const rows = sorted.map(([day, d]) => {
    const total = Object.values(d).reduce((a, b) => a + b, 0);
    const segments = Object.entries(d)
      .map(([ct, n]) => `<span class="seg" style="width:${((n / max) * 100).toFixed(2)}%;background:${COLORS[ct] ?? '#888'}" title="${esc(ct)}: ${thousands(n)}"></span>`)
      .join('');
    return `<div class="day"><span class="label">${esc(day)}</span><span class="bar">${segments}</span><span class="n">${thousands(total)} ${total === 1 ? 'file' : 'files'}</span></div>`;
  });
  const legend = Object.entries(COLORS)
    .map(([ct, c]) => `<span class="key"><span class="swatch" style="background:${c}"></span>${ct}</span>`)
    .join('');
  return `<div class="chart">${rows.join('')}</div><div class="legend">${legend}</div>`;
}

function chatTypeTable(r: NodeResult): string {
  const head = '<tr><th>chat type</th><th>retention</th><th>files to go</th><th>bytes</th><th>AFT_LOG rows</th><th>oldest hour</th><th>newest hour</th><th>kept, and why</th><th>refused</th></tr>';
  const rows = r.chatTypes.map((s) => {
    const kept = Object.entries(s.kept)
      .map(([why, n]) => `${esc(why)}: ${thousands(n)}`)
      .join('<br>');
    const refused = s.refused ? `<span class="refused">${esc(s.refused.limit)}: ${esc(s.refused.message)}</span>` : '-';
    const cls = s.refused ? ' class="is-refused"' : '';
    return `<tr${cls}><td>${esc(s.chatType)}</td><td>${esc(s.retention)}</td><td class="num">${thousands(s.files)}</td><td class="num">${humanBytes(s.bytes)}</td><td class="num">${thousands(s.rows)}</td><td>${esc(s.oldestHour ?? '-')}</td><td>${esc(s.newestHour ?? '-')}</td><td>${kept || '-'}</td><td class="why">${refused}</td></tr>`;
  });
  return `<table>${head}${rows.join('')}</table>`;
}

/**
 * A self-contained page of a dry-run (no script, no external file): per node, what would go per
 * day and chat type, what is kept and why, and what a limit would refuse.
 */
export function renderDryRunHtml(results: NodeResult[], asOf: Date, configFile: string): string {
  const t = totals(results);
  const nodes = results
    .map(
      (r) => `<section><h2>Node ${esc(r.node)}: ${esc(r.status)}</h2>${r.error ? `<p class="error">${esc(r.error.message)}</p>` : ''}
${chatTypeTable(r)}
<h3>What would go, per day (UTC date of the hour folder)</h3>
${dayChart(r)}</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mft-retention dry-run as of ${esc(asOf.toISOString())}</title>
<style>
@page{size:A4 landscape;margin:12mm}
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}h3{font-size:14px;margin:16px 0 6px}
.sub{color:#555;margin:0 0 12px}.total{font-size:16px;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}td.why{white-space:normal}
th{background:#f2f2f2}.num{text-align:right;font-variant-numeric:tabular-nums}
tr.is-refused td{background:#fdeaea}.refused{color:#a40000}.error{color:#a40000}
.chart{margin:4px 0}.day{display:flex;align-items:center;gap:8px;margin:2px 0}
.label{width:90px;font-variant-numeric:tabular-nums}.bar{flex:1;display:flex;height:16px;background:#f6f6f6}
.seg{display:block;height:100%}.n{width:110px;text-align:right;font-variant-numeric:tabular-nums}
.legend{margin:6px 0;color:#555}.key{margin-right:14px}.swatch{display:inline-block;width:10px;height:10px;margin-right:4px}
.none{color:#555}
</style></head><body>
<h1>Dry-run: nothing was changed</h1>
<p class="sub">As of ${esc(asOf.toISOString())}, config ${esc(configFile)}</p>
<p class="total">Would purge ${thousands(t.files)} files, ${humanBytes(t.bytes)}, ${thousands(t.rows)} AFT_LOG rows.${t.refusedFiles ? ` Would be refused until approved: ${thousands(t.refusedFiles)} files, ${humanBytes(t.refusedBytes)}.` : ''}</p>
${nodes}
</body></html>
`;
}
