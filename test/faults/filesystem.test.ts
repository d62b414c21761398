// File-system faults on the real sshd, logged in as the unprivileged user `mfttest` (who owns
// the node directory and the canaries: only the purge's rules protect them): files it may not
// delete, folders vanishing during a run, a file replaced by a folder, folders on the path
// replaced by symlinks out of the node directory (before and during a run), and files that are
// themselves symlinks.
import { chmodSync, chownSync, cpSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { avoidHourEdge, fileRecords, show, summaryRecord } from '../helpers/purgeFixture.js';
import { purgeInProcess } from './inProcess.js';
import { checkAfterFault, snapshot } from './invariants.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { HOUR, hourStartOf, World } from './world.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ sshd: { user: 'mfttest' }, server });

const ago = (hours: number, plusMs = 0): Date => new Date(hourStartOf(Date.now()).getTime() - hours * HOUR + plusMs);
const outcomeOf = (stdout: string, path: string): string | undefined => fileRecords(stdout).find((r) => r.filePath === path)?.outcome;

scenario('files the SFTP user may not delete (permission denied)', async (rec) => {
  expect(servers.sshd.username).toBe('mfttest');
  await avoidHourEdge();
  const w = await World.create(servers);
  try {
    const locked = await w.upload({ at: ago(5), gets: [ago(4)] });
    const hidden = await w.upload({ at: ago(50), gets: [ago(49)] });
    const free = [await w.upload({ at: ago(6) }), await w.upload({ at: ago(7) })];
    // locked: its hour folder is root's, 0755: mfttest may list it but not unlink in it.
    // hidden: its date folder is root's, 0700: mfttest cannot even see the file. It exists,
    // so it must not pass for an already-missing file.
    chownSync(dirname(locked), 0, 0);
    const hiddenDate = dirname(dirname(hidden));
    chownSync(hiddenDate, 0, 0);
    chmodSync(hiddenDate, 0o700);
    const before = await snapshot(w);
    const nowMin = new Date();
    const r = await w.purge('--json');
    expect(r.code, show(r)).toBe(1);
    expect(outcomeOf(r.stdout, locked)).toBe('failed:permission-denied');
    expect(outcomeOf(r.stdout, hidden)).toBe('failed:permission-denied');
    for (const f of free) expect(outcomeOf(r.stdout, f)).toBe('removed');
    expect(summaryRecord(r.stdout).nodes[0].chatTypes.find((c: any) => c.chatType === 'im').failed).toEqual({ 'permission-denied': 2 });
    await checkAfterFault(w, before, {
      label: 'permission denied',
      window: { nowMin, nowMax: new Date() },
      faultyRun: show(r),
      heal: async () => {
        const { uid, gid } = statSync(w.nodeDir);
        chownSync(dirname(locked), uid, gid);
        chownSync(hiddenDate, uid, gid);
        chmodSync(hiddenDate, 0o755);
      },
    });
    rec.note('exit 1, both reported failed:permission-denied with all rows kept (also the file the user cannot see); exit 0 once the rights are back');
  } finally {
    await w.dispose();
  }
});

scenario('folders vanishing during a run', async (rec) => {
  await avoidHourEdge();
  const w = await World.create(servers, { batchSize: 6 });
  try {
    // Batch 1: a whole hour folder vanishes before its files are removed. Batch 2: a whole date folder.
    const hourA = [await w.upload({ at: ago(30) }), await w.upload({ at: ago(30, 1000), gets: [ago(29)] }), await w.upload({ at: ago(30, 2000) })];
    const others1 = [await w.upload({ at: ago(31) }), await w.upload({ at: ago(31, 1000) }), await w.upload({ at: ago(32) })];
    const dateB = [await w.upload({ at: ago(24 * 3) }), await w.upload({ at: ago(24 * 3 + 1) }), await w.upload({ at: ago(24 * 3 + 2) })];
    const others2 = [await w.upload({ at: ago(33) }), await w.upload({ at: ago(34) })];
    const vanished = [dirname(hourA[0]!), dirname(dirname(dateB[0]!))];
    const before = await snapshot(w);
    const nowMin = new Date();
    const run = await purgeInProcess(w, {
      beforeRemove: (_files, batch) => {
        if (batch < vanished.length) rmSync(vanished[batch]!, { recursive: true });
      },
    });
    expect(run.exitCode, JSON.stringify(run.logs)).toBe(0);
    const outcome = (p: string) => run.files.find((f) => f.file.filePath === p)?.outcome;
    for (const p of [...hourA, ...dateB]) expect(outcome(p)).toBe('missing');
    for (const p of [...others1, ...others2]) expect(outcome(p)).toBe('removed');
    await checkAfterFault(w, before, { label: 'vanishing folders', window: { nowMin, nowMax: new Date() }, testMutated: vanished, faultyRun: JSON.stringify(run.logs) });
    rec.note('files of an hour and of a date folder removed by someone else between reading the batch and removing it: counted as already missing, their rows deleted, exit 0');
  } finally {
    await w.dispose();
  }
});

