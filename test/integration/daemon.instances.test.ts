// Issue 4: several daemon instances on the same node. The node's PostgreSQL advisory lock lets
// exactly one of them purge it: no file or row is handled twice, and when the owner dies
// (SIGKILL: no cleanup at all) its session ends and another instance takes over.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonTestBed, waitFor, type DaemonProcess, type NodeFixture } from '../helpers/daemonHarness.js';
import { startPostgres } from '../helpers/pgServer.js';
import { startSshd } from '../helpers/sshdServer.js';

const LOCKED = 'node lock acquired: this instance purges the node';

describe('several daemon instances on one node', () => {
  let bed: DaemonTestBed;

  beforeAll(async () => {
    bed = await DaemonTestBed.start(startPostgres, startSshd);
  });
  afterEach(() => bed.killDaemons());
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
});
