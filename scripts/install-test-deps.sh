#!/usr/bin/env bash
# Installs the Debian packages the integration tests need (real PostgreSQL, OpenSSH,
# Prometheus Alertmanager and rsyslog as alarm receivers, Prometheus's promtool to check and
# unit-test the alert and recording rules and the dashboard's queries (the Prometheus server
# itself is never started), systemd-analyze for the unit
# files, util-linux's script for a pseudo-terminal), and GNU time, with which `npm run bench`
# reads the purge's peak memory, g++ and make, which build ssh2's native crypto binding
# (scripts/build-ssh-crypto.mjs; doctor's "SSH crypto" check expects it), headless Chromium
# with poppler's pdftotext, which render and read the dry-run's HTML page, and systemd-nspawn
# (systemd-container) and debootstrap, with which the systemd tests boot Debian 12's systemd in a
# container (scripts/build-systemd-test-tree.sh). Idempotent: does nothing when everything is present.
#
# Never starts or enables a system service: during the install a policy-rc.d that
# answers 101 ("action forbidden") is put in place, and units of packages installed by
# this run are disabled again afterwards. The tests start their own private servers.
set -euo pipefail

# package name -> a file whose presence proves the package is usable
declare -A PROBE=(
  [postgresql]='/usr/lib/postgresql/*/bin/initdb'
  [openssh-server]='/usr/sbin/sshd'
  [openssh-client]='/usr/bin/ssh-keygen'
  [systemd]='/usr/bin/systemd-analyze'
  [bsdutils]='/usr/bin/script'
  [util-linux]='/usr/sbin/runuser /sbin/runuser'
  [procps]='/usr/bin/ps /bin/ps'
  [prometheus-alertmanager]='/usr/bin/prometheus-alertmanager'
  [prometheus]='/usr/bin/promtool'
  [rsyslog]='/usr/sbin/rsyslogd'
  [time]='/usr/bin/time'
  [g++]='/usr/bin/g++'
  [make]='/usr/bin/make'
  [chromium]='/usr/bin/chromium'
  [poppler-utils]='/usr/bin/pdftotext'
  [systemd-container]='/usr/bin/systemd-nspawn'
  [debootstrap]='/usr/sbin/debootstrap'
)
ORDER=(postgresql openssh-server openssh-client systemd bsdutils util-linux procps prometheus-alertmanager prometheus rsyslog time g++ make chromium poppler-utils systemd-container debootstrap)

present() {
  local pattern=$1 f
  # shellcheck disable=SC2086 # the pattern is a glob on purpose
  for f in $pattern; do
    [[ -x $f ]] && return 0
  done
  return 1
}

missing=()
for pkg in "${ORDER[@]}"; do
  if ! present "${PROBE[$pkg]}"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-test-deps: all test dependencies present"
  exit 0
fi

echo "install-test-deps: missing: ${missing[*]}"

if [[ $(id -u) -ne 0 ]]; then
  {
    echo "install-test-deps: ERROR: these packages are missing and installing them needs root:"
    for pkg in "${missing[@]}"; do echo "  - $pkg (no ${PROBE[$pkg]})"; done
    echo "Run as root:  sudo bash scripts/install-test-deps.sh"
  } >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: ERROR: apt-get not found; this script supports Debian/Ubuntu only." >&2
  echo "Install by hand: ${missing[*]}" >&2
  exit 1
fi

# --- forbid service starts while we install -------------------------------------------
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
if [[ -e $POLICY ]]; then
  POLICY_BACKUP=$(mktemp /tmp/policy-rc.d.XXXXXX)
  cp -p "$POLICY" "$POLICY_BACKUP"
fi
restore_policy() {
  if [[ -n $POLICY_BACKUP ]]; then
    cp -p "$POLICY_BACKUP" "$POLICY" && rm -f "$POLICY_BACKUP"
  else
    rm -f "$POLICY"
  fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by mft-retention scripts/install-test-deps.sh\nexit 101\n' >"$POLICY"
chmod 0755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: apt-get update"
apt-get update -qq
echo "install-test-deps: apt-get install ${missing[*]}"
apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"

# --- undo "enable" done by maintainer scripts of packages we just installed -------------
# (policy-rc.d stops the start, not the enable symlinks). Best effort.
declare -A UNITS=(
  [postgresql]='postgresql'
  [openssh-server]='ssh ssh.socket'
  [rsyslog]='rsyslog syslog.socket'
  [prometheus-alertmanager]='prometheus-alertmanager'
  [prometheus]='prometheus'
)
for pkg in "${missing[@]}"; do
  for unit in ${UNITS[$pkg]:-}; do
    if command -v deb-systemd-helper >/dev/null 2>&1; then
      deb-systemd-helper disable "$unit" >/dev/null 2>&1 || true
    fi
    if [[ $unit != *.socket && -x /usr/sbin/update-rc.d && -e /etc/init.d/$unit ]]; then
      update-rc.d "$unit" disable >/dev/null 2>&1 || true
    fi
  done
done

# --- verify --------------------------------------------------------------------------
still=()
for pkg in "${ORDER[@]}"; do
  present "${PROBE[$pkg]}" || still+=("$pkg (no ${PROBE[$pkg]})")
done
if ((${#still[@]} > 0)); then
  echo "install-test-deps: ERROR: still missing after install: ${still[*]}" >&2
  exit 1
fi
echo "install-test-deps: done"
