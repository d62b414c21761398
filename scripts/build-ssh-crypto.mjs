#!/usr/bin/env node
// Builds the optional native crypto binding of the `ssh2` library, run after `npm ci` / `npm install`.
//
// Why: without it, ssh2 decrypts every SSH packet through a new Node.js cipher object, and a
// purge receives tens of thousands of small packets (the SFTP server answers each removal on its
// own). With it, removing 100,000 files over SFTP on loopback costs the process about a sixth less CPU.
//
// ssh2's own install step tries the same build but asks node-gyp to download the Node.js headers
// from nodejs.org, which fails on a host without Internet access. Node.js packages (Debian's,
// NodeSource's, the official tarballs) ship those headers next to the binary, so this script
// points node-gyp at them. It never fails the install: without a compiler or headers ssh2 keeps
// its pure JavaScript path, which works the same, only slower. `mft-retention doctor` says which
// one is in use.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

function say(msg) {
  process.stdout.write(`mft-retention: ssh2 crypto binding: ${msg}\n`);
}

function loads(file) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return r.status === 0;
}

function nodeGyp() {
  // npm sets npm_config_node_gyp for lifecycle scripts; otherwise use the node-gyp npm bundles.
  const candidates = [process.env.npm_config_node_gyp];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => p && existsSync(p));
}

function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'common.gypi')));
}

function main() {
  let cryptoDir;
  try {
    cryptoDir = join(dirname(require.resolve('ssh2/package.json')), 'lib', 'protocol', 'crypto');
  } catch {
    say('ssh2 is not installed; nothing to build');
    return;
  }
  const binding = join(cryptoDir, 'build', 'Release', 'sshcrypto.node');
  if (existsSync(binding) && loads(binding)) {
    say('present');
    return;
  }
  const gyp = nodeGyp();
  const headers = nodeHeaders();
  if (!gyp || !headers) {
    say(`not built (${!gyp ? 'node-gyp not found' : 'no Node.js headers next to the node binary'}); ssh2 uses its JavaScript path`);
    return;
  }
  const openssl = /^\d+/.exec(process.versions.openssl)?.[0] ?? '3';
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${headers}`, `--real_openssl_major=${openssl}`], {
    cwd: cryptoDir,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status === 0 && loads(binding)) {
    say('built');
    return;
  }
  const why = (r.error?.message ?? `${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ')) || `exit ${r.status}`;
  say(`not built (${why}); ssh2 uses its JavaScript path. A C++ compiler and make are needed (apt-get install g++ make)`);
}

main();
