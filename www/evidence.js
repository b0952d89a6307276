// Which sentences decided a trained-head verdict: the engine's own split of the
// verdict's logit among the parts of the two responses (src/judge/evidence.rs), drawn over
// the responses' text. The page re-derives none of it: the parts, their shares and
// the summary come from the engine; here they are only coloured and labelled.
//
// Every part is a text node inside a <span>: pasted HTML stays text.

import { h, fill } from "./dom.js";

/** Below this fraction of the strongest part, a part is left unmarked. */
const FAINT = 0.08;

/**
 * The evidence of one pair under one verdict, ready to draw: for each of the two
 * responses, its parts with each part's share signed towards its own response
 * (positive: the principle counts the sentence in that response's favour).
 * `null` when the check carried no evidence (zero-shot scoring, or a run that did
 * not finish: part texts come with the finished result).
 */
export function pairParts(result, verdict, first, second) {
  if (!result || !result.evidence || !result.evidence.length || !verdict) return null;
  const [a, b] = [Math.min(first, second), Math.max(first, second)];
  const pair = verdict.pairs.find((p) => p.first === a && p.second === b);
  if (!pair || !pair.evidence) return null;
  const labels = (result.dimensions || []).map((d) => d.label);
  const side = (r, shares, sign) => ({
    response: r,
    parts: result.evidence[r].parts.map((text, k) => ({ text, weight: sign * shares[k] })),
    // the response's own score on each dimension, weighed by no principle
    scores: (result.evidence[r].score || []).map((s, k) => ({ label: labels[k] || `score ${k + 1}`, score: s })),
  });
  // the engine signs both sides towards `first`: a part of the second response that
  // speaks for it counts negative there, and positive for its own response here
  return {
    sides: [side(a, pair.evidence.first, 1), side(b, pair.evidence.second, -1)],
    rest: pair.evidence.rest,
    first: a,
    second: b,
    // one edit apart: each position's net share, half on each version; elsewhere the
    // same for the sentences both say (src/judge/evidence.rs)
    edit: Boolean(pair.evidence.edit),
    shared: (pair.evidence.shared || []).length > 0,
  };
}

function strength(weight, strongest) {
  const x = strongest > 0 ? Math.abs(weight) / strongest : 0;
  if (x < FAINT) return 0;
  return x >= 0.66 ? 3 : x >= 0.33 ? 2 : 1;
}

const signed = (x) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(2)}`;

/** Words for one part's share, shown on hover and read out on keyboard focus. */
export function partNote(weight, response, label) {
  if (Math.abs(weight) < 0.005) return `${signed(weight)}: weighs next to nothing under this principle`;
  return `${signed(weight)} ${weight > 0 ? "for" : "against"} ${label(response)} under this principle`;
}

/**
 * Draws the evidence into `el`: the engine's summary, what the principle reads, and
 * both responses with each part marked by sign (colour and underline style) and
 * strength (colour depth and underline weight); the numbers on hover and on focus.
 */
export function renderEvidence(el, { verdict, parts, label, pending }) {
  // pending: the run's state when it has no finished result ("running", "cancelled")
  const readout = h("p", { class: "evidence-readout muted", role: "status", "aria-live": "polite" }, "Point at a sentence, or move to it with Tab, to see its share.");
  const blocks = [];
  if (parts) {
    const strongest = Math.max(0, ...parts.sides.flatMap((s) => s.parts.map((p) => Math.abs(p.weight))));
    for (const s of parts.sides) {
      blocks.push(
        h(
          "div",
          { class: "evidence-response", dataset: { response: String(s.response) } },
          h("h4", {}, label(s.response)),
          s.scores.length ? h("p", { class: "evidence-scores muted" }, "Scores: ", s.scores.map((d) => `${d.label} ${signed(d.score)}`).join(" · ")) : "",
          h(
            "p",
            { class: "evidence-text" },
            s.parts.map((p, k) => {
              const level = strength(p.weight, strongest);
              const note = partNote(p.weight, s.response, label);
              const show = () => (readout.textContent = `${label(s.response)}, part ${k + 1}: ${note}.`);
              return h(
                "span",
                {
                  class: `ev ${level ? (p.weight > 0 ? "ev-for" : "ev-against") : "ev-none"} ev-${level}`,
                  tabindex: "0",
                  title: note,
                  dataset: { weight: p.weight.toFixed(4) },
                  onmouseenter: show,
                  onfocus: show,
                },
                p.text,
              );
            }),
          ),
        ),
      );
    }
  }
  fill(
    el,
    h("h3", {}, "Why this verdict"),
    verdict && verdict.because ? h("p", { class: "evidence-because" }, verdict.because) : "",
    verdict && verdict.reads ? h("p", { class: "evidence-reads" }, verdict.reads) : "",
    parts
      ? [
          h("div", { class: "evidence-responses", dataset: { rest: parts.rest.toFixed(4) } }, blocks),
          readout,
          h(
            "p",
            { class: "note" },
            h("span", { class: "ev ev-for ev-3" }, "solid underline"),
            " speaks for its response, ",
            h("span", { class: "ev ev-against ev-3" }, "dashed underline"),
            ` against it; deeper colour and a thicker line mean a larger share. A response's scores are its place on each of the judge's dimensions (higher is better there), before the principle weighs them. Each number is that sentence's exact share of the verdict's logit (${label(parts.first)} over ${label(parts.second)}), taken from the same hidden states the verdict was computed from; the shares and a remainder no sentence carries (${signed(parts.rest)}: the average reply's own score and the tokens that open the reply) add up to the logit.`,
            parts.edit
              ? " These two responses are one small edit apart, so their sentences correspond one to one: each number is half of what that position adds to the logit (the first's sentence less the second's), with the model's likelihood of the edit on the edited sentences, and a sentence both say word for word weighs nothing."
              : parts.shared
                ? " A sentence both responses say word for word shows half of what it adds to the logit on each side (its share in the first less its share in the second): it weighs only as much as it counts for more in one of them, as a larger part of a shorter reply."
                : "",
          ),
        ]
      : h("p", { class: "muted" }, pending === "running" ? "The sentences are marked when the check finishes." : pending ? "The sentences are marked only for a check that ran to the end: run it again to see them." : ""),
  );
}
