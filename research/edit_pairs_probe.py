#!/usr/bin/env python3
"""Where the edit term opens, and how often the better reply's edit is the likelier:
per data set and kind of comparison, the pairs whose replies are one small edit apart
(tools/edit_pairs.py, the rules src/judge/edits.rs applies) and the share of them whose
better reply has the higher summed log-probability over the edited parts (features'
OUT.lp.json, read by the lens at the layer the features were written with: the head's edit layer).

    python research/edit_pairs_probe.py target/judge [--hh ../shared/data/hh-rlhf-harmless-dev.jsonl]
"""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import edit_pairs  # noqa: E402


def final_reply(transcript):
    return transcript.rsplit("\n\nAssistant:", 1)[-1].strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features")
    ap.add_argument("--hh", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data",
                                                 "hh-rlhf-harmless-dev.jsonl"))
    args = ap.parse_args()
    work = args.features
    counts = collections.defaultdict(lambda: [0, 0, 0])  # pairs, one edit apart, better likelier
    for name in ("dims", "chat", "selfdesc", "airisk", "hh", "sanity"):
        source = args.hh if name == "hh" else os.path.join(work, f"{name}.jsonl")
        if not os.path.exists(source):
            continue
        with open(source) as f:
            pairs = [json.loads(line) for line in f]
        shards = sorted(p[:-5] for p in os.listdir(work)
                        if p.startswith(name + ".") and p.endswith(".json") and p[len(name) + 1:-5].isdigit())
        for shard in shards:
            prefix = os.path.join(work, shard)
            with open(prefix + ".json") as f:
                rows = json.load(f)["rows"]
            with open(prefix + ".lp.json") as f:
                liks = json.load(f)
            for r, lik in zip(rows, liks):
                p = pairs[r]
                key = f"{name}: {p.get('dimension', '-')}/{p.get('kind', '-')}"
                value = edit_pairs.edit_value(final_reply(p["chosen"]), final_reply(p["rejected"]), lik[0], lik[1])
                c = counts[key]
                c[0] += 1
                c[1] += value != 0
                c[2] += value > 0
    print(f"{'data set: dimension/kind':44s} {'pairs':>6s} {'edits':>6s} {'better likelier':>16s}")
    for key, (n, e, right) in sorted(counts.items()):
        share = f"{100 * right / e:5.1f}%" if e else "-"
        print(f"{key:44s} {n:6d} {e:6d} {share:>16s}")


if __name__ == "__main__":
    main()
