#!/usr/bin/env bash
# scripts/services.sh — provide the PostgreSQL and Redis that lyotrace needs.
#
# This is the ONE place that knows how to get a database and a Redis for
# `npm start` and `npm test`, so that both behave the same on a laptop with
# Docker, on a CI box without Docker, and against externally managed servers.
#
# Usage: bash scripts/services.sh <command>
#
#   up             start (or reuse) both services, create the databases
#                  `lyotrace` and `lyotrace_test`, write $DATA/services.env
#   down           stop what `up` started (local: both servers; docker:
#                  `docker compose down`, volumes kept; external: nothing)
#   status         print what runs where; exit 0 only if both answer
#   reset-test-db  drop + recreate `lyotrace_test` and flush Redis db 1
#   pg-stop | pg-start | redis-stop | redis-start
#                  local mode only: stop/start a single server (outage tests)
#   help           this text
#
# Modes (chosen by `up`; the other commands follow the mode recorded in
# services.env by the last `up`, so `down` stops what `up` started):
#   external  DATABASE_URL and REDIS_URL are both set in the environment
#             (and did not come from a sourced local/docker services.env).
#             TEST_DATABASE_URL defaults to DATABASE_URL with `_test` appended
#             to the database name, TEST_REDIS_URL to REDIS_URL with db 1.
#   docker    `docker info` answers within 5 s and `docker compose` exists:
#             `docker compose up -d --wait` with ./docker-compose.yml.
#   local     project-local servers under $DATA (default <repo>/.data).
#
# Environment:
#   LYOTRACE_SERVICES    force a mode: local | docker | external
#   LYOTRACE_DATA_DIR    data dir (default <repo>/.data); holds services.env,
#                        the local PostgreSQL cluster (pg/) and Redis (redis/)
#   LYOTRACE_PG_PORT     PostgreSQL port on 127.0.0.1 (default 55432)
#   LYOTRACE_REDIS_PORT  Redis port on 127.0.0.1 (default 56379)
#   LYOTRACE_PG_BINDIR   directory with initdb/pg_ctl/postgres (optional;
#                        default: pg_config --bindir, then the highest
#                        /usr/lib/postgresql/*/bin, then PATH)
#   DATABASE_URL, REDIS_URL, TEST_DATABASE_URL, TEST_REDIS_URL (external mode)
#
# services.env (written by `up`, `KEY=value` lines, `. file` or
# `set -a; . file; set +a`; also readable by dotenv / node --env-file):
#   SERVICES_MODE  DATABASE_URL  TEST_DATABASE_URL  REDIS_URL  TEST_REDIS_URL
#   SERVICES_STARTED_BY_US  (1 if this `up` started a server, else 0)
#
# Only the summary and errors go to stderr; `up` prints nothing on stdout.

set -euo pipefail

# ---------------------------------------------------------------------------
# Constants and configuration
# ---------------------------------------------------------------------------

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
COMPOSE_FILE=$ROOT_DIR/docker-compose.yml

# realpath -m: absolute and normalised even before the directory exists, so
# the /var/tmp fallback hash (below) is stable for the same data dir.
DATA_DIR=$(realpath -m -- "${LYOTRACE_DATA_DIR:-$ROOT_DIR/.data}")
ENV_FILE=$DATA_DIR/services.env
PG_LINK=$DATA_DIR/pg # the cluster (or a symlink to its fallback location)
REDIS_DIR=$DATA_DIR/redis
REDIS_PIDFILE=$REDIS_DIR/redis.pid
REDIS_LOGFILE=$REDIS_DIR/redis.log

PG_PORT=${LYOTRACE_PG_PORT:-55432}
REDIS_PORT=${LYOTRACE_REDIS_PORT:-56379}

# Fixed development credentials: they only ever guard servers bound to
# 127.0.0.1 (local) or published on 127.0.0.1 (docker).
DB_USER=lyotrace
DB_PASSWORD=lyotrace
DB_NAME=lyotrace
TEST_DB_NAME=lyotrace_test

# PostgreSQL refuses to run as root, so as root we run it as this account.
PG_OS_USER=lyotrace-pg

# Every psql we run gives up after 10 s instead of hanging on a dead host.
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}

# Filled in later.
MODE=
PG_DIR=
PG_BIN=
PSQL=
PG_STARTED=0
REDIS_STARTED=0
APT_UPDATED=0
ROLLBACK=0
TMP_FILES=()

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

log() { printf 'services: %s\n' "$*" >&2; }
die() {
  printf 'services: error: %s\n' "$*" >&2
  exit 1
}

