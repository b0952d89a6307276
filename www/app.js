// The page's entry: wires the controls to the modules that handle them and starts the
// engine. The engine lives in worker.js (messages in protocol.js, the page's side in
// worker-link.js); each concern of the page has a module of its own. User text only
// ever reaches the DOM as text.

import { $, download, show } from "./dom.js";
import { resultsCsv, resultsJson } from "./results.js";
import { EXAMPLE } from "./example.js";
import { LS_CUSTOM, LS_INPUTS, LS_SOURCE, S, constitution, maxResponses } from "./state.js";
import { startEngine } from "./worker-link.js";
import { inputsChanged, renderResponses, responseAreas, scheduleReadAhead, setInputs, showTurns } from "./inputs.js";
import { applySearch, renderPrinciples, selectAll, syncChecks } from "./principles.js";
import { cancel, runResult, startCheck } from "./run.js";
import { closeReason, runReason, showEvidence } from "./reasoning.js";
import { constitutionError, importFile, openEditor, renderEditor, saveEditor } from "./editor.js";
import { readShared, shareLink } from "./share.js";

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

// the browser extension's side panel reuses these
export { addResponse, setInputs } from "./inputs.js";

main();
