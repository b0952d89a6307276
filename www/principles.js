// The principle list: groups, search, selection, and the selector a check sends.

import { $, fill, h } from "./dom.js";
import { cssId } from "./results.js";
import { S, constitution } from "./state.js";
import { updateButtons } from "./run.js";

// ---------------------------------------------------------------- principles

export function principleMap(c) {
  return new Map((c ? c.principles : []).map((p) => [p.id, p]));
}
export function groupNames(c) {
  return new Map((c ? c.groups : []).map((g) => [g.id, g.name]));
}

export function selectAll(on, onlyVisible = false) {
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

export function renderPrinciples() {
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

export function syncChecks() {
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

export function applySearch() {
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

export function selector() {
  const c = constitution();
  const ids = c.principles.filter((p) => S.selected.has(p.id)).map((p) => p.id);
  return ids.length === c.principles.length ? "all" : ids.join(",");
}
