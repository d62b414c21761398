// `mft-retention demo` end to end, as a user would run it: embedded database, local file
// store in Cisco's layout, dry-run, purge, verification.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { runCli, show } from '../helpers/purgeFixture.js';

/** The sandbox path the demo announces on its first line. */
const sandboxOf = (stdout: string): string => {
  const m = /a sandbox in (\S+)/.exec(stdout);
  if (!m) throw new Error(`no sandbox path in:\n${stdout}`);
  return m[1]!;
};

describe('mft-retention demo', () => {
  it('runs to completion with exit 0, prints "Demo complete" and removes its sandbox', async () => {
    // Its own TMPDIR, so that what the demo leaves behind can be checked.
    const tmp = mkdtempSync('/tmp/mft-demo-test-');
    try {
      const r = await runCli(['demo'], { timeoutMs: 90_000, env: { TMPDIR: tmp } });
      expect(r.signal, show(r)).toBeNull();
      expect(r.code, show(r)).toBe(0);
      expect(r.stdout, show(r)).toContain('Demo complete');
      expect(r.stdout).toMatch(/DRY-RUN as of/);
      expect(r.stdout).toMatch(/Purge finished at/);
      const sandbox = sandboxOf(r.stdout);
      expect(sandbox.startsWith(tmp)).toBe(true);
      expect(existsSync(sandbox)).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 100_000);

  it('--keep keeps the sandbox and says where', async () => {
    const tmp = mkdtempSync('/tmp/mft-demo-test-');
    try {
      const r = await runCli(['demo', '--keep'], { timeoutMs: 90_000, env: { TMPDIR: tmp } });
      expect(r.code, show(r)).toBe(0);
      const sandbox = sandboxOf(r.stdout);
      expect(r.stdout).toContain(`The sandbox is kept in ${sandbox}`);
      expect(existsSync(sandbox)).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 100_000);
});
