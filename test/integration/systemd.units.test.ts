// The shipped unit files: valid for systemd, and sandboxed well enough that
// `systemd-analyze security --offline=yes` rates them 1.3 ("OK") or better.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const UNITS = ['mft-retention.service', 'mft-retention-purge.service'];
const CLI = join(process.cwd(), 'bin/mft-retention.js');

/** A copy whose ExecStart points at this checkout, since mft-retention is not installed on the PATH here. */
function localCopy(unit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mft-units-'));
  const shipped = readFileSync(join('systemd', unit), 'utf8');
  expect(shipped).toMatch(/^ExecStart=mft-retention /m);
  const text = shipped.replace(/^ExecStart=mft-retention /m, `ExecStart=${process.execPath} ${CLI} `);
  const file = join(dir, unit);
  writeFileSync(file, text);
  return file;
}

describe('systemd units', () => {
  for (const unit of UNITS) {
    it(`${unit} passes systemd-analyze verify`, () => {
      const r = spawnSync('systemd-analyze', ['verify', localCopy(unit)], { encoding: 'utf8' });
      expect(r.error, 'systemd-analyze must be installed (Debian package systemd)').toBeUndefined();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it(`${unit} is rated at most 1.3 by systemd-analyze security`, () => {
      const out = execFileSync('systemd-analyze', ['security', '--offline=yes', localCopy(unit)], { encoding: 'utf8' });
      const score = Number(/Overall exposure level for .*: (\d+\.\d+)/.exec(out)?.[1]);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1.3);
    });
  }

  for (const unit of UNITS) {
    it(`${unit} turns off journald's rate limit, which would drop most of a large purge's per-file lines`, () => {
      const text = readFileSync(join('systemd', unit), 'utf8');
      expect(text).toMatch(/^LogRateLimitIntervalSec=0$/m);
    });
  }

  it('the daemon unit stops later than the daemon\'s default drain timeout (60 s)', () => {
    const text = readFileSync('systemd/mft-retention.service', 'utf8');
    const stop = Number(/^TimeoutStopSec=(\d+)s$/m.exec(text)?.[1]);
    expect(stop).toBeGreaterThan(60);
  });
});
