// Custom constitutions: import, export, the editor, and what the judge will take each
// new principle to mean (asked of the engine as it is typed).

import { TO_WORKER, newId } from "./protocol.js";
import { $, fill, h, show } from "./dom.js";
import { LS_CUSTOM, LS_SOURCE, S, constitution } from "./state.js";
import { validate } from "./worker-link.js";
import { renderPrinciples } from "./principles.js";

// ---------------------------------------------------------------- custom constitutions

export function setCustom(c, note) {
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

export function constitutionError(msg) {
  const e = $("#constitution-error");
  e.textContent = msg;
  show(e, !!msg);
}

export async function importFile(file) {
  constitutionError("");
  const text = await file.text();
  const v = await validate(text);
  if (!v.ok) {
    constitutionError(`${file.name} is not a valid constitution: ${v.error}`);
    return;
  }
  setCustom(v.constitution, `Imported “${v.constitution.name}” from ${file.name}: ${v.constitution.principles.length} principles, saved in this browser.`);
}

export function openEditor() {
  S.editing = structuredClone(constitution());
  if (S.source !== "custom") S.editing.name = `${S.editing.name} (custom)`;
  $("#editor-name").value = S.editing.name;
  show($("#editor"));
  show($("#editor-error"), false);
  renderEditor();
  $("#editor").scrollIntoView({ block: "start" });
}

export function renderEditor() {
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

export function scheduleReads(delay = READS_AFTER_MS) {
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

export function showPrincipleReads(m) {
  const items = [...document.querySelectorAll("#editor-list .principle-reads")];
  let k = 0;
  S.readsAsked.forEach((t, i) => {
    const r = t && m.reads ? m.reads[k++] : null;
    if (items[i]) items[i].textContent = m.error ? `What the judge reads could not be computed: ${m.error}` : r ? `What the judge reads: ${r.reads}` : "";
  });
}

export async function saveEditor() {
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
