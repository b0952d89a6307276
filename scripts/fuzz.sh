#!/usr/bin/env bash
# Fuzz the constitution loader, the conversation parser and the prompt builder with
# cargo fuzz (libFuzzer), starting from the committed seeds in fuzz/seeds/.
#
#   scripts/fuzz.sh [RUNS]              RUNS inputs per target (default 20000; the
#                                       prompt target, which tokenizes, a quarter of
#                                       that): the short run scripts/test.sh does; new
#                                       inputs are thrown away
#   FUZZ_SECONDS=600 scripts/fuzz.sh    the long campaign: each target for that many
#                                       seconds, growing fuzz/corpus/TARGET (ignored by git)
#   FUZZ_TARGETS="prompt" ...           only some targets
#
# Each input must finish within FUZZ_TIMEOUT seconds (default 10) and the process stay
# under FUZZ_RSS_MB MiB (default 1024, 2048 with a sanitizer), so unbounded time or memory fails like a panic.
# libFuzzer's output goes to fuzz/artifacts/TARGET/last-run.log (tail it during a long
# run); a failing input is saved beside it and the command to rerun it is printed. The
# prompt target tokenizes with models/smollm2-135m-instruct/tokenizer.json (or the one in
# $PRINCIPLE_CHECKER_MODEL) when scripts/setup-model.sh has made it.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); it runs on the stable toolchain
# through RUSTC_BOOTSTRAP, with no sanitizer by default (FUZZ_SANITIZER=address adds
# AddressSanitizer, a separate full build in fuzz/target/address). Prints how long each
# stage took.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# cargo fuzz passes -Z options to rustc, which a stable toolchain accepts only with this.
export RUSTC_BOOTSTRAP=1

RUNS=${1:-20000}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-}
TARGETS=${FUZZ_TARGETS:-constitution conversation prompt}
SANITIZER=${FUZZ_SANITIZER:-none}
TIMEOUT=${FUZZ_TIMEOUT:-10}
# AddressSanitizer's shadow memory alone takes about 500 MiB
if [ "$SANITIZER" = none ]; then RSS_MB=${FUZZ_RSS_MB:-1024}; else RSS_MB=${FUZZ_RSS_MB:-2048}; fi
if [ -n "${PRINCIPLE_CHECKER_MODEL:-}" ]; then
  export PRINCIPLE_CHECKER_TOKENIZER=${PRINCIPLE_CHECKER_TOKENIZER:-$PRINCIPLE_CHECKER_MODEL/tokenizer.json}
fi
total=$SECONDS
took() { printf '[fuzz] %s took %ss\n' "$1" "$(( SECONDS - $2 ))"; }

# Longest input per target: past each parser's size limits, so the refusals are
# fuzzed too, yet short enough to keep runs fast.
max_len() {
  case $1 in
    constitution) echo 32768 ;;
    conversation) echo 65536 ;;
    prompt) echo 16384 ;;
  esac
}

command -v cargo-fuzz >/dev/null || {
  echo "[fuzz] cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 1
}

# builds with another sanitizer get their own folder, so switching does not rebuild
build=(-s "$SANITIZER")
target_dir=fuzz/target
if [ "$SANITIZER" != none ]; then
  target_dir=fuzz/target/$SANITIZER
  build+=(--target-dir "$target_dir")
fi

# the fuzz crate is its own workspace, out of reach of the main `cargo fmt --check`
(cd fuzz && cargo fmt --check)

t=$SECONDS
printf '[fuzz] building %s (instrumented release, sanitizer: %s)\n' "$TARGETS" "$SANITIZER"
for target in $TARGETS; do
  cargo fuzz build "${build[@]}" "$target"
done
took build $t

bin_dir=$target_dir/x86_64-unknown-linux-gnu/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in $TARGETS; do
  t=$SECONDS
  if [ -n "$SECONDS_PER_TARGET" ]; then
    corpus=fuzz/corpus/$target
    budget=(-max_total_time="$SECONDS_PER_TARGET")
  else
    corpus=$work/$target
    # a prompt run tokenizes about ten strings, the slow part of every target
    if [ "$target" = prompt ]; then budget=(-runs="$(( RUNS / 4 ))"); else budget=(-runs="$RUNS"); fi
  fi
  mkdir -p "$corpus" "fuzz/artifacts/$target"
  log=fuzz/artifacts/$target/last-run.log
  printf '[fuzz] %s: %s\n' "$target" "${budget[*]}"
  start=$(date +%s.%N)
  if ! "$bin_dir/$target" "$corpus" "fuzz/seeds/$target" "${budget[@]}" \
      -max_len="$(max_len "$target")" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
      -dict="fuzz/dicts/$target.dict" -artifact_prefix="fuzz/artifacts/$target/" \
      -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    saved=$(ls -t "fuzz/artifacts/$target/" | grep -v '^last-run.log$' | head -1 || true)
    printf '[fuzz] %s FAILED; rerun the saved input with:\n' "$target"
    printf '  RUSTC_BOOTSTRAP=1 cargo fuzz run %s %s fuzz/artifacts/%s/%s\n' \
      "${build[*]}" "$target" "$target" "${saved:-FILE}"
    exit 1
  fi
  grep '^note:' "$log" || true
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  speed=$(awk -v n="$runs" -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", n / (b - a) }')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '[fuzz] %s: %s inputs, %s exec/s, %s, corpus %s files\n' \
    "$target" "$runs" "$speed" "${cov:-cov: ?}" "$(find "$corpus" -type f | wc -l)"
  took "$target" $t
done
printf '[fuzz] all targets passed in %ss\n' "$(( SECONDS - total ))"
