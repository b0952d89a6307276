// Model files: download with progress, verify against the manifest's sha256, keep in
// the Cache API. Runs inside the engine worker (fetch, caches and crypto.subtle all
// exist there). The wasm engine verifies the checksums again before loading.
// A model bundled with the code (the browser extension's chrome-extension:// files)
// is read and verified on every start, never cached: see isBundled().

export const MODEL_CACHE = "principle-checker-model-v1";
const FILES = ["model.onnx", "tokenizer.json"];

/** An error whose message says what happened and what to do. */
export class ModelError extends Error {
  constructor(message, hint) {
    super(message);
    this.name = "ModelError";
    this.hint = hint || "";
  }
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;

function isQuotaError(e) {
  return e && (e.name === "QuotaExceededError" || /quota/i.test(String(e.message)));
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * True when the model is not served over http(s) but shipped with the code, as in the
 * browser extension. The Cache API stores only http(s) requests, and such files are
 * already on disk, so they are read where they are (and verified) every time.
 */
export function isBundled(base) {
  return !/^https?:$/.test(new URL(base).protocol);
}

async function openCache() {
  try {
    return await caches.open(MODEL_CACHE);
  } catch {
    // e.g. storage disabled, or an insecure context
    return null;
  }
}

/** The manifest: the server's copy when reachable, else the cached one. */
async function readManifest(base, cache) {
  const url = new URL("manifest.json", base).href;
  let response;
  try {
    response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) response = null;
  } catch {
    response = null; // offline or server gone
  }
  if (!response && cache) response = await cache.match(url);
  if (!response) {
    throw new ModelError(
      "Could not read the model manifest: the server did not answer and no copy is cached.",
      "Start the page's server (scripts/run.sh or scripts/serve.sh) and reload. After one successful visit the page also works offline.",
    );
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  let manifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new ModelError(`The model manifest is not valid JSON (${e.message}).`, "Run scripts/setup-model.sh again.");
  }
  for (const f of FILES) {
    if (!manifest.files || !manifest.files[f] || !manifest.files[f].sha256) {
      throw new ModelError(`The model manifest does not list ${f}.`, "Run scripts/setup-model.sh again.");
    }
  }
  return { url, bytes, manifest };
}

async function download(url, expectBytes, onChunk) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (e) {
    throw new ModelError(
      `Could not download ${url.split("/").pop()}: the network request failed (${e.message}).`,
      "Check that the page's server is still running, then reload. The model must be downloaded once before the page works offline.",
    );
  }
  if (!response.ok) {
    throw new ModelError(
      `Could not download ${url.split("/").pop()}: the server answered ${response.status}.`,
      "Run scripts/serve.sh (it links the model into www/model) and reload.",
    );
  }
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const out = new Uint8Array(expectBytes);
  let at = 0;
  let chunks = null; // used only if the server sends more than the manifest says
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!chunks && at + value.length <= out.length) {
      out.set(value, at);
    } else {
      if (!chunks) chunks = [out.subarray(0, at)];
      chunks.push(value);
    }
    at += value.length;
    onChunk(value.length);
  }
  if (chunks) {
    const all = new Uint8Array(at);
    let o = 0;
    for (const c of chunks) {
      all.set(c, o);
      o += c.length;
    }
    return all;
  }
  return at === out.length ? out : out.subarray(0, at);
}

/**
 * Returns {manifest, manifestBytes, files: {name: Uint8Array}, digests: {name: hex sha256
 * of those bytes}, cached, bundled, warning}.
 * onProgress({phase, loaded, total, file, cached}) is called as work proceeds;
 * beforeDownload(manifestBytes), when given, is awaited before anything is downloaded
 * (not when every file is cached): it may throw to stop there.
 */
export async function loadModel(base, onProgress, beforeDownload = null) {
  const bundled = isBundled(base);
  const cache = bundled ? null : await openCache();
  const { url: manifestUrl, bytes: manifestBytes, manifest } = await readManifest(base, cache);
  const entries = FILES.map((name) => ({
    name,
    url: new URL(name, base).href,
    sha256: manifest.files[name].sha256,
    bytes: manifest.files[name].bytes,
  }));

  // What is already cached under the right checksum? Every file is hashed here, cached
  // or not (WebCrypto runs at native speed), and the engine is handed the digests
  // instead of hashing the same bytes again in wasm. A cached copy that no longer
  // matches (a damaged disk cache) is dropped and downloaded again.
  const files = {};
  const digests = {};
  const missing = [];
  for (const e of entries) {
    const hit = cache && (await cache.match(e.url));
    if (hit && hit.headers.get("x-sha256") === e.sha256) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      const got = await sha256Hex(bytes);
      if (got === e.sha256 && bytes.length === e.bytes) {
        files[e.name] = bytes;
        digests[e.name] = got;
        continue;
      }
      await cache.delete(e.url);
    }
    missing.push(e);
  }
  const cached = missing.length === 0;
  if (!cached && beforeDownload) await beforeDownload(manifestBytes);
  const total = missing.reduce((s, e) => s + e.bytes, 0);
  let loaded = 0;
  let warning = "";
  onProgress({ phase: "download", loaded, total, file: "", cached });

  for (const e of missing) {
    let lastReport = 0;
    const bytes = await download(e.url, e.bytes, (n) => {
      loaded += n;
      const now = Date.now();
      if (now - lastReport > 100) {
        lastReport = now;
        onProgress({ phase: "download", loaded, total, file: e.name, cached });
      }
    });
    onProgress({ phase: "verify", loaded, total, file: e.name, cached });
    const got = await sha256Hex(bytes);
    if (got !== e.sha256 || bytes.length !== e.bytes) {
      throw new ModelError(
        `${e.name} did not match its checksum (sha256 ${got.slice(0, 12)}…, ${bytes.length} bytes; the manifest says ${e.sha256.slice(0, 12)}…, ${e.bytes} bytes). The download was cut short or the server's files changed.`,
        "Reload to download it again. If it keeps failing, run scripts/setup-model.sh and scripts/serve.sh on the server.",
      );
    }
    files[e.name] = bytes;
    digests[e.name] = got;
    if (cache && !warning) {
      onProgress({ phase: "store", loaded, total, file: e.name, cached });
      try {
        await cache.put(
          e.url,
          new Response(bytes, {
            headers: { "content-type": "application/octet-stream", "content-length": String(bytes.length), "x-sha256": e.sha256 },
          }),
        );
      } catch (err) {
        warning = isQuotaError(err)
          ? `The browser has no room to keep the model (about ${mb(manifestSize(manifest))} needed). This visit works, but the next one downloads it again. To fix: free disk space, or clear other sites' data in the browser's settings (Privacy → Site data), then reload.`
          : `The model could not be stored for later visits (${err.message}). This visit works; the next one downloads it again.`;
      }
    }
  }
  if (cache && !warning) {
    try {
      await cache.put(manifestUrl, new Response(manifestBytes, { headers: { "content-type": "application/json" } }));
    } catch (err) {
      if (isQuotaError(err)) warning = "The browser's storage is full; the model manifest could not be cached. Free disk space, then reload.";
    }
  }
  if (!cache && !bundled) warning = "This browser gives the page no Cache API storage (private mode or storage disabled), so the model is downloaded on every visit.";
  return { manifest, manifestBytes, files, digests, cached, bundled, warning };
}

export function manifestSize(manifest) {
  return FILES.reduce((s, f) => s + (manifest.files[f] ? manifest.files[f].bytes : 0), 0);
}
