#!/usr/bin/env bash
# Writes the Debian changelog (debian/changelog format) from CHANGELOG.md: one entry per
# "## VERSION - YYYY-MM-DD" heading, its "- " items as "  * " items. The newest entry carries
# the version being built (a test build may carry a later one than CHANGELOG.md's).
set -euo pipefail
md=${1:?usage: changelog.sh CHANGELOG.md VERSION}
version=${2:?usage: changelog.sh CHANGELOG.md VERSION}
maintainer=${DEB_MAINTAINER:-mft-retention maintainers <mft-retention@users.noreply.github.com>}

first=1
entry() { # version date, then the items on stdin
  echo "mft-retention ($1) unstable; urgency=medium"
  echo
  cat
  echo
  echo " -- $maintainer  $(LC_ALL=C date -u -R -d "$2 12:00")"
}
items=
heading=
flush() {
  [[ -n $heading ]] || return 0
  local v=${heading%% *} d=${heading##* }
  if ((first)); then v=$version; first=0; else echo; fi
  printf '%s' "$items" | entry "$v" "$d"
}
while IFS= read -r line; do
  if [[ $line =~ ^##\ ([^ ]+)\ -\ ([0-9]{4}-[0-9]{2}-[0-9]{2}) ]]; then
    flush
    heading="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
    items=
  elif [[ -n $heading && $line =~ ^-\ (.*) ]]; then
    items+="  * ${BASH_REMATCH[1]}"$'\n'
  elif [[ -n $heading && $line =~ ^\ \ +(.*) ]]; then
    items+="    ${BASH_REMATCH[1]}"$'\n'
  elif [[ -n $heading && -n $line && ! $line =~ ^- ]]; then
    items+="  * $line"$'\n'
  fi
done <"$md"
flush
