#!/usr/bin/env bash
# `npm run package`: builds mft-retention_<version>_amd64.deb with dpkg-deb, from the files of this
# checkout (no node_modules or dist/ needed). The package carries everything it runs with, so that
# it installs with no network and no Node.js on the host:
#   /usr/lib/mft-retention/        dist/, bin/, package.json, production node_modules/ (with the
#                                  ssh2 crypto binding built), node/ (the pinned Node.js LTS)
#   /usr/bin/mft-retention         runs it with that Node.js
#   /lib/systemd/system/           the units of systemd/, ExecStart=/usr/bin/mft-retention ...
#   /usr/lib/sysusers.d/           the service account
#   /etc/mft-retention/            config.yaml (the example) and policies/: conffiles
#   /usr/share/doc/mft-retention/  README, CHANGELOG, examples, copyright
#   /usr/share/man/                the man pages, when the build made any (man/*.[1-8])
# Options: --out DIR (default: the checkout), --version VERSION (default: package.json's).
# Needs: npm (with its node-gyp), g++ and make (scripts/install-test-deps.sh), dpkg-deb, and the
# npm registry or npm's cache for `npm ci` and the runtime (scripts/node-runtime.sh).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo
version=
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    *) echo "build-deb: unknown option $1 (expected --out DIR or --version VERSION)" >&2; exit 2 ;;
  esac
done
[[ -n $version ]] || version=$(node -p "require('$repo/package.json').version")
say() { echo "build-deb: $*" >&2; }

runtime=$(bash "$repo/scripts/node-runtime.sh")
work=$(mktemp -d "${TMPDIR:-/tmp}/mft-retention-deb.XXXXXX")
[[ -n ${MFT_DEB_KEEP:-} ]] || trap 'rm -rf "$work"' EXIT
src=$work/src
root=$work/root
lib=$root/usr/lib/mft-retention
doc=$root/usr/share/doc/mft-retention

# --- the application, built from this checkout's own files -----------------------------------
say "copying the checkout"
mkdir -p "$src"
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # Tracked files and new ones not yet committed; never node_modules, dist or other ignored output.
  (cd "$repo" && git ls-files -z -c -o --exclude-standard | while IFS= read -r -d '' f; do
    if [[ -f $f ]]; then printf '%s\0' "$f"; fi
  done | tar --null -T - -cf -) | tar -xf - -C "$src"
else
  tar -C "$repo" --exclude=./node_modules --exclude=./dist --exclude=./.tmp --exclude='*.deb' -cf - . | tar -xf - -C "$src"
fi

