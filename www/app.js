// The page: inputs, principle selection, runs, results, reasoning, custom
// constitutions, sharing. The engine lives in worker.js; messages are in protocol.js;
// results rendering is in results.js. User text only ever reaches the DOM as text.

import { TO_WORKER, FROM_WORKER, PHASE, newId } from "./protocol.js";
import { h, fill, $, download, show, fmtBytes, fmtSeconds, pct } from "./dom.js";
import { renderResults, resultsJson, resultsCsv, label, cssId } from "./results.js";
import { EXAMPLE } from "./example.js";
import { pairParts, renderEvidence } from "./evidence.js";

const LS_INPUTS = "principle-checker.inputs.v1";
const LS_CUSTOM = "principle-checker.constitution.v1";
const LS_SOURCE = "principle-checker.source.v1";

const S = {
  engine: null,
  /** What the engine accepts (its inputLimits()), once its code has loaded. */
  limits: null,
  engineReady: false,
  engineStarted: 0,
  model: null,
  builtinJson: "",
  builtin: null,
  custom: null,
  source: "builtin",
  selected: new Set(),
  run: null,
  reason: null,
  validations: new Map(),
  editing: null,
  /** The editor's last question to the engine about what its principles read. */
  readsId: 0,
  readsAsked: [],
  /** The trained head's dimensions (names of a verdict's `by_dimension` entries). */
  dimensions: [],
};

const setState = (s) => (document.body.dataset.state = s);
const maxResponses = () => (S.limits ? S.limits.maxResponses : Infinity);
const minResponses = () => (S.limits ? S.limits.minResponses : 2);
const constitution = () => (S.source === "custom" && S.custom ? S.custom : S.builtin);

// ---------------------------------------------------------------- engine worker

