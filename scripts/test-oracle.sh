#!/usr/bin/env bash
# `npm run test:oracle`: runs the Catalog contract suite against a real Oracle Database.
# Fails (exit 2) when the database is not given: a suite that did not run never passes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for v in ORACLE_TEST_CONNECT_STRING ORACLE_TEST_USER ORACLE_TEST_PASSWORD; do
  [[ -n "${!v:-}" ]] || missing+=("$v")
done
if (( ${#missing[@]} > 0 )); then
  echo "test:oracle NOT RUN: set ${missing[*]} to a real Oracle Database (12c or later)." >&2
  echo "See \"Oracle: running the contract tests\" in README.md (e.g. the gvenzl/oracle-free container)." >&2
  exit 2
fi

if [[ ! -d node_modules ]]; then
  npm ci
fi

exec npx vitest run --config vitest.oracle.config.ts "$@"
