#!/usr/bin/env bash
# npm start: from a fresh clone to a running system. Installs dependencies, brings up PostgreSQL and Redis
# (scripts/services.sh: your DATABASE_URL/REDIS_URL, else Docker, else project-local servers under .data/),
# builds, migrates, seeds the demo, then runs api + worker + the device simulator (one simulated logger per
# demo location and one in the demo shipper, on socat ptys) + one bridge per demo site, with prefixed logs.
# Ctrl-C stops every child (the simulator takes its socat pairs down with it), then the services this run
# started.
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
node "$DIST_DIR/apps/cli/src/main.js" migrate
# Registers the demo loggers in their places and writes a token + device list per site in DEMO_BRIDGES_DIR.
node "$DIST_DIR/apps/cli/src/main.js" seed:demo --bridge-dir "$DEMO_BRIDGES_DIR"
# A bridge starts once the simulator has listed its ptys: never on a manifest left by an earlier run.
rm -f "$DEMO_BRIDGES_DIR/sim/manifest.json"
export BRIDGE_API_URL="http://127.0.0.1:$PORT"

# One bridge per site: a bridge credential belongs to one site, whose loggers it alone may upload.
# concurrently runs each command through a shell: quote every word.
command_line() { printf '%q ' "$@"; }
names=(api worker)
colors=(blue magenta)
commands=("$(command_line node "$DIST_DIR/apps/api/src/main.js")" "$(command_line node "$DIST_DIR/apps/worker/src/main.js")")
if ensure_socat; then
  commands+=("$(command_line node "$DIST_DIR/firmware-bridge/simulator/main.js" \
    --config firmware-bridge/simulator/demo-devices.json \
    --pair "$DEMO_BRIDGES_DIR/sim" --manifest "$DEMO_BRIDGES_DIR/sim/manifest.json")")
  names+=(devices)
  colors+=(yellow)
  bridges=("$DEMO_BRIDGES_DIR"/*.devices.json)
else
  say "socat is not installed (apt-get install socat): running without the simulated loggers and their bridges"
  bridges=()
fi
for devices in "${bridges[@]}"; do
  site=$(basename "$devices" .devices.json)
  names+=("bridge:$site")
  colors+=(green)
  # shellcheck disable=SC2016 # $0 is the site, expanded by that inner bash
  commands+=("$(command_line bash -c '. scripts/lib.sh && demo_bridge "$0"' "$site")")
done

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
    Devices    a simulated logger in every demo location and in the DEPOT-1 shipper,
               read by one bridge per site: GET /api/loggers (admin);
               BRIDGE_SPOOL_DIR=$DATA_DIR/bridge-spool/DEPOT-1 npm run bridge:status
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
node_modules/.bin/concurrently --names "$(IFS=,; echo "${names[*]}")" --prefix-colors "$(IFS=,; echo "${colors[*]}")" \
  --kill-others-on-fail --kill-signal SIGTERM --timings=false "${commands[@]}" || rc=$?
say "stopped"
exit "$rc"
