#!/usr/bin/env bash
# Build the browser package (ES module + .wasm) with the wasm-bindgen CLI, twice:
#   pkg/          simd128 (.cargo/config.toml): runs in every current browser
#   pkg/relaxed/  simd128 + relaxed SIMD: fused multiply-add kernels, used by
#                 www/engine.js only where the browser validates relaxed SIMD and the
#                 build's kernel self-check passes (src/engine/kernels.rs)
# The relaxed build has its own target folder: different RUSTFLAGS in one folder would
# rebuild everything at every switch. wasm-opt is not run (../shared/WASM-BUILD-NOTES.md).
# The name section (function names for debuggers' stack traces, 2.4 MB raw, ~0.5 MB
# gzip of each build) is left out: the page reports errors by their messages.
#
# pkg/relaxed/ appears whole or not at all (written beside it, then moved in): a page
# served while it builds runs the plain build until then.
#
#     scripts/build-wasm.sh [--plain-only | --relaxed-only]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
report() { echo "[build-wasm] $1: $(stat -c %s "$1") bytes raw, $(gzip -9c "$1" | wc -c) bytes gzip"; }
if [ "${1:-}" != "--relaxed-only" ]; then
  cargo build --release --target wasm32-unknown-unknown --lib
  wasm-bindgen --target web --remove-name-section --out-dir pkg target/wasm32-unknown-unknown/release/principle_checker.wasm
  report pkg/principle_checker_bg.wasm
fi
[ "${1:-}" = "--plain-only" ] && exit 0
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  cargo build --release --target wasm32-unknown-unknown --lib --target-dir target/relaxed-simd
rm -rf pkg/relaxed.next
wasm-bindgen --target web --remove-name-section --out-dir pkg/relaxed.next target/relaxed-simd/wasm32-unknown-unknown/release/principle_checker.wasm
rm -rf pkg/relaxed
mv pkg/relaxed.next pkg/relaxed
report pkg/relaxed/principle_checker_bg.wasm
