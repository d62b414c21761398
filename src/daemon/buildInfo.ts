import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  runtime: string;
  runtimeVersion: string;
}

/**
 * The version of mft-retention (from its package.json: next to src/ in a checkout, next to
 * dist/ once built or installed) and of the runtime it runs on.
 */
export function readBuildInfo(from = dirname(fileURLToPath(import.meta.url))): BuildInfo {
  return { version: packageVersion(from), runtime: 'node', runtimeVersion: process.versions.node };
}

function packageVersion(from: string): string {
  let dir = from;
  for (let up = 0; up < 5; up++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mft-retention' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  // Only a copy of dist/ without its package.json gets here: the metric says so rather than guessing.
  return 'unknown';
}
