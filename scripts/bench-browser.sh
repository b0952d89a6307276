#!/usr/bin/env bash
# The browser benchmark (BENCHMARKS.md, "Browser benchmark"): serves www/ with the
# page's Content-Security-Policy, opens bench/page/ (linked as www/bench/) in headless Chromium
# (playwright-core, /usr/bin/chromium), and prints load phases, check times, memory
# over consecutive checks, onnxruntime-web on the same model and token ids (naive and
# with prefix reuse), and native tract for the wasm/native ratio. Takes ~15 minutes
# on 2 cores. Not part of scripts/test.sh: nothing is asserted.
#
#     scripts/bench-browser.sh [--no-zero-shot] [--no-ort] [--no-native] [--no-workers]
#                              [--checks N] [--ort-naive-principles N] [--json FILE]
#
# Expects pkg/ (scripts/build-wasm.sh), the model (scripts/setup-model.sh), the root
# npm packages (npm ci: playwright-core) and, unless --no-native, the native binary
# (cargo build --release). onnxruntime-web is installed into bench/node_modules from
# bench/package-lock.json (kept out of the main package.json, so CI never installs it)
# and linked into www/ort (git-ignored) so the page serves it from its own origin.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
if [ ! -f bench/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs ]; then
  npm ci --prefix bench --no-audit --no-fund
fi
case " $* " in
  *" --no-native "*) ;;
  *) [ -x target/release/principle-checker ] || cargo build --release ;;
esac
bash scripts/serve.sh --prepare
ort="$PWD/bench/node_modules/onnxruntime-web/dist"
if [ "$(readlink www/ort 2>/dev/null || true)" != "$ort" ]; then rm -rf www/ort; ln -s "$ort" www/ort; fi
# the benchmark's page is not part of the product: linked into www/bench only to run
if [ "$(readlink www/bench 2>/dev/null || true)" != "$PWD/bench/page" ]; then rm -rf www/bench; ln -s "$PWD/bench/page" www/bench; fi
exec node bench/bench-browser.mjs "$@"
