#!/usr/bin/env bash
# Builds, once, the minimal Debian 12 (bookworm) tree whose systemd 252 the systemd tests boot
# with systemd-nspawn (test/helpers/systemdContainer.ts). About 60 s and 110 MB; kept outside
# the checkout and reused until it is missing or its recipe changes. Prints the tree's path.
#
#   bash scripts/build-systemd-test-tree.sh [ROOT]   # default /var/cache/mft-retention-test/bookworm-systemd
#
# Needs root, debootstrap and the network to a Debian mirror (the host's own, from its apt
# sources). Several test workers may call it at once: one builds, the others wait on a lock.
set -euo pipefail

ROOT=${1:-/var/cache/mft-retention-test/bookworm-systemd}
# Bump when the recipe below changes: a tree built by an older recipe is rebuilt.
RECIPE=1
STAMP=$ROOT/.mft-retention-test-tree

if [[ -f $STAMP && $(cat "$STAMP") == "$RECIPE" ]]; then
  echo "$ROOT"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "build-systemd-test-tree: ERROR: building $ROOT needs root (debootstrap, systemd-nspawn)." >&2
  exit 1
fi
for tool in debootstrap systemd-nspawn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-systemd-test-tree: ERROR: $tool not found. Run: bash scripts/install-test-deps.sh (as root)" >&2
    exit 1
  fi
done

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
# Another caller may have built it while this one waited.
if [[ -f $STAMP && $(cat "$STAMP") == "$RECIPE" ]]; then
  echo "$ROOT"
  exit 0
fi

MIRROR=""
for f in /etc/apt/sources.list.d/debian.sources; do
  [[ -f $f ]] && MIRROR=$(sed -n 's/^URIs: //p' "$f" | awk '{print $1}' | grep -v security | head -1)
done
if [[ -z $MIRROR && -f /etc/apt/sources.list ]]; then
  MIRROR=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}

BUILD=$ROOT.build-$$
rm -rf "$BUILD"
trap 'rm -rf "$BUILD"' EXIT
echo "build-systemd-test-tree: debootstrap bookworm into $BUILD from $MIRROR (about a minute)" >&2
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$BUILD" "$MIRROR" >"$ROOT.build.log" 2>&1 || {
  echo "build-systemd-test-tree: ERROR: debootstrap failed; the last lines of $ROOT.build.log:" >&2
  tail -20 "$ROOT.build.log" >&2
  exit 1
}
rm -rf "$BUILD"/var/cache/apt/archives/*.deb "$BUILD"/var/lib/apt/lists/* "$BUILD"/usr/share/doc/* "$BUILD"/usr/share/man/* "$BUILD"/usr/share/locale/*
# No login prompt on the console: the tests drive the container with nsenter.
ln -sf /dev/null "$BUILD"/etc/systemd/system/console-getty.service
echo "$RECIPE" >"$BUILD/.mft-retention-test-tree"

rm -rf "$ROOT"
mv "$BUILD" "$ROOT"
trap - EXIT
echo "$ROOT"
