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
ensure_tools page
wasm=pkg/principle_checker_bg.wasm
if [ ! -f "$wasm" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$wasm" -print -quit)" ]; then
  bash scripts/build-wasm.sh >&2
fi
echo "[run] serving the page; open the URL below in a browser (the CLI: scripts/run.sh judge)"
exec bash scripts/serve.sh "${1:-8000}"
