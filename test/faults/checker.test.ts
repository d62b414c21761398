// The invariant checker itself, on the real servers: every kind of violation it exists to
// catch is made by hand and must be reported, and a correct purge must pass. Without this, a
// checker that always passes would make the whole fault suite meaningless.
import { rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { avoidHourEdge, type CliResult } from '../helpers/purgeFixture.js';
import { eligiblePaths, recoveryProblems, safetyProblems, snapshot } from './invariants.js';
import { populateMix } from './mix.js';
import { Rng } from './seed.js';
import { useFaultServers } from './servers.js';
import { World } from './world.js';

const servers = useFaultServers();
let w: World;

beforeAll(async () => {
  w = await World.create(servers);
});
// Runs before the servers' afterAll (after-hooks run in reverse order).
afterAll(async () => {
  await w?.dispose();
});

const window = () => ({ nowMin: new Date(), nowMax: new Date() });
const cli = (code: number): CliResult => ({ code, signal: null, stdout: '', stderr: '', ms: 0 });

it('the oracle agrees with the mix: its eligible files are eligible, its kept files are not', async () => {
  await avoidHourEdge();
  await w.reset();
  const mix = await populateMix(w, new Rng(1), 10);
  const eligible = eligiblePaths(await w.rows(), new Date(), w);
  expect([...eligible].sort()).toEqual([...mix.eligible].sort());
  for (const k of mix.kept) expect(eligible.has(k)).toBe(false);
});

it('a correct purge (the real CLI) passes every check', async () => {
  await avoidHourEdge();
  await w.reset();
  await populateMix(w, new Rng(2), 10);
  const before = await snapshot(w);
  const nowMin = new Date();
  const r = await w.purge('--json');
  const final = await snapshot(w);
  expect(recoveryProblems(w, before, final, r, { nowMin, nowMax: new Date() }, nowMin)).toEqual([]);
  expect(final.rows.length).toBeLessThan(before.rows.length);
});

it('reports each violation made by hand', async () => {
  await avoidHourEdge();
  await w.reset();
  const mix = await populateMix(w, new Rng(3), 6);
  const before = await snapshot(w);
  const rows = before.rows;
  const [currentHourFile, , , , , orphan] = mix.kept;
  const presentEligible = mix.eligible.filter((p) => before.fs.has(p));
  const [e1, e2] = presentEligible as [string, string];

  unlinkSync(currentHourFile!); // (1) a file of the current hour removed
  unlinkSync(orphan!); // (1) a file with no row removed
  await w.sql('DELETE FROM aft_log WHERE file_path = $1', [e1]); // (2) rows deleted, file still there
  unlinkSync(e2); // (3) removed, rows left behind
  writeFileSync(join(w.base, 'outside', 'victim.txt'), 'changed'); // (4) a canary changed
  rmSync(join(w.farDir, 'victim.txt')); // (4) a canary far away removed
  writeFileSync(join(w.base, 'node_2', 'new.txt'), 'x'); // (4) something appeared beside the node
  const outsideRow = rows.find((r) => r.file_path.endsWith('/node_2/victim.txt'))!;
  await w.sql('DELETE FROM aft_log WHERE aft_index = $1', [outsideRow.aft_index]); // (2) a row of another node's file

  const after = await snapshot(w);
  const problems = safetyProblems(w, before, after, window());
  const has = (re: RegExp) => expect(problems.some((p) => re.test(p)), `${re}\n${problems.join('\n')}`).toBe(true);
  has(new RegExp(`^\\(1\\) removed a file that was not eligible: "${currentHourFile}"`));
  has(new RegExp(`^\\(1\\) removed a file that was not eligible: "${orphan}"`));
  has(new RegExp(`^\\(2\\) row \\d+ \\(Post\\) deleted while its file still exists: "${e1}"`));
  has(/^\(2\) row \d+ \(Post\) deleted while its file still exists: ".*\/node_2\/victim.txt"/);
  has(/^\(2\) row \d+ \(Post\) deleted although its file was not eligible: ".*\/node_2\/victim.txt"/);
  has(/^\(4\) changed outside the node directory: ".*\/outside\/victim.txt"/);
  has(/^\(4\) removed outside the node directory: ".*\/mft-far-.*\/victim.txt"/);
  has(/^\(4\) appeared outside the node directory: ".*\/node_2\/new.txt"/);

  const recovery = recoveryProblems(w, before, after, cli(1), window(), new Date());
  const hasR = (re: RegExp) => expect(recovery.some((p) => re.test(p)), `${re}\n${recovery.join('\n')}`).toBe(true);
  hasR(/^\(3\) the follow-up run exited 1, not 0/);
  hasR(new RegExp(`^\\(3\\) removed but still has rows after the follow-up run: "${e2}"`));
  hasR(new RegExp(`^\\(3\\) eligible but still has rows after the follow-up run: "${e2}"`));
});
