# Shared by start.sh and test.sh: dependencies, services, and the environment they produce.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_DIR=${LYOTRACE_DATA_DIR:-$REPO/.data}
# The built JavaScript: dist/ (npm run build), or LYOTRACE_DIST_DIR for a private build beside someone else's;
# it must lie inside the repository, where node_modules resolve.
DIST_DIR=${LYOTRACE_DIST_DIR:-$REPO/dist}

say() { printf '\033[1m[lyotrace]\033[0m %s\n' "$*" >&2; }

# "Installs what is missing": node_modules absent or older than the lock file.
ensure_node_modules() {
  if [[ ! -d $REPO/node_modules || $REPO/package-lock.json -nt $REPO/node_modules/.package-lock.json ]]; then
    say "installing npm dependencies (npm ci)…"
    (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_build() {
  say "building (tsc)…"
  if [[ $DIST_DIR == "$REPO/dist" ]]; then
    (cd "$REPO" && npm run --silent build)
  else
    (cd "$REPO" && node_modules/.bin/tsc -p tsconfig.build.json --outDir "$DIST_DIR" \
      --tsBuildInfoFile "$DIST_DIR/.tsbuildinfo" &&
      node_modules/.bin/tsc-alias -p tsconfig.build.json --outDir "$DIST_DIR")
  fi
}

# The device simulator's pty pairs need socat: installed when missing and we may (root + apt-get). False when
# it is still missing: npm start then runs without simulated devices rather than not at all.
ensure_socat() {
  command -v socat >/dev/null 2>&1 && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing socat (the simulated loggers' serial lines)…"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends socat </dev/null >&2 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends socat </dev/null >&2; } ||
      true
  fi
  command -v socat >/dev/null 2>&1
}

# The demo's simulated loggers and bridges (start.sh): seed:demo --bridge-dir writes here a token and a device
# list per site; the simulator makes its ptys in sim/ and lists them in sim/manifest.json once they exist.
DEMO_BRIDGES_DIR=$DATA_DIR/demo-bridges

# One demo bridge, as a concurrently command: waits for the simulator's ptys, then becomes the bridge of a site.
demo_bridge() {
  local site=$1 manifest=$DEMO_BRIDGES_DIR/sim/manifest.json
  for _ in $(seq 1 300); do
    [[ -s $manifest ]] && break
    sleep 0.1
  done
  if [[ ! -s $manifest ]]; then
    say "the device simulator wrote no $manifest within 30 s"
    return 1
  fi
  BRIDGE_TOKEN=$(cat "$DEMO_BRIDGES_DIR/$site.token") BRIDGE_DEVICES_FILE=$DEMO_BRIDGES_DIR/$site.devices.json \
    BRIDGE_SPOOL_DIR=$DATA_DIR/bridge-spool/$site exec node "$DIST_DIR/firmware-bridge/src/main.js"
}

# Brings PostgreSQL and Redis up (scripts/services.sh decides how) and loads the URLs it wrote.
# Sets SERVICES_STARTED_BY_US right after our own `up`, before anyone else can rewrite the file.
ensure_services() {
  bash "$REPO/scripts/services.sh" up
  set -a
  # shellcheck disable=SC1091
  . "$DATA_DIR/services.env"
  set +a
  STARTED_SERVICES=$SERVICES_STARTED_BY_US
}

stop_services_if_ours() {
  if [[ ${STARTED_SERVICES:-0} == 1 ]]; then
    say "stopping the PostgreSQL and Redis this run started"
    bash "$REPO/scripts/services.sh" down || true
  fi
}
