#!/usr/bin/env bash
# Installs what building and testing Herald needs and is missing; quiet and quick when all is there.
#   scripts/tools.sh build    wasm32 target, cargo-leptos, wasm-bindgen-cli
#   scripts/tools.sh release  + binaryen's wasm-opt (npm), for optimised front-end builds
#   scripts/tools.sh test     + Chromium (apt) and the end-to-end suite's npm packages
#   scripts/tools.sh bench    + wrk (apt), the load generator of make bench-verify
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-build}"
say() { echo "herald: $*" >&2; }
tools_dir="${HERALD_TOOLS_DIR:-$HOME/.cache/herald/tools}"
mkdir -p "$tools_dir"
# One install at a time (parallel make targets, or several clones on one machine): each waits for
# the other and then finds the tool there. `cargo install` builds in a directory of its own, away
# from the project's build cache and its lock.
exec 9>"$tools_dir/.install.lock"
flock 9
export CARGO_TARGET_DIR="$tools_dir/cargo-install-target"

sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
apt_install() {
  say "installing $* with apt"
  [ -n "$(find /var/lib/apt/lists -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ] \
    || $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.10" ]; then
  say "installing cargo-leptos 0.3.10 (takes a while, once)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

# The CLI must be exactly the wasm-bindgen the workspace locks.
bindgen=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen" ]; then
  say "installing wasm-bindgen-cli $bindgen"
  # Not --locked: the CLI's own lock names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$bindgen" --force
fi

if [ "$what" = release ]; then
  if [ ! -x "$tools_dir/node_modules/.bin/wasm-opt" ]; then
    say "installing binaryen's wasm-opt from npm"
    npm install --silent --no-audit --no-fund --prefix "$tools_dir" binaryen@132.0.0 >/dev/null
  fi
fi

if [ "$what" = bench ]; then
  command -v wrk >/dev/null || apt_install wrk
fi

if [ "$what" = test ]; then
  command -v chromium >/dev/null || apt_install chromium
  # The official Tencent Cloud Python SDK, which the API tests call Herald through.
  sdk_python="$tools_dir/sdk-python/bin/python"
  if ! "$sdk_python" -c 'import tencentcloud.sms.v20210111' 2>/dev/null; then
    say "installing tencentcloud-sdk-python-sms (PyPI) for the API tests"
    python3 -m venv "$tools_dir/sdk-python" >/dev/null 2>&1 \
      || { apt_install python3-venv; python3 -m venv "$tools_dir/sdk-python"; }
    "$tools_dir/sdk-python/bin/pip" install --quiet tencentcloud-sdk-python-sms==3.1.153
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] \
     || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the end-to-end suite's npm packages"
    # Playwright never downloads browsers here: the suite drives Debian's Chromium.
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi
fi
