#!/usr/bin/env bash
# Writes debian/copyright (machine-readable format 1.0) for the package: mft-retention itself,
# the Node.js runtime it carries, and each bundled npm package with the license its package.json
# states (each one's own license file is installed beside it).
set -euo pipefail
nm=${1:?usage: copyright.sh NODE_MODULES LICENSE}
license=${2:?usage: copyright.sh NODE_MODULES LICENSE}
node_bin=$(dirname "$nm")/node/bin/node

cat <<HEAD
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: mft-retention
Source: the mft-retention source tree (npm run package)

Files: *
Copyright: 2026 mft-retention contributors
License: Apache-2.0

Files: usr/lib/mft-retention/node/*
Copyright: Node.js contributors and the authors of the third-party code it includes
License: MIT
Comment: Node.js $("$node_bin" --version). Its LICENSE file, with the licenses of the
 libraries built into it (V8, OpenSSL, libuv, ICU and others), is installed as
 /usr/lib/mft-retention/node/LICENSE.
HEAD

"$node_bin" - "$nm" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [nm] = process.argv.slice(2);
const found = [];
function walk(dir) {
  for (const name of fs.readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    if (name.startsWith('@')) { walk(full); continue; }
    const pj = path.join(full, 'package.json');
    if (!fs.existsSync(pj)) continue;
    const p = JSON.parse(fs.readFileSync(pj, 'utf8'));
    found.push({ rel: path.relative(path.dirname(nm), full), p });
    if (fs.existsSync(path.join(full, 'node_modules'))) walk(path.join(full, 'node_modules'));
  }
}
walk(nm);
const licenses = new Set(['Apache-2.0', 'MIT']);
for (const { rel, p } of found) {
  const lic = typeof p.license === 'string' ? p.license : p.license?.type ?? 'UNKNOWN';
  // "(MIT OR Apache-2.0)" is written "MIT or Apache-2.0" in this format.
  const dep5 = lic.replace(/^\((.*)\)$/, '$1').replace(/ OR /g, ' or ').replace(/ AND /g, ' and ');
  for (const one of dep5.split(/ or | and /)) licenses.add(one);
  const author = typeof p.author === 'string' ? p.author : p.author?.name;
  const files = fs.readdirSync(path.join(nm, '..', rel)).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f));
  console.log(`\nFiles: usr/lib/mft-retention/${rel}/*`);
  console.log(`Copyright: ${author ? author.replace(/\s+/g, ' ') : `the authors of ${p.name}`}`);
  console.log(`License: ${dep5}`);
  console.log(`Comment: ${p.name} ${p.version}${files.length ? `; see ${files.map((f) => `/usr/lib/mft-retention/${rel}/${f}`).join(', ')}` : ''}`);
}
const text = {
  'Apache-2.0': 'On Debian systems the full text of the Apache License 2.0 is in\n /usr/share/common-licenses/Apache-2.0.',
};
for (const lic of [...licenses].sort()) {
  console.log(`\nLicense: ${lic}`);
  console.log(` ${text[lic] ?? `The full text is in the license file of each package under\n /usr/lib/mft-retention/node_modules/ that uses it (named in its Comment above)${lic === 'MIT' ? ',\n and in /usr/lib/mft-retention/node/LICENSE for Node.js' : ''}.`}`);
}
JS
