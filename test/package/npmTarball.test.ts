// The npm way, as the README gives it: `npm pack` in a fresh clone (no node_modules: the prepare
// step installs what TypeScript needs), then a global install of the tarball with no registry
// (--offline, an empty npm cache): its dependencies are bundled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEB_BUILD_TIMEOUT_MS, ensureNpmTarball, packageVersion } from '../helpers/debPackage.js';
import { rmrf, run, runOk } from '../helpers/procUtil.js';

describe('the npm tarball', () => {
  let tgz: string;
  let work: string;

  beforeAll(async () => {
    tgz = await ensureNpmTarball();
    work = mkdtempSync(join(tmpdir(), 'mft-npm-'));
  }, DEB_BUILD_TIMEOUT_MS);

  afterAll(() => {
    if (work) rmrf(work);
  });

  it('bundles its production dependencies and no development ones', async () => {
    const list = (await runOk('tar', ['-tzf', tgz], { timeoutMs: 60_000 })).stdout;
    for (const dep of ['pg', 'ssh2', 'pino', 'zod', 'yaml', '@electric-sql/pglite']) expect(list).toContain(`package/node_modules/${dep}/package.json`);
    for (const dev of ['typescript', 'vitest', 'fast-check']) expect(list).not.toContain(`package/node_modules/${dev}/`);
    expect(list).toContain('package/dist/src/cli/main.js');
    expect(list).toContain('package/LICENSE');
  });

  it('installs globally with no registry and runs, its ssh2 crypto binding built', async () => {
    const prefix = join(work, 'prefix');
    const r = await run('npm', [
      'install', '-g', '--prefix', prefix, '--offline', '--cache', join(work, 'empty-cache'), '--foreground-scripts',
      `--allow-scripts=${tgz}`, tgz,
    ], { timeoutMs: 600_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/mft-retention: ssh2 crypto binding: (built|present)/);
    expect(r.stderr).not.toContain('not yet covered by allowScripts');
    const v = await runOk(join(prefix, 'bin', 'mft-retention'), ['--version', '--verbose']);
    expect(v.stdout).toContain(`mft-retention ${packageVersion()}\n`);
    expect(v.stdout).toContain(`Node.js ${process.version}`);
  }, 660_000);
});
