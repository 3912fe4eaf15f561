#!/usr/bin/env bash
# Runs the Playwright suite in Debian's Chromium against a dev build of Herald serving a fresh
# database. Expects DATABASE_URL to point at a server where it may create databases.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must point at a Postgres server}"
target="${CARGO_TARGET_DIR:-target}"
server_url="${DATABASE_URL%/*}"
db="herald_e2e_$$"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

psql "$server_url/postgres" -qc "CREATE DATABASE $db"
log=$(mktemp)
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  psql "$server_url/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  rm -f "$log"
}
trap cleanup EXIT

DATABASE_URL="$server_url/$db" HERALD_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
  "$target/debug/herald" serve >"$log" 2>&1 &
server_pid=$!

# The server migrates before it listens; wait until it answers ready.
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "herald: server exited early" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || { cat "$log"; exit 1; }

status=0
# HERALD_BIN: specs start a `herald simulator` process as an external carrier with a ledger.
(cd end2end && HERALD_E2E_URL="http://127.0.0.1:$port" HERALD_BIN="$(realpath "$target/debug/herald")" \
  npx playwright test) || status=$?
if [ "$status" -ne 0 ]; then
  echo "---- server log ----" >&2
  tail -n 100 "$log" >&2
fi
exit "$status"
