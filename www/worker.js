// The engine host: owns the wasm judge, loads the model through model-store.js, and
// answers the page's messages (protocol.js). Every engine call is synchronous and
// CPU-heavy, which is why it lives here and never on the page's thread. Messages are
// handled one at a time, in order.

import { TO_WORKER, FROM_WORKER, PHASE } from "./protocol.js";
import { loadEngine } from "./engine.js";
import { loadModel, isBundled, ModelError } from "./model-store.js";

const started = performance.now();
const post = (m) => self.postMessage(m);
let judge = null;
let engine = null; // the wasm build's exports (engine.js picks the build)
let instance = null; // the instance's exports: its memory
let build = null; // {build, selfCheck, note}
let need = 0; // bytes the model needs, the engine's estimate from the manifest
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const held = () => (instance && instance.memory ? instance.memory.buffer.byteLength : 0);

const wasm = loadEngine()
  .then((e) => {
    engine = e.engine;
    instance = e.wasm;
    build = { build: e.build, selfCheck: e.selfCheck, note: e.note };
    post({ type: FROM_WORKER.WASM_READY, defaultConstitution: engine.defaultConstitution(), limits: engine.inputLimits(), build, ms: performance.now() - started });
  })
  .catch((e) => {
    post({
      type: FROM_WORKER.ERROR,
      phase: PHASE.WASM,
      message: `The engine (WebAssembly) could not start: ${e.message}`,
      hint: "Use a current Chromium, Firefox or Safari; reload the page.",
    });
    throw e;
  });

/**
 * Says how much memory the model needs (the engine's estimate from its manifest) and
 * sets that much aside for a moment, so a device that cannot give it is told so before
 * the download, not by a crashed tab after it. A wasm page's memory only grows: the
 * trial memory is dropped at once and the engine's own grows as it loads.
 */
async function makeRoom(manifestBytes) {
  await wasm;
  need = engine.memoryNeeded(manifestBytes);
  post({ type: FROM_WORKER.MEMORY, need, held: held() });
  try {
    new WebAssembly.Memory({ initial: Math.ceil(need / 65536) });
  } catch (e) {
    throw new ModelError(
      `This browser could not set aside the ${mb(need)} of memory the judge needs (${e.message}), so the model was not loaded.`,
      "Close other tabs and apps, then reload; or open the page on a device with more memory.",
    );
  }
}

/** Whether `e` is the engine running out of memory: an allocation refused (Rust then
 * traps), or the browser refusing to grow the page's memory. */
function outOfMemory(e) {
  const refused = engine ? engine.refusedAllocation() : 0;
  if (!refused && !(e instanceof RangeError && /memory/i.test(e.message)) && !/out of memory/i.test(String(e && e.message))) return null;
  return {
    message: `The engine ran out of memory: the browser gave it ${mb(held())}${refused ? ` and refused ${mb(refused)} more` : " and no more"}${need ? ` (the model needs about ${mb(need)})` : ""}.`,
    hint: "What you typed is kept. Close other tabs and apps, then reload the page; or open it on a device with more memory.",
  };
}

let lost = null; // the out-of-memory error that ended the engine

/** Ends the engine if `e` is running out of memory (a trap leaves its state undefined,
 * so nothing more runs on it) and tells the page; false for any other error. */
function lostToMemory(e, msg) {
  const oom = outOfMemory(e);
  if (!oom) return false;
  judge = null;
  lost = oom;
  post({ type: FROM_WORKER.ERROR, id: msg.id, phase: msg.type, ...oom, fatal: true });
  return true;
}

async function load(msg) {
  const base = new URL(msg.modelBase, self.location.href).href;
  const bundled = isBundled(base);
  // the model files are read and hashed while the wasm compiles: both run off this
  // thread; a download first waits for the engine's word on memory
  const [, m] = await Promise.all([wasm, loadModel(base, (p) => post({ type: FROM_WORKER.PROGRESS, ...p, bundled }), makeRoom)]);
  if (!need) await makeRoom(m.manifestBytes);
  if (navigator.storage && navigator.storage.estimate) {
    try {
      const { usage, quota } = await navigator.storage.estimate();
      post({ type: FROM_WORKER.STORAGE, usage, quota });
    } catch {
      /* not essential */
    }
  }
  post({ type: FROM_WORKER.PROGRESS, phase: PHASE.INIT, loaded: 0, total: 0, file: "", cached: m.cached, bundled });
  judge = engine.WasmJudge.fromHashed(m.manifestBytes, m.files["model.onnx"], m.digests["model.onnx"], m.files["tokenizer.json"], m.digests["tokenizer.json"]);
  post({
    type: FROM_WORKER.READY,
    name: judge.name,
    scoring: judge.scoring,
    head: judge.headInfo(),
    cached: m.cached,
    bundled,
    warning: m.warning,
    manifest: { name: m.manifest.name, license: m.manifest.license, source: m.manifest.source, weights: m.manifest.converter && m.manifest.converter.weights, bytes: m.manifest.files["model.onnx"].bytes + m.manifest.files["tokenizer.json"].bytes },
    ms: performance.now() - started,
  });
  post({ type: FROM_WORKER.MEMORY, need, held: held() });
}

// Checks and reasoning run a step at a time (one batch of principles, the whole
// check with the trained head, or a few tokens of reasoning) and yield between steps,
// so a CANCEL or VALIDATE message gets through; what the engine has read stays.
let cancelId = null;
const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

