// The "Why" panel under a principle's row: the engine's evidence for the verdict, and
// on request the model's chain of thought, written a few tokens at a time.

import { TO_WORKER, newId } from "./protocol.js";
import { $, fill, fmtSeconds, h, pct, show } from "./dom.js";
import { cssId, label } from "./results.js";
import { pairParts, renderEvidence } from "./evidence.js";
import { S, setState } from "./state.js";
import { endBusy, runResult, updateButtons } from "./run.js";

// ---------------------------------------------------------------- reasoning

// The panel opens in a row of its own under the principle it explains, so a reader
// who clicks a row at the top of a 58-row table stays there; it goes back to its
// place after the table when closed, and while the table's rows are rebuilt.
let reasoningHome = null;

export function dockReasoning() {
  const panel = $("#reasoning");
  if (!reasoningHome) reasoningHome = { parent: panel.parentNode, next: panel.nextSibling };
  const holder = panel.closest("tr.reasoning-row");
  if (!holder) return;
  reasoningHome.parent.insertBefore(panel, reasoningHome.next);
  holder.remove();
}

export function placeReasoning() {
  const panel = $("#reasoning");
  dockReasoning();
  const row = panel.hidden || !panel.dataset.principle ? null : document.getElementById(`row-${cssId(panel.dataset.principle)}`);
  if (!row) return;
  const cell = h("td", { colspan: String(row.children.length) });
  row.after(h("tr", { class: "reasoning-row" }, cell));
  cell.append(panel);
}

export function closeReason() {
  const panel = $("#reasoning");
  dockReasoning();
  show(panel, false);
  const row = panel.dataset.principle && document.getElementById(`row-${cssId(panel.dataset.principle)}`);
  if (row) row.querySelector(".reason-btn").focus();
}

export function openReason(principleId) {
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
export function showEvidence() {
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

export function runReason() {
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

export function onReasonText(piece) {
  S.reason.pieces++;
  $("#reasoning-status").textContent = "Writing…";
  $("#reasoning-text").append(document.createTextNode(piece));
  $("#reasoning").dataset.pieces = String(S.reason.pieces);
}

export function finishReason(res, ms) {
  const { first, second } = S.reason;
  S.reason = null;
  $("#reasoning").dataset.state = "done";
  $("#reasoning-status").textContent = `${res.tokens} tokens in ${fmtSeconds(ms / 1000)}.`;
  const better = res.p_first >= 0.5 ? first : second;
  const p = res.p_first >= 0.5 ? res.p_first : 1 - res.p_first;
  $("#reasoning-answer").textContent = `Answer: ${label(better)} (${pct(p)} after clamping to 40–60%; before clamping, ${label(first)} had ${pct(res.p_first_raw)}).`;
  endBusy();
}
