#!/usr/bin/env bash
# Measure how far prompt injection in a judged response moves the verdict.
#
#   scripts/injection.sh [--scoring trained-head|zero-shot] [--principles IDS]
#                        [--prompt-defence none|delimiters|normalize|both]
#
# Builds the attack files from tests/injection/pairs.jsonl into target/injection/,
# runs `principle-checker eval --json` on each and prints the table. Results go to
# target/injection/SCORING/, or SCORING-DEFENCE/ when --prompt-defence is given (it
# changes only the zero-shot prompt).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCORING=trained-head
PRINCIPLES=research-1-02
DEFENCE=
while [ $# -gt 0 ]; do
  case "$1" in
    --scoring) SCORING=$2; shift 2 ;;
    --principles) PRINCIPLES=$2; shift 2 ;;
    --prompt-defence) DEFENCE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OUT="$ROOT/target/injection/$SCORING${DEFENCE:+-$DEFENCE}"
EXTRA=()
if [ -n "$DEFENCE" ]; then EXTRA=(--prompt-defence "$DEFENCE"); fi
mkdir -p "$OUT"
python3 "$ROOT/tools/injection_suite.py" build "$ROOT/tests/injection/pairs.jsonl" "$ROOT/target/injection/suite"
cargo build --release --quiet --bin principle-checker --manifest-path "$ROOT/Cargo.toml"
for f in "$ROOT"/target/injection/suite/*.jsonl; do
  name=$(basename "$f" .jsonl)
  t=$SECONDS
  "$ROOT/target/release/principle-checker" --scoring "$SCORING" "${EXTRA[@]}" eval "$f" --principles "$PRINCIPLES" --json > "$OUT/$name.json"
  echo "[injection] $name ($((SECONDS - t))s)" >&2
done
python3 "$ROOT/tools/injection_suite.py" report "$ROOT/target/injection/suite" "$OUT" --json "$OUT/report.json"
