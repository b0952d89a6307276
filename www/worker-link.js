// The page's side of the engine worker (worker.js): starts it, routes its messages
// (protocol.js) to the modules that show them, and asks it to parse constitutions.

import { FROM_WORKER, PHASE, TO_WORKER, newId } from "./protocol.js";
import { $, fill, fmtBytes, h, pct, show } from "./dom.js";
import { S, setState } from "./state.js";
import { onRead, scheduleReadAhead } from "./inputs.js";
import { renderPrinciples, selectAll } from "./principles.js";
import { cancelled, endBusy, finishRun, onVerdict, queueRender, renderRun, showJudge, updateButtons } from "./run.js";
import { finishReason, onReasonText } from "./reasoning.js";
import { scheduleReads, showPrincipleReads } from "./editor.js";

// ---------------------------------------------------------------- engine worker

export function startEngine() {
  S.engineReady = false;
  S.engineStarted = performance.now();
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "engine" });
  w.onmessage = (e) => onEngine(e.data);
  w.onerror = (e) => modelError(`The engine worker failed to start (${e.message || "script error"}).`, "Reload the page. If it keeps failing, check the browser console.");
  w.postMessage({ type: TO_WORKER.LOAD, modelBase: "./model/" });
  S.engine = w;
  setState("loading");
  updateButtons();
}

function onEngine(m) {
  switch (m.type) {
    case FROM_WORKER.WASM_READY:
      if (!S.builtin) {
        S.builtinJson = m.defaultConstitution;
        S.builtin = JSON.parse(m.defaultConstitution);
        if (!S.selected.size) selectAll(true);
        renderPrinciples();
      }
      if (m.build) $("#about-engine").textContent = engineText(m.build);
      S.limits = m.limits;
      updateButtons();
      break;
    case FROM_WORKER.PROGRESS:
      onProgress(m);
      break;
    case FROM_WORKER.STORAGE:
      showStorage(m.usage, m.quota);
      break;
    case FROM_WORKER.MEMORY:
      showMemory(m.need, m.held);
      break;
    case FROM_WORKER.READY: {
      S.engineReady = true;
      S.model = m;
      const secs = ((performance.now() - S.engineStarted) / 1000).toFixed(1);
      $("#model-text").textContent = `Model ready: ${m.name} (${m.bundled ? "read from the extension and verified" : m.cached ? "model cached" : "downloaded, verified and cached"}; started in ${secs} s).`;
      show($("#model-progress"), false);
      $("#model-bytes").textContent = "";
      if (m.warning) modelError(m.warning, "", true);
      fill($("#about-model"), `${m.manifest.name} (Hugging Face), licence ${m.manifest.license}, weights ${m.bundled ? "shipped" : "downloaded"} as ${m.manifest.weights === "q4" ? "4-bit blocks, kept as such in memory and expanded a layer at a time as a check runs" : m.manifest.weights || "stored"}, run by tract as WebAssembly`);
      $("#about-size").textContent = m.bundled ? `${fmtBytes(m.manifest.bytes)} inside the extension; nothing is downloaded` : `${fmtBytes(m.manifest.bytes)} download once, then cached in this browser`;
      showJudge(m.head);
      setState("ready");
      refreshStorage();
      updateButtons();
      scheduleReadAhead(0);
      scheduleReads(0);
      break;
    }
    case FROM_WORKER.PREPARING:
      // the engine starts with the trained head's layers only; logits need the rest
      if (m.for === "check" && S.run && S.run.id === m.id) $("#run-text").textContent = "Building the rest of the model for the zero-shot prompt (once per visit, a few seconds)…";
      if (m.for === "reason" && S.reason && S.reason.id === m.id) $("#reasoning-status").textContent = "Building the rest of the model to write the reasoning (once per visit, a few seconds)…";
      break;
    case FROM_WORKER.VERDICT:
      if (S.run && S.run.id === m.id && S.run.state === "running") onVerdict(m);
      break;
    case FROM_WORKER.STANDING:
      if (S.run && S.run.id === m.id && S.run.state === "running") {
        S.run.standing = m.result;
        queueRender();
      }
      break;
    case FROM_WORKER.RESULT:
      if (S.run && S.run.id === m.id) finishRun(m.result);
      break;
    case FROM_WORKER.CANCELLED:
      if (S.run && S.run.id === m.id) cancelled(m.result);
      else endBusy(); // a stopped reasoning: the engine is free again
      break;
    case FROM_WORKER.VALIDATED:
      if (S.validations.has(m.id)) {
        S.validations.get(m.id)(m);
        S.validations.delete(m.id);
      }
      break;
    case FROM_WORKER.TEXT:
      if (S.reason && S.reason.id === m.id) onReasonText(m.piece);
      break;
    case FROM_WORKER.REASONED:
      if (S.reason && S.reason.id === m.id) finishReason(m.reasoning, m.ms);
      break;
    case FROM_WORKER.READ:
      onRead(m);
      break;
    case FROM_WORKER.PRINCIPLE_READS:
      if (m.id === S.readsId) showPrincipleReads(m);
      break;
    case FROM_WORKER.ERROR:
      onEngineError(m);
      break;
  }
}

