// A realistic node for the fault scenarios: expired uploads (some with downloads, some in
// roll-over folders, some already missing) among files that must stay (current hour, not yet
// expired, a chat type without a policy, a duplicate upload record still fresh, a file with no
// row, rows pointing into the canaries).
import { join } from 'node:path';
import { avoidHourEdge } from '../helpers/purgeFixture.js';
import { snapshot, type Snapshot } from './invariants.js';
import type { Rng } from './seed.js';
import { DAY, HOUR, hourStartOf, type World } from './world.js';

export interface Mix {
  /** Paths the purge should remove (by construction). */
  eligible: string[];
  /** Paths that must stay. */
  kept: string[];
}

export async function populateMix(w: World, rng: Rng, eligibleCount: number): Promise<Mix> {
  const now = Date.now();
  const H = hourStartOf(now).getTime();
  const eligible: string[] = [];
  const kept: string[] = [];
  for (let i = 0; i < eligibleCount; i++) {
    const groupchat = w.policies.groupchat !== undefined && rng.chance(0.3);
    const at = groupchat ? new Date(H - rng.int(26, 96) * HOUR + rng.int(0, HOUR - 1000)) : new Date(H - rng.int(2, 40) * HOUR + rng.int(0, HOUR - 1000));
    const gets = rng.chance(0.4) ? [new Date(at.getTime() + 1000), ...(rng.chance(0.5) ? [new Date(at.getTime() + 2000)] : [])] : [];
    eligible.push(
      await w.upload({
        chatType: groupchat ? 'groupchat' : 'im',
        at,
        rollover: rng.chance(0.15) ? rng.int(1, 2) : undefined,
        gets,
        createFile: !rng.chance(0.1),
      }),
    );
  }
  // The current UTC hour: never purged.
  kept.push(await w.upload({ at: new Date(H), gets: [new Date(Math.min(now, H + 1000))] }));
  kept.push(await w.upload({ chatType: 'groupchat', at: new Date(H) }));
  // Not expired yet (groupchat keeps a day).
  kept.push(await w.upload({ chatType: 'groupchat', at: new Date(H - 3 * HOUR) }));
  // No policy for persistent chat: never purged, however old.
  kept.push(await w.upload({ chatType: 'persistent', at: new Date(H - 40 * DAY) }));
  // Two upload records of one file, one of them fresh: kept (duplicate-post).
  const dupAt = new Date(H - 5 * HOUR);
  const dup = await w.upload({ at: dupAt });
  await w.upload({ at: new Date(H), path: dup, createFile: false });
  kept.push(dup);
  // A file with no row at all, in an expired hour folder.
  kept.push(w.writeFile(w.layoutPath('im', new Date(H - 6 * HOUR), 'orphan-no-row.txt')));
  // Old rows naming files outside the node directory (they exist, in the canary tree).
  const old = new Date(H - 10 * DAY);
  await w.upload({ at: old, path: join(w.base, 'outside', 'victim.txt'), createFile: false });
  await w.upload({ at: old, path: join(w.base, 'node_2', 'victim.txt'), createFile: false });
  return { eligible, kept };
}

/**
 * The start of one iteration of a fault loop: clear of the hour's edge, the world emptied and
 * filled with a new mix of `eligibleCount` eligible uploads. Returns the mix, what the world
 * holds before the fault, and the earliest instant a purge started next can take for its now.
 */
export async function freshMix(w: World, rng: Rng, eligibleCount: number): Promise<{ mix: Mix; before: Snapshot; nowMin: Date }> {
  await avoidHourEdge(20_000);
  await w.reset();
  const mix = await populateMix(w, rng, eligibleCount);
  const before = await snapshot(w);
  return { mix, before, nowMin: new Date() };
}
