#!/usr/bin/env bash
# Prints a REDIS_URL, making sure a server answers. Messages go to stderr, the URL alone to stdout.
#   1. REDIS_URL, if set, is used as it is.
#   2. Else a server on 127.0.0.1:6379, started first (without persistence) when none answers.
# Redis is installed with apt when its server binary is missing.
set -euo pipefail
say() { echo "herald: $*" >&2; }

if [ -n "${REDIS_URL:-}" ]; then
  echo "$REDIS_URL"
  exit 0
fi

answers() {
  local reply=""
  { exec 3<>/dev/tcp/127.0.0.1/6379; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&-
  [ "${reply%$'\r'}" = "+PONG" ]
}

if ! answers; then
  if ! command -v redis-server >/dev/null; then
    say "no Redis server: installing redis-server with apt"
    sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >&2
  fi
  if ! answers; then
    say "starting redis-server on 127.0.0.1:6379"
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes >&2
    for _ in $(seq 50); do answers && break; sleep 0.1; done
    answers || { say "Redis did not start on 127.0.0.1:6379"; exit 1; }
  fi
fi
echo "redis://127.0.0.1:6379"