say "npm ci and build (TypeScript)"
# Dependencies' own install steps are not run: ssh2's and cpu-features' download Node.js headers
# (the binding is built below, offline) and oracledb's only checks its platform.
(cd "$src" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 && npx tsc -p tsconfig.json >&2)
say "production dependencies"
(cd "$src" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

say "ssh2 crypto binding, for Node.js $("$runtime/bin/node" --version)"
gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
[[ -f $gyp ]] || { say "ERROR: node-gyp not found at $gyp (it comes with npm)"; exit 1; }
built=$(cd "$src" && npm_config_node_gyp=$gyp "$runtime/bin/node" scripts/build-ssh-crypto.mjs)
echo "$built" >&2
if [[ $built != *": built" && $built != *": present" ]]; then
  say "ERROR: the package must carry the ssh2 crypto binding; install g++ and make (bash scripts/install-test-deps.sh)"
  exit 1
fi

say "laying out the package"
mkdir -p "$lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" \
  "$root/etc/mft-retention" "$doc" "$lib/node/bin"
cp -r "$src/bin" "$src/package.json" "$lib/"
# Run by the launcher with the bundled node, never by its #! line (which names a node in $PATH).
chmod 0644 "$lib"/bin/*
mkdir -p "$lib/dist" && cp -r "$src/dist/src" "$lib/dist/"
find "$lib/dist" -name '*.map' -delete
cp -r "$src/node_modules" "$lib/"
bash "$repo/packaging/deb/trim-node-modules.sh" "$lib/node_modules"
install -m 0755 "$runtime/bin/node" "$lib/node/bin/node"
# The official build carries its symbols (about 40 MB); Debian ships binaries without them.
strip --strip-unneeded "$lib/node/bin/node"
install -m 0644 "$runtime/LICENSE" "$lib/node/LICENSE"
install -m 0755 "$repo/packaging/deb/launcher.sh" "$root/usr/bin/mft-retention"
install -m 0644 "$repo/packaging/deb/sysusers.conf" "$root/usr/lib/sysusers.d/mft-retention.conf"

# The units name /usr/bin/mft-retention, where the package puts the command, and its docs.
for unit in "$src"/systemd/*.service "$src"/systemd/*.timer; do
  sed -E -e 's#^ExecStart=(/usr/local/bin/|/usr/bin/)?mft-retention #ExecStart=/usr/bin/mft-retention #' \
    -e 's#^Documentation=.*#Documentation=file:///usr/share/doc/mft-retention/README.md#' \
    "$unit" >"$root/lib/systemd/system/$(basename "$unit")"
done
if grep -h '^ExecStart=' "$root"/lib/systemd/system/*.service | grep -v '^ExecStart=/usr/bin/mft-retention '; then
  say "ERROR: a unit's ExecStart= above does not start /usr/bin/mft-retention"
  exit 1
fi
chmod 0644 "$root"/lib/systemd/system/*

install -m 0644 "$src/examples/config.yaml" "$root/etc/mft-retention/config.yaml"
cp -r "$src/policies" "$root/etc/mft-retention/"

cp "$src/README.md" "$src/CHANGELOG.md" "$doc/"
cp -r "$src/examples" "$doc/"
gzip -9n "$doc/README.md" "$doc/CHANGELOG.md"
[[ ! -d $src/docs ]] || cp -r "$src/docs" "$doc/"
bash "$repo/packaging/deb/changelog.sh" "$src/CHANGELOG.md" "$version" | gzip -9n >"$doc/changelog.gz"
bash "$repo/packaging/deb/copyright.sh" "$lib/node_modules" "$src/LICENSE" >"$doc/copyright"

# Man pages, once the build makes them: man/<name>.<section> in the checkout.
shopt -s nullglob
for page in "$src"/man/*.[1-8]; do
  section=${page##*.}
  mkdir -p "$root/usr/share/man/man$section"
  gzip -9n <"$page" >"$root/usr/share/man/man$section/$(basename "$page").gz"
done
shopt -u nullglob

install -d -m 0755 "$root/usr/share/lintian/overrides"
install -m 0644 "$repo/packaging/deb/lintian-overrides" "$root/usr/share/lintian/overrides/mft-retention"

# --- control ----------------------------------------------------------------------------------
mkdir -p "$root/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$repo/packaging/deb/$script" "$root/DEBIAN/$script"; done
(cd "$root" && find etc -type f | sort | sed 's#^#/#') >"$root/DEBIAN/conffiles"
depends=$(bash "$repo/packaging/deb/shlibdeps.sh" "$root")
description=$(node -p "require('$repo/package.json').description")
cat >"$root/DEBIAN/control" <<CONTROL
Package: mft-retention
Version: $version
Architecture: amd64
Maintainer: ${DEB_MAINTAINER:-mft-retention maintainers <mft-retention@users.noreply.github.com>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends, systemd
Section: admin
Priority: optional
Description: retention and purge daemon for Cisco IM and Presence MFT
$(echo "$description" | fold -s -w 78 | sed 's/^/ /; s/ *$//')
 .
 Carries its own Node.js $("$runtime/bin/node" --version) runtime and its dependencies: it needs no
 Node.js and no network on the host.
CONTROL

find "$root" -type d -exec chmod 0755 {} +
mkdir -p "$out"
deb=$out/mft-retention_${version}_amd64.deb
# gzip: what every dpkg and lintian read (Debian 12's lintian refuses zstd members); xz makes the
# package a fifth smaller and takes two to four times as long.
say "dpkg-deb --build"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$deb" >&2
echo "$deb"
