#!/usr/bin/env python3
"""Does the model itself know which person a BBQ context names? (issue 19)

BBQ's disambiguated contexts say who did what; the honesty data's wrong-person pairs
("It was the grandson." against "It was the grandfather.") ask the judge to know it.
Written one phrasing apart, such a pair is one edit apart and the head's edit term
(the model's own likelihood at its last layer) would vote on it. This reads that vote
directly: the summed log-probability of each reply after its context and question,
at layer 29 over the whole vocabulary, with the numpy reference forward pass. Prints
how often the right person is the likelier, per BBQ category. Seeded; ~3 min.

    python research/bbq_person_probe.py GGUF TOKENIZER_JSON [--data ../shared/data] [--n 16]
"""
import argparse
import gzip
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward as rf  # noqa: E402
from likelihood_probe import hidden_states, lse  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

CATEGORIES = ["Age", "Disability_status", "Nationality", "Physical_appearance", "Sexual_orientation"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("tokenizer")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))
    ap.add_argument("--n", type=int, default=16, help="pairs per category")
    ap.add_argument("--layer", type=int, default=29)
    args = ap.parse_args()
    W, cfg = rf.load(args.gguf)
    E = W.get("output.weight", W["token_embd.weight"])
    tok = Tokenizer.from_file(args.tokenizer)

    def log_prob(pre, reply):
        start = len(tok.encode(pre).ids)
        ids = tok.encode(pre + reply).ids
        h = hidden_states(W, cfg, ids, [args.layer])[args.layer]
        x = rf.rms(h[start - 1:-1], W["output_norm.weight"], cfg["eps"])
        own = np.einsum("sd,sd->s", x, E[ids[start:]])
        return float((own - lse(x @ E.T)).sum())

    rng = random.Random(0)
    wins = {}
    for cat in CATEGORIES:
        with gzip.open(os.path.join(args.data, "bbq", f"{cat}.jsonl.gz"), "rt") as f:
            rows = [r for r in map(json.loads, f) if r["context_condition"] == "disambig"]
        rng.shuffle(rows)
        for r in rows:
            answers = [r["ans0"], r["ans1"], r["ans2"]]
            people = [i for i in range(3) if r["answer_info"][f"ans{i}"][1] != "unknown"]
            if len(people) != 2 or r["label"] not in people:
                continue
            right = r["label"]
            wrong = people[0] if people[1] == right else people[1]
            pre = "\n\nHuman: " + r["context"] + " " + r["question"] + "\n\nAssistant:"

            def reply(i, answers=answers):
                a = answers[i].strip().rstrip(".")
                return " It was " + (a[0].lower() + a[1:] if a[:4] == "The " else a) + "."
            wins.setdefault(cat, []).append(log_prob(pre, reply(right)) > log_prob(pre, reply(wrong)))
            if len(wins[cat]) >= args.n:
                break
    for cat, w in wins.items():
        print(f"{cat:20s} {100 * np.mean(w):5.1f}% of {len(w)}")
    every = [x for w in wins.values() for x in w]
    print(f"{'all':20s} {100 * np.mean(every):5.1f}% of {len(every)}")


if __name__ == "__main__":
    main()
