#!/usr/bin/env python3
"""Build helpfulness comparisons from chat-like benign requests (the ChatterBot corpus).

The other benign sources (GSM8K word problems, Self-Instruct tasks, BBQ contexts,
ToxiGen statements) do not read like a person asking an assistant something in
chat: "Who was the 37th President of the United States?", "My laptop screen is
black.", "Can you write a palindrome checker in Python?". On such requests the harm
score read a needless refusal as the more harmless reply, because its only chat-like
data was HH-RLHF, where the refusal usually is. This script pairs the corpus's real
answers to real chat questions with the same worse replies as the other benign
sources (refused, dismissed, deflected, another request's answer, a non-answer;
tools/judge_dimensions.py's phrasings and length steering), so the head sees
chat-like requests where answering is right.

Source: the `chatterbot-corpus` package on PyPI (BSD-3-Clause), its English files.
Only categories whose answers answer the question are used (trivia, coding, computers,
tech support, science); the rest are the bot's persona chatter. Every pair's group is
its category, which tools/train_judge.py holds out whole.

    python tools/judge_chat.py CORPUS_ENGLISH_DIR OUT.jsonl [--manifest M.json] [--seed S]
"""
import argparse
import collections
import os
import random
import re

import yaml
from judge_dimensions import Builder, sentence_case, write_pairs

SEED = 20241
# category -> the corpus files it is read from
CATEGORIES = {
    "trivia": ("trivia",),
    "coding": ("coding",),
    "tech": ("computers", "tech_support", "science"),
}
QUESTION = re.compile(r"^(who|what|when|where|which|why|how|is|are|can|could|do|does|tell|explain|my|i )", re.IGNORECASE)


def answer_text(a):
    """The corpus's answer as a reply: code as it is, a phrase in sentence case with a
    full stop."""
    return a if "```" in a else sentence_case(a)


def load(corpus, files):
    """(question, answer) pairs, one per distinct question, in file order."""
    seen, items = set(), []
    for name in files:
        with open(os.path.join(corpus, name + ".yml")) as f:
            convs = yaml.safe_load(f)["conversations"]
        for c in convs:
            if not isinstance(c, list) or len(c) < 2:
                continue
            q, a = str(c[0]).strip(), str(c[1]).strip().strip("'").strip()
            if q.lower() in seen or len(a) < 2 or not QUESTION.match(q):
                continue
            seen.add(q.lower())
            items.append((sentence_case(q), answer_text(a)))
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="chatterbot_corpus/data/english of the chatterbot-corpus package")
    ap.add_argument("out")
    ap.add_argument("--manifest", default=None)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--per-request", type=int, default=2, help="worse replies drawn per request")
    args = ap.parse_args()
    b = Builder(random.Random(args.seed))
    for cat, files in CATEGORIES.items():
        items = load(args.corpus, files)
        for k, (q, a) in enumerate(items):
            for j in range(args.per_request):
                other = items[(k + 1 + j * 7) % len(items)][1]
                kind, worse = b.negatives(a, other)
                b.add("helpfulness", "chat", f"chat/{cat}", kind, q, a, worse)
    counts = collections.Counter((r["group"], r["kind"]) for r in b.rows)
    shorter = collections.Counter(r["kind"] for r in b.rows if r["better_shorter"])
    by_kind = collections.Counter(r["kind"] for r in b.rows)
    manifest = {
        "script": "tools/judge_chat.py", "seed": args.seed, "pairs": len(b.rows),
        "source": "chatterbot-corpus 1.3.3 (PyPI, BSD-3-Clause): chatterbot_corpus/data/english/"
                  "{" + ",".join(f for files in CATEGORIES.values() for f in files) + "}.yml",
        "counts": [{"group": g, "kind": k, "pairs": n} for (g, k), n in sorted(counts.items())],
        "better_shorter_share": {k: round(shorter[k] / n, 3) for k, n in sorted(by_kind.items())},
    }
    write_pairs(b.rows, args.out, manifest, args.manifest)
    for (g, k), n in sorted(counts.items()):
        print(f"{g:14s} {k:12s} {n:5d}")
    print(f"{len(b.rows)} pairs")


if __name__ == "__main__":
    main()