cleanup() {
  local rc=$?
  # The initdb password file must not outlive the script.
  if ((${#TMP_FILES[@]})); then rm -f -- "${TMP_FILES[@]}"; fi
  # A failed `up` must not leave half a stack running (e.g. PostgreSQL up but
  # Redis' port taken): stop whatever this run started, and only that.
  if ((rc != 0 && ROLLBACK && (PG_STARTED || REDIS_STARTED))); then
    log "up failed; stopping the server(s) this run started"
    if ((REDIS_STARTED)); then redis_stop || true; fi
    if ((PG_STARTED)); then pg_stop || true; fi
  fi
}
trap cleanup EXIT

is_root() { [[ $(id -u) -eq 0 ]]; }

# A live (non-zombie) process? kill -0 alone also succeeds for a zombie that
# a container's PID 1 has not reaped yet.
pid_alive() {
  [[ $1 =~ ^[0-9]+$ ]] && kill -0 "$1" 2>/dev/null || return 1
  [[ $(sed -E 's/^.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# Hide the password part of a URL before printing it.
redact() { sed -E 's#(://[^:/@]*:)[^@/]*@#\1***@#' <<<"$1"; }

check_port() {
  local name=$1 value=$2
  if [[ ! $value =~ ^[0-9]+$ ]] || ((value < 1 || value > 65535)); then
    die "$name must be a TCP port number (1-65535), got '$value'"
  fi
}

# True if something accepts TCP connections on 127.0.0.1:$1. Uses bash's
# /dev/tcp so it needs no extra tool; a server bound to 0.0.0.0 is caught too.
port_in_use() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# Best-effort description of who listens on a port (for error messages).
port_owner() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltnp "sport = :$1" 2>/dev/null | sed -E 's/.*users:\(\("([^"]*)",pid=([0-9]+).*/\1 (pid \2)/' | head -n1
  fi
}

port_busy_msg() {
  local what=$1 port=$2 env=$3 owner
  owner=$(port_owner "$port")
  printf '%s cannot start: 127.0.0.1:%s is already in use by %s. Stop that, or pick another port with %s=<port>' \
    "$what" "$port" "${owner:-another process}" "$env"
}

# Write KEY=value, single-quoting values a shell would otherwise mangle.
env_line() {
  local key=$1 value=$2
  if [[ $value =~ ^[A-Za-z0-9_./:@%+=,-]*$ ]]; then
    printf '%s=%s\n' "$key" "$value"
  else
    printf "%s='%s'\n" "$key" "${value//\'/\'\\\'\'}"
  fi
}

# Value of KEY in services.env (quotes stripped), empty if absent.
env_file_get() {
  [[ -f $ENV_FILE ]] || return 0
  sed -n -E "s/^$1=//p" "$ENV_FILE" | tail -n1 | sed -E "s/^'(.*)'\$/\1/"
}

# Serialise concurrent invocations (e.g. `npm start` and `npm test` racing to
# initdb the same cluster). fd 9 is closed for every daemon we spawn — a
# server inheriting it would hold the lock for as long as it runs.
take_lock() {
  # 755, whatever the umask: as root, $PG_OS_USER must traverse it.
  if [[ ! -d $DATA_DIR ]]; then
    mkdir -p -- "$DATA_DIR"
    chmod 755 -- "$DATA_DIR"
  fi
  exec 9>"$DATA_DIR/.services.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w 120 9 || die "another scripts/services.sh is still running after 120 s (lock $DATA_DIR/.services.lock)"
  fi
}

# ---------------------------------------------------------------------------
# Installing missing binaries
# ---------------------------------------------------------------------------

apt_update_once() {
  ((APT_UPDATED)) && return 0
  log "running apt-get update"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >&2 || die "apt-get update failed"
  APT_UPDATED=1
}

# Install Debian packages when we can (root + apt-get), otherwise tell the
# user exactly what to install and stop.
need_packages() {
  local why=$1
  shift
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    die "$why. Install it with: sudo apt-get install -y --no-install-recommends $* (or your OS's equivalent), then re-run"
  fi
  apt_update_once
  log "$why; installing Debian package(s): $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2 ||
    die "apt-get install $* failed"
}

# postgresql-15 matches docker-compose.yml; fall back to the distro default.
# (Callers run apt_update_once first: this runs in a $(subshell).)
pg_package() {
  if is_root && command -v apt-get >/dev/null 2>&1; then
    if apt-cache show postgresql-15 >/dev/null 2>&1; then echo postgresql-15; else echo postgresql; fi
  else
    echo postgresql-15
  fi
}

# need_bin BINARY PACKAGE: make sure BINARY is on PATH, installing PACKAGE.
need_bin() {
  command -v "$1" >/dev/null 2>&1 && return 0
  need_packages "$1 is not installed" "$2"
  command -v "$1" >/dev/null 2>&1 || die "$1 is still not on PATH after installing $2 (PATH=$PATH)"
}

ensure_redis_bins() {
  need_bin redis-server redis-server
  need_bin redis-cli redis-tools
}

ensure_redis_cli() { need_bin redis-cli redis-tools; }

# ---------------------------------------------------------------------------
# PostgreSQL binaries
# ---------------------------------------------------------------------------

pg_bindir_ok() { [[ -n $1 && -x $1/initdb && -x $1/pg_ctl && -x $1/postgres ]]; }

# Prints the server bindir, or nothing. Order: explicit override; the
# version an existing cluster was created with (so an upgrade of the default
# version never strands the data); pg_config; highest /usr/lib/postgresql/*;
# PATH (symlinks resolved, so e.g. /usr/local/bin/initdb -> real bindir).
find_pg_bindir() {
  local d want=""
  if [[ -n ${LYOTRACE_PG_BINDIR:-} ]]; then
    pg_bindir_ok "$LYOTRACE_PG_BINDIR" || die "LYOTRACE_PG_BINDIR=$LYOTRACE_PG_BINDIR has no initdb/pg_ctl/postgres"
    echo "$LYOTRACE_PG_BINDIR"
    return
  fi
  [[ -n $PG_DIR && -f $PG_DIR/PG_VERSION ]] && want=$(<"$PG_DIR/PG_VERSION")
  if [[ -n $want ]] && pg_bindir_ok "/usr/lib/postgresql/$want/bin"; then
    echo "/usr/lib/postgresql/$want/bin"
    return
  fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if pg_bindir_ok "$d"; then
      echo "$d"
      return
    fi
  fi
  local dirs=(/usr/lib/postgresql/*/bin)
  if [[ -e ${dirs[0]} ]]; then
    d=$(printf '%s\n' "${dirs[@]}" | sort -V | tail -n1)
    if pg_bindir_ok "$d"; then
      echo "$d"
      return
    fi
  fi
  if d=$(command -v initdb 2>/dev/null); then
    d=$(dirname -- "$(readlink -f -- "$d")")
    if pg_bindir_ok "$d"; then
      echo "$d"
      return
    fi
  fi
}

# Sets PG_BIN and PSQL, installing PostgreSQL if needed and allowed.
ensure_pg_bins() {
  [[ -n $PG_BIN ]] && return 0
  PG_BIN=$(find_pg_bindir)
  if [[ -z $PG_BIN ]]; then
    if is_root && command -v apt-get >/dev/null 2>&1; then apt_update_once; fi
    need_packages "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found" "$(pg_package)"
    PG_BIN=$(find_pg_bindir)
    [[ -n $PG_BIN ]] || die "PostgreSQL was installed but initdb still cannot be found"
  fi
  if [[ -x $PG_BIN/psql ]]; then
    PSQL=$PG_BIN/psql
  elif command -v psql >/dev/null 2>&1; then
    PSQL=$(command -v psql)
  else
    need_packages "psql is not installed" postgresql-client
    PSQL=$(command -v psql)
  fi
  # A cluster can only be run by the major version that created it.
  if [[ -f $PG_DIR/PG_VERSION ]]; then
    local have want
    have=$(pg_version)
    have=${have%%.*}
    want=$(<"$PG_DIR/PG_VERSION")
    [[ $have == "$want" ]] ||
      die "the cluster in $PG_DIR is PostgreSQL $want but $PG_BIN is PostgreSQL $have; install postgresql-$want or set LYOTRACE_PG_BINDIR"
  fi
}

# "15.18" from "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)".
pg_version() { "$PG_BIN/postgres" --version | sed -E 's/.*\(PostgreSQL\) ([0-9][0-9.]*).*/\1/'; }

# Only psql (external mode): any client will do.
ensure_psql() {
  [[ -n $PSQL ]] && return 0
  local d
  d=$(find_pg_bindir)
  if [[ -n $d && -x $d/psql ]]; then
    PSQL=$d/psql
  elif command -v psql >/dev/null 2>&1; then
    PSQL=$(command -v psql)
  else
    need_packages "psql is not installed" postgresql-client
    PSQL=$(command -v psql)
  fi
}

# ---------------------------------------------------------------------------
# Local mode: PostgreSQL
# ---------------------------------------------------------------------------

# Run a PostgreSQL program as the account that owns the cluster. `cd /`
# because the caller's cwd (e.g. /root/...) may be unreadable for that user.
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

ensure_pg_os_user() {
  is_root || return 0
  command -v runuser >/dev/null 2>&1 || die "runuser (util-linux) is required to run PostgreSQL as root"
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  command -v useradd >/dev/null 2>&1 || die "user $PG_OS_USER is missing and useradd is not available to create it"
  log "creating system user $PG_OS_USER (PostgreSQL refuses to run as root)"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER" ||
    die "useradd $PG_OS_USER failed"
}

# Where the cluster lives. Normally $DATA/pg; if `up` had to relocate it,
# $DATA/pg is a symlink to the real place and we follow it.
resolve_pg_dir() {
  if [[ -L $PG_LINK ]]; then
    PG_DIR=$(readlink -m -- "$PG_LINK")
  else
    PG_DIR=$PG_LINK
  fi
}

# Decide, once, where a NEW cluster goes. The cluster normally lives in
# $DATA/pg. Two things can make that impossible:
#   * as root, $PG_OS_USER must be able to traverse every parent of $DATA,
#     and a checkout under /root (mode 700) is not traversable;
#   * the unix socket sits in the cluster dir and its path must fit in
#     sun_path (107 bytes).
# We then put the cluster in /var/tmp/lyotrace-<hash of $DATA>/pg (persistent
# across reboots, world-traversable, short path) and leave a symlink at
# $DATA/pg so every later command finds it. We deliberately do NOT chmod the
# user's parent directories: silently widening permissions on someone's home
# is worse than a relocated dev database.
prepare_pg_dir() {
  if [[ -L $PG_LINK ]]; then
    resolve_pg_dir
    mkdir -p -- "$(dirname -- "$PG_DIR")"
    return
  fi
  PG_DIR=$PG_LINK
  local reason=""
  if is_root && ! as_pg test -x "$DATA_DIR"; then
    reason="user $PG_OS_USER cannot traverse to $DATA_DIR (a parent directory is not world-searchable)"
  elif ((${#PG_DIR} + ${#PG_PORT} + 15 > 100)); then
    reason="the path $PG_DIR is too long for a unix socket"
  fi
  [[ -z $reason ]] && return 0
  if [[ -d $PG_LINK ]]; then
    die "$reason, and $PG_LINK already holds a cluster. Make the parents searchable (chmod o+x), or move the data dir (LYOTRACE_DATA_DIR)"
  fi
  local hash base
  hash=$(printf '%s' "$DATA_DIR" | sha256sum | cut -c1-12)
  base=/var/tmp/lyotrace-$hash
  mkdir -p -- "$base"
  chmod 755 -- "$base"
  ln -sfn -- "$base/pg" "$PG_LINK"
  PG_DIR=$base/pg
  log "note: $reason; the PostgreSQL cluster lives in $PG_DIR instead (symlinked from $PG_LINK)"
}

pg_running() {
  [[ -n $PG_DIR && -f $PG_DIR/postmaster.pid ]] || return 1
  ensure_pg_bins
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1
}

# Cheap liveness check without binaries (used to decide the mode).
pg_pid_alive() {
  local pid
  [[ -f $PG_DIR/postmaster.pid ]] || return 1
  pid=$(head -n1 "$PG_DIR/postmaster.pid" 2>/dev/null || true)
  pid_alive "$pid"
}

pg_running_port() { sed -n 4p "$PG_DIR/postmaster.pid" 2>/dev/null || true; }

pg_initdb() {
  [[ -f $PG_DIR/PG_VERSION ]] && return 0
  ensure_pg_bins
  mkdir -p -- "$PG_DIR"
  if [[ -n $(ls -A -- "$PG_DIR") ]]; then
    die "$PG_DIR exists but is not a PostgreSQL cluster (no PG_VERSION); remove it and re-run"
  fi
  chmod 700 -- "$PG_DIR"
  is_root && chown "$PG_OS_USER:" -- "$PG_DIR"

  # C.UTF-8 where the C library has it: byte-order collation (identical
  # sorting on every machine and in the docker image) with full UTF-8.
  local locale=C
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi

  local pwfile out
  pwfile=$(mktemp)
  TMP_FILES+=("$pwfile")
  printf '%s\n' "$DB_PASSWORD" >"$pwfile"
  is_root && chown "$PG_OS_USER:" -- "$pwfile"

  log "initialising PostgreSQL $(pg_version) cluster in $PG_DIR"
  if ! out=$(as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U "$DB_USER" --pwfile="$pwfile" \
    --data-checksums --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale="$locale" 2>&1); then
    printf '%s\n' "$out" >&2
    die "initdb failed for $PG_DIR"
  fi
  rm -f -- "$pwfile"

  # Our settings live in lyotrace.conf (rewritten on every start so a port
  # change just works); postgresql.conf merely includes it.
  printf "\n# Added by scripts/services.sh\ninclude_if_exists = 'lyotrace.conf'\n" >>"$PG_DIR/postgresql.conf"
  mkdir -p -- "$PG_DIR/log"
  is_root && chown "$PG_OS_USER:" -- "$PG_DIR/log"
  return 0
}

pg_write_conf() {
  local conf=$PG_DIR/lyotrace.conf q="'"
  {
    echo "# Written by scripts/services.sh on every start; edits are overwritten."
    # Loopback only: the dev password is public knowledge.
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PG_PORT"
    # Socket inside the (mode 700) cluster dir, never /var/run/postgresql:
    # no clash with a system PostgreSQL, and only the owner (or root) can use
    # the trust-authenticated socket.
    echo "unix_socket_directories = '${PG_DIR//$q/$q$q}'"
    # Same as the docker image, whatever the host's timezone is.
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
    # PostgreSQL's 128 MB default holds not even one large lot genealogy's vials and their indexes: a trace of
    # a master cell bank then re-reads them from the OS cache on every request (bench:trace).
    echo "shared_buffers = '512MB'"
  } >"$conf"
  is_root && chown "$PG_OS_USER:" -- "$conf"
  return 0
}

pg_start() {
  ensure_pg_bins
  if pg_running; then
    local port
    port=$(pg_running_port)
    [[ $port == "$PG_PORT" ]] ||
      die "PostgreSQL from $PG_DIR is already running on port $port, not $PG_PORT; run 'down' (or 'pg-stop') first or set LYOTRACE_PG_PORT=$port"
    return 0
  fi
  port_in_use "$PG_PORT" && die "$(port_busy_msg PostgreSQL "$PG_PORT" LYOTRACE_PG_PORT)"
  if is_root && [[ $(stat -c %U -- "$PG_DIR") != "$PG_OS_USER" ]]; then
    # E.g. a data dir copied from elsewhere or a re-created system user.
    chown -R "$PG_OS_USER:" -- "$PG_DIR"
  fi
  mkdir -p -- "$PG_DIR/log"
  is_root && chown "$PG_OS_USER:" -- "$PG_DIR/log"
  pg_write_conf
  local logfile=$PG_DIR/log/server.log
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$logfile" -w -t 30 -s start 9>&-; then
    tail -n 20 -- "$logfile" >&2 2>/dev/null || true
    die "PostgreSQL did not start within 30 s (log: $logfile)"
  fi
  PG_STARTED=1
}

pg_stop() {
  if ! pg_running; then
    log "PostgreSQL ($PG_DIR) is not running"
    return 0
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" stop -m fast -w -t 30 -s ||
    die "PostgreSQL ($PG_DIR) did not stop within 30 s"
  log "PostgreSQL stopped"
}

# psql as superuser over the unix socket (trust auth, no password needed).
pg_admin() {
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U "$DB_USER" -d postgres "$@"
}

# ---------------------------------------------------------------------------
# Local mode: Redis
# ---------------------------------------------------------------------------

rcli() { timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

redis_pid() {
  local pid
  [[ -f $REDIS_PIDFILE ]] || return 1
  pid=$(head -n1 "$REDIS_PIDFILE" 2>/dev/null || true)
  pid_alive "$pid" || return 1
  # Guard against PID reuse after a crash: it must still be a redis-server.
  [[ $(cat "/proc/$pid/comm" 2>/dev/null || echo redis-server) == redis-server* ]] || return 1
  echo "$pid"
}

redis_answers() { [[ $(rcli ping 2>/dev/null) == PONG ]]; }

# Is the Redis on our port the one serving our data dir?
redis_is_ours() {
  local dir
  dir=$(rcli config get dir 2>/dev/null | sed -n 2p)
  [[ -n $dir && $dir == "$(cd -- "$REDIS_DIR" 2>/dev/null && pwd -P)" ]]
}

redis_start() {
  ensure_redis_bins
  if redis_pid >/dev/null; then
    redis_answers && redis_is_ours && return 0
    die "Redis from $REDIS_DIR is running (pid $(redis_pid)) but not answering on port $REDIS_PORT; run 'down' (or 'redis-stop') first or set LYOTRACE_REDIS_PORT"
  fi
  port_in_use "$REDIS_PORT" && die "$(port_busy_msg Redis "$REDIS_PORT" LYOTRACE_REDIS_PORT)"
  mkdir -p -- "$REDIS_DIR"
  chmod 700 -- "$REDIS_DIR"
  # AOF with fsync every second + noeviction: queued jobs (BullMQ) must
  # survive a restart and never be silently evicted.
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
    --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_PIDFILE" \
    --logfile "$REDIS_LOGFILE" --protected-mode yes </dev/null >/dev/null 9>&- ||
    die "redis-server failed to start (log: $REDIS_LOGFILE)"
  # --daemonize returns before the port is bound, so poll (max 15 s).
  local deadline=$((SECONDS + 15))
  until redis_answers; do
    if ((SECONDS >= deadline)); then
      tail -n 20 -- "$REDIS_LOGFILE" >&2 2>/dev/null || true
      die "Redis did not answer on 127.0.0.1:$REDIS_PORT within 15 s (log: $REDIS_LOGFILE)"
    fi
    sleep 0.2
  done
  REDIS_STARTED=1
}

redis_stop() {
  local pid
  if ! pid=$(redis_pid); then
    log "Redis ($REDIS_DIR) is not running"
    return 0
  fi
  # SHUTDOWN flushes the AOF; SIGTERM does the same if the CLI can't reach it
  # (e.g. it was started on another port).
  if redis_answers && redis_is_ours; then
    rcli shutdown >/dev/null 2>&1 || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + 15))
  while pid_alive "$pid"; do
    ((SECONDS < deadline)) || die "Redis (pid $pid) did not stop within 15 s (log: $REDIS_LOGFILE)"
    sleep 0.2
  done
  log "Redis stopped"
}

# ---------------------------------------------------------------------------
# Docker mode
# ---------------------------------------------------------------------------

docker_usable() {
  command -v docker >/dev/null 2>&1 || return 1
  [[ -f $COMPOSE_FILE ]] || return 1
  timeout 5 docker info >/dev/null 2>&1 || return 1
  if ! docker compose version >/dev/null 2>&1; then
    log "note: Docker runs but the 'docker compose' plugin is missing; not using Docker"
    return 1
  fi
}

compose() { docker compose -f "$COMPOSE_FILE" "$@"; }

compose_psql() {
  compose exec -T postgres psql -X -q -v ON_ERROR_STOP=1 -U "$DB_USER" -d postgres "$@"
}

compose_running_services() {
  compose ps --status running --services 2>/dev/null | sort | tr '\n' ' '
}

# ---------------------------------------------------------------------------
# External mode
# ---------------------------------------------------------------------------

# postgres://u:p@h:5432/app?sslmode=require -> postgres://u:p@h:5432/app_test?sslmode=require
derive_test_db_url() {
  local url=$1 base query=""
  base=${url%%\?*}
  [[ $url == *\?* ]] && query="?${url#*\?}"
  [[ $base =~ ^([A-Za-z][A-Za-z0-9+.-]*://[^/]*)/([^/]+)$ ]] ||
    die "cannot derive TEST_DATABASE_URL from DATABASE_URL (no database name in it); set TEST_DATABASE_URL"
  printf '%s/%s_test%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "$query"
}

# redis://h:6379[/0][?x] -> redis://h:6379/1[?x]
derive_test_redis_url() {
  local url=$1 base query=""
  base=${url%%\?*}
  [[ $url == *\?* ]] && query="?${url#*\?}"
  [[ $base =~ ^(rediss?://[^/]*)(/[0-9]*)?$ ]] ||
    die "cannot derive TEST_REDIS_URL from REDIS_URL; set TEST_REDIS_URL"
  printf '%s/1%s\n' "${BASH_REMATCH[1]}" "$query"
}

# Database name from a postgres URL (refuses percent-encoded names).
url_db_name() {
  local base=${1%%\?*}
  base=${base##*/}
  [[ $base =~ ^[A-Za-z0-9_-]+$ ]] || die "unsupported database name '$base' in URL"
  echo "$base"
}

url_redis() {
  local url=$1
  shift
  local tls=()
  [[ $url == rediss://* ]] && tls=(--tls)
  timeout 10 redis-cli "${tls[@]}" --no-auth-warning -u "$url" "$@"
}

url_psql() {
  local url=$1
  shift
  "$PSQL" -X -q -v ON_ERROR_STOP=1 "$url" "$@"
}

# EXT_* = URLs from the environment, else (non-`up` commands) from services.env.
load_external_urls() {
  EXT_DB=${DATABASE_URL:-$(env_file_get DATABASE_URL)}
  EXT_REDIS=${REDIS_URL:-$(env_file_get REDIS_URL)}
  [[ -n $EXT_DB && -n $EXT_REDIS ]] || die "external mode needs DATABASE_URL and REDIS_URL"
  EXT_TEST_DB=${TEST_DATABASE_URL:-$(derive_test_db_url "$EXT_DB")}
  EXT_TEST_REDIS=${TEST_REDIS_URL:-$(derive_test_redis_url "$EXT_REDIS")}
  [[ $EXT_TEST_DB != "$EXT_DB" ]] || die "TEST_DATABASE_URL must differ from DATABASE_URL"
  [[ $EXT_TEST_REDIS != "$EXT_REDIS" ]] || die "TEST_REDIS_URL must differ from REDIS_URL"
}

# ---------------------------------------------------------------------------
# Mode selection
# ---------------------------------------------------------------------------

local_instance_alive() {
  resolve_pg_dir
  pg_pid_alive || redis_pid >/dev/null
}

# $1 = the command. `up` decides afresh; every other command follows the
# mode the last `up` recorded, so `down` stops what `up` started even if,
# say, Docker came up in between.
choose_mode() {
  local cmd=$1 recorded
  case ${LYOTRACE_SERVICES:-} in
  local | docker | external)
    MODE=$LYOTRACE_SERVICES
    return
    ;;
  '') ;;
  *) die "LYOTRACE_SERVICES must be local, docker or external (got '$LYOTRACE_SERVICES')" ;;
  esac
  if [[ $cmd != up ]]; then
    recorded=$(env_file_get SERVICES_MODE)
    case $recorded in local | docker | external)
      MODE=$recorded
      return
      ;;
    esac
  fi
  # SERVICES_MODE=local|docker in the environment means DATABASE_URL came
  # from sourcing our own services.env, not from the user: not "external".
  if [[ -n ${DATABASE_URL:-} && -n ${REDIS_URL:-} ]] &&
    [[ ${SERVICES_MODE:-external} == external ]]; then
    MODE=external
    return
  fi
  # Keep using a local instance that is already running rather than starting
  # Docker next to it on the same ports.
  if local_instance_alive; then
    MODE=local
    return
  fi
  if docker_usable; then MODE=docker; else MODE=local; fi
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

local_urls() {
  DB_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME
  TEST_DB_URL=postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$TEST_DB_NAME
  R_URL=redis://127.0.0.1:$REDIS_PORT/0
  TEST_R_URL=redis://127.0.0.1:$REDIS_PORT/1
}

write_env_file() {
  local started=$1 tmp
  mkdir -p -- "$DATA_DIR"
  tmp=$(mktemp "$DATA_DIR/.services.env.XXXXXX") # mode 600: may hold real creds
  {
    echo "# Written by scripts/services.sh up ($(date -u +%Y-%m-%dT%H:%M:%SZ)); do not edit."
    env_line SERVICES_MODE "$MODE"
    env_line DATABASE_URL "$DB_URL"
    env_line TEST_DATABASE_URL "$TEST_DB_URL"
    env_line REDIS_URL "$R_URL"
    env_line TEST_REDIS_URL "$TEST_R_URL"
    env_line SERVICES_STARTED_BY_US "$started"
  } >"$tmp"
  mv -f -- "$tmp" "$ENV_FILE" # atomic: readers never see half a file
}

ensure_local_databases() {
  local db
  for db in "$DB_NAME" "$TEST_DB_NAME"; do
    if [[ $(pg_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
      pg_admin -c "CREATE DATABASE $db" || die "could not create database $db"
    fi
  done
}

# Prove the URLs we hand out really work (password auth over TCP included).
verify_urls() {
  url_psql "$DB_URL" -tAc 'SELECT 1' >/dev/null || die "cannot connect to $(redact "$DB_URL")"
  url_psql "$TEST_DB_URL" -tAc 'SELECT 1' >/dev/null || die "cannot connect to $(redact "$TEST_DB_URL")"
  [[ $(url_redis "$R_URL" ping 2>/dev/null) == PONG ]] || die "Redis at $(redact "$R_URL") does not answer"
  [[ $(url_redis "$TEST_R_URL" ping 2>/dev/null) == PONG ]] || die "Redis at $(redact "$TEST_R_URL") does not answer"
}

started_word() { if (($1)); then echo started; else echo "already running"; fi; }

up_local() {
  take_lock
  ROLLBACK=1
  ensure_pg_os_user
  prepare_pg_dir
  ensure_pg_bins
  ensure_redis_bins
  pg_initdb
  pg_start
  redis_start
  ensure_local_databases
  local_urls
  verify_urls
  local started=$((PG_STARTED || REDIS_STARTED))
  write_env_file "$started"
  log "local: PostgreSQL $(pg_version) on 127.0.0.1:$PG_PORT ($(started_word "$PG_STARTED"), $PG_DIR), Redis on 127.0.0.1:$REDIS_PORT ($(started_word "$REDIS_STARTED"), $REDIS_DIR); env: $ENV_FILE"
}

up_docker() {
  take_lock
  local before started=0 db
  before=$(compose_running_services)
  log "docker: docker compose up -d --wait (first run pulls postgres:15 and redis:7)"
  timeout 600 docker compose -f "$COMPOSE_FILE" up -d --wait 9>&- >&2 ||
    die "docker compose up failed or timed out after 600 s (see: docker compose -f $COMPOSE_FILE logs)"
  [[ $before == "postgres redis " ]] || started=1
  for db in "$DB_NAME" "$TEST_DB_NAME"; do
    if [[ $(compose_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
      compose_psql -c "CREATE DATABASE $db" || die "could not create database $db"
    fi
  done
  local_urls
  write_env_file "$started"
  log "docker: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT ($(started_word "$started")); env: $ENV_FILE"
}

up_external() {
  mkdir -p -- "$DATA_DIR"
  ensure_psql
  ensure_redis_cli
  load_external_urls
  DB_URL=$EXT_DB TEST_DB_URL=$EXT_TEST_DB R_URL=$EXT_REDIS TEST_R_URL=$EXT_TEST_REDIS
  url_psql "$DB_URL" -tAc 'SELECT 1' >/dev/null || die "cannot connect to DATABASE_URL ($(redact "$DB_URL"))"
  if ! url_psql "$TEST_DB_URL" -tAc 'SELECT 1' >/dev/null 2>&1; then
    local name
    name=$(url_db_name "$TEST_DB_URL")
    log "external: creating missing test database $name"
    printf 'CREATE DATABASE :"name";\n' | url_psql "$DB_URL" -v name="$name" >/dev/null ||
      die "test database $name is missing and could not be created; create it or set TEST_DATABASE_URL"
  fi
  verify_urls
  write_env_file 0
  log "external: PostgreSQL $(redact "$DB_URL"), Redis $(redact "$R_URL"); env: $ENV_FILE"
}

cmd_up() {
  check_port LYOTRACE_PG_PORT "$PG_PORT"
  check_port LYOTRACE_REDIS_PORT "$REDIS_PORT"
  [[ $PG_PORT != "$REDIS_PORT" ]] || die "LYOTRACE_PG_PORT and LYOTRACE_REDIS_PORT must differ"
  case $MODE in
  local) up_local ;;
  docker) up_docker ;;
  external) up_external ;;
  esac
}

cmd_down() {
  case $MODE in
  local)
    [[ -d $DATA_DIR ]] || {
      log "nothing to stop ($DATA_DIR does not exist)"
      return 0
    }
    take_lock
    resolve_pg_dir
    redis_stop
    pg_stop
    ;;
  docker)
    if ! docker_usable; then
      log "Docker is not reachable; nothing to stop"
      return 0
    fi
    take_lock
    compose down >&2 || die "docker compose down failed"
    ;;
  external) log "external services are not managed here; nothing to stop" ;;
  esac
}

cmd_status() {
  local pg_ok=0 redis_ok=0
  case $MODE in
  local)
    resolve_pg_dir
    if pg_running && [[ $(pg_running_port) == "$PG_PORT" ]] &&
      [[ -x $PG_BIN/pg_isready ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
      pg_ok=1
      echo "postgres: up   127.0.0.1:$PG_PORT  pid $(head -n1 "$PG_DIR/postmaster.pid")  data $PG_DIR"
    elif pg_pid_alive; then
      echo "postgres: running but not answering on 127.0.0.1:$PG_PORT (data $PG_DIR, port $(pg_running_port))"
    else
      echo "postgres: down (data $PG_DIR)"
    fi
    local pid
    if pid=$(redis_pid) && redis_answers && redis_is_ours; then
      redis_ok=1
      echo "redis:    up   127.0.0.1:$REDIS_PORT  pid $pid  data $REDIS_DIR"
    elif [[ -n ${pid:-} ]]; then
      echo "redis:    running (pid $pid) but not answering on 127.0.0.1:$REDIS_PORT (data $REDIS_DIR)"
    else
      echo "redis:    down (data $REDIS_DIR)"
    fi
    ;;
  docker)
    if docker_usable; then
      compose_psql -tAc 'SELECT 1' >/dev/null 2>&1 && pg_ok=1
      [[ $(compose exec -T redis redis-cli ping 2>/dev/null) == PONG* ]] && redis_ok=1
    fi
    echo "postgres: $( ((pg_ok)) && echo up || echo down)  127.0.0.1:$PG_PORT (docker compose service postgres)"
    echo "redis:    $( ((redis_ok)) && echo up || echo down)  127.0.0.1:$REDIS_PORT (docker compose service redis)"
    ;;
  external)
    ensure_psql
    ensure_redis_cli
    load_external_urls
    url_psql "$EXT_DB" -tAc 'SELECT 1' >/dev/null 2>&1 && pg_ok=1
    [[ $(url_redis "$EXT_REDIS" ping 2>/dev/null) == PONG ]] && redis_ok=1
    echo "postgres: $( ((pg_ok)) && echo up || echo down)  $(redact "$EXT_DB")"
    echo "redis:    $( ((redis_ok)) && echo up || echo down)  $(redact "$EXT_REDIS")"
    ;;
  esac
  echo "mode:     $MODE  (env file $ENV_FILE$([[ -f $ENV_FILE ]] || echo ', not written yet'))"
  ((pg_ok && redis_ok))
}

cmd_reset_test_db() {
  case $MODE in
  local)
    take_lock
    resolve_pg_dir
    pg_running || die "PostgreSQL is not running; run 'bash scripts/services.sh up' first"
    { redis_answers && redis_is_ours; } || die "Redis is not running; run 'bash scripts/services.sh up' first"
    # WITH (FORCE) ends leftover sessions (e.g. a crashed test run) instead
    # of failing. Separate -c: DROP DATABASE can't run in a transaction.
    pg_admin -c "DROP DATABASE IF EXISTS $TEST_DB_NAME WITH (FORCE)" -c "CREATE DATABASE $TEST_DB_NAME" ||
      die "could not recreate $TEST_DB_NAME"
    rcli -n 1 flushdb >/dev/null || die "could not flush Redis db 1"
    ;;
  docker)
    docker_usable || die "Docker is not reachable"
    compose_psql -c "DROP DATABASE IF EXISTS $TEST_DB_NAME WITH (FORCE)" -c "CREATE DATABASE $TEST_DB_NAME" ||
      die "could not recreate $TEST_DB_NAME"
    compose exec -T redis redis-cli -n 1 flushdb >/dev/null || die "could not flush Redis db 1"
    ;;
  external)
    # Never guess which external database is disposable.
    [[ -n ${TEST_DATABASE_URL:-} ]] ||
      die "external mode: refusing to reset a test database that was not named explicitly; set TEST_DATABASE_URL"
    ensure_psql
    ensure_redis_cli
    load_external_urls
    url_psql "$EXT_TEST_DB" -c 'DROP SCHEMA IF EXISTS public CASCADE' -c 'CREATE SCHEMA public' ||
      die "could not recreate schema public in $(redact "$EXT_TEST_DB")"
    url_redis "$EXT_TEST_REDIS" flushdb >/dev/null || die "could not flush $(redact "$EXT_TEST_REDIS")"
    ;;
  esac
  log "test database and test Redis db reset ($MODE)"
}

require_local() {
  [[ $MODE == local ]] || die "'$1' only works in local mode (current mode: $MODE)"
  check_port LYOTRACE_PG_PORT "$PG_PORT"
  check_port LYOTRACE_REDIS_PORT "$REDIS_PORT"
  [[ -d $DATA_DIR ]] || die "$DATA_DIR does not exist; run 'up' first"
  take_lock
  resolve_pg_dir
}

cmd_pg_start() {
  require_local pg-start
  [[ -f $PG_DIR/PG_VERSION ]] || die "no PostgreSQL cluster in $PG_DIR; run 'up' first"
  ensure_pg_os_user
  pg_start
  log "PostgreSQL on 127.0.0.1:$PG_PORT $(started_word "$PG_STARTED")"
}

cmd_redis_start() {
  require_local redis-start
  redis_start
  log "Redis on 127.0.0.1:$REDIS_PORT $(started_word "$REDIS_STARTED")"
}

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

main() {
  local cmd=${1:-}
  case $cmd in
  up | down | status | reset-test-db | pg-stop | pg-start | redis-stop | redis-start) ;;
  help | -h | --help)
    usage
    return 0
    ;;
  *)
    usage >&2
    die "unknown command '${cmd}'"
    ;;
  esac
  choose_mode "$cmd"
  case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset-test-db) cmd_reset_test_db ;;
  pg-stop)
    require_local pg-stop
    pg_stop
    ;;
  pg-start) cmd_pg_start ;;
  redis-stop)
    require_local redis-stop
    redis_stop
    ;;
  redis-start) cmd_redis_start ;;
  esac
}

main "$@"
