// The clock, on the real servers: purges at the last millisecond of an hour and at the first
// of the next, and a host clock minutes ahead of or behind the database's. PostgreSQL's clock
// cannot be moved, so the purge runs in this process with the host clock it reads injected
// (purgeNode's `hostNow`); everything else is the real purge on the real servers.
import { expect } from 'vitest';
import { avoidHourEdge, fileRecords, show } from '../helpers/purgeFixture.js';
import { purgeInProcess, type InProcessRun } from './inProcess.js';
import { checkAfterFault, safetyProblems, snapshot } from './invariants.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { HOUR, hourStartOf, World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

const MIN = 60_000;
// The scenarios wait for the clock: up to a minute to leave the hour's edge (avoidHourEdge),
// and one of them up to two minutes more to be past the hour's first minutes. The work itself
// takes seconds; the timeouts cover the waits, so the time of day never fails a scenario.
const EDGE_WAIT_TIMEOUT = 3 * MIN;
const EDGE_AND_MINUTES_WAIT_TIMEOUT = 5 * MIN;
const outcomes = (run: InProcessRun): Map<string, string> =>
  new Map(run.files.map((f) => [f.file.filePath!, f.file.decision === 'keep' ? `keep:${f.file.reason}` : (f.outcome ?? 'delete')]));
const skewLine = (run: InProcessRun) => run.logs.find((l) => /clocks disagree/.test(l.msg));

scenario('purges at the last millisecond of an hour and at the first of the next', async (rec) => {
  await avoidHourEdge(60_000);
  // Retention of one minute, so that only the current-hour rule decides at the boundary.
  const w = await World.create(servers, { policies: { im: 'PT1M' }, batchSize: 3 });
  try {
    // A boundary B in the past: the injected host clock is then the earlier clock, the one used.
    const B = hourStartOf(Date.now()).getTime() - 3 * HOUR;
    const at = (ms: number) => new Date(B + ms);
    const up = (ts: number, folder: number) => w.upload({ at: at(ts), folderAt: at(folder) });
    const firstMsOfLastHour = await up(-HOUR, -HOUR);
    const twoMinutesBefore = await up(-2 * MIN, -HOUR);
    const lastMsOfLastHour = await up(-1, -HOUR);
    const hourBefore = await up(-2 * HOUR + 30 * MIN, -2 * HOUR);
    const firstMsOfNextHour = await up(0, 0);
    const oldRowNextFolder = await up(-2 * HOUR, 0);

    // 1. At B - 1 ms, the last millisecond of the hour: that hour is current and stays.
    let before = await snapshot(w);
    const t1 = at(-1);
    const run1 = await purgeInProcess(w, { hostNow: () => t1 });
    expect(run1.exitCode, JSON.stringify(run1.logs)).toBe(0);
    let o = outcomes(run1);
    expect(o.get(hourBefore)).toBe('removed');
    expect(o.get(firstMsOfLastHour)).toBe('keep:current-hour');
    expect(o.get(twoMinutesBefore)).toBe('keep:current-hour');
    expect(o.get(oldRowNextFolder)).toBe('keep:future-timestamp');
    // Not expired at all (newer than B - 1 ms - 1 min): not even read.
    expect(o.has(lastMsOfLastHour)).toBe(false);
    expect(o.has(firstMsOfNextHour)).toBe(false);
    let after = await snapshot(w);
    expect(safetyProblems(w, before, after, { nowMin: t1, nowMax: t1 })).toEqual([]);

    // 2. At B, the first millisecond of the next hour: the hour just ended goes, minute by minute.
    before = after;
    const t2 = at(0);
    const run2 = await purgeInProcess(w, { hostNow: () => t2 });
    expect(run2.exitCode, JSON.stringify(run2.logs)).toBe(0);
    o = outcomes(run2);
    expect(o.get(firstMsOfLastHour)).toBe('removed');
    expect(o.get(twoMinutesBefore)).toBe('removed');
    expect(o.get(oldRowNextFolder)).toBe('keep:current-hour');
    expect(o.has(lastMsOfLastHour)).toBe(false); // younger than a minute at B
    expect(o.has(firstMsOfNextHour)).toBe(false);
    after = await snapshot(w);
    expect(safetyProblems(w, before, after, { nowMin: t2, nowMax: t2 })).toEqual([]);

    // Both runs measured the skew to the real database clock (hours here) and said so.
    for (const run of [run1, run2]) {
      expect(run.result.clockSkewMs).toBeGreaterThan(2 * HOUR);
      expect(skewLine(run)?.skewMs).toBe(run.result.clockSkewMs);
    }
    // Then the real clock: one normal run takes the rest.
    await checkAfterFault(w, before, { label: 'hour boundary', window: { nowMin: t2, nowMax: t2 } });
    rec.iterations = 2;
    rec.note('at HH:59:59.999 the hour stays (current-hour) and its folder of the next hour is future-timestamp; at HH+1:00:00.000 the hour just ended goes');
  } finally {
    await w.dispose();
  }
}, EDGE_WAIT_TIMEOUT);