scenario('a file replaced by a folder during a run', async (rec) => {
  await avoidHourEdge();
  const w = await World.create(servers, { batchSize: 10 });
  try {
    const target = await w.upload({ at: ago(6), gets: [ago(5)] });
    const siblings = [await w.upload({ at: ago(6, 1000) }), await w.upload({ at: ago(8) })];
    const before = await snapshot(w);
    const nowMin = new Date();
    const run = await purgeInProcess(w, {
      beforeRemove: () => {
        rmSync(target);
        mkdirSync(target);
        w.own(target);
        w.writeFile(join(target, 'inner.bin'));
      },
    });
    expect(run.exitCode, JSON.stringify(run.logs)).toBe(1);
    const outcome = (p: string) => run.files.find((f) => f.file.filePath === p)?.outcome;
    expect(outcome(target)).toMatch(/^failed:/);
    for (const p of siblings) expect(outcome(p)).toBe('removed');
    await checkAfterFault(w, before, {
      label: 'file replaced by a folder',
      window: { nowMin, nowMax: new Date() },
      testMutated: [target],
      faultyRun: JSON.stringify(run.logs),
      heal: async () => rmSync(target, { recursive: true }),
    });
    rec.note(`the folder is not removed and keeps the rows (${outcome(target)}), exit 1; once it is gone, exit 0`);
  } finally {
    await w.dispose();
  }
});

scenario('folders on the path replaced by symlinks out of the node directory (before and during a run)', async (rec) => {
  await avoidHourEdge();
  const w = await World.create(servers, { batchSize: 20 });
  try {
    const evil = join(w.base, 'outside');
    // Before the run: an hour folder and a date folder are symlinks to trees outside holding
    // files of the same names (canaries: mfttest may delete them; only the rule protects them).
    const hourAt = ago(10);
    const viaHour = await w.upload({ at: hourAt, createFile: false, gets: [ago(9)] });
    w.writeFile(join(evil, 'evil-hour', viaHour.split('/').pop()!));
    w.mkdir(dirname(dirname(viaHour)));
    symlinkSync(join(evil, 'evil-hour'), dirname(viaHour));
    const dateAt = ago(24 * 4);
    const viaDate = await w.upload({ at: dateAt, createFile: false });
    const dateDir = dirname(dirname(viaDate));
    w.writeFile(join(evil, 'evil-date', viaDate.split('/').slice(-2).join('/')));
    w.mkdir(dirname(dateDir));
    symlinkSync(join(evil, 'evil-date'), dateDir);
    // During the run: a real hour folder swapped for a symlink to a copy of it outside.
    const swapped = [await w.upload({ at: ago(12) }), await w.upload({ at: ago(12, 1000) })];
    const swappedDir = dirname(swapped[0]!);
    cpSync(swappedDir, join(evil, 'evil-swap'), { recursive: true, preserveTimestamps: true });
    const control = await w.upload({ at: ago(11) });
    const before = await snapshot(w);
    const nowMin = new Date();
    const run = await purgeInProcess(w, {
      beforeRemove: () => {
        renameSync(swappedDir, `${swappedDir}.gone`);
        rmSync(`${swappedDir}.gone`, { recursive: true });
        symlinkSync(join(evil, 'evil-swap'), swappedDir);
      },
    });
    expect(run.exitCode).toBe(1);
    const outcome = (p: string) => run.files.find((f) => f.file.filePath === p)?.outcome;
    for (const p of [viaHour, viaDate, ...swapped]) expect(outcome(p), p).toBe('failed:symlink-escape');
    expect(outcome(control)).toBe('removed');
    await checkAfterFault(w, before, {
      label: 'symlinked folders',
      window: { nowMin, nowMax: new Date() },
      testMutated: [swappedDir, dirname(viaHour), dateDir],
      faultyRun: JSON.stringify(run.logs),
      heal: async () => {
        for (const l of [swappedDir, dirname(viaHour), dateDir]) rmSync(l);
      },
    });
    rec.note('4 files behind symlinked hour/date folders (2 swapped in mid-run) kept as failed:symlink-escape, the targets outside untouched; exit 0 once the links are gone');
  } finally {
    await w.dispose();
  }
});

scenario('files that are themselves symlinks', async (rec) => {
  await avoidHourEdge();
  const w = await World.create(servers);
  try {
    // Links to a file outside, to another node's file, to a folder outside, and a dangling one.
    const targets = [join(w.base, 'outside', 'victim.txt'), join(w.base, 'node_2', 'victim.txt'), join(w.base, 'outside', 'files'), join(w.base, 'outside', 'nothing-here')];
    const links: string[] = [];
    for (const [i, t] of targets.entries()) {
      const p = await w.upload({ at: ago(3 + i), createFile: false, gets: [ago(2)] });
      w.mkdir(dirname(p));
      symlinkSync(t, p);
      links.push(p);
    }
    const before = await snapshot(w);
    const nowMin = new Date();
    const r = await w.purge('--json');
    expect(r.code, show(r)).toBe(0);
    // Only the links went (the canary check proves the targets did not change).
    for (const l of links) expect(outcomeOf(r.stdout, l)).toBe('removed');
    await checkAfterFault(w, before, { label: 'symlinked files', window: { nowMin, nowMax: new Date() }, faultyRun: show(r), faultyExit: r.code });
    rec.note('4 expired files that are symlinks (to a file outside, another node\'s file, a folder, nothing): the links removed, every target untouched');
  } finally {
    await w.dispose();
  }
});
