# Shared by start.sh and test.sh: dependencies, services, and the environment they produce.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_DIR=${LYOTRACE_DATA_DIR:-$REPO/.data}

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
  (cd "$REPO" && npm run --silent build)
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