/** begin(), then step() until it returns true; false when CANCEL for `id` came first. */
async function inSteps(id, begin, step) {
  if (cancelId === id) return false;
  begin();
  for (;;) {
    if (step()) return true;
    await yieldToMessages();
    if (cancelId === id) return false;
  }
}

async function check(msg) {
  if (msg.scoring) judge.setScoring(msg.scoring);
  if (judge.scoring === "zero-shot" && !judge.wholeModelBuilt) post({ type: FROM_WORKER.PREPARING, id: msg.id, for: "check" });
  const t0 = performance.now();
  let result = null;
  const finished = await inSteps(
    msg.id,
    () => judge.beginCheck(msg.conversation, msg.responses, msg.constitution || "", msg.selector || "all"),
    () => {
      const step = judge.stepCheck((verdict, done, total) => {
        post({ type: FROM_WORKER.VERDICT, id: msg.id, verdict, done, total, ms: performance.now() - t0 });
        return true;
      });
      result = step.result;
      if (!step.done) post({ type: FROM_WORKER.STANDING, id: msg.id, result });
      return step.done;
    },
  );
  if (finished) post({ type: FROM_WORKER.RESULT, id: msg.id, result, ms: performance.now() - t0 });
  else post({ type: FROM_WORKER.CANCELLED, id: msg.id, result: judge.cancelCheck(), ms: performance.now() - t0 });
  post({ type: FROM_WORKER.MEMORY, need, held: held() });
}

// A few tokens of reasoning a step: Cancel stops it within a fraction of a second.
const REASON_TOKENS_PER_STEP = 4;

async function reason(msg) {
  if (!judge.wholeModelBuilt) post({ type: FROM_WORKER.PREPARING, id: msg.id, for: "reason" });
  const t0 = performance.now();
  const finished = await inSteps(
    msg.id,
    () => judge.beginReason(msg.conversation, msg.principle, msg.first, msg.second, msg.maxTokens || 96),
    () =>
      judge.stepReason(REASON_TOKENS_PER_STEP, (piece) => {
        post({ type: FROM_WORKER.TEXT, id: msg.id, piece });
        return true;
      }),
  );
  if (finished) post({ type: FROM_WORKER.REASONED, id: msg.id, reasoning: judge.finishReason(), ms: performance.now() - t0 });
  else {
    judge.cancelReason();
    post({ type: FROM_WORKER.CANCELLED, id: msg.id, result: null, ms: performance.now() - t0 });
  }
}

// Reading text ahead of Check: one pass of at most a few seconds that a check of the
// same text would run anyway. Only the newest request runs; older ones queued behind
// a busy engine are dropped, and an unfinished input is no error worth showing (the
// check reports it).
let latestRead = 0;
function readAhead(msg) {
  if (msg.seq !== latestRead) return;
  const t0 = performance.now();
  let read = { tokens: 0, responses: 0 };
  let error = "";
  try {
    if (msg.scoring) judge.setScoring(msg.scoring);
    read = judge.readAhead(msg.conversation, msg.responses);
  } catch (e) {
    if (lostToMemory(e, msg)) return;
    error = e && e.message ? e.message : String(e);
  }
  post({ type: FROM_WORKER.READ, seq: msg.seq, ...read, ms: performance.now() - t0, error });
}

async function validate(msg) {
  try {
    await wasm;
    post({ type: FROM_WORKER.VALIDATED, id: msg.id, ok: true, constitution: engine.validateConstitution(msg.json) });
  } catch (e) {
    post({ type: FROM_WORKER.VALIDATED, id: msg.id, ok: false, error: e.message });
  }
}

function principleReads(msg) {
  let reads = null;
  let error = "";
  try {
    reads = judge.headInfo() ? judge.principleReads(msg.texts) : null;
  } catch (e) {
    error = e && e.message ? e.message : String(e);
  }
  post({ type: FROM_WORKER.PRINCIPLE_READS, id: msg.id, reads, error });
}

async function handle(msg) {
  try {
    switch (msg.type) {
      case TO_WORKER.LOAD:
        return await load(msg);
      case TO_WORKER.CHECK:
        if (!judge) throw new Error(lost ? lost.message : "the model is not loaded yet");
        return await check(msg);
      case TO_WORKER.REASON:
        if (!judge) throw new Error(lost ? lost.message : "the model is not loaded yet");
        return await reason(msg);
      case TO_WORKER.READ_AHEAD:
        if (!judge) return;
        return readAhead(msg);
      case TO_WORKER.PRINCIPLE_READS:
        if (!judge) return;
        return principleReads(msg);
      default:
        throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
    }
  } catch (e) {
    if (lostToMemory(e, msg)) return;
    post({
      type: FROM_WORKER.ERROR,
      id: msg.id,
      phase: msg.type,
      message: e && e.message ? e.message : String(e),
      hint: e instanceof ModelError ? e.hint : "",
      quota: !!(e && e.name === "QuotaExceededError"),
    });
  }
}

// Messages run one at a time, in order, except CANCEL (noted at once: the running
// check sees it at its next step) and VALIDATE (only parses JSON: answered between
// a check's steps rather than after the whole check).
let queue = Promise.resolve();
self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === TO_WORKER.CANCEL) {
    cancelId = msg.id;
    return;
  }
  if (msg.type === TO_WORKER.VALIDATE) {
    validate(msg);
    return;
  }
  if (msg.type === TO_WORKER.READ_AHEAD) latestRead = msg.seq;
  queue = queue.then(() => handle(msg));
};
