#!/usr/bin/env bash
# Removes from the packaged node_modules what can never run on the package's platform
# (linux-x64 with its own Node.js), what only served to build it, and the packages' own tests,
# examples and development files.
set -euo pipefail
nm=${1:?usage: trim-node-modules.sh NODE_MODULES}

# oracledb ships its optional thick-mode binding for every platform; keep linux-x64's.
find "$nm/oracledb/build/Release" -name 'oracledb-*.node' ! -name '*-linux-x64.node' -delete
# cpu-features (optional for ssh2, which runs without it) is C++ source that the package does not
# build (its install step downloads Node.js headers); buildcheck serves only it, and nan only
# compiled the ssh2 binding.
rm -rf "$nm/cpu-features" "$nm/buildcheck" "$nm/nan"
# The ssh2 crypto binding: the loadable module only, not the compiler's intermediate files.
crypto=$nm/ssh2/lib/protocol/crypto/build
find "$crypto" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$crypto/Release" -mindepth 1 -maxdepth 1 ! -name sshcrypto.node -exec rm -rf {} +

# Each package's tests, benchmarks, examples and web docs (at its top level only: lib/test may be code).
find "$nm" -mindepth 2 -maxdepth 3 -type d \( -name test -o -name tests -o -name __tests__ \
  -o -name benchmarks -o -name example -o -name examples -o -name docs -o -name .github -o -name .husky \) \
  -path "$nm/*" -exec sh -c 'for d; do p=$(dirname "$d"); [ -f "$p/package.json" ] && rm -rf "$d"; done; true' _ {} +
find "$nm" -type f \( -name '.eslintrc*' -o -name 'eslint.config.*' -o -name .npmignore -o -name .gitattributes \
  -o -name .travis.yml -o -name '.prettierrc*' -o -name .editorconfig -o -name '*.html' -o -name '*.map' \) -delete

# Nothing in node_modules is run directly: the bundled node loads it. Shared objects are not
# executable either (Debian policy), and carry no debugging symbols.
find "$nm" -type f -perm /111 -exec chmod a-x {} +
find "$nm" -type f -name '*.node' -exec strip --strip-unneeded {} +
