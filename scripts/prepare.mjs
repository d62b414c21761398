#!/usr/bin/env node
// The `prepare` step (run by `npm ci`, `npm install` in a checkout, and `npm pack`): compiles
// src/ to dist/ with TypeScript. TypeScript is a devDependency, so `npm pack` in a fresh clone
// (no node_modules yet) first installs the locked dependencies, without their install steps,
// which the packed package's own install runs where it is installed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`mft-retention: prepare: ${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})\n`);
    process.exit(r.status || 1);
  }
}

if (!existsSync(tsc)) {
  process.stdout.write('mft-retention: prepare: no TypeScript in node_modules; installing the locked dependencies (npm ci)\n');
  run(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund']);
}
run(process.execPath, [tsc, '-p', 'tsconfig.json']);
