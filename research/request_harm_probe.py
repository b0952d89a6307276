#!/usr/bin/env python3
"""Does the shipped head's harm direction, applied to the request, tell a harmful
request from a benign one? Nothing is learnt, so every figure is out of sample
(research/notes/request-harm-probe-2026-12-05.md):

    r(c) = u_harm . (c - conversation_mean) / conversation_scale

c = the conversation's state where the reply begins, averaged over the head's layers;
u_harm, the mean and the scale come from judges/smollm2-135m-head.json. Printed per
source (and per kind for the obvious-case suite): the mean of r, and the AUC of r
against the HH-RLHF requests (below 0.5: the source reads as more harmful than HH's).

    python research/request_harm_probe.py target/judge      # features from scripts/train-judge.sh
"""
import collections
import json
import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, os.path.join(ROOT, "tools"))
from train_judge import load_sharded  # noqa: E402


def auc(pos, neg):
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(np.mean(pos > neg) + 0.5 * np.mean(pos == neg))


def main():
    work = sys.argv[1]
    head = json.load(open(os.path.join(ROOT, "judges/smollm2-135m-head.json")))
    harm = [d["name"] for d in head["dimensions"]].index("harm")
    u = np.array(head["u"])[:, harm]
    mean, scale = np.array(head["conversation"]["mean"]), np.array(head["conversation"]["scale"])
    labels = {"dims": os.path.join(work, "dims.jsonl"), "sanity": os.path.join(ROOT, "tests/judge-sanity/cases.jsonl")}
    by = collections.defaultdict(list)
    for name in ["hh", "airisk", "dims", "sanity"]:
        rows, _, c, _, _ = load_sharded(work, name, head["layers"])
        r = ((c - mean) / scale) @ u
        lines = open(labels[name]).read().splitlines() if name in labels else None
        for row, value in zip(rows, r):
            key = name
            if name == "dims":
                key = f"dims/{json.loads(lines[row])['source']}"
            elif name == "sanity":
                key = f"suite/{json.loads(lines[row])['kind']}"
            by[key].append(value)
    hh = by["hh"]
    for key, v in sorted(by.items()):
        print(f"{key:24s} n={len(v):5d}  mean r {np.mean(v):+.3f} (sd {np.std(v):.3f})  AUC against HH {auc(v, hh):.3f}")
    print(f"suite: benign requests (help) above harmful ones (harm), AUC {auc(by['suite/help'], by['suite/harm']):.3f}")


if __name__ == "__main__":
    main()
