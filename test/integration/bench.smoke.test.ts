// `npm run bench` at its smallest size, end to end: its own PostgreSQL and sshd, every side,
// the cross-checks of what each side removed, and the report. Functional only: it asserts what
// the benchmark found and printed, never how fast anything went.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { REPO_ROOT, runNodeScript, show } from '../helpers/purgeFixture.js';

const BENCH = join(REPO_ROOT, 'dist', 'bench', 'run.js');

describe('npm run bench, smallest size', () => {
  it('runs every side on the same 1,000 expired files, checks they removed the same ones and prints the report', async () => {
    const r = await runNodeScript(BENCH, ['--sizes', '1k', '--rounds', '1'], { timeoutMs: 150_000 });
    expect(r.code, show(r)).toBe(0);

    // The cross-checks: find -delete and both purges removed exactly the expired files (one
    // digest of their paths), the purges deleted their rows and left the unexpired files.
    const digests = [...r.stdout.matchAll(/\(digest ([0-9a-f]{16})\)/g)].map((m) => m[1]);
    // find -delete, the purge, the purge via the proxy, and the purges on tables never analyzed and with stale statistics.
    expect(digests, show(r)).toHaveLength(5);
    expect(new Set(digests).size, show(r)).toBe(1);
    expect(r.stdout).toMatch(/\[1k\] find -delete removed the 1,000 expired files/);
    expect(r.stdout).toMatch(/\[1k\] purge removed the same 1,000 files \(digest \w+\), deleted 1,999 rows, left the 50 unexpired files/);
    expect(r.stdout).toMatch(/\[1k\] purge via proxy removed the same 1,000 files \(digest \w+\), deleted 1,999 rows, left the 50 unexpired files/);
    expect(r.stdout).toMatch(/\[1k\] bench_s1k: 8,003 rows left, all unexpired/);
    expect(r.stdout).toMatch(/\[1k\] sftp -b removed its samples/);
    expect(r.stdout).toMatch(/\[1k\] purge, statistics never removed the same 1,000 files \(digest \w+\), deleted 1,999 rows, left the 50 unexpired files/);
    expect(r.stdout).toMatch(/\[1k\] purge, statistics stale removed the same 1,000 files \(digest \w+\), deleted 1,999 rows, left the 50 unexpired files/);

    // The side-by-side table: a row per side, with its rates and ratios.
    for (const side of ['find -delete (local)', 'sftp -b, one rm a file', 'mft-retention purge', 'sftp -b, +2 ms RTT', 'mft-retention purge, +2 ms RTT', 'mft-retention purge, table never analyzed', 'mft-retention purge, statistics of 1,000 rows', 'mft-retention purge --dry-run']) {
      expect(r.stdout, side).toMatch(new RegExp(`^\\| ${side.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\| +1,000 \\|`, 'm'));
    }
    // Each target is judged and printed, met or not (speed depends on the machine; memory and
    // the dry-run's logins do not).
    const targets = r.stdout.split('\n').filter((l) => /^ {2}(PASS|FAIL) {2}/.test(l));
    expect(targets, show(r)).toHaveLength(6);
    expect(targets.find((l) => l.includes('purge with stale statistics <= 1.5x the analyzed one'))).toBeDefined();
    expect(targets.find((l) => l.includes('peak RSS < 200 MiB'))).toMatch(/^ {2}PASS/);
    expect(targets.find((l) => l.includes('dry-run over the table'))).toMatch(/, 0 logins$/);
    // The scaling table has the size's line, and the dry-run never logged in to the file server.
    expect(r.stdout).toMatch(/^\| +1,000 \| +10,002 \|/m);
    expect(r.stdout).toMatch(/0 logins on the file server/);
  }, 180_000);

  it('refuses an unknown size with a clear message and exit 1, before starting any server', async () => {
    const r = await runNodeScript(BENCH, ['--sizes', 'lots'], { timeoutMs: 30_000 });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toContain('--sizes: "lots" is not a number like 10000, 10k or 1M');
    expect(r.stderr).not.toContain('starting PostgreSQL');
  });
});