function startEngine() {
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
    case FROM_WORKER.READY: {
      S.engineReady = true;
      S.model = m;
      const secs = ((performance.now() - S.engineStarted) / 1000).toFixed(1);
      $("#model-text").textContent = `Model ready: ${m.name} (${m.bundled ? "read from the extension and verified" : m.cached ? "model cached" : "downloaded, verified and cached"}; started in ${secs} s).`;
      show($("#model-progress"), false);
      $("#model-bytes").textContent = "";
      if (m.warning) modelError(m.warning, "", true);
      fill($("#about-model"), `${m.manifest.name} (Hugging Face), licence ${m.manifest.license}, weights ${m.bundled ? "shipped" : "downloaded"} as ${m.manifest.weights === "q4" ? "4-bit blocks" : m.manifest.weights || "stored"}, expanded to f32 at load and run by tract as WebAssembly`);
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
    $("#model-bytes").textContent = `${fmtBytes(m.loaded)} of ${fmtBytes(m.total)}`;
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

function onEngineError(m) {
  if (m.phase === TO_WORKER.LOAD || m.phase === PHASE.WASM) {
    setState("error");
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
function validate(json) {
  const id = newId();
  return new Promise((resolve) => {
    if (!S.engine) return resolve({ ok: false, error: "the engine is not running; reload the page" });
    S.validations.set(id, resolve);
    S.engine.postMessage({ type: TO_WORKER.VALIDATE, id, json });
  });
}

// ---------------------------------------------------------------- inputs

function responseAreas() {
  return [...document.querySelectorAll("#responses textarea")];
}

function renderResponses(values) {
  const list = $("#responses");
  fill(
    list,
    values.map((v, i) => {
      const ta = h("textarea", { id: `response-${i + 1}`, class: "response", rows: 5, spellcheck: "false", oninput: inputsChanged });
      ta.value = v;
      return h(
        "div",
        { class: "response-item" },
        h("div", { class: "row" }, h("label", { for: `response-${i + 1}` }, label(i)), h("button", { type: "button", class: "small remove-response", disabled: values.length <= minResponses(), "aria-label": `Remove ${label(i)}`, onclick: () => removeResponse(i) }, "Remove")),
        ta,
      );
    }),
  );
  $("#add-response").disabled = values.length >= maxResponses();
}

function removeResponse(i) {
  const v = responseAreas().map((t) => t.value);
  v.splice(i, 1);
  renderResponses(v);
  inputsChanged();
}

export function setInputs(conversation, responses) {
  $("#conversation").value = conversation;
  const r = responses.slice(0, maxResponses());
  while (r.length < minResponses()) r.push("");
  renderResponses(r);
  showTurns();
  inputsChanged();
}

/** Puts `text` in the first empty response, else in a new one; returns its index, or -1 when all 6 are taken. */
export function addResponse(text) {
  const v = responseAreas().map((t) => t.value);
  let i = v.findIndex((x) => !x.trim());
  if (i < 0) {
    if (v.length >= maxResponses()) return -1;
    i = v.length;
  }
  v[i] = text;
  renderResponses(v);
  inputsChanged();
  return i;
}

/** After every change to the inputs; `event` is the input event, none for text the page set. */
function inputsChanged(event) {
  saveInputs();
  updateButtons();
  // typing is read once it pauses; pasted or loaded text at once
  const typed = event && event.inputType && event.inputType !== "insertFromPaste" && event.inputType !== "insertFromDrop";
  scheduleReadAhead(typed ? READ_AHEAD_AFTER_MS : 0);
}

// Reading ahead: once the text has stopped changing for a moment, the engine reads the
// conversation and every response already typed (the trained head's pass), so that
// Check finds them read and only compares them. A check of text edited since reads
// just what changed: the engine remembers each response read after the conversation.
const READ_AHEAD_AFTER_MS = 600;
let readTimer = 0;
let readSeq = 0;
function scheduleReadAhead(delay = READ_AHEAD_AFTER_MS) {
  clearTimeout(readTimer);
  $("#read-text").textContent = "";
  readTimer = setTimeout(readAhead, delay);
}

function readAhead() {
  const conversation = $("#conversation").value;
  if (!S.engine || !S.engineReady || busy() || $("#scoring").value !== "trained-head" || !conversation.trim()) return;
  const responses = responseAreas().map((t) => t.value);
  readSeq += 1;
  S.engine.postMessage({ type: TO_WORKER.READ_AHEAD, seq: readSeq, conversation, responses, scoring: "trained-head" });
}

function onRead(m) {
  if (m.seq !== readSeq || m.error || busy()) return;
  // the engine counts the responses it read: those a check would accept
  const n = m.responses;
  $("#read-text").textContent = `Read ahead: the conversation${n ? ` and ${n} response${n === 1 ? "" : "s"}` : ""}${n >= minResponses() ? "; Check will only compare them" : ""}.`;
}

function saveInputs() {
  try {
    localStorage.setItem(LS_INPUTS, JSON.stringify({ conversation: $("#conversation").value, responses: responseAreas().map((t) => t.value) }));
  } catch {
    /* storage full or disabled: inputs just are not remembered */
  }
}

/** A preview of how the transcript splits into turns (the engine does the real parse). */
function showTurns() {
  const text = $("#conversation").value;
  const turns = [];
  const lead = [];
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    const m = /^(Human|Assistant|H|A|User):/.exec(line);
    if (m) turns.push(m[1] === "Assistant" || m[1] === "A" ? "Assistant" : "Human");
    else if (!turns.length && line.trim()) lead.push(line);
  }
  if (lead.length) turns.unshift("Human");
  // a bare "Assistant:" at the end only says who speaks next
  if (turns.length > 1 && /(^|\n)(Assistant|A):\s*$/.test(text)) turns.pop();
  $("#turns").textContent = !text.trim() ? "" : turns.length <= 1 ? "Read as a single prompt (one Human turn)." : `Read as ${turns.length} turns: ${turns.join(", ")}.`;
}

// ---------------------------------------------------------------- principles

function principleMap(c) {
  return new Map((c ? c.principles : []).map((p) => [p.id, p]));
}
function groupNames(c) {
  return new Map((c ? c.groups : []).map((g) => [g.id, g.name]));
}

function selectAll(on, onlyVisible = false) {
  const c = constitution();
  if (!c) return;
  for (const p of c.principles) {
    if (onlyVisible) {
      const el = document.getElementById(`p-${cssId(p.id)}`);
      if (el && el.closest(".principle").hidden) continue;
    }
    if (on) S.selected.add(p.id);
    else S.selected.delete(p.id);
  }
}

function renderPrinciples() {
  const c = constitution();
  const list = $("#principle-list");
  if (!c) return fill(list, h("p", { class: "muted" }, "Loading the constitution…"));
  fill(
    list,
    c.groups.map((g) => {
      const ps = c.principles.filter((p) => p.group === g.id);
      if (!ps.length) return "";
      const toggle = h("input", { type: "checkbox", id: `g-${cssId(g.id)}`, class: "group-toggle", dataset: { group: g.id } });
      toggle.addEventListener("change", () => {
        for (const p of ps) (toggle.checked ? S.selected.add(p.id) : S.selected.delete(p.id));
        syncChecks();
      });
      return h(
        "details",
        { class: "group", open: false, dataset: { group: g.id } },
        h("summary", {}, h("span", { class: "group-head" }, toggle, h("label", { for: `g-${cssId(g.id)}` }, g.name), h("span", { class: "muted count" }, ""))),
        h(
          "ul",
          { class: "plist" },
          ps.map((p) => {
            const cb = h("input", { type: "checkbox", id: `p-${cssId(p.id)}`, class: "principle-toggle", dataset: { principle: p.id } });
            cb.addEventListener("change", () => {
              cb.checked ? S.selected.add(p.id) : S.selected.delete(p.id);
              syncChecks();
            });
            return h("li", { class: "principle", dataset: { search: `${p.id} ${p.text}`.toLowerCase() } }, cb, h("label", { for: `p-${cssId(p.id)}` }, h("span", { class: "pid" }, p.id), " ", p.text));
          }),
        ),
      );
    }),
  );
  $("#constitution-source").value = S.source;
  $("#constitution-note").textContent = `${c.name}: ${c.principles.length} principles in ${c.groups.length} groups.`;
  applySearch();
  syncChecks();
}

function syncChecks() {
  const c = constitution();
  if (!c) return;
  for (const cb of document.querySelectorAll(".principle-toggle")) cb.checked = S.selected.has(cb.dataset.principle);
  for (const det of document.querySelectorAll("details.group")) {
    const ids = c.principles.filter((p) => p.group === det.dataset.group).map((p) => p.id);
    const on = ids.filter((id) => S.selected.has(id)).length;
    const t = det.querySelector(".group-toggle");
    t.checked = on === ids.length;
    t.indeterminate = on > 0 && on < ids.length;
    det.querySelector(".count").textContent = ` ${on}/${ids.length}`;
  }
  const n = c.principles.filter((p) => S.selected.has(p.id)).length;
  $("#selected-count").textContent = `${n} of ${c.principles.length} selected`;
  updateButtons();
}

function applySearch() {
  const q = $("#principle-search").value.trim().toLowerCase();
  for (const det of document.querySelectorAll("details.group")) {
    let any = false;
    for (const li of det.querySelectorAll(".principle")) {
      const hit = !q || li.dataset.search.includes(q);
      li.hidden = !hit;
      any ||= hit;
    }
    det.hidden = !any;
    if (q) det.open = any;
  }
}

function selector() {
  const c = constitution();
  const ids = c.principles.filter((p) => S.selected.has(p.id)).map((p) => p.id);
  return ids.length === c.principles.length ? "all" : ids.join(",");
}

// ---------------------------------------------------------------- runs

function busy() {
  return (S.run && (S.run.state === "running" || S.run.state === "cancelling")) || !!S.reason;
}

function updateButtons() {
  const c = constitution();
  const any = c && c.principles.some((p) => S.selected.has(p.id));
  $("#check").disabled = !S.engineReady || busy() || !any;
  $("#cancel").disabled = !busy() && !(S.run && S.run.state === "running");
  $("#add-response").disabled = responseAreas().length >= maxResponses();
  // what a check still needs, said before it is pressed (Check stays pressable: the
  // engine's own message names the exact problem)
  const missing = [];
  if (!$("#conversation").value.trim()) missing.push("a conversation");
  const filled = responseAreas().filter((t) => t.value.trim()).length;
  if (filled < 2) missing.push(filled === 0 ? "two responses" : "a second response");
  if (!any) missing.push("a selected principle");
  $("#check-hint").textContent = missing.length ? `Still needed: ${missing.join(", ")}.` : "";
}

function endBusy() {
  if (S.engineReady) setState("ready");
  updateButtons();
  // text edited while the engine was busy is read now
  scheduleReadAhead();
}

function startCheck() {
  const c = constitution();
  const sel = selector();
  if (!sel) return;
  show($("#run-error"), false);
  clearTimeout(readTimer);
  $("#read-text").textContent = "";
  const responses = responseAreas().map((t) => t.value);
  const id = newId();
  S.run = {
    id,
    state: "running",
    conversation: $("#conversation").value,
    responses,
    constitutionName: c.name,
    constitutionJson: S.source === "custom" ? JSON.stringify(c) : "",
    principles: principleMap(c),
    groupNames: groupNames(c),
    model: S.model ? S.model.name : "",
    standing: null,
    total: sel === "all" ? c.principles.length : sel.split(",").length,
    started: performance.now(),
    result: null,
  };
  S.engine.postMessage({ type: TO_WORKER.CHECK, id, conversation: S.run.conversation, responses, constitution: S.run.constitutionJson, selector: sel, scoring: $("#scoring").value });
  setState("checking");
  document.body.dataset.run = "running";
  const bar = $("#run-progress");
  bar.max = S.run.total;
  bar.value = 0;
  show(bar);
  $("#run-text").textContent = `Checking ${S.run.total} principle${S.run.total === 1 ? "" : "s"}… the first verdicts take a few seconds.`;
  show($("#results"), false);
  dockReasoning();
  for (const sel of ["#legend", "#overall", "#disagree", "#ranking", "#groups", "#matrix", "#verdicts tbody"]) fill($(sel));
  show($("#reasoning"), false);
  updateButtons();
}

// Verdicts move the progress bar as they come; the rows and summaries are drawn
// from the engine's result after each step (STANDING), never re-derived here.
function onVerdict(m) {
  const r = S.run;
  r.done = m.done;
  r.total = m.total;
  const bar = $("#run-progress");
  bar.max = m.total;
  bar.value = m.done;
  const elapsed = (performance.now() - r.started) / 1000;
  const left = (elapsed / m.done) * (m.total - m.done);
  $("#run-text").textContent = `${m.done} of ${m.total} principles done${m.done < m.total ? ` · about ${fmtSeconds(left)} left` : ""}`;
}

let renderQueued = false;
function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderRun();
  });
}

