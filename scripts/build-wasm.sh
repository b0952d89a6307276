#!/usr/bin/env bash
# Build the browser package into pkg/ (ES module + .wasm, simd128 via .cargo/config.toml)
# with the wasm-bindgen CLI; wasm-opt is not run (see ../shared/WASM-BUILD-NOTES.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --target wasm32-unknown-unknown --lib
wasm-bindgen --target web --out-dir pkg target/wasm32-unknown-unknown/release/principle_checker.wasm
wasm=pkg/principle_checker_bg.wasm
echo "[build-wasm] $wasm: $(stat -c %s "$wasm") bytes raw, $(gzip -9c "$wasm" | wc -c) bytes gzip"
