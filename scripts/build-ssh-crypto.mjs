#!/usr/bin/env node
// Builds the optional native crypto binding of the `ssh2` library, run after `npm ci` / `npm install`.
//
// Why: without it, ssh2 decrypts every SSH packet through a new Node.js cipher object, and a
// purge receives tens of thousands of small packets (the SFTP server answers each removal on its
// own). With it, removing 100,000 files over SFTP on loopback costs the process about a sixth less CPU.
//
// ssh2's own install step tries the same build but asks node-gyp to download the Node.js headers
// from nodejs.org, which fails on a host without Internet access. The headers are usually on the
// host already, under <prefix>/include/node (NodeSource's package and the official tarballs ship
// them with node; Debian's are in libnode-dev), so this script points node-gyp at them. It never
// fails the install: without a compiler or headers ssh2 works the same, with more CPU for each
// SSH packet. `mft-retention doctor` says which one is in use.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
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

// The major version of the Node.js headers under dir, from include/node/node_version.h.
function headersMajor(dir) {
  try {
    return /#define NODE_MAJOR_VERSION (\d+)/.exec(readFileSync(join(dir, 'include', 'node', 'node_version.h'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

// Headers of the Node.js that runs this script: a binding built against another major version
// does not load. Debian's npm sets nodedir=/usr (its own Node.js) for every Node.js it runs
// under, so that setting is taken only when its headers match.
function nodeHeaders() {
  const candidates = [join(dirname(process.execPath), '..'), process.env.npm_config_nodedir];
  const major = process.versions.node.split('.')[0];
  return candidates.find((dir) => dir && existsSync(join(dir, 'include', 'node', 'common.gypi')) && headersMajor(dir) === major);
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
    say(`not built (${!gyp ? 'node-gyp not found' : `no Node.js ${process.versions.node.split('.')[0]} headers next to the node binary`}); ssh2 works without it, with more CPU for each SSH packet`);
    return;
  }
  const openssl = /^\d+/.exec(process.versions.openssl)?.[0] ?? '3';
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${headers}`, `--real_openssl_major=${openssl}`], {
    cwd: cryptoDir,
    // node-gyp takes npm_config_nodedir from the environment over its --nodedir flag.
    env: { ...process.env, npm_config_nodedir: headers },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status === 0 && loads(binding)) {
    say('built');
    return;
  }
  // node-gyp ends with generic lines; the compiler's or make's own complaint says what is missing.
  const lines = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const cause = lines.find((l) => /not found|No such file|command not found|error:/i.test(l)) ?? lines.find((l) => /Error:/.test(l));
  const why = (r.error?.message ?? cause?.slice(0, 200)) || `exit ${r.status}`;
  // ssh2 loads the binding only if it is complete; a half-built tree would only confuse.
  rmSync(join(cryptoDir, 'build'), { recursive: true, force: true });
  say(`not built (${why}); ssh2 works without it, with more CPU for each SSH packet. A C++ compiler and make are needed (apt-get install g++ make)`);
}

main();
