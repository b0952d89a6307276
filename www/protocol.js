// Messages between the page (app.js) and the engine worker (worker.js).
// Every message is a plain object {type, ...}; `id` ties a reply to its request.
// Kept in one place so both sides agree on names and fields.

// page -> worker
export const TO_WORKER = Object.freeze({
  LOAD: "load",         // {type, modelBase}            load wasm + model (download/cache)
  CHECK: "check",       // {type, id, conversation, responses, constitution, selector, scoring?}
  REASON: "reason",     // {type, id, conversation, principle, first, second, maxTokens}
  CANCEL: "cancel",     // {type, id}                     stop check or reasoning `id` at its next step (answered by CANCELLED)
  VALIDATE: "validate", // {type, id, json}               parse a custom constitution (answered between a check's steps)
  READ_AHEAD: "read-ahead", // {type, seq, conversation, responses, scoring}  read settled text before Check (only the latest seq runs)
  PRINCIPLE_READS: "principle-reads", // {type, id, texts}  what the trained head takes each principle text to mean
});

// worker -> page
export const FROM_WORKER = Object.freeze({
  WASM_READY: "wasm-ready", // {type, defaultConstitution, limits, build: {build, selfCheck, note}}  engine code loaded (no model yet); limits: what the engine accepts (inputLimits)
  PROGRESS: "progress",     // {type, phase, loaded, total, file, cached, bundled}
  STORAGE: "storage",       // {type, usage, quota, persisted}
  MEMORY: "memory",         // {type, need, held}  bytes the model needs (engine's estimate, said before the download) and the engine holds now
  READY: "ready",           // {type, name, scoring, head, cached, bundled, ms}  model loaded, judge usable
  PREPARING: "preparing",   // {type, id, for: "check" | "reason"}  the whole decoder is being built first (once per start)
  VERDICT: "verdict",       // {type, id, verdict, done, total}
  STANDING: "standing",     // {type, id, result}              the result so far after a step: verdicts, summaries, ranking, aggregated by the engine
  RESULT: "result",         // {type, id, result, ms}
  CANCELLED: "cancelled",   // {type, id, result, ms}          a check or reasoning stopped by CANCEL: a check's result so far (null if it had not started, or for reasoning)
  TEXT: "text",             // {type, id, piece}               one reasoning piece
  REASONED: "reasoned",     // {type, id, reasoning, ms}
  VALIDATED: "validated",   // {type, id, ok, constitution?, error?}
  PRINCIPLE_READS: "principle-reads", // {type, id, reads: [{reads, weights}] | null, error}  (null: no trained head)
  READ: "read",             // {type, seq, tokens, responses, ms, error}  a READ_AHEAD done (tokens 0: all read before; responses: how many were complete enough to read)
  ERROR: "error",           // {type, id?, phase, message, hint?, fatal?}  fatal: the engine is gone (out of memory); only a reload brings it back
});

// Load phases reported with PROGRESS.
export const PHASE = Object.freeze({
  WASM: "wasm",         // compiling the engine
  MANIFEST: "manifest", // reading the model manifest
  DOWNLOAD: "download", // fetching model bytes (loaded/total); read from the extension when bundled
  VERIFY: "verify",     // sha256 of the downloaded files
  STORE: "store",       // writing to the Cache API
  INIT: "init",         // building the tract plan (blocks the worker for a few seconds)
});

/** Makes request ids unique within one page. */
let next = 1;
export function newId() {
  return next++;
}
