#!/usr/bin/env bash
# Removes from the packaged node_modules what can never run on the package's platform
# (linux-x64 with its own Node.js) and what only served to build it.
set -euo pipefail
nm=${1:?usage: trim-node-modules.sh NODE_MODULES}

# oracledb ships its optional thick-mode binding for every platform; keep linux-x64's.
find "$nm/oracledb/build/Release" -name 'oracledb-*.node' ! -name '*-linux-x64.node' -delete
# cpu-features (optional for ssh2, which runs without it) is C++ source that the package does not
# build: its install step downloads Node.js headers.
rm -rf "$nm/cpu-features"
# The ssh2 crypto binding: the loadable module only, not the compiler's intermediate files.
crypto=$nm/ssh2/lib/protocol/crypto/build
find "$crypto" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$crypto/Release" -mindepth 1 -maxdepth 1 ! -name sshcrypto.node -exec rm -rf {} +
# Ordinary files are not executable unless they are a command (a #! line).
find "$nm" -type f -perm /111 ! -name '*.node' -exec sh -c 'for f; do head -c2 "$f" | grep -q "#!" || chmod a-x "$f"; done' _ {} +