function finishRun(result) {
  const r = S.run;
  r.state = "done";
  r.result = result;
  // from the click, as the person waited: a check may first wait for a read ahead
  const ms = performance.now() - r.started;
  document.body.dataset.run = "done";
  const readBefore = result.scoring !== "zero-shot" && result.tokens_processed === 0;
  $("#run-text").textContent = `Done: ${result.verdicts.length} principles in ${ms < 1000 ? `${Math.round(ms)} ms` : fmtSeconds(ms / 1000)}${readBefore ? " (the text had been read ahead)" : ""}.`;
  show($("#run-progress"), false);
  renderRun();
  endBusy();
}

// Cancel asks the engine to stop the check or the reasoning at its next step; for a
// check the engine answers with the result so far (CANCELLED). The engine keeps the
// model and everything it read.
function cancel() {
  const r = S.run;
  if (r && r.state === "running") {
    r.state = "cancelling";
    $("#run-text").textContent = "Stopping after the current step…";
    S.engine.postMessage({ type: TO_WORKER.CANCEL, id: r.id });
  }
  if (S.reason) {
    S.engine.postMessage({ type: TO_WORKER.CANCEL, id: S.reason.id });
    $("#reasoning-status").textContent = "Stopped.";
    S.reason = null;
  }
  updateButtons();
}

