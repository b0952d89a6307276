// The browser benchmark's anchor (scripts/bench-browser.sh): onnxruntime-web runs the
// same model.onnx on the same token ids as the engine (WasmJudge.promptIds), with the
// CPU/wasm execution provider and one thread (the page is not cross-origin isolated,
// so no SharedArrayBuffer, so no wasm threads). www/ort/ is a link to
// bench/node_modules/onnxruntime-web/dist made by the bench script (git-ignored).

import * as ort from "../ort/ort.wasm.min.mjs";

ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.wasm.wasmPaths = new URL("../ort/", self.location.href).href;

const MASKED = -1e9; // as src/engine/decoder.rs
let session = null;
let layers = 0;
let kvShape = null; // [kv_heads, head_dim]

async function create(msg) {
  const t0 = performance.now();
  const base = new URL(msg.modelBase, self.location.href).href;
  const manifest = await (await fetch(new URL("manifest.json", base))).json();
  const bytes = new Uint8Array(await (await fetch(new URL("model.onnx", base))).arrayBuffer());
  const fetched = performance.now() - t0;
  const c0 = performance.now();
  session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const a = manifest.architecture;
  layers = a.layers;
  kvShape = [a.kv_heads, a.head_dim];
  return {
    fetchMs: fetched,
    createMs: performance.now() - c0,
    version: ort.env.versions ? ort.env.versions.web || ort.env.versions.common : "",
    threads: ort.env.wasm.numThreads,
    crossOriginIsolated: self.crossOriginIsolated,
    inputs: session.inputNames.length,
    outputs: session.outputNames.length,
  };
}

const i64 = (xs, dims) => new ort.Tensor("int64", BigInt64Array.from(xs, (x) => BigInt(x)), dims);

function emptyCache() {
  const t = new ort.Tensor("float32", new Float32Array(0), [1, kvShape[0], 0, kvShape[1]]);
  return { len: 0, kv: Array.from({ length: layers * 2 }, () => t) };
}

/** One pass: branches continue `cache` side by side (src/engine/decoder.rs);
 * returns the logits row after each branch and, if asked, the extended cache (only
 * meaningful for a single branch). */
async function run(cache, branches, wantCache) {
  const p = cache.len;
  const s = branches.reduce((n, b) => n + b.length, 0);
  const total = p + s;
  const ids = [];
  const positions = [];
  const ends = [];
  const bias = new Float32Array(s * total).fill(MASKED);
  for (const b of branches) {
    const start = ids.length;
    for (let t = 0; t < b.length; t++) {
      const row = (start + t) * total;
      bias.fill(0, row, row + p);
      bias.fill(0, row + p + start, row + p + start + t + 1);
      ids.push(b[t]);
      positions.push(p + t);
    }
    ends.push(ids.length - 1);
  }
  const feeds = {
    input_ids: i64(ids, [1, s]),
    position_ids: i64(positions, [1, s]),
    attention_bias: new ort.Tensor("float32", bias, [s, total]),
    logits_index: i64(ends, [ends.length]),
  };
  for (let l = 0; l < layers; l++) {
    feeds[`past_key_values.${l}.key`] = cache.kv[2 * l];
    feeds[`past_key_values.${l}.value`] = cache.kv[2 * l + 1];
  }
  const fetches = ["logits"];
  if (wantCache) for (let l = 0; l < layers; l++) fetches.push(`present.${l}.key`, `present.${l}.value`);
  const out = await session.run(feeds, fetches);
  const logits = out.logits;
  const vocab = logits.dims[logits.dims.length - 1];
  const rows = ends.map((_, k) => logits.data.subarray(k * vocab, (k + 1) * vocab));
  let next = null;
  if (wantCache) next = { len: total, kv: fetches.slice(1).map((n) => out[n]) };
  return { rows, cache: next };
}

const twoWay = (row, letters) => 1 / (1 + Math.exp(row[letters[1]] - row[letters[0]]));

/** Every principle and order as a whole prompt, no cache: `count` principles. */
async function naive(msg) {
  const ids = msg.ids;
  const count = Math.min(msg.count, ids.suffixes.length);
  const t0 = performance.now();
  let tokens = 0;
  const pA = [];
  const passMs = [];
  for (let k = 0; k < count; k++) {
    const row = [];
    for (let o = 0; o < ids.orders.length; o++) {
      const prompt = [...ids.head, ...ids.options[o], ...ids.suffixes[k][o]];
      tokens += prompt.length;
      const p0 = performance.now();
      const { rows } = await run(emptyCache(), [prompt], false);
      passMs.push(performance.now() - p0);
      row.push(twoWay(rows[0], ids.letters));
    }
    pA.push(row);
  }
  return { ms: performance.now() - t0, principles: count, tokens, pA, passMs };
}

/** The zero-shot engine's work (src/judge/zero_shot.rs, principle-last layout): the
 * conversation once, each order's options continuing it, then the principles'
 * suffixes batched as branches of each order's cache (first batch ≤ 128 tokens, later
 * ones ≤ 1024). */
async function prefixReuse(msg) {
  const ids = msg.ids;
  const firstBudget = msg.firstBatchTokens || 128;
  const budget = msg.batchTokens || 1024;
  const t0 = performance.now();
  let tokens = ids.head.length;
  const head = (await run(emptyCache(), [ids.head], true)).cache;
  const caches = [];
  for (let o = 0; o < ids.orders.length; o++) {
    tokens += ids.options[o].length;
    caches.push((await run(head, [ids.options[o]], true)).cache);
  }
  const prefillMs = performance.now() - t0;
  const total = ids.suffixes.length;
  const pA = [];
  let firstMs = null;
  let passes = 0;
  let next = 0;
  while (next < total) {
    const limit = next === 0 ? firstBudget : budget;
    const batch = [];
    let batchTokens = 0;
    while (next < total) {
      const t = ids.suffixes[next].reduce((n, s) => n + s.length, 0);
      if (batch.length && batchTokens + t > limit) break;
      batchTokens += t;
      batch.push(next++);
    }
    tokens += batchTokens;
    const rowP = batch.map(() => new Array(ids.orders.length));
    for (let o = 0; o < ids.orders.length; o++) {
      const { rows } = await run(caches[o], batch.map((k) => ids.suffixes[k][o]), false);
      passes++;
      rows.forEach((r, b) => (rowP[b][o] = twoWay(r, ids.letters)));
    }
    pA.push(...rowP);
    if (firstMs === null) firstMs = performance.now() - t0;
  }
  return { ms: performance.now() - t0, prefillMs, firstMs, tokens, passes, pA };
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    let r;
    if (msg.type === "create") r = await create(msg);
    else if (msg.type === "naive") r = await naive(msg);
    else if (msg.type === "prefix-reuse") r = await prefixReuse(msg);
    else throw new Error(`unknown request ${msg.type}`);
    self.postMessage({ id: msg.id, ok: true, r });
  } catch (e) {
    self.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
};
