// The results view: per-principle rows, summaries, matrix, ranking, exports.
// Pure rendering from data; all text goes through dom.js's h()/fill().

import { h, fill, pct } from "./dom.js";

export const label = (i) => `Response ${i + 1}`;
export const short = (i) => `R${i + 1}`;

/** A stacked bar: one segment per response, width = its preference. */
export function prefBar(preference, chosen) {
  const bar = h("span", {
    class: "bar",
    role: "img",
    "aria-label": preference.map((p, i) => `${label(i)} ${pct(p)}`).join(", "),
  });
  preference.forEach((p, i) => {
    const seg = h("span", { class: `seg r${i}${i === chosen ? " chosen" : ""}`, title: `${label(i)}: ${pct(p)}` });
    seg.style.width = `${(100 * p).toFixed(2)}%`;
    bar.append(seg);
  });
  return h("span", { class: "bar-wrap" }, bar, h("span", { class: "bar-num" }, `${short(chosen)} ${pct(preference[chosen])}`));
}

/**
 * Renders everything into the results section.
 * ctx: {result (the engine's, finished or so far), partial, principles: Map id→{text, group}, groupNames: Map, n, responses, onReason(id)}
 */
/** Says which responses repeated a sentence so often that the judge read it only twice. */
function repeatsNote(ignored) {
  const which = ignored.map((n, i) => [n, i]).filter(([n]) => n > 0);
  if (!which.length) return "";
  return h(
    "p",
    { class: "muted", id: "repeats-note" },
    which.map(([n, i]) => `${label(i)} repeats a sentence more than twice: ${n} of the copies ${n === 1 ? "was" : "were"} not read. `),
    "The judge reads each sentence at most twice, so padding a response with one sentence cannot buy a verdict.",
  );
}

export function renderResults(ctx) {
  const { result, principles, groupNames, n } = ctx;
  const o = result.overall;
  fill(document.getElementById("legend"), [...Array(n).keys()].map((i) => h("span", { class: "legend-item" }, h("span", { class: `swatch r${i}` }), `${label(i)}: `, h("q", {}, snippet(ctx.responses[i])))));

  fill(
    document.getElementById("overall"),
    o
      ? h(
          "div",
          { class: "overall card" },
          h("h3", {}, "Overall"),
          o.too_close
            ? h("p", { class: "big" }, "Too close to call", ` (mean preference ${pct(o.preference[o.chosen])} for ${label(o.chosen)}, inside the band where the judge's held-out verdicts were little better than a coin flip).`)
            : h("p", { class: "big" }, `${label(o.chosen)} is preferred by ${o.principles - o.dissenting.length} of ${o.principles} principles`, ` (mean preference ${pct(o.preference[o.chosen])}).`),
          prefBar(o.preference, o.chosen),
          result.scoring === "trained-head"
            ? h("p", { class: "muted" }, "The trained head scores each response on its own, so its verdicts cannot depend on the order the responses are shown in.")
            : h("p", { class: "muted" }, `${o.position_sensitive} of ${o.principles} verdicts change when the order of the responses is swapped.`, o.position_sensitive > o.principles / 3 ? " That is a lot: the judge is often guided by position rather than content." : ""),
          repeatsNote(result.repeats_ignored || []),
        )
      : "",
  );

  // where the principles disagree
  const dis = o ? o.dissenting : [];
  fill(
    document.getElementById("disagree"),
    o
      ? h(
          "div",
          { class: "card", id: "where-disagree" },
          h("h3", {}, "Where the principles disagree"),
          dis.length
            ? [
                h("p", {}, `${dis.length} principle${dis.length === 1 ? "" : "s"} chose differently from the overall result:`),
                h(
                  "ul",
                  { class: "dissent-list" },
                  dis.map((id) => {
                    const v = result.verdicts.find((x) => x.principle_id === id);
                    return h("li", {}, h("a", { href: `#row-${cssId(id)}` }, id), v.too_close ? ` too close to call (${pct(v.preference[v.chosen])} for ${label(v.chosen)})` : ` chose ${label(v.chosen)} (${pct(v.preference[v.chosen])})`, v.position_sensitive ? " ⇄" : "", ": ", snippet((principles.get(id) || {}).text || "", 140));
                  }),
                ),
              ]
            : h("p", {}, "Every principle chose the same response."),
        )
      : "",
  );

  // ranking (3+)
  fill(
    document.getElementById("ranking"),
    n >= 3 && result.ranking && result.ranking.length
      ? h("div", { class: "card" }, h("h3", {}, "Ranking"), h("ol", {}, result.ranking.map((i) => h("li", {}, label(i)))), h("p", { class: "muted" }, `Best first, by a Bradley–Terry fit over ${ctx.partial ? "the pairwise judgements of the principles judged so far" : "every principle's pairwise judgements"}.`))
      : "",
  );

  // per group
  fill(
    document.getElementById("groups"),
    result.groups.length
      ? h(
          "div",
          { class: "card" },
          h("h3", {}, "By group"),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "groups" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, "Chosen"), h("th", { scope: "col" }, "Mean preference"), h("th", { scope: "col" }, "Split"), h("th", { scope: "col" }, "Order-sensitive"))),
              h(
                "tbody",
                {},
                result.groups.map((g) =>
                  h("tr", { class: o && g.chosen !== o.chosen ? "dissent" : "" }, h("th", { scope: "row" }, groupNames.get(g.group) || g.group), h("td", {}, label(g.chosen)), h("td", {}, prefBar(g.preference, g.chosen)), h("td", {}, `${g.principles - g.dissenting.length}/${g.principles} agree`), h("td", {}, String(g.position_sensitive))),
                ),
              ),
            ),
          ),
        )
      : "",
  );

  // matrix (3+)
  fill(
    document.getElementById("matrix"),
    n >= 3 && result.verdicts.length
      ? h(
          "div",
          { class: "card" },
          h("h3", {}, "Principle × response"),
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "matrix" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Principle"), [...Array(n).keys()].map((i) => h("th", { scope: "col" }, short(i))))),
              h(
                "tbody",
                {},
                result.verdicts.map((v) =>
                  h(
                    "tr",
                    {},
                    h("th", { scope: "row" }, v.principle_id),
                    v.preference.map((p, i) => {
                      const td = h("td", { class: i === v.chosen ? "chosen" : "" }, pct(p));
                      td.style.setProperty("--p", String(p));
                      return td;
                    }),
                  ),
                ),
              ),
            ),
          ),
        )
      : "",
  );

  renderRows(ctx);
}

