#!/usr/bin/env python3
"""Read-outs of the frozen model's per-token states other than the head's mean, on
HH-RLHF (research/notes/trained-judge-two-scores.md, "Tried 2026-12-01"): a
principle-free logistic probe (tools/train_judge.py's probe_direction) on chosen −
rejected features, 5-fold cross-validated over three fold splits (the head's split and
two others), at a few L2 strengths.

Features: each response's states averaged over layers 16-24, pooled as the mean
(what the head reads), the mean of the first or last K tokens, the last token's
state, the maximum, and the mean joined with each of those or with the response's
log length; and the mean pooled over other bands of layers (from the pooled
features, no states needed).

Inputs: features written with every token's states, e.g.

    principle-checker --model target/judge/feat-model features \\
        --pairs ../shared/data/hh-rlhf-harmless-dev.jsonl --out target/judge/hh.0 --shard 0/2 --states 16-24

(and shard 1/2), then

    python research/readout_sweep.py target/judge
"""
import argparse
import json
import os

import numpy as np

import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import train_judge as T  # noqa: E402


def load_states(dirname, name):
    """[(chosen rows, rejected rows)] in row order, each [tokens, hidden]."""
    parts = sorted(f[: -len(".json")] for f in os.listdir(dirname) if f.startswith(name + ".") and f.endswith(".json"))
    rows, texts = [], []
    for part in parts:
        meta = json.load(open(os.path.join(dirname, part + ".json")))
        arr = np.fromfile(os.path.join(dirname, part + ".states.f32"), dtype="<f4").reshape(-1, meta["hidden"])
        at = 0
        for row, (_, responses) in zip(meta["rows"], meta["states"]["ids"]):
            pair = []
            for c in map(len, responses):
                pair.append(arr[at: at + c])
                at += c
            rows.append(row)
            texts.append(pair)
        if at != len(arr):
            raise SystemExit(f"{part}.states.f32 holds {len(arr)} rows, its counts say {at}")
    order = np.argsort(rows, kind="stable")
    return np.array(rows)[order], [texts[i] for i in order]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features")
    ap.add_argument("--l2", default="0.1,0.3,1,3")
    args = ap.parse_args()
    l2s = [float(x) for x in args.l2.split(",")]
    meta, rows, hh, _ = T.load_sharded(args.features, "hh")
    srows, texts = load_states(args.features, "hh")
    if not (srows == rows).all():
        raise SystemExit("the states and the pooled features are of different rows")
    folds = [np.random.default_rng(T.SEED + e).permutation(len(hh)) % 5 for e in range(3)]

    def cv(feat, l2):
        d = feat[:, 0] - feat[:, 1]
        accs = []
        for fold in folds:
            p = np.zeros(len(d))
            for f in range(5):
                p[fold == f] = T.logistic_probe(d[fold != f], d[fold == f], l2)
            accs.append((p > 0.5).mean())
        return accs

    def pool(fn):
        return np.stack([np.stack([fn(t) for t in pair]) for pair in texts])

    layer = {l: i for i, l in enumerate(meta["layers"])}
    band = lambda lo, hi: hh[:, :, [layer[l] for l in range(lo, hi + 1)]].mean(2)
    mean = band(16, 24)
    print(f"{len(hh)} pairs; response tokens: chosen {np.mean([len(t[0]) for t in texts]):.1f}, "
          f"rejected {np.mean([len(t[1]) for t in texts]):.1f} on average; largest difference between "
          f"the states' mean and the pooled features: {np.abs(pool(lambda t: t.mean(0)) - mean).max():.1e}")
    pooled = {
        "first 8 tokens": pool(lambda t: t[:8].mean(0)),
        "first 16 tokens": pool(lambda t: t[:16].mean(0)),
        "first 32 tokens": pool(lambda t: t[:32].mean(0)),
        "last 8 tokens": pool(lambda t: t[-8:].mean(0)),
        "last token": pool(lambda t: t[-1]),
        "maximum": pool(lambda t: t.max(0)),
    }
    candidates = {"mean (the head's)": mean} | pooled | {
        "mean + log length": np.concatenate([mean, pool(lambda t: np.log([len(t)]))], 2),
        "mean + first 32 tokens": np.concatenate([mean, pooled["first 32 tokens"]], 2),
        "mean + last 8 tokens": np.concatenate([mean, pooled["last 8 tokens"]], 2),
        "mean + maximum": np.concatenate([mean, pooled["maximum"]], 2),
        "mean, layers 12-24": band(12, 24),
        "mean, layers 8-24": band(8, 24),
        "mean, layers 0-24": band(0, 24),
        "means of layers 0-12 and 13-24, joined": np.concatenate([band(0, 12), band(13, 24)], 2),
    }
    if max(meta["layers"]) >= 29:
        candidates["mean, layers 0-29"] = band(0, 29)
    print("| read-out | " + " | ".join(f"L2 {l2:g}" for l2 in l2s) + " |")
    print("|---|" + "---|" * len(l2s))
    for name, feat in candidates.items():
        cells = []
        for l2 in l2s:
            accs = cv(feat, l2)
            cells.append(f"{np.mean(accs) * 100:.1f} % ({', '.join(f'{a * 100:.1f}' for a in accs)})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