function cancelled(result) {
  const r = S.run;
  r.state = "cancelled";
  if (result) r.standing = result;
  document.body.dataset.run = "cancelled";
  const kept = r.standing ? r.standing.verdicts.length : 0;
  $("#run-text").textContent = `Cancelled: kept ${kept} of ${r.total} verdicts.`;
  show($("#run-progress"), false);
  renderRun();
  endBusy();
}

/** The run's result as the engine last gave it: finished, or so far. */
const runResult = (r) => r.result || r.standing;

function renderRun() {
  const r = S.run;
  if (!r) return;
  const result = runResult(r);
  if (!result || !result.verdicts.length) return;
  show($("#results"));
  $("#results-state").textContent =
    r.state === "done"
      ? `${result.verdicts.length} principles of ${r.constitutionName}, judged by ${r.model} ${result.scoring === "zero-shot" ? "zero-shot. Each verdict is the model's answer probability, averaged over both orders; zero-shot this model is at chance" : "with its trained head. Each verdict is the head's probability; on held-out harmlessness comparisons it agrees with the human label about 63% of the time"} (see “About this judge”).`
      : r.state === "cancelled"
        ? `Cancelled: ${result.verdicts.length} of ${r.total} principles were judged before you stopped the run. Summaries cover those only.`
        : r.state === "error"
          ? `Stopped by an error after ${result.verdicts.length} of ${r.total} principles.`
          : `${result.verdicts.length} of ${r.total} principles so far…`;
  dockReasoning(); // the rows are rebuilt: the panel would go with its row
  renderResults({ result, partial: r.state !== "done", principles: r.principles, groupNames: r.groupNames, n: r.responses.length, responses: r.responses, onReason: openReason, dimensions: S.dimensions });
  placeReasoning();
  if (!$("#reasoning").hidden) showEvidence();
}

