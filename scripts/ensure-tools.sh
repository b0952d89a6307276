#!/usr/bin/env bash
# The one place that installs the tools the README's two commands need, each only
# when it is missing. Sourced by scripts/run.sh (what serving the page needs) and
# scripts/test.sh (everything the tests need); .ci/run only calls scripts/test.sh.
#
#     source scripts/ensure-tools.sh
#     ensure_tools page      # wasm32 target, wasm-bindgen-cli
#     ensure_tools tests     # the above, clippy, rustfmt, Chromium + chromedriver,
#                            # cargo-fuzz, the npm packages from package-lock.json
#
# Each step says once what it installs and why, and is silent when the tool is there.
# A step that cannot work here (no rustup, not root and no sudo, no network to the
# registries) stops with a sentence saying what to install by hand. Installs are
# whole or absent after Ctrl-C: cargo install and rustup only put a finished tool in
# place, and node_modules counts as installed only once npm has written its own
# lock file at the end.
#
# Nothing here runs by itself: every function is called by the two commands.

tools_say() { printf '[tools] %s\n' "$*" >&2; }

# Stops the calling script with what to do by hand.
tools_fail() {
  printf '[tools] error: %s\n' "$*" >&2
  exit 1
}

# Runs an install step, timing it; on failure names the step and the manual fix.
tools_run() {
  local what=$1 manual=$2
  shift 2
  local t=$SECONDS
  if ! "$@"; then
    tools_fail "installing $what failed (is the package registry reachable?). Install it by hand: $manual"
  fi
  tools_say "$what installed ($((SECONDS - t))s)"
}

tools_need_rustup() {
  command -v rustup >/dev/null ||
    tools_fail "rustup is not on PATH, so the $1 cannot be added. Install Rust with rustup (https://rustup.rs), or add it to your toolchain by hand."
}

ensure_wasm_target() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown && return 0
  tools_need_rustup "wasm32-unknown-unknown target"
  tools_say "adding the Rust target wasm32-unknown-unknown: the browser engine is compiled to it (~30 s)"
  tools_run "the wasm32 target" "rustup target add wasm32-unknown-unknown" \
    rustup target add wasm32-unknown-unknown
}

ensure_rust_component() {
  local c=$1
  rustup component list --installed 2>/dev/null | grep -q "^$c" && return 0
  tools_need_rustup "$c component"
  tools_say "adding the Rust component $c: the tests check formatting and lints with it"
  tools_run "$c" "rustup component add $c" rustup component add "$c"
}

# The wasm-bindgen crate's exact version, from Cargo.lock: the CLI must match it.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_bindgen() {
  local want
  want=$(wasm_bindgen_version)
  [ -n "$want" ] || tools_fail "Cargo.lock names no wasm-bindgen version; run from the repository root"
  [ "$(wasm-bindgen --version 2>/dev/null || true)" = "wasm-bindgen $want" ] && return 0
  tools_say "installing wasm-bindgen-cli $want (the wasm-bindgen crate's version in Cargo.lock; it writes the page's JS glue and runs the wasm tests): compiled from crates.io, ~5-12 min on 2 cores, once"
  # Built for speed of building, not of running: the CLI runs for seconds per build.
  # Not --locked: its published lock file pins a webpki-roots release the registry no
  # longer serves.
  tools_run "wasm-bindgen-cli $want" "cargo install wasm-bindgen-cli --version $want" \
    env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --quiet wasm-bindgen-cli --version "$want"
}

ensure_cargo_fuzz() {
  command -v cargo-fuzz >/dev/null && return 0
  tools_say "installing cargo-fuzz (the tests fuzz the parsers and the prompt builder with it): compiled from crates.io, ~3-5 min, once"
  tools_run "cargo-fuzz" "cargo install cargo-fuzz --locked" \
    env CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --quiet cargo-fuzz --locked
}

# apt-get as root, or through sudo where that needs no password.
tools_apt() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 2
  fi
}

ensure_chromium() {
  command -v chromium >/dev/null && command -v chromedriver >/dev/null && return 0
  command -v apt-get >/dev/null ||
    tools_fail "Chromium and chromedriver are missing and this system has no apt-get: install a Chromium with its matching chromedriver as /usr/bin/chromium and /usr/bin/chromedriver"
  tools_say "installing Debian's chromium and chromium-driver (the wasm and page tests run in headless Chromium): ~1-2 min"
  local t=$SECONDS
  local rc=0
  tools_apt apt-get update -q >/dev/null || rc=$?
  case $rc in
    0) ;;
    2) tools_fail "installing Chromium needs root: run 'sudo apt-get install chromium chromium-driver' once, then this command again" ;;
    *) tools_fail "apt-get update failed (are Debian's package mirrors reachable?): install chromium and chromium-driver by hand" ;;
  esac
  tools_apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null ||
    tools_fail "apt-get install chromium chromium-driver failed: install them by hand"
  tools_say "chromium and chromium-driver installed ($((SECONDS - t))s)"
}

ensure_node_modules() {
  command -v npm >/dev/null ||
    tools_fail "Node.js 20 with npm is missing (the page's end-to-end tests run on it): install nodejs and npm (Debian: apt-get install nodejs npm)"
  # npm writes node_modules/.package-lock.json last: without it an install was cut short
  if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    return 0
  fi
  tools_say "installing the npm packages in package-lock.json (playwright-core drives the system Chromium; no browser download)"
  tools_run "node_modules" "npm ci" npm ci --no-audit --no-fund --loglevel=error
}

ensure_tools() {
  local t=$SECONDS
  case ${1:?ensure_tools page|tests} in
    page)
      ensure_wasm_target
      ensure_wasm_bindgen
      ;;
    tests)
      ensure_wasm_target
      ensure_rust_component clippy
      ensure_rust_component rustfmt
      ensure_wasm_bindgen
      ensure_cargo_fuzz
      ensure_chromium
      ensure_node_modules
      ;;
    *) tools_fail "ensure_tools takes page or tests, got $1" ;;
  esac
  if [ $((SECONDS - t)) -gt 1 ]; then tools_say "tools ready ($((SECONDS - t))s)"; fi
}
