#!/usr/bin/env bash
# The README's first command: set up the model (cached after the first run), install
# what building the page needs when it is missing (scripts/ensure-tools.sh), build the
# browser package if the Rust code changed, and serve the page on localhost (prints
# the URL; Ctrl-C stops it). Progress goes to stderr, so `run.sh judge --json` prints
# only the result on stdout.
#
#     scripts/run.sh [PORT]             the page (default port 8000)
#     scripts/run.sh judge [ARGS...]    the CLI instead: all 58 principles, both orders,
#                                       on the bundled example (tests/fixtures/standard)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
source scripts/ensure-tools.sh
bash scripts/setup-model.sh >&2
if [ "${1:-}" = "judge" ]; then
  shift
  cargo build --release --bin principle-checker
  F=tests/fixtures/standard
  exec target/release/principle-checker judge "$F/conversation.txt" "$F/response-1.txt" "$F/response-2.txt" "$@"
fi
# wasm-bindgen-cli (a first run compiles it) and the engine's wasm build share the
# cores; the build has long single-crate stretches, so running both at once is the
# shorter wait. The build needs wasm-bindgen only at its end.
ensure_wasm_target
stale() { [ ! -f "$1" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$1" -print -quit)" ]; }
if stale pkg/principle_checker_bg.wasm; then
  # an older relaxed build must not run beside the new plain one (engine.js prefers it)
  rm -rf pkg/relaxed
  ensure_wasm_bindgen &
  tools=$!
  cargo build --release --target wasm32-unknown-unknown --lib >&2
  wait $tools || exit 1
  bash scripts/build-wasm.sh --plain-only >&2
else
  ensure_wasm_bindgen
fi
# The relaxed-SIMD build (faster kernels, ../BENCHMARKS.md) compiles in the
# background while the page is served with the plain one; the page picks it up on its
# next load. Its log: target/relaxed-build.log.
if stale pkg/relaxed/principle_checker_bg.wasm && ! { [ -f target/relaxed-build.pid ] && kill -0 "$(cat target/relaxed-build.pid)" 2>/dev/null; }; then
  mkdir -p target
  nohup nice bash scripts/build-wasm.sh --relaxed-only > target/relaxed-build.log 2>&1 &
  echo $! > target/relaxed-build.pid
  echo "[run] the faster relaxed-SIMD engine is building in the background (target/relaxed-build.log); reload the page once it is done" >&2
fi
echo "[run] serving the page; open the URL below in a browser (the CLI: scripts/run.sh judge)"
exec bash scripts/serve.sh "${1:-8000}"
