#!/usr/bin/env bash
# Prints the Depends: of the shared libraries the package's ELF files link (Node.js, the ssh2 and
# oracledb bindings), as dpkg-shlibdeps computes it from this host's installed libraries.
set -euo pipefail
root=${1:?usage: shlibdeps.sh PACKAGE_ROOT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/debian"
printf 'Source: mft-retention\n\nPackage: mft-retention\nArchitecture: amd64\n' >"$tmp/debian/control"
mapfile -t elves < <(find "$root/usr" -type f \( -name '*.node' -o -path '*/node/bin/node' \))
args=()
for f in "${elves[@]}"; do args+=("-e$f"); done
line=$(cd "$tmp" && dpkg-shlibdeps -O --ignore-missing-info "${args[@]}" 2>/dev/null)
echo "${line#shlibs:Depends=}"
