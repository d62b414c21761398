// Records the series behind docs/images/dashboard.png from a real run: the daemon purges two
// nodes on the harness's real PostgreSQL and sshd while traffic arrives; a private Prometheus
// (Debian's, on loopback, its own data directory, the shipped recording and alert rules)
// scrapes it; then every query of monitoring/dashboard.json is asked of that Prometheus over
// the run. render.py draws the panels from the answers. Grafana itself is not involved.
//
//   npm run build && npx vitest run --config scripts/dashboard-picture/vitest.config.ts
//   /usr/bin/python3 scripts/dashboard-picture/render.py
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'vitest';
import { DaemonTestBed, waitFor } from '../../test/helpers/daemonHarness.js';
import { ALERTS_FILE, RECORDING_FILE, ROOT, dashboard, withGrafanaVariables } from '../../test/helpers/monitoringFiles.js';
import { startPostgres } from '../../test/helpers/pgServer.js';
import { freePort, rmrf, sleep } from '../../test/helpers/procUtil.js';
import { startSshd } from '../../test/helpers/sshdServer.js';

const RUN_MINUTES = Number(process.env.RUN_MINUTES ?? 12);
const OUT = join(ROOT, 'docs/images/dashboard-series.json');

it(`records ${RUN_MINUTES} minutes of a real run`, async () => {
  const bed = await DaemonTestBed.start(startPostgres, startSshd);
  const dirs: string[] = [];
  // A webhook that is down for a while in the middle of the run (503), so that deliveries fail and queue.
  let down = false;
  const hook = createServer((req, res) => {
    req.resume().on('end', () => res.writeHead(down ? 503 : 204).end());
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events`;
  let prometheus: ReturnType<typeof spawn> | undefined;
  try {
    const pub = await bed.node('imp-pub');
    const sub = await bed.node('imp-sub');
    const config = bed.config([pub, sub], {
      schedule: '*/20 * * * * *',
      extra: {
        alarms: {
          checkInterval: 'PT10S',
          stalled: { maxTimeWithoutSuccess: 'PT5M', maxBacklogAge: 'PT2H' },
          delivery: { retryInitial: 'PT2S', retryMax: 'PT10S' },
          sinks: [{ type: 'webhook', name: 'evidence', url: hookUrl, purgeFinished: true }],
        },
      },
    });
    const d = bed.daemon(config);
    const target = new URL(await d.url()).host;

    const promDir = mkdtempSync('/tmp/mft-prom-');
    dirs.push(promDir);
    const promPort = await freePort();
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '5s', evaluation_interval: '5s' },
        rule_files: [RECORDING_FILE, ALERTS_FILE],
        scrape_configs: [{ job_name: 'mft-retention', static_configs: [{ targets: [target] }] }],
      }),
    );
    prometheus = spawn('/usr/bin/prometheus', [`--config.file=${join(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    const api = `http://127.0.0.1:${promPort}/api/v1`;
    await waitFor('Prometheus ready', async () => (await fetch(`http://127.0.0.1:${promPort}/-/ready`).catch(() => undefined))?.ok, 60_000, 500);
    const start = Date.now() / 1000;

    // Traffic: every 15 s new expired uploads on both nodes; from a third of the run on, the
    // file server of imp-sub gets a burst far above the usual (the purge refuses it: ten times
    // more than usual), and the webhook is down for a while.
    const end = Date.now() + RUN_MINUTES * 60_000;
    let tick = 0;
    while (Date.now() < end) {
      const phase = (RUN_MINUTES * 60_000 - (end - Date.now())) / (RUN_MINUTES * 60_000);
      // Uploads that expired (1-day policy) an hour or so ago; the burst has waited longer.
      await pub.seed(20 + Math.round(15 * Math.sin(tick / 3)), { chatType: 'im', ageHours: 25.2 });
      await pub.seed(6 + (tick % 5), { chatType: 'groupchat', ageHours: 25.2 });
      await sub.seed(10 + (tick % 7), { chatType: 'im', ageHours: 25.2 });
      if (tick === Math.round((RUN_MINUTES * 4) / 3)) await sub.seed(1500, { chatType: 'groupchat', ageHours: 26.5 });
      else await sub.seed(3, { chatType: 'groupchat', ageHours: 25.2 });
      down = phase > 0.5 && phase < 0.65;
      tick++;
      await sleep(15_000);
    }
    const stop = Date.now() / 1000;

    const d2 = dashboard();
    const panels = [];
    for (const p of d2.panels) {
      if (p.type === 'row') {
        panels.push({ id: p.id, type: p.type, title: p.title });
        continue;
      }
      const targets = [];
      for (const t of p.targets ?? []) {
        const q = new URLSearchParams({ query: withGrafanaVariables(t.expr), start: String(start), end: String(stop), step: '10' });
        const r = (await (await fetch(`${api}/query_range?${q}`)).json()) as { status: string; data: { result: unknown[] }; error?: string };
        if (r.status !== 'success') throw new Error(`panel "${p.title}" ${t.refId}: ${r.error}`);
        targets.push({ refId: t.refId, expr: t.expr, legendFormat: (t as { legendFormat?: string }).legendFormat ?? '', result: r.data.result });
      }
      panels.push({ id: p.id, type: p.type, title: p.title, unit: (p as { fieldConfig?: { defaults?: { unit?: string } } }).fieldConfig?.defaults?.unit, gridPos: (p as { gridPos?: unknown }).gridPos, targets });
    }
    const alerts = (await (await fetch(`${api}/alerts`)).json()) as unknown;
    mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify({ recordedAt: new Date().toISOString(), start, end: stop, step: 10, scrapeInterval: '5s', prometheus: 'Debian prometheus package, /usr/bin/prometheus', panels, alertsAtEnd: alerts })}\n`);
    d.signal('SIGTERM');
    await d.exited;
  } finally {
    prometheus?.kill('SIGTERM');
    hook.close();
    await bed.close();
    dirs.forEach(rmrf);
  }
});
