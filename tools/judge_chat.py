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

With `--long-off-topic DIMS.jsonl` (measured, not used by scripts/train-judge.sh:
research/notes/base-models-and-bbq-2026-12-06.md), another request's answer is steered
by length like the other worse replies, the longer reply in about half of those pairs:
one or two replies drawn from the corpus's answers to other questions and from the
better replies of tools/judge_dimensions.py's helpfulness pairs, run together. By
default it is one other answer of the corpus, as short as the corpus's answers, so the
head never sees a short right answer beside a fluent paragraph about something else.
Those draws have a random stream of their own, so every other pair is the same either
way.

Source: the `chatterbot-corpus` package on PyPI (BSD-3-Clause), its English files.
Only categories whose answers answer the question are used (trivia, coding, computers,
tech support, science); the rest are the bot's persona chatter. Every pair's group is
its category, which tools/train_judge.py holds out whole.

    python tools/judge_chat.py CORPUS_ENGLISH_DIR OUT.jsonl [--long-off-topic DIMS.jsonl] [--manifest M.json] [--seed S]
"""
import argparse
import collections
import json
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


def other_answers(path):
    """(request, better reply) of the helpfulness pairs in a tools/judge_dimensions.py file."""
    out = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["dimension"] == "helpfulness":
                request, reply = r["chosen"].rsplit("\n\nAssistant: ", 1)
                out.append((request.replace("\n\nHuman: ", "", 1), reply))
    return out


def off_topic(rng, pool, question, answer):
    """Answers to other requests, one or two run together, the longer or the shorter
    reply in about half the pairs each (the better one is `answer`)."""
    longer = rng.random() < 0.5

    def make():
        picks = []
        count = rng.choice((1, 1, 2))
        while len(picks) < count:
            q, a = rng.choice(pool)
            if q != question and a != answer and a not in picks:
                picks.append(a)
        return " ".join(picks)
    draws = [make() for _ in range(12)]
    ok = [d for d in draws if (len(d) > len(answer)) == longer]
    return rng.choice(ok) if ok else max(draws, key=len) if longer else min(draws, key=len)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="chatterbot_corpus/data/english of the chatterbot-corpus package")
    ap.add_argument("out")
    ap.add_argument("--long-off-topic", default=None, metavar="DIMS.jsonl",
                    help="another request's answer steered by length, drawn from the corpus and these pairs' better replies")
    ap.add_argument("--manifest", default=None)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--per-request", type=int, default=2, help="worse replies drawn per request")
    args = ap.parse_args()
    b = Builder(random.Random(args.seed))
    off = random.Random(args.seed + 1)  # the off-topic replies' own stream
    loaded = {cat: load(args.corpus, files) for cat, files in CATEGORIES.items()}
    pool = [item for items in loaded.values() for item in items]
    pool += other_answers(args.long_off_topic) if args.long_off_topic else []
    for cat, items in loaded.items():
        for k, (q, a) in enumerate(items):
            for j in range(args.per_request):
                other = items[(k + 1 + j * 7) % len(items)][1]
                kind, worse = b.negatives(a, other)
                if kind == "off-topic" and args.long_off_topic:
                    worse = off_topic(off, pool, q, a)
                b.add("helpfulness", "chat", f"chat/{cat}", kind, q, a, worse)
    counts = collections.Counter((r["group"], r["kind"]) for r in b.rows)
    shorter = collections.Counter(r["kind"] for r in b.rows if r["better_shorter"])
    by_kind = collections.Counter(r["kind"] for r in b.rows)
    manifest = {
        "script": "tools/judge_chat.py", "seed": args.seed, "pairs": len(b.rows),
        "source": "chatterbot-corpus 1.3.3 (PyPI, BSD-3-Clause): chatterbot_corpus/data/english/"
                  "{" + ",".join(f for files in CATEGORIES.values() for f in files) + "}.yml",
        **({"long_off_topic": f"the corpus's answers to other questions and {len(pool) - sum(map(len, loaded.values()))}"
                              " better replies of tools/judge_dimensions.py's helpfulness pairs"}
           if args.long_off_topic else {}),
        "counts": [{"group": g, "kind": k, "pairs": n} for (g, k), n in sorted(counts.items())],
        "better_shorter_share": {k: round(shorter[k] / n, 3) for k, n in sorted(by_kind.items())},
    }
    write_pairs(b.rows, args.out, manifest, args.manifest)
    for (g, k), n in sorted(counts.items()):
        print(f"{g:14s} {k:12s} {n:5d}")
    print(f"{len(b.rows)} pairs")


if __name__ == "__main__":
    main()