/** The judge choice and the "about" figures, from the head the engine loaded. */
function showJudge(head) {
  const trained = $("#scoring").querySelector('option[value="trained-head"]');
  trained.disabled = !head;
  if (!head) {
    $("#scoring").value = "zero-shot";
    $("#about-trust").textContent = "This model has no trained head, so it judges zero-shot, which for a model this small is close to chance. Use it to explore how a constitution reads, not to decide anything.";
    return;
  }
  S.dimensions = head.dimensions || [];
  const held = (head.metrics || {}).held_out || {};
  const f = (x) => (typeof x === "number" ? `${(x * 100).toFixed(1)}%` : "?");
  const figure = (d) => {
    const m = held[d.name] || {};
    return `${d.label} ${f(m.accuracy)} (better reply shorter ${f(m.better_shorter)}, longer ${f(m.better_longer)})`;
  };
  const sanity = (head.metrics || {}).sanity;
  fill(
    $("#about-trust"),
    "Somewhat, for the kinds of comparison it was trained on. The head scores each response on ",
    h("strong", {}, String(S.dimensions.length)),
    " dimensions, each trained on its own labelled data, and every principle weighs them: a verdict's row says which dimensions moved it. Measured on data each head never saw (5-fold cross-validation, folds by source and topic), the share of verdicts under a dimension's principles that agree with the label: ",
    S.dimensions.map(figure).join("; "),
    ". Chance is 50%; on HH-RLHF large human-feedback models reach about 70%.",
    sanity ? ` On the project's own suite of obvious cases it gets ${sanity.fitting_right} of ${sanity.fitting} verdicts under fitting principles and ${sanity.overall_right} of ${sanity.cases} overall verdicts right; a person gets all of them.` : "",
    " Zero-shot, the same model is at chance. Use it to explore how a constitution reads, not to decide anything. The table, method and data are in ",
    h("a", { href: "BENCHMARKS.md" }, "BENCHMARKS.md"),
    ".",
  );
}

// ---------------------------------------------------------------- reasoning

// The panel opens in a row of its own under the principle it explains, so a reader
// who clicks a row at the top of a 58-row table stays there; it goes back to its
// place after the table when closed, and while the table's rows are rebuilt.
let reasoningHome = null;

function dockReasoning() {
  const panel = $("#reasoning");
  if (!reasoningHome) reasoningHome = { parent: panel.parentNode, next: panel.nextSibling };
  const holder = panel.closest("tr.reasoning-row");
  if (!holder) return;
  reasoningHome.parent.insertBefore(panel, reasoningHome.next);
  holder.remove();
}

function placeReasoning() {
  const panel = $("#reasoning");
  dockReasoning();
  const row = panel.hidden || !panel.dataset.principle ? null : document.getElementById(`row-${cssId(panel.dataset.principle)}`);
  if (!row) return;
  const cell = h("td", { colspan: String(row.children.length) });
  row.after(h("tr", { class: "reasoning-row" }, cell));
  cell.append(panel);
}

function closeReason() {
  const panel = $("#reasoning");
  dockReasoning();
  show(panel, false);
  const row = panel.dataset.principle && document.getElementById(`row-${cssId(panel.dataset.principle)}`);
  if (row) row.querySelector(".reason-btn").focus();
}

function openReason(principleId) {
  const r = S.run;
  const p = r.principles.get(principleId);
  const v = (runResult(r) || { verdicts: [] }).verdicts.find((x) => x.principle_id === principleId);
  const panel = $("#reasoning");
  panel.dataset.principle = principleId;
  fill($("#reasoning-principle"), h("strong", {}, principleId), ": ", p.text);
  const n = r.responses.length;
  let first = 0;
  let second = 1;
  if (v && n > 2) {
    const order = [...v.preference.keys()].sort((a, b) => v.preference[b] - v.preference[a]);
    [first, second] = [Math.min(order[0], order[1]), Math.max(order[0], order[1])];
  }
  for (const [sel, val] of [[$("#reasoning-first"), first], [$("#reasoning-second"), second]]) {
    fill(sel, [...Array(n).keys()].map((i) => h("option", { value: String(i) }, label(i))));
    sel.value = String(val);
  }
  $("#reasoning-text").textContent = "";
  $("#reasoning-answer").textContent = "";
  $("#reasoning-status").textContent = "";
  show(panel);
  placeReasoning();
  showEvidence();
  // the row read from stays in view, its panel under it: the panel (now with the
  // evidence) can be taller than the window, and scrolling to its end would hide the row
  const row = document.getElementById(`row-${cssId(principleId)}`);
  (row || panel).scrollIntoView({ block: "start" });
  // the trained head's verdict is explained by its evidence; the model's own words are
  // a slow extra written on request. Zero-shot verdicts have no evidence to show.
  if (!v || !v.because) runReason();
}

