#!/usr/bin/env python3
"""How often the parameter-free relevance signal prefers the better reply, per data set
and kind, with nothing learnt (research/notes/relevance-and-helpfulness-data-2026-12-04.md):

    sim(x, c) = sum_d ((x_d - mean_d) / sd_d) ((c_d - mean'_d) / sd'_d) / D

x = a reply's pooled state, c = the conversation's state where the reply begins, both
averaged over a band of layers and standardized over the pairs read here.

    python research/relevance_probe.py target/judge            # the dims.* features
"""
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from train_judge import load_features  # noqa: E402


def band_sims(arr, conv, band):
    x, c = arr[:, :, band].mean(2), conv[:, band].mean(1)
    both = x.reshape(-1, x.shape[-1])
    xs = (x - both.mean(0)) / (both.std(0) + 1e-6)
    cs = (c - c.mean(0)) / (c.std(0) + 1e-6)
    return np.einsum("nkd,nd->nk", xs, cs) / x.shape[-1]


def main():
    work = sys.argv[1]
    parts = sorted(f[:-5] for f in os.listdir(work) if f.startswith("dims.") and f.endswith(".json")
                   and f[5:-5].isdigit())
    rows, arrs, convs = [], [], []
    for p in parts:
        meta, arr, conv, _ = load_features(os.path.join(work, p))
        rows += meta["rows"]
        arrs.append(arr.astype(np.float64))
        convs.append(conv.astype(np.float64))
    arr, conv = np.concatenate(arrs), np.concatenate(convs)
    with open(os.path.join(work, "dims.jsonl")) as f:
        lines = f.read().splitlines()
    texts = [json.loads(lines[r]) for r in rows]
    for lo, hi in [(16, 24), (20, 24), (22, 24), (24, 24)]:
        s = band_sims(arr, conv, list(range(lo, hi + 1)))
        by = collections.defaultdict(list)
        for t, (a, b) in zip(texts, s):
            if t["dimension"] == "helpfulness":
                by[(t["source"], t["kind"])].append(a > b)
        print(f"layers {lo}-{hi}")
        for k, v in sorted(by.items()):
            print(f"   {'/'.join(k):32s} {100 * np.mean(v):5.1f}% of {len(v)}")


if __name__ == "__main__":
    main()
