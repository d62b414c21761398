// A backlog of expired uploads for the catch-up and pacing tests, inserted in bulk.
import type { AftRow } from '../helpers/aftLogSchema.js';
import { HOUR, hourStartOf, type World } from '../faults/world.js';

/**
 * `n` expired im uploads, oldest first (so aft_index follows age), 10 s apart and ending three
 * hours ago, every `heldEvery`-th by a held uploader; and a few fresh ones. Returns the paths
 * in aft_index order.
 */
export async function seedBacklog(w: World, n: number, heldEvery = 0): Promise<{ paths: string[]; held: string[]; fresh: string[] }> {
  const end = hourStartOf(Date.now()).getTime() - 3 * HOUR;
  const rows: AftRow[] = [];
  const paths: string[] = [];
  const held: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(end - (n - i) * 10_000);
    const p = w.layoutPath('im', at, `b${i}.txt`);
    w.writeFile(p, 32);
    const isHeld = heldEvery > 0 && i % heldEvery === heldEvery - 1;
    rows.push({ method: 'Post', chatType: 'im', filePath: p, fileSize: 32, timestamp: at, jid: isHeld ? 'held@example.com' : 'alice@example.com' });
    (isHeld ? held : paths).push(p);
  }
  await w.insertRows(rows);
  // As autovacuum would have by then: a bulk load without statistics gets a poor plan.
  await w.sql('VACUUM ANALYZE aft_log');
  const fresh = [];
  for (let i = 0; i < 5; i++) fresh.push(await w.upload({ at: new Date(Date.now() - 10 * 60_000) }));
  return { paths, held, fresh };
}

