// The Debian package under test, built once per content of its inputs: scripts/build-deb.sh takes
// minutes (npm ci, TypeScript, the native binding, compression), so the .deb is kept under
// $MFT_BUILD_CACHE/deb/<hash>/ (default ~/.cache/mft-retention-build) and rebuilt only when a file
// that goes into it changes. The hash covers every file of the checkout that git tracks or would
// track, except the tests, benchmarks and CI scripts, which the package does not carry.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './purgeFixture.js';
import { rmrf, runOk } from './procUtil.js';

/** For the beforeAll that builds: a cold build (npm ci, tsc, node-gyp, dpkg-deb) on two busy cores. */
export const DEB_BUILD_TIMEOUT_MS = 900_000;

const NOT_PACKAGED = /^(test|bench|\.ci)\//;

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** sha256 over the names and contents of the package's inputs. */
export async function debInputsHash(): Promise<string> {
  const r = await runOk('git', ['-C', REPO_ROOT, 'ls-files', '-z', '-c', '-o', '--exclude-standard']);
  const files = r.stdout.split('\0').filter((f) => f && !NOT_PACKAGED.test(f) && existsSync(join(REPO_ROOT, f)) && statSync(join(REPO_ROOT, f)).isFile());
  const h = createHash('sha256');
  for (const f of files.sort()) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(REPO_ROOT, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.MFT_BUILD_CACHE ?? join(homedir(), '.cache', 'mft-retention-build');
}

/** The path of mft-retention_<version>_amd64.deb for this checkout, building it if no cached one matches. */
export async function ensureDebPackage(): Promise<string> {
  const dir = join(cacheRoot(), 'deb', await debInputsHash());
  const deb = join(dir, `mft-retention_${packageVersion()}_amd64.deb`);
  if (existsSync(deb)) return deb;
  mkdirSync(join(cacheRoot(), 'deb'), { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot(), 'deb', '.build-'));
  try {
    await runOk('/bin/bash', [join(REPO_ROOT, 'scripts', 'build-deb.sh'), '--out', tmp], { timeoutMs: DEB_BUILD_TIMEOUT_MS - 60_000 });
    mkdirSync(dir, { recursive: true });
    renameSync(join(tmp, readdirSync(tmp).find((f) => f.endsWith('.deb'))!), deb);
  } finally {
    rmrf(tmp);
  }
  return deb;
}

/**
 * A later build of the same package: the same files with version `version` (in the control file
 * and in package.json, so that --version shows it), repacked with dpkg-deb. What an upgrade
 * brings an admin, without a second build of minutes.
 */
export async function repackWithVersion(deb: string, version: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'mft-repack-'));
  const root = join(work, 'root');
  await runOk('dpkg-deb', ['-R', deb, root], { timeoutMs: 300_000 });
  const control = join(root, 'DEBIAN', 'control');
  writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
  const pj = join(root, 'usr', 'lib', 'mft-retention', 'package.json');
  const p = JSON.parse(readFileSync(pj, 'utf8')) as { version: string };
  writeFileSync(pj, JSON.stringify({ ...p, version }, null, 2) + '\n');
  const out = join(work, `mft-retention_${version}_amd64.deb`);
  // Fast compression: this copy lives for one test run.
  await runOk('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', root, out], { timeoutMs: 300_000 });
  rmrf(root);
  return out;
}