scenario('host clock minutes ahead of the database clock', async (rec) => {
  await avoidHourEdge(60_000);
  // The file uploaded at the hour's start must be past its one-minute retention, so that only
  // the current-hour rule keeps it: not in the hour's first minutes.
  const intoHour = Date.now() - hourStartOf(Date.now()).getTime();
  if (intoHour < 2 * MIN) await new Promise((res) => setTimeout(res, 2 * MIN - intoHour));
  const w = await World.create(servers, { policies: { im: 'PT1M' } });
  try {
    const real = Date.now();
    const H = hourStartOf(real).getTime();
    // Ahead into the next hour, by 5 to 65 minutes: by the host clock this hour would be over.
    const aheadMs = H + HOUR + 5 * MIN - real;
    const thisHour = await w.upload({ at: new Date(H) });
    const lastHour = await w.upload({ at: new Date(H - HOUR + 1000) });
    // What the host clock alone would do: the dry-run's --as-of ignores the database clock.
    const asOf = new Date(real + aheadMs).toISOString();
    const dry = await w.purge('--dry-run', '--json', '--as-of', asOf);
    expect(dry.code, show(dry)).toBe(0);
    expect(fileRecords(dry.stdout).find((r) => r.filePath === thisHour)?.decision).toBe('delete');

    const before = await snapshot(w);
    const nowMin = new Date();
    const run = await purgeInProcess(w, { hostNow: () => new Date(Date.now() + aheadMs) });
    const nowMax = new Date();
    expect(run.exitCode, JSON.stringify(run.logs)).toBe(0);
    const o = outcomes(run);
    // The earlier clock (the database's) decides: this hour stays.
    expect(o.get(thisHour)).toBe('keep:current-hour');
    expect(o.get(lastHour)).toBe('removed');
    // The skew is measured and logged (negative: the database is behind this host).
    expect(run.result.clockSkewMs).toBeLessThan(-(aheadMs - 60_000));
    expect(run.result.clockSkewMs).toBeGreaterThan(-(aheadMs + 60_000));
    expect(skewLine(run)).toMatchObject({ level: 40, skewMs: run.result.clockSkewMs });
    await checkAfterFault(w, before, { label: 'host clock ahead', window: { nowMin, nowMax } });
    rec.note(`host ${Math.round(aheadMs / MIN)} min ahead: warned with the skew, the database's earlier clock used, the current hour kept (a dry-run --as-of the host time would have deleted it)`);
  } finally {
    await w.dispose();
  }
}, EDGE_AND_MINUTES_WAIT_TIMEOUT);

scenario('host clock minutes behind the database clock', async (rec) => {
  await avoidHourEdge(60_000);
  const w = await World.create(servers, { policies: { im: 'PT1M' } });
  try {
    const real = Date.now();
    const H = hourStartOf(real).getTime();
    // Behind into the previous hour, by 5 to 65 minutes.
    const behindMs = real - (H - 5 * MIN);
    const lastHour = await w.upload({ at: new Date(H - HOUR + 1000) });
    const twoHoursAgo = await w.upload({ at: new Date(H - 2 * HOUR + 1000) });
    const before = await snapshot(w);
    let hostNow = new Date(0);
    const run = await purgeInProcess(w, { hostNow: () => (hostNow = new Date(Date.now() - behindMs)) });
    expect(run.exitCode, JSON.stringify(run.logs)).toBe(0);
    const o = outcomes(run);
    // The host clock is the earlier one: by it, the last hour is still current and stays.
    expect(o.get(lastHour)).toBe('keep:current-hour');
    expect(o.get(twoHoursAgo)).toBe('removed');
    expect(run.result.clockSkewMs).toBeGreaterThan(behindMs - 60_000);
    expect(run.result.clockSkewMs).toBeLessThan(behindMs + 60_000);
    expect(skewLine(run)).toMatchObject({ level: 40, skewMs: run.result.clockSkewMs });
    await checkAfterFault(w, before, { label: 'host clock behind', window: { nowMin: hostNow, nowMax: hostNow } });
    rec.note(`host ${Math.round(behindMs / MIN)} min behind: warned with the skew, the host's earlier clock used, its current hour kept`);
  } finally {
    await w.dispose();
  }
}, EDGE_WAIT_TIMEOUT);
