#!/usr/bin/env bash
# THE test command (`npm test`): installs the system packages the integration tests
# need, builds, then runs vitest. Extra arguments go to `vitest run`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-deps.sh

if [[ ! -d node_modules ]]; then
  npm ci
fi

# After `npm ci` on a host that had no compiler then: install-test-deps brought one.
node scripts/build-ssh-crypto.mjs
npm run build
# The tests type-check too: a test that calls the code with the wrong shape proves little.
npx tsc -p test/tsconfig.json

exec npx vitest run "$@"
