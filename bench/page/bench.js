// The browser benchmark page's glue (scripts/bench-browser.sh drives it with
// playwright-core): starts workers and relays requests, so the driver can time and
// measure between steps. window.bench = {spawn, call, kill, pageMemory}.

const workers = new Map();
let next = 1;

function spawn(name, url) {
  const w = new Worker(url, { type: "module" });
  const pending = new Map();
  w.onmessage = (e) => {
    const p = pending.get(e.data.id);
    if (!p) return;
    pending.delete(e.data.id);
    if (e.data.ok) p.resolve(e.data.r);
    else p.reject(new Error(e.data.error));
  };
  w.onerror = (e) => {
    for (const p of pending.values()) p.reject(new Error(`worker ${name}: ${e.message}`));
    pending.clear();
  };
  workers.set(name, { w, pending });
  return name;
}

function call(name, msg) {
  const { w, pending } = workers.get(name);
  const id = next++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...msg, id });
  });
}

function kill(name) {
  const entry = workers.get(name);
  if (entry) entry.w.terminate();
  workers.delete(name);
}

// `uaSpecific`: performance.measureUserAgentSpecificMemory (cross-origin-isolated pages
// only), which waits for a full garbage collection, up to ~25 s: the driver asks for it
// last, after the timings.
async function pageMemory(uaSpecific = false) {
  const out = { crossOriginIsolated: self.crossOriginIsolated };
  if (performance.memory) out.jsHeapUsed = performance.memory.usedJSHeapSize;
  if (uaSpecific && self.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
    out.uaSpecific = (await performance.measureUserAgentSpecificMemory()).bytes;
  }
  return out;
}

function log(line) {
  document.getElementById("log").textContent += `${line}\n`;
}

window.bench = { spawn, call, kill, pageMemory, log };
