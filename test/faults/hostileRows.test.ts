// Hostile AFT_LOG rows on the real PostgreSQL and sshd (logged in as root, so nothing but the
// purge's rules stands between a bad row and a deletion). Each row is checked three ways: the
// dry-run reports it with the expected decision and reason, the real purge does exactly that,
// and the invariants hold (then one more run exits 0). Real files sit wherever a row points,
// so a wrong deletion would show.
import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { avoidHourEdge, fileRecords, show, summaryRecord } from '../helpers/purgeFixture.js';
import { checkAfterFault, snapshot } from './invariants.js';
import { faultRecorder } from './results.js';
import { useFaultServers } from './servers.js';
import { HOUR, hourStartOf, World } from './world.js';
import { hourFolders } from '../helpers/purgeFixture.js';

const { scenario, server } = faultRecorder(import.meta.url);
const servers = useFaultServers({ server });

type Expect = { decision: 'keep'; reason: string } | { decision: 'delete'; outcome: 'removed' | 'missing' } | 'unlisted';

interface Case {
  label: string;
  path: string;
  /** Create a real file (or the target) at this path before the run. */
  file?: string;
  chatType?: string;
  at?: Date;
  jid?: string;
  /** Extra rows for the same path (duplicates, downloads). */
  more?: Array<{ method: 'Post' | 'Get'; at: Date; chatType?: string }>;
  expect: Expect;
}

