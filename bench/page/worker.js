// The browser benchmark's engine host (bench/page/, served as www/bench/; scripts/bench-browser.sh): the
// same wasm engine and model-store.js as worker.js, instrumented. It times each load
// phase, reports the wasm instance's memory, and answers one request at a time with
// {id, ok, ...}. Not part of the product page; nothing here is asserted.

import { loadModel } from "../model-store.js";
import { loadEngine } from "../engine.js";

const started = performance.now();
let exports = null; // the wasm exports, for memory.buffer.byteLength
let engine = null; // the build's JS module (engine.js picks it; ?build=plain forces one)
let build = null;
let judge = null;
let wasmMs = 0;

const wasmReady = loadEngine(new URL(self.location.href).searchParams.get("build") || "auto").then((e) => {
  exports = e.wasm;
  engine = e.engine;
  build = { build: e.build, selfCheck: e.selfCheck, note: e.note };
  wasmMs = performance.now() - started;
});

function memory() {
  const m = { wasm: exports ? exports.memory.buffer.byteLength : 0 };
  if (self.performance && performance.memory) m.jsHeapUsed = performance.memory.usedJSHeapSize;
  return m;
}

/** Loads as worker.js does; `phases` are ms from the load request. */
async function load(msg) {
  const t0 = performance.now();
  const base = new URL(msg.modelBase, self.location.href).href;
  const marks = {}; // first time each progress phase was seen
  // as worker.js: the files are read and hashed while the wasm compiles
  const [, m] = await Promise.all([
    wasmReady,
    loadModel(base, (p) => {
      if (!(p.phase in marks)) marks[p.phase] = performance.now() - t0;
    }),
  ]);
  const files = performance.now() - t0;
  const memBefore = memory();
  const c0 = performance.now();
  // as the page does: model-store.js hashed both files with WebCrypto, the engine
  // checks those digests against the manifest
  judge = engine.WasmJudge.fromHashed(m.manifestBytes, m.files["model.onnx"], m.digests["model.onnx"], m.files["tokenizer.json"], m.digests["tokenizer.json"]);
  const construct = performance.now() - c0;
  return {
    cached: m.cached,
    warning: m.warning,
    wasmInitMs: wasmMs, // worker start → wasm compiled and instantiated (and, for relaxed SIMD, self-checked)
    build,
    sinceWorkerStartMs: performance.now() - started,
    filesMs: files, // load request → files read (Cache API or download + store) and hashed, and the wasm ready
    marks,
    constructMs: construct, // WasmJudge.fromHashed: digests checked, tract parse/optimize/plan
    memoryBefore: memBefore,
    memory: memory(),
    scoring: judge.scoring,
    headLayers: judge.headInfo() ? judge.headInfo().layers : null,
    onnxBytes: m.files["model.onnx"].length,
  };
}

/** The engine's own sha256 over both files: a WasmJudge over a copy of the model with
 * its last byte changed fails at the checksum, after hashing everything. Run it in a
 * throwaway worker: the copy grows the wasm memory. */
async function wasmSha(msg) {
  await wasmReady;
  const base = new URL(msg.modelBase, self.location.href).href;
  const m = await loadModel(base, () => {});
  const onnx = m.files["model.onnx"];
  onnx[onnx.length - 1] ^= 0xff;
  const t0 = performance.now();
  let error = "";
  try {
    new engine.WasmJudge(m.manifestBytes, onnx, m.files["tokenizer.json"]);
  } catch (e) {
    error = e.message;
  }
  return { ms: performance.now() - t0, error: error.slice(0, 80) };
}

function check(msg) {
  if (msg.scoring) judge.setScoring(msg.scoring);
  // the same text is checked again and again: each check reads it anew, unless the
  // bench times a check of text read ahead
  if (!msg.keepReadings) judge.forgetReadings();
  const t0 = performance.now();
  let first = null;
  let count = 0;
  const result = judge.check(msg.conversation, msg.responses, "", msg.selector || "all", () => {
    if (first === null) first = performance.now() - t0;
    count++;
    return true;
  });
  const ms = performance.now() - t0;
  const out = { ms, firstMs: first, verdicts: count, tokens: result.tokens_processed, scoring: result.scoring, memory: memory() };
  if (msg.withVerdicts) {
    // P(A) per principle and order, as shown: for (0,1) the first pair's
    // p_first_shown_first, for (1,0) one minus p_first_shown_second
    out.pA = result.verdicts.map((v) => [v.pairs[0].p_first_shown_first, 1 - v.pairs[0].p_first_shown_second]);
  }
  return out;
}

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    let r;
    if (msg.type === "load") r = await load(msg);
    else if (msg.type === "wasm-sha") r = await wasmSha(msg);
    else if (msg.type === "check") r = check(msg);
    else if (msg.type === "read-ahead") {
      // as the page does once the text has settled: the conversation and the responses read
      judge.setScoring("trained-head");
      judge.forgetReadings();
      const t0 = performance.now();
      const { tokens } = judge.readAhead(msg.conversation, msg.responses);
      r = { ms: performance.now() - t0, tokens };
    } else if (msg.type === "prompt-ids") r = judge.promptIds(msg.conversation, msg.responses, "", msg.selector || "all");
    else if (msg.type === "memory") r = memory();
    else throw new Error(`unknown request ${msg.type}`);
    self.postMessage({ id: msg.id, ok: true, r });
  } catch (e) {
    self.postMessage({ id: msg.id, ok: false, error: e && e.message ? e.message : String(e) });
  }
};
