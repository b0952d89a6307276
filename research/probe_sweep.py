#!/usr/bin/env python3
"""How far a linear read-out of the frozen model goes
(research/notes/trained-judge-two-scores.md, "What limits a head on frozen features"):
a logistic probe on one layer's pooled state at a time, and the AI-risk probe trained
on fewer comparisons per behaviour file. Same folds, probe
and seed as tools/train_judge.py; reads the features scripts/train-judge.sh wrote.

    python research/probe_sweep.py target/judge [--layers 0,4,8,12,16,20,24,28]

It also trains the head's reward network (train_judge.reward_mlp) alone on the
layers-16-24 features, over a few sizes, L2 strengths and seeds (--rewards).
"""
import argparse
import json
import os

import numpy as np

import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import train_judge as T  # noqa: E402


def cross_validated(d, fold, l2, keep=None):
    p = np.zeros(len(d))
    for f in range(5):
        train = fold != f if keep is None else (fold != f) & keep
        p[fold == f] = T.logistic_probe(d[train], d[fold == f], l2)
    return float((p > 0.5).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features")
    ap.add_argument("--layers", default="0,4,8,12,16,20,24,28")
    ap.add_argument("--per-behaviour", default="50,100,150,200")
    ap.add_argument("--rewards", default="16:0.1:0,8:0.1:0,32:0.1:0,16:0.03:0,16:0.3:0,16:0.1:1,16:0.1:2,64:0.03:0,64:0.3:0",
                    help="units:L2:seed settings of the reward network")
    args = ap.parse_args()
    meta, _, hh, _ = T.load_sharded(args.features, "hh")
    _, ai_rows, ai, _ = T.load_sharded(args.features, "airisk")
    behaviours = [json.loads(l)["behaviour"] for l in open(os.path.join(args.features, "airisk.jsonl"))]
    beh = np.array([behaviours[r] for r in ai_rows])
    hh_fold = np.random.default_rng(T.SEED).permutation(len(hh)) % 5
    ai_fold = np.array([next(f for f, b in enumerate(T.BEHAVIOUR_FOLDS) if x in b) for x in beh])
    diff = lambda x, layers: x[:, 0, layers].mean(1) - x[:, 1, layers].mean(1)
    for layer in (int(x) for x in args.layers.split(",")):
        i = meta["layers"].index(layer)
        print(f"layer {layer}: HH {cross_validated(diff(hh, [i]), hh_fold, 0.3):.3f}  "
              f"AI-risk {cross_validated(diff(ai, [i]), ai_fold, 0.01):.3f}", flush=True)
    band = [meta["layers"].index(l) for l in range(16, 25)]
    for setting in args.rewards.split(","):
        units, l2, seed = setting.split(":")
        accs = []
        for pairs, fold in ((hh[:, :, band].mean(2), hh_fold), (ai[:, :, band].mean(2), ai_fold)):
            p = np.zeros(len(pairs))
            for f in range(5):
                mlp = T.reward_mlp(pairs[fold != f], int(units), float(l2), 300, 0.01, int(seed))
                te = pairs[fold == f]
                p[fold == f] = T.sigmoid(T.reward(mlp, te[:, 0]) - T.reward(mlp, te[:, 1]))
            accs.append(float((p > 0.5).mean()))
        print(f"reward network, {units} units, L2 {l2}, seed {seed}: HH {accs[0]:.3f}  AI-risk {accs[1]:.3f}", flush=True)
    d_ai = diff(ai, band)
    rng = np.random.default_rng(1)
    for per in (int(x) for x in args.per_behaviour.split(",")):
        accs = []
        for _ in range(2):
            keep = np.zeros(len(d_ai), bool)
            for b in sorted(set(beh)):
                keep[rng.choice(np.flatnonzero(beh == b), per, replace=False)] = True
            accs.append(cross_validated(d_ai, ai_fold, 0.01, keep))
        print(f"AI-risk probe (layers 16-24) trained on {per} per behaviour file: "
              f"{' / '.join(f'{a:.3f}' for a in accs)}", flush=True)


if __name__ == "__main__":
    main()
