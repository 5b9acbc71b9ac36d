#!/usr/bin/env bash
# npm test: the whole suite — unit, integration and end-to-end — against a real PostgreSQL and Redis that
# this script brings up itself (scripts/services.sh), on a test database recreated from scratch so that the
# migrations are applied from zero. Extra arguments go to jest (e.g. `npm test -- --selectProjects unit`).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

ensure_node_modules
# One suite at a time per data folder: a second run would drop the test database under the first. Taken
# before the services, so a waiting run also waits for the first one's teardown.
mkdir -p "$DATA_DIR"
exec 8>"$DATA_DIR/.test-run.lock"
if ! flock -n 8; then
  say "another npm test is running on $DATA_DIR; waiting for it (at most 15 min)…"
  flock -w 900 8 || { say "gave up waiting for the other npm test"; exit 1; }
fi
# The servers started here must not inherit (and so hold) the lock.
ensure_services 8>&-
trap stop_services_if_ours EXIT
bash scripts/services.sh reset-test-db
# The end-to-end tier runs the built processes (dist/), exactly as `npm start` does.
ensure_build

results="$DATA_DIR/jest-results.json"
rc=0
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" \
  node_modules/.bin/jest --runInBand --json --outputFile="$results" "$@" 8>&- || rc=$?

# One plain closing line that any reader of the log can count.
if [[ -f $results ]]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  ' "$results"
fi
exit "$rc"
