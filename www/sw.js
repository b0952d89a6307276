// Offline support for the page in www/ (scope: this folder only). The shell, the
// engine's JS and wasm are precached; requests go to the network first (so edits
// show up at once while developing) and fall back to the cache when offline.
// Model files are not handled here: model-store.js keeps them in its own cache.

const VERSION = "v5";
const SHELL = `principle-checker-shell-${VERSION}`;
const FILES = [
  "./",
  "index.html",
  "style.css",
  "app.js",
  "state.js",
  "worker-link.js",
  "inputs.js",
  "principles.js",
  "run.js",
  "reasoning.js",
  "editor.js",
  "share.js",
  "dom.js",
  "results.js",
  "evidence.js",
  "example.js",
  "protocol.js",
  "worker.js",
  "model-store.js",
  "engine.js",
  "pkg/principle_checker.js",
  "pkg/principle_checker_bg.wasm",
];
// The relaxed-SIMD build (engine.js) only where the browser can run it: 20 MB that
// other browsers would never use. Same probe as engine.js.
const RELAXED_FILES = ["pkg/relaxed/principle_checker.js", "pkg/relaxed/principle_checker_bg.wasm"];
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11,
]);
function relaxedSimd() {
  try {
    return WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then(async (c) => {
        const add = (files) => c.addAll(files.map((f) => new Request(f, { cache: "no-cache" })));
        await add(FILES);
        // the relaxed build may still be compiling (scripts/run.sh builds it in the
        // background): then it is cached when the page first fetches it
        if (relaxedSimd()) await add(RELAXED_FILES).catch(() => {});
      })
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("principle-checker-shell-") && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Same file as cached? (avoids rewriting the 20 MB wasm on every visit)
function same(a, b) {
  const keys = ["last-modified", "content-length", "etag"];
  return keys.every((k) => a.headers.get(k) === b.headers.get(k)) && keys.some((k) => a.headers.get(k));
}

async function networkFirst(request) {
  const cache = await caches.open(SHELL);
  const key = request.url;
  try {
    const response = await fetch(request);
    if (response.ok && response.type === "basic") {
      const old = await cache.match(key, { ignoreSearch: true });
      if (!old || !same(old, response)) await cache.put(key, response.clone()).catch(() => {});
    }
    return response;
  } catch (e) {
    const hit = (await cache.match(key, { ignoreSearch: true })) || (request.mode === "navigate" && (await cache.match(new URL("./", self.registration.scope).href)));
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname.slice(new URL(self.registration.scope).pathname.length);
  if (path.startsWith("model/")) return; // model-store.js owns these
  event.respondWith(networkFirst(req));
});
