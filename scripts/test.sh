#!/usr/bin/env bash
# npm test: the whole suite — unit, integration and end-to-end — against a real PostgreSQL and Redis that
# this script brings up itself (scripts/services.sh), on a test database recreated from scratch so that the
# migrations are applied from zero. Extra arguments go to jest (e.g. `npm test -- --selectProjects unit`).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ensure_node_modules
ensure_services
trap stop_services_if_ours EXIT
bash scripts/services.sh reset-test-db
# The end-to-end tier runs the built processes (dist/), exactly as `npm start` does.
ensure_build

results="$DATA_DIR/jest-results.json"
rc=0
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  npx jest --runInBand --json --outputFile="$results" "$@" || rc=$?

# One plain closing line that any reader of the log can count.
if [[ -f $results ]]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  ' "$results"
fi
exit "$rc"