function engineText(b) {
  return b.build === "relaxed-simd"
    ? `WebAssembly, relaxed-SIMD build (fused multiply-add kernels); its self-check against plain arithmetic passed in this browser (largest relative error ${b.selfCheck.toExponential(1)})`
    : `WebAssembly, SIMD build${b.note ? ` (the faster relaxed-SIMD build is not used: ${b.note})` : ""}`;
}

function onProgress(m) {
  const bar = $("#model-progress");
  if (m.phase === PHASE.DOWNLOAD && m.bundled) {
    $("#model-text").textContent = `Reading the model from the extension: ${m.total ? pct(m.loaded / m.total) : ""}`;
  } else if (m.phase === PHASE.DOWNLOAD && !m.cached) {
    show(bar);
    bar.max = m.total || 1;
    bar.value = m.loaded;
    $("#model-text").textContent = `Downloading the model (once): ${m.total ? pct(m.loaded / m.total) : ""}`;
    $("#model-bytes").textContent = `${fmtBytes(m.loaded)} of ${fmtBytes(m.total)}${S.memoryNeed ? `; it needs about ${fmtBytes(S.memoryNeed)} of memory` : ""}`;
  } else if (m.phase === PHASE.DOWNLOAD && m.cached) {
    $("#model-text").textContent = "Model cached: loading it from this browser's storage…";
  } else if (m.phase === PHASE.VERIFY) {
    $("#model-bytes").textContent = "";
    $("#model-text").textContent = `Verifying ${m.file} against its checksum…`;
  } else if (m.phase === PHASE.STORE) {
    $("#model-text").textContent = `Storing ${m.file} for later visits…`;
  } else if (m.phase === PHASE.INIT) {
    show(bar, false);
    $("#model-bytes").textContent = "";
    $("#model-text").textContent = `${m.cached ? "Model cached. " : ""}Preparing the model (a few seconds)…`;
  }
}

/** The engine's estimate of what the model needs, said before the download (next to
 * its size while it downloads) and in About, with what the engine holds now. */
function showMemory(need, held) {
  S.memoryNeed = need;
  $("#about-memory").textContent = `about ${fmtBytes(need)} for the model and a check of a few hundred words (the engine's estimate from the model's shape; longer texts need more, and the reasoning builds the whole model, which needs more again)${held ? `; the engine holds ${fmtBytes(held)} now` : ""}`;
  if (!S.engineReady) $("#model-bytes").textContent = `It needs about ${fmtBytes(need)} of memory.`;
}

function onEngineError(m) {
  if (m.fatal) {
    // the engine is gone: end what was running, then say why and how to get it back
    S.engineReady = false;
    if (S.run && m.id === S.run.id) onEngineError({ ...m, fatal: false });
    else if (S.reason && m.id === S.reason.id) onEngineError({ ...m, fatal: false });
    setState("error");
    $("#model-text").textContent = "The engine stopped: it ran out of memory. Reload the page to start it again.";
    modelError(m.message, m.hint);
    updateButtons();
    return;
  }
  if (m.phase === TO_WORKER.LOAD || m.phase === PHASE.WASM) {
    setState("error");
    $("#model-text").textContent = "The model is not loaded.";
    show($("#model-progress"), false);
    modelError(m.message, m.hint || (m.quota ? "Free disk space or clear other sites' data, then reload." : "Reload the page to try again."));
    return;
  }
  if (S.run && m.id === S.run.id) {
    S.run.state = "error";
    S.run.error = m.message;
    const e = $("#run-error");
    e.textContent = `The check stopped: ${m.message}`;
    show(e);
    // the "Checking…" line and the empty bar would say it is still running
    $("#run-text").textContent = "";
    show($("#run-progress"), false);
    renderRun();
    endBusy();
  } else if (S.reason && m.id === S.reason.id) {
    $("#reasoning-status").textContent = `The reasoning stopped: ${m.message}`;
    S.reason = null;
    endBusy();
  }
}

function modelError(message, hint, warningOnly = false) {
  const e = $("#model-error");
  e.className = warningOnly ? "warning" : "error";
  fill(e, message, hint ? h("br") : "", hint || "");
  show(e);
}

async function refreshStorage() {
  if (!navigator.storage || !navigator.storage.estimate) return;
  try {
    let persisted = await navigator.storage.persisted();
    if (!persisted && navigator.storage.persist) persisted = await navigator.storage.persist();
    const { usage, quota } = await navigator.storage.estimate();
    showStorage(usage, quota, persisted);
  } catch {
    /* storage info is a nicety */
  }
}

function showStorage(usage, quota, persisted) {
  $("#storage").textContent = `Storage: this site uses ${fmtBytes(usage)} of the ${fmtBytes(quota)} the browser allows it${persisted ? " (kept until you clear site data)" : ""}.`;
}

// ---------------------------------------------------------------- validation

/** The engine's own parse of a constitution: answered between a check's steps. */
export function validate(json) {
  const id = newId();
  return new Promise((resolve) => {
    if (!S.engine) return resolve({ ok: false, error: "the engine is not running; reload the page" });
    S.validations.set(id, resolve);
    S.engine.postMessage({ type: TO_WORKER.VALIDATE, id, json });
  });
}
