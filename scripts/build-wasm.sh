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
# served while it builds runs the plain build until then. Each build records the
# source it was built from (source.sha256); a plain build removes a relaxed one built
# from other source, which would otherwise run older code (another API, another
# embedded head) beside it until it is rebuilt.
#
#     scripts/build-wasm.sh [--plain-only | --relaxed-only]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
report() { echo "[build-wasm] $1: $(stat -c %s "$1") bytes raw, $(gzip -9c "$1" | wc -c) bytes gzip"; }
# what the engine is compiled from: the Rust sources and the files they embed
source_sha256() {
  find src judges constitutions .cargo Cargo.toml Cargo.lock -type f -print0 2>/dev/null |
    sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64
}
if [ "${1:-}" != "--relaxed-only" ]; then
  cargo build --release --target wasm32-unknown-unknown --lib
  wasm-bindgen --target web --remove-name-section --out-dir pkg target/wasm32-unknown-unknown/release/principle_checker.wasm
  source_sha256 > pkg/source.sha256
  report pkg/principle_checker_bg.wasm
  if [ -d pkg/relaxed ] && ! cmp -s pkg/source.sha256 pkg/relaxed/source.sha256; then
    rm -rf pkg/relaxed
    echo "[build-wasm] removed pkg/relaxed/: it was built from other source; the page runs the plain build until it is rebuilt"
  fi
fi
[ "${1:-}" = "--plain-only" ] && exit 0
RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
  cargo build --release --target wasm32-unknown-unknown --lib --target-dir target/relaxed-simd
rm -rf pkg/relaxed.next
wasm-bindgen --target web --remove-name-section --out-dir pkg/relaxed.next target/relaxed-simd/wasm32-unknown-unknown/release/principle_checker.wasm
source_sha256 > pkg/relaxed.next/source.sha256
rm -rf pkg/relaxed
mv pkg/relaxed.next pkg/relaxed
report pkg/relaxed/principle_checker_bg.wasm
