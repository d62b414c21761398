// Malformed config and policy files in front of a node full of expired files, on the real
// servers: each is refused with exit 2 and a message naming the file, the key and the value,
// and nothing is touched; a running daemon sent SIGHUP with a bad file keeps its old config.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { expect } from 'vitest';
import { avoidHourEdge, show } from '../helpers/purgeFixture.js';
import { checkAfterFault, safetyProblems, snapshot } from './invariants.js';
import { populateMix } from './mix.js';
import { faultRecorder } from './results.js';
import { Rng, suiteSeed } from './seed.js';
import { useFaultServers } from './servers.js';
import { World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const SEED = suiteSeed();
const servers = useFaultServers({ server });

interface BadFile {
  label: string;
  /** Writes the bad file; returns the file it broke. */
  write: (w: World) => string;
  /** What the message must name besides the file: key, value. */
  names: string[];
}

const policyFile = (w: World, ct: string) => join(w.configDir, 'policies', `${ct}.yaml`);

const BAD: BadFile[] = [
  { label: 'YAML that does not parse', write: (w) => (writeFileSync(w.configPath, readFileSync(w.configPath, 'utf8').replace('"nodes": [', '"nodes": [[')), w.configPath), names: ['config.yaml:', 'expected valid YAML'] },
  {
    label: 'an unknown key',
    write: (w) => (writeFileSync(w.configPath, JSON.stringify({ ...w.config, purge: { ...w.config.purge, batchsize: 10 } })), w.configPath),
    names: ['batchsize'],
  },
  {
    label: 'a duplicate key',
    write: (w) => (writeFileSync(w.configPath, JSON.stringify(w.config, null, 2).replace('"log": {', '"log": { "level": "warn" },\n  "log": {')), w.configPath),
    names: ['key "log"', 'a second time'],
  },
  { label: 'a batch size of 0', write: (w) => (writeFileSync(w.configPath, JSON.stringify({ ...w.config, purge: { ...w.config.purge, batchSize: 0 } })), w.configPath), names: ['batchSize', 'got 0'] },
  { label: 'a negative retention', write: (w) => (writeFileSync(policyFile(w, 'im'), 'chatType: im\nretention: P-1D\n'), policyFile(w, 'im')), names: ['key "retention"', 'got "P-1D"'] },
  { label: 'a retention of zero', write: (w) => (writeFileSync(policyFile(w, 'im'), 'chatType: im\nretention: PT0S\n'), policyFile(w, 'im')), names: ['key "retention"', 'got "PT0S"'] },
  { label: 'a retention that is not a duration', write: (w) => (writeFileSync(policyFile(w, 'im'), 'chatType: im\nretention: 7 days\n'), policyFile(w, 'im')), names: ['key "retention"', 'got "7 days"'] },
  { label: 'a policy file for another chat type', write: (w) => (writeFileSync(policyFile(w, 'im'), 'chatType: groupchat\nretention: P1D\n'), policyFile(w, 'im')), names: ['chatType', '"groupchat"'] },
  { label: 'an unknown key in a policy file', write: (w) => (writeFileSync(policyFile(w, 'im'), 'chatType: im\nretention: PT1H\nretension: P1D\n'), policyFile(w, 'im')), names: ['retension'] },
  { label: 'a legal hold that names nothing', write: (w) => (writeFileSync(join(w.configDir, 'policies', 'holds.yaml'), 'holds:\n  - name: empty-hold\n'), join(w.configDir, 'policies', 'holds.yaml')), names: ['key "holds[0]"', 'got "empty-hold"'] },
];

scenario('malformed config and policy files', async (rec) => {
  rec.seed = SEED;
  await avoidHourEdge();
  const w = await World.create(servers);
  try {
    await populateMix(w, new Rng(SEED).fork(1), 10);
    const goodConfig = readFileSync(w.configPath, 'utf8');
    const goodIm = readFileSync(policyFile(w, 'im'), 'utf8');
    const before = await snapshot(w);
    for (const bad of BAD) {
      const broken = bad.write(w);
      for (const args of [['--dry-run'], []]) {
        const r = await w.purge(...args);
        const said = r.stdout + r.stderr;
        expect(r.code, `${bad.label}\n${show(r)}`).toBe(2);
        expect(said, bad.label).toContain(basename(broken));
        for (const n of bad.names) expect(said, `${bad.label}: names ${n}`).toContain(n);
      }
      writeFileSync(w.configPath, goodConfig);
      writeFileSync(policyFile(w, 'im'), goodIm);
      writeFileSync(join(w.configDir, 'policies', 'holds.yaml'), 'holds: []\n');
    }
    // Nothing was touched by any of them.
    const after = await snapshot(w);
    expect(safetyProblems(w, before, after, { nowMin: new Date(), nowMax: new Date() })).toEqual([]);
    expect(after.rows).toEqual(before.rows);
    expect([...after.fs.keys()]).toEqual([...before.fs.keys()]);
    rec.iterations = BAD.length * 2;
    rec.note(`${BAD.length} kinds of bad file, each refused by the dry-run and the purge with exit 2, naming the file, key and value; nothing touched`);
  } finally {
    await w.dispose();
  }
});

// Timeout: up to a minute waiting to leave the hour's edge, then a few seconds of work.
scenario('daemon sent SIGHUP with a bad policy keeps its old config', async (rec) => {
  rec.seed = SEED;
  await avoidHourEdge(60_000);
  const w = await World.create(servers);
  try {
    await populateMix(w, new Rng(SEED).fork(2), 8);
    const before = await snapshot(w);
    const nowMin = new Date();
    const d = w.startDaemon();
    const finished = () => d.lines.filter((l) => l.includes('"msg":"purge finished"')).length;
    await d.waitForLine(() => finished() >= 1);
    // A policy that would purge everything at once, written wrongly: refused, the old one runs on.
    writeFileSync(policyFile(w, 'persistent'), 'chatType: persistent\nretention: PT0S\n');
    d.child.kill('SIGHUP');
    const rejected = await d.waitForLine((l) => l.includes('config reload rejected'));
    expect(rejected, d.lines.join('\n')).toMatch(/persistent\.yaml/);
    // More uploads expire under the old policy: the daemon purges them on its next runs.
    const later = await w.upload({ at: new Date(Date.now() - 3 * 3_600_000) });
    const mark = finished();
    await d.waitForLine(() => finished() >= mark + 2);
    d.child.kill('SIGTERM');
    expect((await d.exited).code, d.lines.join('\n')).toBe(0);
    expect(d.lines.some((l) => l.includes('"msg":"removed"') && l.includes(JSON.stringify(later).slice(1, -1)))).toBe(true);
    // The persistent files (no policy in the running config) are all still there.
    const after = await snapshot(w);
    for (const [p] of before.fs) if (p.includes('/files/persistent/')) expect(after.fs.has(p), p).toBe(true);
    await checkAfterFault(w, before, {
      label: 'SIGHUP with a bad policy',
      window: { nowMin, nowMax: new Date() },
      faultyRun: d.lines.join('\n'),
      // The upload made after the snapshot (its folder is new; its removal is checked above).
      testMutated: [dirname(later)],
      heal: async () => writeFileSync(policyFile(w, 'persistent'), 'chatType: persistent\nretention: forever\n'),
    });
    rec.note('reload rejected in the log naming persistent.yaml; the daemon kept purging by its old policies, nothing of the bad one applied');
  } finally {
    await w.dispose();
  }
}, 180_000);
