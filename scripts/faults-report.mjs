#!/usr/bin/env node
// Renders the results of the last fault-injection run (`npm run faults`, or `npm test`) as the
// Markdown table of docs/dev/faults.md.
// Reads the JSON records test/faults/results.ts writes: FAULTS_RESULTS_DIR, else the directory
// in the temp dir named after this checkout.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir =
  process.env.FAULTS_RESULTS_DIR || join(tmpdir(), `mft-retention-faults-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 10)}`);

// The order the table lists the scenario files in.
const ORDER = ['kill.test.ts', 'stop.test.ts', 'connections.test.ts', 'filesystem.test.ts', 'hostileRows.test.ts', 'clock.test.ts', 'config.test.ts', 'state.test.ts', 'liveTraffic.test.ts', 'plan.test.ts'];

if (!existsSync(dir)) {
  console.error(`No fault-injection results in ${dir}: run \`npm run faults\` (or \`npm test\`) first.`);
  process.exit(2);
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
  .sort((a, b) => (ORDER.indexOf(a.file) + 1 || 99) - (ORDER.indexOf(b.file) + 1 || 99));
const missing = ORDER.filter((f) => !files.some((r) => r.file === f));
if (files.length === 0) {
  console.error(`No fault-injection results in ${dir}: run \`npm run faults\` (or \`npm test\`) first.`);
  process.exit(2);
}

const scenarios = files.flatMap((f) => f.scenarios);
const finished = scenarios.map((s) => s.finishedAt).sort();
const m = files[0].machine;
const servers = Object.assign({}, ...files.map((f) => f.servers));
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

const out = [];
out.push(
  `Run finished ${finished[finished.length - 1]?.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}; ` +
    `${servers.postgres ?? 'PostgreSQL ?'}, ${servers.sshd ?? 'OpenSSH ?'}.`,
  '',
  '| scenario | iterations | seed | outcome | what happened |',
  '|---|---:|---:|---|---|',
);
for (const s of scenarios) {
  out.push(`| ${cell(s.scenario)} | ${s.iterations} | ${s.seed ?? '-'} | ${s.outcome === 'pass' ? 'pass' : '**FAIL**'} | ${cell(s.detail)} |`);
}
const passed = scenarios.filter((s) => s.outcome === 'pass').length;
const iterations = scenarios.reduce((a, s) => a + s.iterations, 0);
out.push('', `${scenarios.length} scenarios, ${iterations} fault injections checked against the invariants: ${passed} passed, ${scenarios.length - passed} failed.`);
if (missing.length) out.push('', `Not in this run: ${missing.join(', ')}.`);
console.log(out.join('\n'));
process.exit(passed === scenarios.length && missing.length === 0 ? 0 : 1);