/** The open principle's evidence for the two responses selected in the panel. */
function showEvidence() {
  const r = S.run;
  const el = $("#evidence");
  const pid = $("#reasoning").dataset.principle;
  if (!r || !pid) return;
  const v = (runResult(r) || { verdicts: [] }).verdicts.find((x) => x.principle_id === pid);
  const first = Number($("#reasoning-first").value);
  const second = Number($("#reasoning-second").value);
  const hasEvidence = !!(v && (v.because || v.reads));
  show(el, hasEvidence);
  if (!hasEvidence) return;
  const parts = first === second ? null : pairParts(runResult(r), v, first, second);
  // `because` speaks of the chosen response against the runner-up; for any other
  // pair the marked sentences speak for themselves
  const runnerUp = [...v.preference.keys()].filter((i) => i !== v.chosen).sort((a, b) => v.preference[b] - v.preference[a])[0];
  const pairIsVerdict = new Set([first, second]).has(v.chosen) && new Set([first, second]).has(runnerUp);
  renderEvidence(el, { verdict: pairIsVerdict ? v : { reads: v.reads }, parts, label, pending: r.result ? null : r.state });
}

function runReason() {
  const r = S.run;
  const pid = $("#reasoning").dataset.principle;
  const first = Number($("#reasoning-first").value);
  const second = Number($("#reasoning-second").value);
  if (first === second) {
    $("#reasoning-status").textContent = "Pick two different responses.";
    return;
  }
  if (!S.engineReady) {
    $("#reasoning-status").textContent = "The model is still loading; try again in a moment.";
    return;
  }
  const id = newId();
  S.reason = { id, first, second, started: performance.now(), pieces: 0 };
  $("#reasoning-text").textContent = "";
  $("#reasoning-answer").textContent = "";
  $("#reasoning-status").textContent = S.run && S.run.state === "running" ? "Waiting for the check to finish…" : "Writing…";
  $("#reasoning").dataset.state = "running";
  S.engine.postMessage({ type: TO_WORKER.REASON, id, conversation: r.conversation, principle: r.principles.get(pid).text, first: r.responses[first], second: r.responses[second], maxTokens: Number($("#reasoning-tokens").value) });
  if (!(S.run && S.run.state === "running")) setState("reasoning");
  updateButtons();
}

function onReasonText(piece) {
  S.reason.pieces++;
  $("#reasoning-status").textContent = "Writing…";
  $("#reasoning-text").append(document.createTextNode(piece));
  $("#reasoning").dataset.pieces = String(S.reason.pieces);
}

function finishReason(res, ms) {
  const { first, second } = S.reason;
  S.reason = null;
  $("#reasoning").dataset.state = "done";
  $("#reasoning-status").textContent = `${res.tokens} tokens in ${fmtSeconds(ms / 1000)}.`;
  const better = res.p_first >= 0.5 ? first : second;
  const p = res.p_first >= 0.5 ? res.p_first : 1 - res.p_first;
  $("#reasoning-answer").textContent = `Answer: ${label(better)} (${pct(p)} after clamping to 40–60%; before clamping, ${label(first)} had ${pct(res.p_first_raw)}).`;
  endBusy();
}

// ---------------------------------------------------------------- custom constitutions

function setCustom(c, note) {
  S.custom = c;
  S.source = "custom";
  try {
    localStorage.setItem(LS_CUSTOM, JSON.stringify(c));
    localStorage.setItem(LS_SOURCE, "custom");
  } catch {
    /* not remembered */
  }
  S.selected = new Set(c.principles.map((p) => p.id));
  renderPrinciples();
  if (note) $("#constitution-note").textContent = note;
}

function constitutionError(msg) {
  const e = $("#constitution-error");
  e.textContent = msg;
  show(e, !!msg);
}

async function importFile(file) {
  constitutionError("");
  const text = await file.text();
  const v = await validate(text);
  if (!v.ok) {
    constitutionError(`${file.name} is not a valid constitution: ${v.error}`);
    return;
  }
  setCustom(v.constitution, `Imported “${v.constitution.name}” from ${file.name}: ${v.constitution.principles.length} principles, saved in this browser.`);
}

function openEditor() {
  S.editing = structuredClone(constitution());
  if (S.source !== "custom") S.editing.name = `${S.editing.name} (custom)`;
  $("#editor-name").value = S.editing.name;
  show($("#editor"));
  show($("#editor-error"), false);
  renderEditor();
  $("#editor").scrollIntoView({ block: "start" });
}

