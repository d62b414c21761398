// The rate limit and the purge windows, on the real PostgreSQL and OpenSSH sshd. The rate is
// checked by the time each file is handed to the file store (its removal request goes out at
// once): no sliding second may hold more than the limit, however slow the machine. The daemon
// is the real one, with purge windows around the current time.
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loadConfig.js';
import type { ResolvedNode } from '../../src/config/resolvedConfig.js';
import type { FileStore } from '../../src/ports.js';
import { openCatalog, openFileStore } from '../../src/purge/openPorts.js';
import { purgeNode } from '../../src/purge/purgeNode.js';
import { eligiblePaths, safetyProblems, snapshot } from '../faults/invariants.js';
import { useFaultServers } from '../faults/servers.js';
import { World } from '../faults/world.js';
import { sleep } from '../helpers/procUtil.js';
import { avoidHourEdge } from '../helpers/purgeFixture.js';
import { seedBacklog } from './catchUpSeed.js';

const servers = useFaultServers();

/** The most timestamps in any half-open second [t, t + 1000) that starts at one of them. */
function maxPerSlidingSecond(stamps: number[]): number {
  const s = [...stamps].sort((a, b) => a - b);
  let max = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    while (s[j]! < s[i]! - 999) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

/** The file store, with the time each file was handed to it for removal, and each request's size. */
const callSizes: number[] = [];
function stamping(files: FileStore, stamps: number[]): FileStore {
  return new Proxy(files, {
    get(target, key, receiver) {
      if (key === 'removeFiles') {
        return (list: Parameters<FileStore['removeFiles']>[0]) => {
          callSizes.push(list.length);
          const t = Date.now();
          for (let i = 0; i < list.length; i++) stamps.push(t);
          return target.removeFiles(list);
        };
      }
      const v = Reflect.get(target, key, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

async function purgeInProcess(node: ResolvedNode, stamps: number[]) {
  const catalog = await openCatalog(node);
  const files = stamping(await openFileStore(node), stamps);
  try {
    return await purgeNode(node, { catalog, files, log: pino({ level: 'silent' }) }, { dryRun: false, batchSize: 1000, maxClockSkewMs: 120_000, hostNow: () => new Date() });
  } finally {
    await files.close();
    await catalog.close();
  }
}

describe('purge.maxFilesPerSecond', () => {
  for (const store of ['sftp', 'local'] as const) {
    it(`never removes more than the limit in any sliding second (${store} store)`, async () => {
      await avoidHourEdge(60_000);
      const w = await World.create(servers, { policies: { im: 'PT1H' } });
      try {
        w.config.purge.maxFilesPerSecond = 25;
        w.config.daemon = { stateDirectory: join(w.configDir, 'state') };
        if (store === 'local') w.config.nodes[0].fileServer = { type: 'local', directory: w.nodeDir };
        w.writeConfig();
        const { paths } = await seedBacklog(w, 120);
        const node = (await loadConfig(w.configPath)).nodes[0]!;
        expect(node.maxFilesPerSecond).toBe(25);
        const s0 = await snapshot(w);
        const nowMin = new Date();
        const stamps: number[] = [];
        callSizes.length = 0;
        const result = await purgeInProcess(node, stamps);
        expect(result.status, result.error?.message).toBe('ok');
        expect(result.chatTypes[0]!.files).toBe(120);
        expect(stamps).toHaveLength(120);
        expect(maxPerSlidingSecond(stamps), `request times (ms after the first): ${stamps.map((t) => t - stamps[0]!).join(' ')}`).toBeLessThanOrEqual(25);
        // Smooth: no request batch holds more than a fifth of the second's budget.
        expect(Math.max(...callSizes)).toBeLessThanOrEqual(5);
        const s1 = await snapshot(w);
        expect(safetyProblems(w, s0, s1, { nowMin, nowMax: new Date() })).toEqual([]);
        for (const p of paths) expect(s1.fs.has(p)).toBe(false);
        expect([...eligiblePaths(s1.rows, new Date(), w)]).toEqual([]);
      } finally {
        await w.dispose();
      }
    }, 120_000);
  }

  it('a node override replaces the shared rate; 0 there means no limit', async () => {
    const w = await World.create(servers, { policies: { im: 'PT1H' } });
    try {
      w.config.purge.maxFilesPerSecond = 25;
      w.config.nodes[0].purge = { maxFilesPerSecond: 0 };
      w.writeConfig();
      expect((await loadConfig(w.configPath)).nodes[0]!.maxFilesPerSecond).toBeUndefined();
      w.config.nodes[0].purge = { maxFilesPerSecond: 7.5 };
      w.writeConfig();
      expect((await loadConfig(w.configPath)).nodes[0]!.maxFilesPerSecond).toBe(7.5);
    } finally {
      await w.dispose();
    }
  });
});

/** `HH:MM` of a UTC instant. */
const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);

describe('daemon.windows', () => {
  it('starts no purge outside the windows', async () => {
    const w = await World.create(servers, { policies: { im: 'PT1H' } });
    try {
      const { paths } = await seedBacklog(w, 10);
      const now = Date.now();
      const d = w.startDaemon({ windows: [`${hhmm(now + 2 * 3_600_000)}-${hhmm(now + 3 * 3_600_000)}`] });
      try {
        const line = await d.waitForLine((l) => l.includes('outside the purge windows'));
        expect(line, d.lines.join('\n')).toBeDefined();
        expect(line).toMatch(/"nextWindow":"20/);
        await sleep(2500);
        const s = await snapshot(w);
        for (const p of paths) expect(s.fs.has(p)).toBe(true);
        expect(d.lines.some((l) => l.includes('"purge started"'))).toBe(false);
      } finally {
        d.child.kill('SIGTERM');
        await d.exited;
      }
    } finally {
      await w.dispose();
    }
  }, 60_000);

  it('a run still going when its window closes stops between batches, and the next window carries on', async () => {
    await avoidHourEdge(150_000);
    const w = await World.create(servers, { batchSize: 50, policies: { im: 'PT1H' } });
    try {
      w.config.purge.maxFilesPerSecond = 25;
      w.writeConfig();
      const { paths } = await seedBacklog(w, 2800);
      // The window closes at the next minute boundary at least 15 s away, so at most 75 s away:
      // the run (112 s at 25 files/s) cannot finish inside it.
      let end = Math.ceil(Date.now() / 60_000) * 60_000;
      if (end - Date.now() < 15_000) end += 60_000;
      const s0 = await snapshot(w);
      const nowMin = new Date();
      const d = w.startDaemon({ windows: [`${hhmm(end - 30 * 60_000)}-${hhmm(end)}`] });
      let s1;
      try {
        const started = await d.waitForLine((l) => l.includes('"purge started"'));
        expect(started, d.lines.join('\n')).toMatch(new RegExp(`"stopBy":"${new Date(end).toISOString()}"`));
        const stopped = await d.waitForLine((l) => l.includes('time to stop reached'));
        expect(stopped, d.lines.slice(-20).join('\n')).toBeDefined();
        const finished = await d.waitForLine((l) => l.includes('"purge finished"'));
        expect(finished).toMatch(/"ended":"window"/);
        expect(Date.now()).toBeGreaterThanOrEqual(end);
        // The next ticks are outside the window: nothing more goes.
        await d.waitForLine((l) => l.includes('outside the purge windows'));
        s1 = await snapshot(w);
        await sleep(1500);
        expect((await snapshot(w)).rows.length).toBe(s1.rows.length);
      } finally {
        d.child.kill('SIGTERM');
        await d.exited;
      }
      expect(safetyProblems(w, s0, s1, { nowMin, nowMax: new Date() })).toEqual([]);
      const gone = paths.filter((p) => !s1.fs.has(p));
      expect(gone.length).toBeGreaterThan(0);
      expect(gone.length).toBeLessThan(paths.length);
      // Oldest first, and every file gone has lost its rows.
      expect(gone).toEqual(paths.slice(0, gone.length));
      const rowPaths = new Set(s1.rows.map((r) => r.file_path));
      for (const p of paths) expect(s1.fs.has(p)).toBe(rowPaths.has(p));

      // The next window (here: a run from the command line) carries on from there.
      w.config.purge.maxFilesPerSecond = 0;
      w.writeConfig();
      const next = await w.purge('--json');
      expect(next.code).toBe(0);
      expect([...eligiblePaths((await snapshot(w)).rows, new Date(), w)]).toEqual([]);
    } finally {
      await w.dispose();
    }
  }, 200_000);
});
