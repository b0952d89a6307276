#!/usr/bin/env python3
"""The judge table of BENCHMARKS.md from a metrics file written by train_judge.py:
per dimension and data set, held-out accuracy under the fitting principles, split by
whether the better reply is the shorter or the longer one, and relevance (how far
fitting vs unrelated principles move the verdict from 0.5).

    python tools/judge_table.py judges/smollm2-135m-head.metrics.json
"""
import json
import sys

with open(sys.argv[1]) as f:
    m = json.load(f)
pct = lambda x: "–" if x is None else f"{100 * x:.1f}%"
print("| dimension / data set | pairs | held-out accuracy | better shorter | better longer | gap | relevance fitting / unrelated |")
print("|---|---:|---:|---:|---:|---:|---|")
rows = m["held_out"]
for key in sorted(rows, key=lambda k: ("/" in k, k)):
    v = rows[key]
    s, l = v["better_shorter"], v["better_longer"]
    gap = "–" if s is None or l is None else f"{100 * abs(s - l):.1f}"
    ru = v["relevance_unrelated"]
    name = f"**{key}** (all)" if "/" not in key else key
    print(f"| {name} | {v['pairs']} | {pct(v['accuracy'])} | {pct(s)} | {pct(l)} | {gap} | "
          f"{v['relevance_fitting']:.3f} / {'–' if ru is None else f'{ru:.3f}'} |")
s = m.get("sanity")
if s:
    print(f"\nObvious-case suite: fitting principles {s['fitting_right']}/{s['fitting']}, overall verdicts "
          f"{s['overall_right']}/{s['cases']}; " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in s["by_kind"].items()))
if "too_close" in m:
    print(f"Too close to call below a preference of {m['too_close']:.2f}.")
