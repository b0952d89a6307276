// The conversation and response boxes: adding and removing responses, keeping them in
// localStorage, and reading settled text ahead of Check with the trained head.

import { TO_WORKER } from "./protocol.js";
import { $, fill, h } from "./dom.js";
import { label } from "./results.js";
import { LS_INPUTS, S, maxResponses, minResponses } from "./state.js";
import { busy, updateButtons } from "./run.js";

// ---------------------------------------------------------------- inputs

export function responseAreas() {
  return [...document.querySelectorAll("#responses textarea")];
}

export function renderResponses(values) {
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
export function inputsChanged(event) {
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
export let readTimer = 0;
let readSeq = 0;
export function scheduleReadAhead(delay = READ_AHEAD_AFTER_MS) {
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

export function onRead(m) {
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
export function showTurns() {
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
