#!/usr/bin/env bash
# The browser extension (Chrome/Chromium, Manifest V3), in one command:
#
#     scripts/build-extension.sh
#       → dist/extension/                       load it in chrome://extensions (Load unpacked)
#       → dist/principle-checker-extension.zip  the same files, zipped
#
# The extension is assembled from
#   extension/   its own parts: manifest.json, background.js (context menu), sidepanel.js
#                and sidepanel.css (glue)
#   www/         the page's modules, copied unchanged (app.js, worker.js, protocol.js,
#                results.js, evidence.js, dom.js, model-store.js, example.js, style.css); the side
#                panel's sidepanel.html is www/index.html with the glue's two tags added
#   pkg/         the wasm engine, both builds (scripts/build-wasm.sh; www/engine.js picks)
#   the model    manifest.json, model.onnx, tokenizer.json (scripts/setup-model.sh),
#                checked against the manifest's sha256 here and again at every start
# so it needs no network at all. Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL_DIR="${PRINCIPLE_CHECKER_MODEL:-$PWD/models/smollm2-135m-instruct}"
OUT=dist/extension
ZIP=dist/principle-checker-extension.zip
for f in pkg/principle_checker.js pkg/principle_checker_bg.wasm pkg/relaxed/principle_checker.js pkg/relaxed/principle_checker_bg.wasm; do
  [ -f "$f" ] || { echo "build-extension.sh: $f is missing: run scripts/build-wasm.sh" >&2; exit 1; }
done
for f in manifest.json model.onnx tokenizer.json; do
  [ -f "$MODEL_DIR/$f" ] || { echo "build-extension.sh: $MODEL_DIR/$f is missing: run scripts/setup-model.sh" >&2; exit 1; }
done

rm -rf "$OUT" "$ZIP"
mkdir -p "$OUT/pkg/relaxed" "$OUT/model"
cp extension/manifest.json extension/background.js extension/sidepanel.js extension/sidepanel.css "$OUT/"
for f in www/*.js; do
  [ "$f" = www/sw.js ] || cp "$f" "$OUT/" # sw.js: the page's offline cache; an extension is installed
done
cp www/style.css "$OUT/"
[ -f BENCHMARKS.md ] && cp BENCHMARKS.md "$OUT/" # the "About this judge" panel links to it
cp pkg/principle_checker.js pkg/principle_checker_bg.wasm "$OUT/pkg/"
cp pkg/relaxed/principle_checker.js pkg/relaxed/principle_checker_bg.wasm "$OUT/pkg/relaxed/"
cp "$MODEL_DIR/manifest.json" "$MODEL_DIR/model.onnx" "$MODEL_DIR/tokenizer.json" "$OUT/model/"

python3 - "$OUT" "$ZIP" <<'EOF'
import hashlib, json, os, sys, zipfile

out, zip_path = sys.argv[1], sys.argv[2]

# the model, against its manifest (the engine checks again when it loads)
manifest = json.load(open(f"{out}/model/manifest.json"))
for name in ("model.onnx", "tokenizer.json"):
    want = manifest["files"][name]
    data = open(f"{out}/model/{name}", "rb").read()
    got = hashlib.sha256(data).hexdigest()
    if got != want["sha256"] or len(data) != want["bytes"]:
        sys.exit(f"build-extension.sh: model/{name} does not match manifest.json (sha256 {got}); run scripts/setup-model.sh")

# sidepanel.html = the page's index.html + the side panel's stylesheet and glue script
html = open("www/index.html", encoding="utf-8").read()
for anchor, extra in [
    ('<link rel="stylesheet" href="style.css">', '<link rel="stylesheet" href="sidepanel.css">'),
    ('<script type="module" src="app.js"></script>', '<script type="module" src="sidepanel.js"></script>'),
]:
    if html.count(anchor) != 1:
        sys.exit(f"build-extension.sh: www/index.html must contain {anchor} exactly once")
    html = html.replace(anchor, f"{anchor}\n{extra}")
html = html.replace("<!doctype html>\n", "<!doctype html>\n<!-- built by scripts/build-extension.sh from www/index.html: edit that -->\n", 1)
open(f"{out}/sidepanel.html", "w", encoding="utf-8").write(html)

# the zip: sorted names and fixed dates, so the same files give the same zip
names = sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs)
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
    for name in names:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, open(os.path.join(out, name), "rb").read())
EOF

mb() { awk -v n="$1" 'BEGIN { printf "%.1f MB", n / 1e6 }'; }
unpacked=$(find "$OUT" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
zipped=$(stat -c %s "$ZIP")
echo "[build-extension] $OUT/: $(find "$OUT" -type f | wc -l) files, $(mb "$unpacked") unpacked ($unpacked bytes)"
echo "[build-extension] $ZIP: $(mb "$zipped") ($zipped bytes)"
