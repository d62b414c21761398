#!/usr/bin/env bash
# `npm run bench`: installs what the benchmark needs (the test dependencies: PostgreSQL, OpenSSH,
# GNU time), builds, and runs bench/run.ts. Extra arguments go to the benchmark (--full, --sizes).
# Not part of `npm test`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-deps.sh

if [[ ! -d node_modules ]]; then
  npm ci
fi

npm run build

exec node dist/bench/run.js "$@"
