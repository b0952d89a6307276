// A check: starting it, progress as verdicts stream, Cancel, and drawing the engine's
// result (finished or so far) through results.js. The page never re-derives it.

import { TO_WORKER, newId } from "./protocol.js";
import { $, fill, fmtSeconds, h, show } from "./dom.js";
import { renderResults } from "./results.js";
import { S, constitution, maxResponses, setState } from "./state.js";
import { readTimer, responseAreas, scheduleReadAhead } from "./inputs.js";
import { groupNames, principleMap, selector } from "./principles.js";
import { dockReasoning, openReason, placeReasoning, showEvidence } from "./reasoning.js";

// ---------------------------------------------------------------- runs

export function busy() {
  return (S.run && (S.run.state === "running" || S.run.state === "cancelling")) || !!S.reason;
}

export function updateButtons() {
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

export function endBusy() {
  if (S.engineReady) setState("ready");
  updateButtons();
  // text edited while the engine was busy is read now
  scheduleReadAhead();
}

export function startCheck() {
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
export function onVerdict(m) {
  const r = S.run;
  r.total = m.total;
  const bar = $("#run-progress");
  bar.max = m.total;
  bar.value = m.done;
  const elapsed = (performance.now() - r.started) / 1000;
  const left = (elapsed / m.done) * (m.total - m.done);
  $("#run-text").textContent = `${m.done} of ${m.total} principles done${m.done < m.total ? ` · about ${fmtSeconds(left)} left` : ""}`;
}

let renderQueued = false;
export function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderRun();
  });
}

export function finishRun(result) {
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
export function cancel() {
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

export function cancelled(result) {
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
export const runResult = (r) => r.result || r.standing;

export function renderRun() {
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
export function showJudge(head) {
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
  // the edit term is a column of the verdicts but no dimension with data of its own
  const scored = S.dimensions.filter((d) => !head.edit || d.name !== head.edit.name);
  fill(
    $("#about-trust"),
    "Somewhat, for the kinds of comparison it was trained on. The head scores each response on ",
    h("strong", {}, String(scored.length)),
    " dimensions, each trained on its own labelled data, and every principle weighs them: a verdict's row says which dimensions moved it. Measured on data each head never saw (5-fold cross-validation, folds by source and topic), the share of verdicts under a dimension's principles that agree with the label: ",
    scored.map(figure).join("; "),
    ". Chance is 50%; on HH-RLHF large human-feedback models reach about 70%.",
    (head.likelihood || []).length
      ? ` The ${head.likelihood.map((d) => d.label).join(", ")} score also reads how likely the model itself finds each response's words, token by token: a sum worked out wrongly surprises it even where the two responses read alike.`
      : "",
    head.edit
      ? ` Where two responses are one small edit apart (the same text with a number or a few words changed), the principles also weigh which version of the edited sentences the model itself finds likelier (“${head.edit.label}”), read at its last layer in a short pass of those two responses: a sum worked out wrongly surprises it even where the two responses read alike. This small model is not always right about that, so a verdict names it apart from the dimensions when it moved it.`
      : "",
    sanity ? ` On the project's own suite of obvious cases it gets ${sanity.fitting_right} of ${sanity.fitting} verdicts under fitting principles and ${sanity.overall_right} of ${sanity.cases} overall verdicts right; a person gets all of them.` : "",
    " Zero-shot, the same model is at chance. Use it to explore how a constitution reads, not to decide anything. The table, method and data are in ",
    h("a", { href: "BENCHMARKS.md" }, "BENCHMARKS.md"),
    ".",
  );
}
