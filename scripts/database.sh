#!/usr/bin/env bash
# Prints a DATABASE_URL for the named database (default: herald), making sure a server runs and the
# database exists. Messages go to stderr, the URL alone to stdout.
#   1. DATABASE_URL, if set, is used as it is.
#   2. Else a server answering on 127.0.0.1:5432 (started first if this machine has a stopped one).
#   3. Else a project-local cluster under .data/postgres on port 55432, created on first use.
# PostgreSQL is installed with apt when no server binaries exist.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${1:-herald}"
say() { echo "herald: $*" >&2; }

if [ -n "${DATABASE_URL:-}" ]; then
  say "using DATABASE_URL from the environment"
  echo "$DATABASE_URL"
  exit 0
fi

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

if [ -z "$(pg_bin || true)" ]; then
  say "no PostgreSQL server binaries: installing postgresql with apt"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >&2
fi
bin=$(pg_bin)

answers() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$1"; }

ensure_database() { # url-without-db, db
  local server=$1
  if ! psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "$server/postgres" -qc "CREATE DATABASE \"$db\"" >&2
    say "created database $db"
  fi
  echo "$server/$db"
}

# A machine-wide cluster that is installed but stopped is started rather than shadowed.
if ! answers 5432 && command -v pg_lsclusters >/dev/null; then
  while read -r version name port _; do
    if [ "$port" = 5432 ]; then
      say "starting PostgreSQL cluster $version/$name"
      pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2 || true
    fi
  done < <(pg_lsclusters -h 2>/dev/null)
  for _ in $(seq 1 20); do answers 5432 && break; sleep 0.5; done
fi

if answers 5432; then
  say "using PostgreSQL at 127.0.0.1:5432 (database $db)"
  ensure_database "postgres://${PGUSER:-postgres}@127.0.0.1:5432"
  exit 0
fi

data="$PWD/.data/postgres"
port=55432
if [ ! -f "$data/PG_VERSION" ]; then
  say "initialising a local PostgreSQL cluster at $data"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PWD/.data" && chmod 755 "$PWD" "$PWD/.data"
  as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! answers "$port"; then
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$data"
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" start >&2
fi
say "using local Postgres cluster at $data (127.0.0.1:$port, database $db)"
ensure_database "postgres://postgres@127.0.0.1:$port"
