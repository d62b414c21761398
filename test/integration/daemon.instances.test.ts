// Issue 4: several daemon instances on the same node. The node's PostgreSQL advisory lock lets
// exactly one of them purge it: no file or row is handled twice, and when the owner dies
// (SIGKILL: no cleanup at all) its session ends and another instance takes over.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, getText, waitFor, type DaemonProcess, type NodeFixture } from '../helpers/daemonHarness.js';
import { startPostgres } from '../helpers/pgServer.js';
import { startSshd } from '../helpers/sshdServer.js';

const LOCKED = 'node lock acquired: this instance purges the node';

describe('several daemon instances on one node', () => {
  let bed: DaemonTestBed;

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  const mounts: string[] = [];
  afterEach(async () => {
    await bed.killDaemons();
    for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  });
  afterAll(() => bed?.close());

  // Each instance has its own config directory (state, port 0) over the same nodes.
  const startInstances = (nodes: NodeFixture[], count: number, batchSize: number): DaemonProcess[] =>
    Array.from({ length: count }, (_, i) => bed.daemon(bed.config(nodes, { batchSize }), `instance-${i}`));

  const duplicates = (paths: string[]): string[] => paths.filter((p, i) => paths.indexOf(p) !== i);

  it('three instances started at once: one purges each node, every file exactly once; SIGKILL of the owner hands the node over', async () => {
    const a = await bed.node('multi_a');
    const b = await bed.node('multi_b');
    const firstA = await a.seed(400);
    const firstB = await b.seed(400);
    // All three race for both nodes at start-up (catch-up) and at every tick (every second).
    const instances = startInstances([a, b], 3, 50);

    await waitFor('the first files to be purged', async () => (await a.rowsFor(firstA)).size + (await b.rowsFor(firstB)).size === 0, 30_000);
    // The "removed" line follows the commit: wait for it before any instance is killed.
    await waitFor('the removals to be logged', () => new Set(instances.flatMap((d) => d.removed())).size === firstA.length + firstB.length);
    const owners = (node: string): DaemonProcess[] => instances.filter((d) => d.running && d.lines.some((l) => l.msg === LOCKED && l.node === node));
    expect(owners('multi_a')).toHaveLength(1);
    expect(owners('multi_b')).toHaveLength(1);
    const others = instances.filter((d) => d !== owners('multi_a')[0]);
    await waitFor('the other instances to see node multi_a taken', () =>
      others.every((d) => d.lines.some((l) => l.msg === 'node is purged by another instance (it holds the node lock)' && l.node === 'multi_a')),
    );

    // SIGKILL the owner of node multi_a: no unlock, no cleanup. Its session ends, the lock with it.
    const victim = owners('multi_a')[0]!;
    victim.signal('SIGKILL');
    expect(await victim.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const secondA = await a.seed(300);
    await waitFor('another instance to purge node multi_a', async () => (await a.rowsFor(secondA)).size === 0, 30_000);
    const heirs = others.filter((d) => d.lines.some((l) => l.msg === LOCKED && l.node === 'multi_a'));
    expect(heirs).toHaveLength(1);
    expect([...firstA, ...secondA].every((p) => !existsSync(p))).toBe(true);
    expect(firstB.every((p) => !existsSync(p))).toBe(true);

    // Let the survivors finish what they were doing, then compare their logs.
    const survivors = instances.filter((d) => d.running);
    survivors.forEach((d) => d.signal('SIGTERM'));
    for (const d of survivors) expect((await d.exited).code, d.dump()).toBe(0);

    const removed = instances.flatMap((d) => d.removed());
    expect(duplicates(removed)).toEqual([]);
    expect(new Set(removed)).toEqual(new Set([...firstA, ...secondA, ...firstB]));
    expect(await a.rowCount()).toBe(0);
    expect(await b.rowCount()).toBe(0);
    // The one that was killed never purged after its death; the heir purged only after it.
    expect(heirs[0]!.removed()).toEqual(expect.arrayContaining(secondA));
  });

  it('alarms come from the lock holder only: one raise and one clear at the receiver, no stale state at the standby, which takes over within seconds of a SIGKILL', async () => {
    const events: Array<{ event: string; alarm: string; node: string }> = [];
    const server = createServer((req, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (c: string) => (text += c));
      req.on('end', () => {
        events.push(JSON.parse(text));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alarms`;
    try {
      const n = await bed.node('voice_1');
      const paths = await n.fillSmallFileSystem(mounts);
      // A yearly schedule, just purged: only the alarm (purgeWhenRaised) or a takeover purges.
      const instances = [0, 1].map((i) => {
        const file = bed.config([n], {
          schedule: '0 0 1 1 *',
          extra: { log: { level: 'debug' }, alarms: { checkInterval: 'PT1S', stalled: { maxBacklogAge: 'P30D' }, delivery: { retryInitial: 'PT0.2S', retryMax: 'PT0.5S' }, sinks: [{ type: 'webhook', url }] } },
        });
        mkdirSync(join(file, '..', 'state'), { recursive: true });
        writeFileSync(join(file, '..', 'state', 'daemon-state.json'), JSON.stringify({ lastSuccess: { voice_1: new Date().toISOString() } }));
        return bed.daemon(file, `instance-${i}`);
      });
      const free = () => events.filter((e) => e.alarm === 'XcpMFTExtFsFreeSpaceWarn').map((e) => e.event);
      await waitFor('the free-space alarm raised and cleared', () => free().includes('cleared'), 30_000);
      const owner = instances.find((d) => d.lines.some((l) => l.msg === LOCKED && l.node === 'voice_1'))!;
      const standby = instances.find((d) => d !== owner)!;
      const checks = (d: DaemonProcess, after = 0) => d.lines.slice(after).filter((l) => l.msg === 'alarm check done' && l.node === 'voice_1').length;
      await waitFor('three more checks by the owner', () => checks(owner) >= 4, 20_000);
      expect(free()).toEqual(['raised', 'cleared']);
      expect(checks(standby)).toBe(0);
      const m = (await getText(`${await standby.url()}/metrics`)).body;
      expect(m.split('\n').filter((l) => l.startsWith('mft_alarm_active{') && l.includes('node="voice_1"') && l.endsWith(' 1'))).toEqual([]);
      const h = JSON.parse((await getText(`${await standby.url()}/healthz`)).body);
      expect(h.alarms).toEqual([]);
      expect(h.nodes[0].lock).toBe('elsewhere');

      // SIGKILL the owner: the standby notices on its lock poll, not at next year's schedule.
      owner.signal('SIGKILL');
      await owner.exited;
      const killedAt = Date.now();
      const more = await n.seed(3, { ageHours: 72 });
      const mark = standby.lines.length;
      await standby.waitForLog('the takeover', (l) => l.msg.startsWith('the node lock was free: this instance takes over') && l.node === 'voice_1', 60_000, mark);
      await waitFor('the takeover purge', async () => (await n.rowsFor(more)).size === 0, 30_000);
      await waitFor('alarm checks by the heir', () => checks(standby, mark) >= 2, 20_000);
      expect(Date.now() - killedAt).toBeLessThan(60_000);
      expect(more.every((p) => !existsSync(p))).toBe(true);
      expect(free()).toEqual(['raised', 'cleared']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