// Timeout: up to a minute waiting to leave the hour's edge, then close to a minute of work on
// this machine class; the default minute would fail it on the clock or a slow day, not a fault.
scenario('hostile AFT_LOG rows', async (rec) => {
  await avoidHourEdge(60_000);
  const w = await World.create(servers, { policies: { im: 'PT1H', groupchat: 'P1D' }, heldJids: ['held@example.com'] });
  try {
    const H = hourStartOf(Date.now()).getTime();
    const old = new Date(H - 30 * HOUR);
    const { date, hour } = hourFolders(old);
    const hourDir = join(w.nodeDir, 'files', 'im', date, hour);
    const gcDir = join(w.nodeDir, 'files', 'groupchat', hourFolders(new Date(H - 50 * HOUR)).date, hourFolders(new Date(H - 50 * HOUR)).hour);
    const cur = hourFolders(new Date(H));
    const next = hourFolders(new Date(H + 400 * 24 * HOUR));
    const outside = join(w.base, 'outside');
    const canaryOld = (dir: string) => {
      const d = hourFolders(new Date(Date.now() - 30 * 24 * HOUR));
      return join(dir, 'files', 'im', d.date, d.hour, 'canary.txt');
    };
    // Files inside the node directory that only a hostile row names (no row of their own).
    const insideTarget = w.writeFile(join(hourDir, 'inside.txt'));
    for (const sib of ['a', 'ab', 'b', 'x', 'xy']) w.writeFile(join(hourDir, sib));

    const cases: Case[] = [
      { label: '".." segments climbing out to a file outside', path: `${hourDir}/../../../../../outside/victim.txt`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: '".." segments climbing out and back in', path: `${hourDir}/../${hour}/inside.txt`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: '"." segment', path: `${hourDir}/./inside.txt`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'empty segment (//)', path: `${w.nodeDir}/files/im/${date}//${hour}/inside.txt`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'the hour folder itself', path: hourDir, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'a path below a file name (too deep)', path: `${hourDir}/inside.txt/deeper`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'absolute path elsewhere on the server', path: join(w.farDir, 'victim.txt'), expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: 'absolute path to a system file', path: '/etc/hostname', expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: 'relative path', path: `files/im/${date}/${hour}/inside.txt`, expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: "another node's directory", path: canaryOld(join(w.base, 'node_2')), expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: "a sibling whose name starts with the node's (node_1x)", path: canaryOld(join(w.base, 'node_1x')), expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: 'the node directory, not under files/', path: join(w.nodeDir, 'victim.txt'), file: join(w.nodeDir, 'victim.txt'), expect: { decision: 'keep', reason: 'outside-directory' } },
      { label: 'file named "%" (a LIKE wildcard)', path: `${hourDir}/%`, file: `${hourDir}/%`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'file named "_" (a LIKE wildcard)', path: `${hourDir}/_`, file: `${hourDir}/_`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'folder named "%"', path: `${w.nodeDir}/files/im/%/${hour}/a`, expect: { decision: 'keep', reason: 'bad-date-folder' } },
      { label: 'backslashes in the name', path: `${hourDir}/a\\b`, file: `${hourDir}/a\\b`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'Windows-style climb (a name on Linux)', path: `${hourDir}/..\\..\\..\\..\\..\\outside\\victim.txt`, expect: { decision: 'delete', outcome: 'missing' } },
      { label: 'quotes in the name', path: `${hourDir}/it's "quoted".txt`, file: `${hourDir}/it's "quoted".txt`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'SQL in the name', path: `${hourDir}/x'); DELETE FROM aft_log; --`, file: `${hourDir}/x'); DELETE FROM aft_log; --`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'newline in the name', path: `${hourDir}/a\nb`, file: `${hourDir}/a\nb`, expect: { decision: 'keep', reason: 'bad-characters' } },
      { label: 'carriage return and tab in the name', path: `${hourDir}/a\r\tb`, file: `${hourDir}/a\r\tb`, expect: { decision: 'keep', reason: 'bad-characters' } },
      { label: 'bidi override in the name', path: `${hourDir}/\u202etxt.exe`, file: `${hourDir}/\u202etxt.exe`, expect: { decision: 'keep', reason: 'bad-characters' } },
      { label: 'non-ASCII name', path: `${hourDir}/Résumé 履歴書 📎.pdf`, file: `${hourDir}/Résumé 履歴書 📎.pdf`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'full-width digits as the date folder', path: `${w.nodeDir}/files/im/２０２４０３０１/${hour}/a`, expect: { decision: 'keep', reason: 'bad-date-folder' } },
      { label: 'a name of 255 bytes (the longest allowed)', path: `${hourDir}/${'m'.repeat(255)}`, file: `${hourDir}/${'m'.repeat(255)}`, expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'a name of 86 three-byte characters (258 bytes)', path: `${hourDir}/${'長'.repeat(86)}`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'a name of 300 bytes (longer than a file system allows)', path: `${hourDir}/${'n'.repeat(300)}`, expect: { decision: 'keep', reason: 'bad-path' } },
      { label: 'empty path', path: '', expect: { decision: 'keep', reason: 'empty-path' } },
      { label: 'chat type im, path under groupchat/', path: `${gcDir}/wrong-type.txt`, file: `${gcDir}/wrong-type.txt`, chatType: 'im', expect: { decision: 'keep', reason: 'chat-type-mismatch' } },
      { label: 'chat type groupchat, path under im/', path: `${hourDir}/x`, chatType: 'groupchat', at: new Date(H - 50 * HOUR), expect: { decision: 'keep', reason: 'chat-type-mismatch' } },
      { label: 'date folder 20241340', path: `${w.nodeDir}/files/im/20241340/${hour}/a`, expect: { decision: 'keep', reason: 'bad-date-folder' } },
      { label: 'date folder 20230229 (no such day)', path: `${w.nodeDir}/files/im/20230229/${hour}/a`, expect: { decision: 'keep', reason: 'bad-date-folder' } },
      { label: 'hour folder 25', path: `${w.nodeDir}/files/im/${date}/25/a`, expect: { decision: 'keep', reason: 'bad-hour-folder' } },
      { label: 'hour folder 7 (one digit)', path: `${w.nodeDir}/files/im/${date}/7/a`, expect: { decision: 'keep', reason: 'bad-hour-folder' } },
      { label: 'hour folder 10.0', path: `${w.nodeDir}/files/im/${date}/10.0/a`, expect: { decision: 'keep', reason: 'bad-hour-folder' } },
      { label: 'hour folder in the future (next year), old timestamp', path: `${w.nodeDir}/files/im/${next.date}/${next.hour}/future.txt`, file: `${w.nodeDir}/files/im/${next.date}/${next.hour}/future.txt`, expect: { decision: 'keep', reason: 'future-timestamp' } },
      { label: 'current hour folder, old timestamp', path: `${w.nodeDir}/files/im/${cur.date}/${cur.hour}/now.txt`, file: `${w.nodeDir}/files/im/${cur.date}/${cur.hour}/now.txt`, expect: { decision: 'keep', reason: 'current-hour' } },
      // A future timestamp is not expired: the database query does not even return it.
      { label: 'timestamp in the future (2099), old folder', path: `${hourDir}/xy`, at: new Date('2099-01-01T00:00:00Z'), expect: 'unlisted' },
      { label: 'duplicate Post rows, one fresh', path: `${hourDir}/ab`, more: [{ method: 'Post', at: new Date(H) }], expect: { decision: 'keep', reason: 'duplicate-post' } },
      { label: 'duplicate Post rows, both expired', path: `${hourDir}/dup-old.txt`, file: `${hourDir}/dup-old.txt`, more: [{ method: 'Post', at: new Date(old.getTime() + 1000) }, { method: 'Get', at: new Date(old.getTime() + 2000) }], expect: { decision: 'delete', outcome: 'removed' } },
      { label: 'duplicate Post rows, the other of another chat type', path: `${hourDir}/dup-type.txt`, file: `${hourDir}/dup-type.txt`, more: [{ method: 'Post', at: old, chatType: 'groupchat' }], expect: { decision: 'keep', reason: 'duplicate-post' } },
      { label: 'uploader under a legal hold', path: `${hourDir}/held.txt`, file: `${hourDir}/held.txt`, jid: 'held@example.com', expect: { decision: 'keep', reason: 'hold:fault-suite-hold' } },
    ];
    // Each case gets a known aft_index, to find its record in the reports.
    let idx = 5000;
    const indexOf = new Map<Case, number>();
    for (const c of cases) {
      if (c.file) w.writeFile(c.file);
      indexOf.set(c, idx);
      await w.insertRows([
        { aftIndex: idx++, method: 'Post', chatType: c.chatType ?? 'im', filePath: c.path, timestamp: c.at ?? old, jid: c.jid ?? 'mallory@example.com' },
        ...(c.more ?? []).map((m) => ({ aftIndex: idx++, method: m.method, chatType: m.chatType ?? c.chatType ?? 'im', filePath: c.path, timestamp: m.at })),
      ]);
    }

    // Rows that cannot exist: PostgreSQL refuses them, so no purge can ever meet them.
    const refused = async (filePath: string): Promise<string> => {
      try {
        await w.insertRows([{ method: 'Post', chatType: 'im', filePath, timestamp: old }]);
      } catch (e) {
        return `${(e as { code?: string }).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(await refused(`${hourDir}/nul\u0000byte`)).toMatch(/^22021: invalid byte sequence for encoding "UTF8": 0x00/);
    expect(await refused(`${hourDir}/${'p'.repeat(600)}`)).toMatch(/^22001: value too long for type character varying\(511\)/);

    // 1. The dry-run reports each row with its decision and reason.
    const dry = await w.purge('--dry-run', '--json');
    expect(dry.code, show(dry)).toBe(0);
    const dryRecords = fileRecords(dry.stdout);
    const problems: string[] = [];
    for (const c of cases) {
      const r = dryRecords.filter((x) => x.aftIndex === String(indexOf.get(c)));
      if (c.expect === 'unlisted') {
        if (r.length) problems.push(`${c.label}: listed in the dry-run: ${JSON.stringify(r)}`);
        continue;
      }
      if (r.length !== 1) {
        problems.push(`${c.label}: ${r.length} dry-run records`);
        continue;
      }
      if (r[0]!.decision !== c.expect.decision || ('reason' in c.expect && r[0]!.reason !== c.expect.reason)) {
        problems.push(`${c.label}: dry-run says ${r[0]!.decision}/${r[0]!.reason}, expected ${JSON.stringify(c.expect)}`);
      }
    }
    expect(problems, dry.stdout).toEqual([]);

    // 2. The real purge does exactly that.
    const before = await snapshot(w);
    const etcHostname = existsSync('/etc/hostname') ? lstatSync('/etc/hostname').mtimeMs : undefined;
    const nowMin = new Date();
    const r = await w.purge('--json');
    expect(r.code, show(r)).toBe(0);
    const records = fileRecords(r.stdout);
    for (const c of cases) {
      const got = records.filter((x) => x.aftIndex === String(indexOf.get(c)));
      if (c.expect === 'unlisted') {
        if (got.length) problems.push(`${c.label}: listed by the purge`);
      } else if (c.expect.decision === 'keep') {
        if (got[0]?.decision !== 'keep' || got[0]?.reason !== c.expect.reason || got[0]?.outcome !== 'kept') problems.push(`${c.label}: purge says ${JSON.stringify(got)}`);
      } else if (got[0]?.outcome !== c.expect.outcome) problems.push(`${c.label}: purge outcome ${got[0]?.outcome}, expected ${c.expect.outcome}`);
    }
    expect(problems, r.stdout).toEqual([]);
    expect(existsSync(insideTarget)).toBe(true);
    if (etcHostname !== undefined) expect(lstatSync('/etc/hostname').mtimeMs).toBe(etcHostname);
    const s = summaryRecord(r.stdout);
    const deletes = cases.filter((c) => c.expect !== 'unlisted' && c.expect.decision === 'delete').length;
    expect(s.files).toBe(deletes);

    // 3. The invariants, and one more run.
    await checkAfterFault(w, before, { label: 'hostile rows', window: { nowMin, nowMax: new Date() }, faultyRun: show(r), faultyExit: r.code });
    rec.iterations = cases.length + 2;
    rec.note(
      `${cases.length} hostile rows reported with their reason in the dry-run and the purge (${deletes} legitimate names removed literally, nothing else); ` +
        'NUL and paths over 511 characters refused by PostgreSQL itself; a future timestamp is not expired, so not listed',
    );
  } finally {
    await w.dispose();
  }
}, 300_000);