function renderEditor() {
  const c = S.editing;
  fill($("#editor-groups"), h("p", { class: "muted" }, "Groups: ", c.groups.map((g) => g.name).join(" · ")));
  fill(
    $("#editor-list"),
    c.principles.map((p, i) => {
      const text = h("textarea", { rows: 2, "aria-label": `Text of principle ${i + 1}`, oninput: (e) => ((p.text = e.target.value), scheduleReads()) });
      text.value = p.text;
      const id = h("input", { type: "text", value: p.id, "aria-label": `Id of principle ${i + 1}`, oninput: (e) => (p.id = e.target.value) });
      const group = h("select", { "aria-label": `Group of principle ${i + 1}`, onchange: (e) => (p.group = e.target.value) }, c.groups.map((g) => h("option", { value: g.id }, g.name)));
      group.value = p.group;
      const move = (d) => () => {
        const j = i + d;
        if (j < 0 || j >= c.principles.length) return;
        [c.principles[i], c.principles[j]] = [c.principles[j], c.principles[i]];
        renderEditor();
      };
      return h(
        "li",
        { class: "edit-item" },
        h("div", { class: "row" }, id, group, h("button", { type: "button", class: "small", onclick: move(-1), "aria-label": `Move principle ${i + 1} up`, disabled: i === 0 }, "↑"), h("button", { type: "button", class: "small", onclick: move(1), "aria-label": `Move principle ${i + 1} down`, disabled: i === c.principles.length - 1 }, "↓"), h("button", { type: "button", class: "small", "aria-label": `Delete principle ${i + 1}`, onclick: () => (c.principles.splice(i, 1), renderEditor()) }, "Delete")),
        text,
        h("p", { class: "principle-reads muted", id: `principle-reads-${i}`, "aria-live": "polite" }),
      );
    }),
  );
  scheduleReads(0);
}

// What the judge takes each principle to mean (its trained head's weights in words),
// asked of the engine as the text settles: an educator sees at once what a new
// principle will be judged on, or that it speaks to none of the judge's scores.
const READS_AFTER_MS = 500;
let readsTimer = null;

function scheduleReads(delay = READS_AFTER_MS) {
  clearTimeout(readsTimer);
  if (S.editing && !$("#editor").hidden) readsTimer = setTimeout(askReads, delay);
}

function askReads() {
  const items = [...document.querySelectorAll("#editor-list .principle-reads")];
  if (!S.engineReady) {
    items.forEach((el) => (el.textContent = "What the judge reads in this principle is shown once the model has loaded."));
    return;
  }
  if (!S.model || !S.model.head) {
    items.forEach((el) => (el.textContent = ""));
    return;
  }
  // empty texts are not asked about: there is nothing to read
  const texts = S.editing.principles.map((p) => p.text.trim());
  S.readsId = newId();
  S.readsAsked = texts;
  S.engine.postMessage({ type: TO_WORKER.PRINCIPLE_READS, id: S.readsId, texts: texts.filter(Boolean) });
}

function showPrincipleReads(m) {
  const items = [...document.querySelectorAll("#editor-list .principle-reads")];
  let k = 0;
  S.readsAsked.forEach((t, i) => {
    const r = t && m.reads ? m.reads[k++] : null;
    if (items[i]) items[i].textContent = m.error ? `What the judge reads could not be computed: ${m.error}` : r ? `What the judge reads: ${r.reads}` : "";
  });
}

async function saveEditor() {
  S.editing.name = $("#editor-name").value;
  const v = await validate(JSON.stringify(S.editing));
  const e = $("#editor-error");
  if (!v.ok) {
    e.textContent = `Not saved: ${v.error}`;
    show(e);
    return;
  }
  show(e, false);
  setCustom(v.constitution, `Saved “${v.constitution.name}”: ${v.constitution.principles.length} principles, in this browser.`);
  show($("#editor"), false);
}

// ---------------------------------------------------------------- sharing

const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0));

async function pipe(bytes, stream) {
  return new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer());
}

