#!/usr/bin/env python3
"""How often the better reply of each kind of comparison is the likelier, by four
readings of the likelihood that `principle-checker features` wrote (OUT.lp.f32, the
mean over the reply's tokens; OUT.lp.json, each part's own mean and token count):
the mean, the least likely part (min-part), that less the mean (min-part-drop), and
the sum over the parts. Prints the share and the median |difference| per kind.

    python research/likelihood_pairs.py target/judge dims
"""
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from train_judge import least_likely_part  # noqa: E402


def summed(parts):
    return sum(m * t for m, t in parts if m is not None)


def main():
    work, name = sys.argv[1], sys.argv[2]
    with open(os.path.join(work, f"{name}.jsonl")) as f:
        pairs = [json.loads(line) for line in f]
    rows, means, parts = [], [], []
    shards = sorted(p[:-5] for p in os.listdir(work)
                    if p.startswith(name + ".") and p.endswith(".json") and p[len(name) + 1:-5].isdigit())
    for shard in shards:
        prefix = os.path.join(work, shard)
        with open(prefix + ".json") as f:
            rows += json.load(f)["rows"]
        means.append(np.fromfile(prefix + ".lp.f32", dtype="<f4").reshape(-1, 2))
        with open(prefix + ".lp.json") as f:
            parts += json.load(f)
    means = np.concatenate(means)
    diffs = collections.defaultdict(lambda: collections.defaultdict(list))
    for r, m, p in zip(rows, means, parts):
        key = f"{pairs[r]['dimension']}/{pairs[r]['kind']}"
        reads = {"mean": m,
                 "min-part": [least_likely_part(p[i], m[i], "min-part") for i in (0, 1)],
                 "min-part-drop": [least_likely_part(p[i], m[i], "min-part-drop") for i in (0, 1)],
                 "sum": [summed(p[0]), summed(p[1])]}
        for read, (a, b) in reads.items():
            diffs[key][read].append(a - b)
    names = ("mean", "min-part", "min-part-drop", "sum")
    print(f"{'kind':36s} {'pairs':>5s}  " + "  ".join(f"{n:>20s}" for n in names))
    for key, by in sorted(diffs.items()):
        cells = [f"{100 * (np.array(by[n]) > 0).mean():5.1f}% ({np.median(np.abs(by[n])):7.3f})" for n in names]
        print(f"{key:36s} {len(by['mean']):5d}  " + "  ".join(f"{c:>20s}" for c in cells))


if __name__ == "__main__":
    main()
