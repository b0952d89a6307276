#!/usr/bin/env bash
# Every test: formatting, lints, unit and integration tests on the real model
# natively, the wasm tests in headless Chromium, and the end-to-end tests of the page
# and of the browser extension (Playwright driving /usr/bin/chromium). Prints how long
# each stage took. Installs what the tests need first, when it is missing
# (scripts/ensure-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
total=$SECONDS
stage() { printf '\n[test] %s\n' "$*"; }
took() { printf '[test] %s took %ss\n' "$1" "$(( SECONDS - $2 ))"; }
source scripts/ensure-tools.sh

t=$SECONDS; stage "tools"; ensure_tools tests; took tools $t

t=$SECONDS; stage "model"; bash scripts/setup-model.sh; took model $t
t=$SECONDS; stage "cargo fmt --check"; cargo fmt --check; took fmt $t
t=$SECONDS; stage "lints: ESLint (page, extension, e2e) and ruff (tools)"; bash scripts/lint.sh; took "js/python lints" $t
t=$SECONDS; stage "clippy (native)"; cargo clippy --release --all-targets -- -D warnings; took "clippy native" $t
t=$SECONDS; stage "clippy (wasm32)"; cargo clippy --release --target wasm32-unknown-unknown --lib --tests -- -D warnings; took "clippy wasm32" $t
t=$SECONDS; stage "native tests"; cargo test --release; took "native tests" $t
# parsers and prompt builder under libFuzzer, a fixed number of inputs (fuzz/target)
t=$SECONDS; stage "fuzzing (cargo fuzz, short run)"; bash scripts/fuzz.sh; took "fuzzing" $t

t=$SECONDS; stage "browser package (pkg/)"; bash scripts/build-wasm.sh; took "wasm package" $t
t=$SECONDS; stage "browser extension (dist/)"; bash scripts/build-extension.sh; took "extension build" $t

t=$SECONDS; stage "wasm tests in headless Chromium"
MODEL_DIR="${PRINCIPLE_CHECKER_MODEL:-$PWD/models/smollm2-135m-instruct}"
log=$(mktemp)
python3 tools/serve.py "$MODEL_DIR" 0 > "$log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$log" ] && break; sleep 0.1; done
export PRINCIPLE_CHECKER_MODEL_URL=$(head -1 "$log")
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=900 \
  cargo test --release --target wasm32-unknown-unknown --test wasm
took "wasm tests" $t
kill $server 2>/dev/null || true

t=$SECONDS; stage "page end-to-end tests (Playwright + headless Chromium)"
node --test tests/e2e/
took "page e2e tests" $t
stage "all tests passed in $(( SECONDS - total ))s"