async function shareLink() {
  const payload = { v: 1, conversation: $("#conversation").value, responses: responseAreas().map((t) => t.value), constitution: S.source === "custom" ? S.custom : null };
  const raw = new TextEncoder().encode(JSON.stringify(payload));
  const packed = await pipe(raw, new CompressionStream("deflate-raw"));
  let bin = "";
  for (let i = 0; i < packed.length; i += 8192) bin += String.fromCharCode(...packed.subarray(i, i + 8192));
  const frag = `#s=${btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
  const url = `${location.origin}${location.pathname}${frag}`;
  const out = $("#share-out");
  out.value = url;
  show(out);
  out.select();
  try {
    await navigator.clipboard.writeText(url);
    $("#turns").textContent = "Share link copied. It carries the inputs (and a custom constitution) after the #, which is never sent to a server.";
  } catch {
    /* the field shows it */
  }
}

async function readShared() {
  const m = /^#s=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return false;
  try {
    const raw = await pipe(unb64u(m[1]), new DecompressionStream("deflate-raw"));
    const p = JSON.parse(new TextDecoder().decode(raw));
    setInputs(String(p.conversation || ""), Array.isArray(p.responses) ? p.responses.map(String) : []);
    if (p.constitution) {
      const v = await validate(JSON.stringify(p.constitution));
      if (v.ok) setCustom(v.constitution, `Loaded “${v.constitution.name}” from the link and saved it in this browser.`);
      else constitutionError(`The link's constitution is not valid: ${v.error}`);
    }
    return true;
  } catch (e) {
    constitutionError(`The share link could not be read (${e.message}); it may have been cut short.`);
    return false;
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  $("#load-example").addEventListener("click", () => setInputs(EXAMPLE.conversation, EXAMPLE.responses));
  $("#add-response").addEventListener("click", () => {
    const v = responseAreas().map((t) => t.value);
    if (v.length >= maxResponses()) return;
    renderResponses([...v, ""]);
    responseAreas().at(-1).focus();
    inputsChanged();
  });
  $("#conversation").addEventListener("input", (e) => {
    showTurns();
    inputsChanged(e);
  });
  // only the trained head reads ahead: back to it, read what is there
  $("#scoring").addEventListener("change", () => scheduleReadAhead(0));
  $("#share").addEventListener("click", shareLink);
  $("#principle-search").addEventListener("input", applySearch);
  $("#select-all").addEventListener("click", () => (selectAll(true, true), syncChecks()));
  $("#select-none").addEventListener("click", () => (selectAll(false, true), syncChecks()));
  $("#constitution-source").addEventListener("change", (e) => {
    if (e.target.value === "custom" && !S.custom) {
      e.target.value = "builtin";
      constitutionError("There is no custom constitution yet: use “Edit a custom copy” or “Import JSON…”.");
      return;
    }
    constitutionError("");
    S.source = e.target.value;
    try {
      localStorage.setItem(LS_SOURCE, S.source);
    } catch {
      /* storage full or disabled: the choice holds for this visit */
    }
    S.selected = new Set(constitution().principles.map((p) => p.id));
    renderPrinciples();
  });
  $("#import-file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    e.target.value = "";
    if (f) importFile(f);
  });
  $("#export-constitution").addEventListener("click", () => {
    const c = constitution();
    if (c) download(S.source === "custom" ? "constitution-custom.json" : "claude-2023.json", "application/json", S.source === "custom" ? JSON.stringify(c, null, 2) : S.builtinJson);
  });
  $("#edit-constitution").addEventListener("click", openEditor);
  $("#editor-close").addEventListener("click", () => show($("#editor"), false));
  $("#editor-save").addEventListener("click", saveEditor);
  $("#editor-add").addEventListener("click", () => {
    const c = S.editing;
    let k = c.principles.length + 1;
    while (c.principles.some((p) => p.id === `custom-${k}`)) k++;
    c.principles.push({ id: `custom-${k}`, group: c.groups[0].id, text: "Please choose the response that …" });
    renderEditor();
    $("#editor-list").lastElementChild.querySelector("textarea").focus();
  });
  $("#editor-add-group").addEventListener("click", () => {
    const name = $("#editor-new-group").value.trim();
    if (!name) return;
    const base = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "group";
    let id = base;
    for (let k = 2; S.editing.groups.some((g) => g.id === id); k++) id = `${base}-${k}`;
    S.editing.groups.push({ id, name, source: name });
    $("#editor-new-group").value = "";
    renderEditor();
  });
  $("#check").addEventListener("click", startCheck);
  $("#cancel").addEventListener("click", cancel);
  $("#reasoning-run").addEventListener("click", runReason);
  $("#reasoning-first").addEventListener("change", showEvidence);
  $("#reasoning-second").addEventListener("change", showEvidence);
  $("#reasoning-close").addEventListener("click", closeReason);
  $("#export-json").addEventListener("click", () => S.run && download("principle-checker-results.json", "application/json", resultsJson(S.run)));
  $("#export-csv").addEventListener("click", () => S.run && download("principle-checker-results.csv", "text/csv", resultsCsv({ ...S.run, result: runResult(S.run) }, S.run.principles)));
}

async function main() {
  wire();
  try {
    const c = localStorage.getItem(LS_CUSTOM);
    if (c) S.custom = JSON.parse(c);
    if (S.custom && localStorage.getItem(LS_SOURCE) === "custom") S.source = "custom";
    const saved = JSON.parse(localStorage.getItem(LS_INPUTS) || "null");
    if (saved) setInputs(saved.conversation || "", saved.responses || []);
    else setInputs("", ["", ""]);
  } catch {
    setInputs("", ["", ""]);
  }
  renderPrinciples();
  startEngine();
  await readShared();
  // (not in the browser extension: its files are installed, and it has no sw.js)
  if ("serviceWorker" in navigator && window.isSecureContext && /^https?:$/.test(location.protocol)) {
    navigator.serviceWorker.register("./sw.js").catch((e) => console.warn("service worker not registered:", e.message));
  }
}

main();