function renderRows(ctx) {
  const { result, principles, onReason } = ctx;
  const overallChosen = result.overall ? result.overall.chosen : -1;
  const tbody = document.querySelector("#verdicts tbody");
  fill(
    tbody,
    result.verdicts.map((v) => {
      const p = principles.get(v.principle_id) || { text: "" };
      const dissent = v.chosen !== overallChosen;
      const pair = v.pairs[0];
      return h(
        "tr",
        { id: `row-${cssId(v.principle_id)}`, class: `verdict${dissent ? " dissent" : ""}`, dataset: { principle: v.principle_id } },
        h("td", { class: "principle-cell" }, h("button", { type: "button", class: "linklike reason-btn", onclick: () => onReason(v.principle_id), "aria-label": `Reasoning for ${v.principle_id}` }, v.principle_id), h("span", { class: "ptext" }, p.text)),
        h("td", { class: "chosen-cell" }, v.too_close ? h("span", { class: "too-close", title: "Inside the band where the judge's held-out verdicts were little better than a coin flip" }, "too close") : label(v.chosen)),
        h("td", {}, prefBar(v.preference, v.chosen)),
        h(
          "td",
          { class: "notes" },
          v.position_sensitive ? h("span", { class: "flag", title: `Orders disagree: ${short(pair.first)} shown first ${pct(pair.p_first_shown_first)}, shown second ${pct(pair.p_first_shown_second)}` }, "⇄ order-sensitive") : "",
          dissent ? h("span", { class: "dissent-mark", title: "Chose differently from the overall result" }, "≠ splits") : "",
          whyNote(pair, ctx.dimensions || []),
        ),
      );
    }),
  );
}

/** The dimensions that moved a pair's verdict most: the engine's own shares of the
 * logit (they sum to it), not a story told after the verdict. */
function whyNote(pair, dimensions) {
  const parts = (pair && pair.by_dimension) || [];
  if (!parts.length || !dimensions.length) return "";
  const order = [...parts.keys()].sort((a, b) => Math.abs(parts[b]) - Math.abs(parts[a]));
  const name = (k) => (dimensions[k] || {}).label || `score ${k + 1}`;
  const towards = (x) => (x >= 0 ? short(pair.first) : short(pair.second));
  const title = order.map((k) => `${name(k)}: ${parts[k] >= 0 ? "+" : ""}${parts[k].toFixed(2)} towards ${towards(parts[k])}`).join("\n");
  return h("span", { class: "why", title: `Each dimension's share of the logit (they add up to it):\n${title}` }, `why: ${order.slice(0, 2).map((k) => `${name(k)} → ${towards(parts[k])}`).join(", ")}`);
}

export function cssId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, "_");
}

export function snippet(text, max = 90) {
  const t = String(text || "").replace(/\s+/g, " ").trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

// ---- exports ----

export function resultsJson(run) {
  return JSON.stringify(
    {
      tool: "principle-checker",
      exported: new Date().toISOString(),
      model: run.model,
      constitution: run.constitutionName,
      state: run.state,
      conversation: run.conversation,
      responses: run.responses,
      result: run.result,
    },
    null,
    2,
  );
}

function csvCell(v) {
  let s = v === undefined || v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // keep spreadsheets from running formulas
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultsCsv(run, principles) {
  const n = run.responses.length;
  const head = ["principle_id", "group", "principle", "chosen", ...[...Array(n).keys()].map((i) => `p_response_${i + 1}`), "position_sensitive", "position_bias", "pairs", "because", "reads"];
  const rows = run.result.verdicts.map((v) => [
    v.principle_id,
    v.group,
    (principles.get(v.principle_id) || {}).text || "",
    v.chosen + 1,
    ...v.preference.map((p) => p.toFixed(4)),
    v.position_sensitive,
    v.position_bias.toFixed(4),
    v.pairs.map((p) => `${p.first + 1}v${p.second + 1}:${p.p_first_shown_first.toFixed(4)}/${p.p_first_shown_second.toFixed(4)}`).join(" "),
    v.because || "",
    v.reads || "",
  ]);
  return [head, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}
