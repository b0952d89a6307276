#!/usr/bin/env bash
# The JavaScript and Python lints: ESLint (eslint.config.js; pinned in package.json,
# installed by npm ci) on the page, the extension, the end-to-end tests and the
# browser benchmark, and ruff (ruff.toml; pinned in tools/requirements-lint.txt, in a
# venv of its own under the cache) on tools/. Exits non-zero on any finding.
#
#   scripts/lint.sh
#
# Environment: PRINCIPLE_CHECKER_CACHE (the venv; default ~/.cache/principle-checker).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${PRINCIPLE_CHECKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/principle-checker}"
REQ=tools/requirements-lint.txt
VENV="$CACHE/venv-lint-$(sha256sum "$REQ" | cut -c1-12)"
say() { echo "[lint] $*"; }

if [ ! -x "$VENV/bin/ruff" ]; then
  t=$SECONDS
  mkdir -p "$CACHE"
  tmp="$VENV.tmp.$$"
  rm -rf "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m venv "$tmp"
  "$tmp/bin/pip" install -q --disable-pip-version-check --no-deps -r "$REQ"
  rm -rf "$VENV"
  mv "$tmp" "$VENV" # whole or not at all: a cut-short install is redone next time
  trap - EXIT
  say "ruff installed in $VENV ($((SECONDS - t))s)"
fi
if [ ! -x node_modules/.bin/eslint ]; then
  t=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  say "npm packages installed ($((SECONDS - t))s)"
fi

failed=()
t=$SECONDS
node_modules/.bin/eslint --max-warnings 0 . || failed+=(eslint)
say "eslint took $((SECONDS - t))s"
t=$SECONDS
"$VENV/bin/ruff" check --no-cache --quiet --output-format concise . || failed+=(ruff)
say "ruff took $((SECONDS - t))s"

if [ ${#failed[@]} -gt 0 ]; then
  say "findings from: ${failed[*]}"
  exit 1
fi
