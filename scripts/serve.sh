#!/usr/bin/env bash
# The browser page: links the wasm package and the model into www/ (both git-ignored)
# and serves www/ on localhost with the page's Content-Security-Policy.
#
#     scripts/serve.sh [PORT]        (default 8000; 0 picks a free port; prints the URL)
#     scripts/serve.sh --prepare     (only link www/pkg and www/model)
#
# Expects pkg/ (scripts/build-wasm.sh; pkg/relaxed/ is optional) and the model
# (scripts/setup-model.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_DIR="${PRINCIPLE_CHECKER_MODEL:-$PWD/models/smollm2-135m-instruct}"
for f in pkg/principle_checker.js pkg/principle_checker_bg.wasm; do
  [ -f "$f" ] || { echo "serve.sh: $f is missing: run scripts/build-wasm.sh" >&2; exit 1; }
done
# without the relaxed-SIMD build the page runs the plain one (www/engine.js)
[ -f pkg/relaxed/principle_checker_bg.wasm ] || echo "serve.sh: pkg/relaxed/ is not built (yet): the page runs the plain SIMD engine" >&2
for f in manifest.json model.onnx tokenizer.json; do
  [ -f "$MODEL_DIR/$f" ] || { echo "serve.sh: $MODEL_DIR/$f is missing: run scripts/setup-model.sh" >&2; exit 1; }
done
link() { # link TARGET NAME: a symlink, replacing an old link or copy
  if [ "$(readlink "$2" 2>/dev/null || true)" != "$1" ]; then rm -rf "$2"; ln -s "$1" "$2"; fi
}
link "$PWD/pkg" www/pkg
link "$MODEL_DIR" www/model
[ -f BENCHMARKS.md ] && link "$PWD/BENCHMARKS.md" www/BENCHMARKS.md
[ "${1:-}" = "--prepare" ] && exit 0
exec python3 tools/serve.py www "${1:-8000}" --csp
