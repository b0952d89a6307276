#!/usr/bin/env python3
"""Long off-topic replies in every benign source, without reading all of dims.jsonl again
(research/notes/base-models-and-bbq-2026-12-06.md; measured, not kept).

`rewrite` gives the helpfulness pairs of a tools/judge_dimensions.py file whose worse
reply is another request's answer a length-steered draw instead
(tools/judge_chat.py's off_topic, its own seed) and writes the changed rows apart;
`splice` puts those rows' features, read by `principle-checker features`, in place of
the old ones in the two shards of scripts/train-judge.sh. The steps, in a copy of
target/judge whose chat.jsonl was written with `judge_chat.py --long-off-topic`:

    python research/long_off_topic_dims.py rewrite OLD_DIMS.jsonl WORK/dims.jsonl WORK/changed.jsonl --corpus CORPUS_ENGLISH_DIR
    principle-checker --model WORK/feat-model features --pairs WORK/changed.jsonl --out WORK/changed
    python tools/judge_selfdesc.py WORK/dims.jsonl WORK/chat.jsonl WORK/selfdesc.jsonl   # then its features, both shards
    python research/long_off_topic_dims.py splice WORK
    python tools/train_judge.py WORK --metrics M
"""
import argparse
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import judge_chat as C  # noqa: E402


def rewrite(args):
    pool = [it for files in C.CATEGORIES.values() for it in C.load(args.corpus, files)] + C.other_answers(args.dims)
    rng = random.Random(args.seed)
    with open(args.dims) as f:
        rows = [json.loads(line) for line in f]
    changed = []
    for i, r in enumerate(rows):
        if r["dimension"] == "helpfulness" and r["kind"] == "off-topic":
            conv, answer = r["chosen"].rsplit("\n\nAssistant: ", 1)
            worse = C.off_topic(rng, pool, conv.replace("\n\nHuman: ", "", 1), answer)
            r["rejected"] = conv + "\n\nAssistant: " + worse
            r["better_shorter"] = len(answer) < len(worse)
            changed.append(i)
    with open(args.out, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    with open(args.changed, "w") as f:
        f.writelines(json.dumps(rows[i]) + "\n" for i in changed)
    with open(args.changed + ".idx", "w") as f:
        json.dump(changed, f)
    print(f"{len(changed)} rows changed; better reply shorter in "
          f"{100 * np.mean([rows[i]['better_shorter'] for i in changed]):.0f} %")


def splice(args):
    w = args.work
    with open(os.path.join(w, "changed.jsonl.idx")) as f:
        idx = json.load(f)
    with open(os.path.join(w, "changed.json")) as f:
        meta = json.load(f)
    assert meta["rows"] == list(range(len(idx))), "every changed row was read"
    H, L = meta["hidden"], len(meta["layers"])
    read = lambda name, *shape: np.fromfile(os.path.join(w, name), np.float32).reshape(*shape)  # noqa: E731
    new, new_conv, new_lp = read("changed.f32", len(idx), 2, L, H), read("changed.conv.f32", len(idx), L, H), \
        read("changed.lp.f32", len(idx), 2)
    with open(os.path.join(w, "changed.lp.json")) as f:
        new_parts = json.load(f)
    at = {r: i for i, r in enumerate(idx)}
    for k in (0, 1):
        base = os.path.join(w, f"dims.{k}")
        with open(base + ".json") as f:
            rows = json.load(f)["rows"]
        X, Cv, LP = read(f"dims.{k}.f32", len(rows), 2, L, H), read(f"dims.{k}.conv.f32", len(rows), L, H), \
            read(f"dims.{k}.lp.f32", len(rows), 2)
        with open(base + ".lp.json") as f:
            parts = json.load(f)
        n = 0
        for j, r in enumerate(rows):
            if r in at:
                i = at[r]
                assert np.allclose(Cv[j], new_conv[i], atol=1e-3), "the same conversation reads the same"
                X[j], LP[j], parts[j] = new[i], new_lp[i], new_parts[i]
                n += 1
        X.tofile(base + ".f32")
        LP.tofile(base + ".lp.f32")
        with open(base + ".lp.json", "w") as f:
            json.dump(parts, f)
        print(f"dims.{k}: {n} rows replaced")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rewrite")
    r.add_argument("dims")
    r.add_argument("out")
    r.add_argument("changed")
    r.add_argument("--corpus", required=True, help="chatterbot_corpus/data/english")
    r.add_argument("--seed", type=int, default=20243)
    s = sub.add_parser("splice")
    s.add_argument("work")
    args = ap.parse_args()
    rewrite(args) if args.cmd == "rewrite" else splice(args)


if __name__ == "__main__":
    main()
