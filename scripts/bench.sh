#!/usr/bin/env bash
# npm run bench [-- <name>]: the HTTP benchmarks (test/bench/*.bench.ts) against the real API, PostgreSQL and
# Redis. Brings the services up itself (scripts/services.sh), recreates a dedicated database `lyotrace_bench`
# and flushes Redis db 2 on every run, so figures never depend on (nor disturb) dev or test data. Each
# benchmark prints a table and, as its last line, one JSON object {"bench": name, "figures": {...}}.
# Usage: bash scripts/bench.sh [name]   (no name: every benchmark; `auth`: test/bench/auth.bench.ts only)
# A quick, smaller ingest run: BENCH_INGEST_BATCHES=8 BENCH_INGEST_DOWNLOAD=12000 bash scripts/bench.sh ingest
# Profiling: LYOTRACE_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' bash scripts/bench.sh scan
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO"

BENCH_DB_NAME=lyotrace_bench
BENCH_REDIS_DB=2

die() {
  say "bench: $*"
  exit 1
}

# The same server and credentials as $1 (a postgres:// URL), database $2; a ?query part is kept.
db_url_named() {
  local url=$1 name=$2 query=
  if [[ $url == *\?* ]]; then
    query="?${url#*\?}"
    url=${url%%\?*}
  fi
  [[ $url =~ ^postgres(ql)?://[^/]+/[^/]+$ ]] || die "cannot derive the bench database from DATABASE_URL"
  printf '%s/%s%s\n' "${url%/*}" "$name" "$query"
}

# The same Redis server as $1 (a redis:// URL), logical database $2.
redis_url_db() {
  local url=${1%%\?*} db=$2
  [[ $url =~ ^(rediss?://[^/]+)(/[0-9]*)?$ ]] || die "cannot derive the bench Redis database from REDIS_URL"
  printf '%s/%s\n' "${BASH_REMATCH[1]}" "$db"
}

ensure_node_modules
ensure_services
trap stop_services_if_ours EXIT

command -v psql >/dev/null 2>&1 ||
  die "psql is needed to recreate $BENCH_DB_NAME: sudo apt-get install -y postgresql-client"
command -v redis-cli >/dev/null 2>&1 ||
  die "redis-cli is needed to flush the bench Redis db: sudo apt-get install -y redis-tools"

BENCH_DATABASE_URL=$(db_url_named "$DATABASE_URL" "$BENCH_DB_NAME")
BENCH_REDIS_URL=$(redis_url_db "$REDIS_URL" "$BENCH_REDIS_DB")
for other in "$DATABASE_URL" "${TEST_DATABASE_URL:-}"; do
  [[ $BENCH_DATABASE_URL != "$other" ]] || die "the bench database would be the dev or test database"
done
for other in "$REDIS_URL" "${TEST_REDIS_URL:-}"; do
  [[ ${BENCH_REDIS_URL%/} != "${other%/}" ]] || die "the bench Redis db would be the dev or test Redis db"
done
export BENCH_DATABASE_URL BENCH_REDIS_URL

# One benchmark at a time on this machine: two at once would share the CPUs and both measure nonsense,
# and the second one's DROP DATABASE would cut the first one off.
exec 8>"$DATA_DIR/.bench.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 120 8 || die "another benchmark is still running after 120 s (lock $DATA_DIR/.bench.lock)"
fi

# Compile first: a type error fails here, before any data is touched.
ensure_build

# BENCH_KEEP_DB=1 keeps an existing $BENCH_DB_NAME (for iterating on one benchmark: the trace bench then reuses
# the graph it generated last time instead of spending ~40 s on a new one). Figures to report: without it.
if [[ ${BENCH_KEEP_DB:-0} == 1 ]] && [[ $(PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} psql -X -qAt "$DATABASE_URL" \
  -c "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB_NAME'") == 1 ]]; then
  say "BENCH_KEEP_DB=1: keeping database $BENCH_DB_NAME; flushing Redis db $BENCH_REDIS_DB…"
else
  say "recreating database $BENCH_DB_NAME and flushing Redis db $BENCH_REDIS_DB…"
  # Connect to the dev database (always there) to drop and create the other one; WITH (FORCE) ends the
  # sessions of a crashed previous run. Separate -c: DROP DATABASE cannot run inside a transaction.
  PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} PGOPTIONS='-c client_min_messages=warning' \
    psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "DROP DATABASE IF EXISTS $BENCH_DB_NAME WITH (FORCE)" \
    -c "CREATE DATABASE $BENCH_DB_NAME" || die "could not recreate $BENCH_DB_NAME"
fi
tls=()
[[ $BENCH_REDIS_URL == rediss://* ]] && tls=(--tls)
timeout 10 redis-cli "${tls[@]}" --no-auth-warning -u "$BENCH_REDIS_URL" flushdb >/dev/null ||
  die "could not flush Redis db $BENCH_REDIS_DB"

rc=0
node --enable-source-maps ${LYOTRACE_NODE_FLAGS:-} "$DIST_DIR/test/bench/run-all.js" "$@" || rc=$?
exit "$rc"
