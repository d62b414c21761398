// The service's own state, damaged or unwritable: a damaged purge history never switches the
// relative blast-radius limit off (the run is refused, exit 4, until the history is reset on
// purpose); a state directory that is read-only or full never stops a purge; a damaged
// alarms.json stops `purge --alarms` before it touches anything. The usual invariants hold.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { avoidHourEdge, runCli, show } from '../helpers/purgeFixture.js';
import { checkAfterFault, snapshot } from './invariants.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { HOUR, hourStartOf, World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

const ago = (hours: number, plusMs = 0): Date => new Date(hourStartOf(Date.now()).getTime() - hours * HOUR + plusMs);

/** A world whose state directory is its own, and whose relative limit judges runs of any size. */
async function stateWorld(): Promise<{ w: World; state: string }> {
  const w = await World.create(servers);
  const state = join(w.configDir, 'state');
  mkdirSync(state, { recursive: true });
  w.config.daemon = { stateDirectory: state };
  w.config.purge.limits = { minFiles: 1 };
  w.writeConfig();
  return { w, state };
}

async function uploads(w: World): Promise<void> {
  for (let i = 0; i < 4; i++) await w.upload({ at: ago(5 + i) });
  await w.upload({ at: ago(30, 5000), gets: [ago(29)] });
}

const DAMAGE: Array<[string, (file: string) => void]> = [
  ['empty', (f) => writeFileSync(f, '')],
  ['cut short', (f) => writeFileSync(f, '{"version":1,"nodes":{"node_1":{"im":[3,3,')],
  ['binary', (f) => writeFileSync(f, Buffer.from([0x7b, 0, 0xff, 0x13]))],
  ['a directory', (f) => mkdirSync(f)],
  ['null', (f) => writeFileSync(f, 'null')],
  ['of the wrong shape', (f) => writeFileSync(f, '{"version":1,"nodes":{"node_1":[1,2,3]}}')],
];

scenario('damaged purge history (empty, cut short, binary, a directory, null, wrong shape)', async (rec) => {
  rec.iterations = DAMAGE.length;
  for (const [what, damage] of DAMAGE) {
    await avoidHourEdge();
    const { w, state } = await stateWorld();
    try {
      const file = join(state, 'purge-history.json');
      damage(file);
      await uploads(w);
      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge();
      expect(r.code, `${what}\n${show(r)}`).toBe(4);
      expect(r.stdout).toContain(`the purge history ${file}`);
      expect(r.stdout).toContain(`mft-retention state reset-history --config ${w.configPath} --node node_1`);
      const dry = await w.purge('--dry-run', '--offline');
      expect(dry.code, `${what}\n${show(dry)}`).toBe(4);
      await checkAfterFault(w, before, {
        label: `damaged history: ${what}`,
        window: { nowMin, nowMax: new Date() },
        faultyRun: show(r),
        faultyExit: r.code,
        heal: async () => {
          const reset = await runCli(['state', 'reset-history', '--config', w.configPath, '--node', 'node_1']);
          expect(reset.code, show(reset)).toBe(0);
        },
      });
    } finally {
      await w.dispose();
    }
  }
  rec.note('each refused by the limit on unusually large runs: exit 4 naming the file and the reset command, the dry-run the same, nothing removed; after state reset-history one run exits 0');
});

scenario('state directory read-only or full during a purge', async (rec) => {
  rec.iterations = 2;
  for (const mode of ['read-only', 'full'] as const) {
    await avoidHourEdge();
    const { w, state } = await stateWorld();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', state]);
    try {
      if (mode === 'read-only') execFileSync('mount', ['-o', 'remount,ro', state]);
      else {
        try {
          writeFileSync(join(state, 'filler'), Buffer.alloc(1024 * 1024, 1));
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }
      }
      await uploads(w);
      const before = await snapshot(w);
      const nowMin = new Date();
      const r = await w.purge();
      // The purge itself does not depend on its history being saved.
      expect(r.code, `${mode}\n${show(r)}`).toBe(0);
      expect(r.stderr).toContain('cannot save the purge history');
      expect(r.stderr).toContain(mode === 'read-only' ? 'EROFS' : 'ENOSPC');
      expect(readdirSync(state).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await checkAfterFault(w, before, { label: `state directory ${mode}`, window: { nowMin, nowMax: new Date() }, faultyRun: show(r), faultyExit: r.code });
    } finally {
      execFileSync('umount', ['-l', state]);
      await w.dispose();
    }
  }
  rec.note('the purge removes what is eligible and exits 0, warning that its history was not saved (read-only: EROFS, full: ENOSPC); no temporary file left');
});

scenario('damaged alarms.json before purge --alarms', async (rec) => {
  await avoidHourEdge();
  const { w, state } = await stateWorld();
  try {
    writeFileSync(join(state, 'alarms.json'), '{"version":1,"active":');
    await uploads(w);
    const before = await snapshot(w);
    const nowMin = new Date();
    const r = await w.purge('--alarms');
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain(join(state, 'alarms.json'));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const after = await snapshot(w);
    expect(after.rows).toEqual(before.rows);
    await checkAfterFault(w, before, {
      label: 'damaged alarms.json',
      window: { nowMin, nowMax: new Date() },
      faultyRun: show(r),
      faultyExit: r.code,
      heal: async () => {
        const reset = await runCli(['state', 'reset-alarms', '--config', w.configPath]);
        expect(reset.code, show(reset)).toBe(0);
      },
    });
    rec.note('exit 2 before anything is touched, naming the file and state reset-alarms; no stack; after the reset one run exits 0');
  } finally {
    await w.dispose();
  }
});
