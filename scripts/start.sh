#!/usr/bin/env bash
# npm start: from a fresh clone to a running system. Installs dependencies, brings up PostgreSQL and Redis
# (scripts/services.sh: your DATABASE_URL/REDIS_URL, else Docker, else project-local servers under .data/),
# builds, migrates, seeds the demo, then runs api + worker + bridge with prefixed logs. Ctrl-C stops every
# child, then the services this run started.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

PORT=${PORT:-3000}
ensure_node_modules
ensure_services
waiter=
cleanup() {
  [[ -n $waiter ]] && kill "$waiter" 2>/dev/null
  stop_services_if_ours
}
trap cleanup EXIT
ensure_build

# A development signing key, made once and kept in the ignored data folder (never a committed default).
if [[ ! -s $DATA_DIR/dev.env ]]; then
  umask 077
  echo "JWT_SECRET=$(node -e 'console.log(require("crypto").randomBytes(48).toString("base64url"))')" >"$DATA_DIR/dev.env"
fi
set -a
# shellcheck disable=SC1091
. "$DATA_DIR/dev.env"
set +a
export PORT LOG_PRETTY=${LOG_PRETTY:-true} NODE_ENV=${NODE_ENV:-development}

say "migrating and seeding the demo…"
node dist/apps/cli/src/main.js migrate
node dist/apps/cli/src/main.js seed:demo --bridge-token-file "$DATA_DIR/demo-bridge.token"
BRIDGE_TOKEN=$(cat "$DATA_DIR/demo-bridge.token")
export BRIDGE_TOKEN BRIDGE_API_URL="http://127.0.0.1:$PORT" BRIDGE_SPOOL_DIR="$DATA_DIR/bridge-spool"

# Print where to look once the API answers (in the background, so Ctrl-C reaches the children at once).
(
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then
      cat >&2 <<BANNER

  ┌──────────────────────────────────────────────────────────────────────────┐
    lyotrace is running
      API        http://127.0.0.1:$PORT/api
      OpenAPI    http://127.0.0.1:$PORT/api/docs   (JSON: /api/docs-json)
      Health     http://127.0.0.1:$PORT/api/health
    Demo logins (password: demo-password-2026)
      admin · prod (production) · qa · warehouse · clinic-a · clinic-b (clinics)
      curl -s -XPOST localhost:$PORT/api/auth/login -H 'content-type: application/json' \\
           -d '{"username":"qa","password":"demo-password-2026"}'
    Ctrl-C stops everything.
  └──────────────────────────────────────────────────────────────────────────┘

BANNER
      exit 0
    fi
    sleep 0.5
  done
  say "the API did not answer on port $PORT within 60 s: see the [api] lines above"
) &
waiter=$!

rc=0
node_modules/.bin/concurrently --names api,worker,bridge --prefix-colors blue,magenta,green --kill-others-on-fail \
  --kill-signal SIGTERM --timings=false \
  "node dist/apps/api/src/main.js" \
  "node dist/apps/worker/src/main.js" \
  "node dist/firmware-bridge/src/main.js" || rc=$?
say "stopped"
exit "$rc"
