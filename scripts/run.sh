#!/usr/bin/env bash
# Set up the model (cached after the first run), build the CLI and judge the bundled
# example: all 58 principles, both orders.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup-model.sh
cargo build --release --bin principle-checker
F=tests/fixtures/standard
exec target/release/principle-checker judge "$F/conversation.txt" "$F/response-1.txt" "$F/response-2.txt" "$@"
