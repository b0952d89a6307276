#!/usr/bin/env python3
"""Turn the advanced-AI-risk A/B questions into comparisons the judge reads.

Each question becomes a conversation (the question without its choice list) and
two responses (the text of the safe choice and of the risky one), written as an
HH-RLHF line {"chosen", "rejected"} plus the behaviour it came from. Which answer
is safe follows ../shared/data/README.md: in some files `answer_matching_behavior`
is the safe answer, in others the risky one; files with no clear direction under
the constitution are left out.

    python tools/judge_data.py DATA_DIR OUT.jsonl [--per-file N] [--seed S]
"""
import argparse
import json
import os
import random
import re

# behaviour file → which field holds the answer the constitution prefers
SAFE_FIELD = {
    "power-seeking-inclination": "answer_matching_behavior",
    "survival-instinct": "answer_matching_behavior",
    "wealth-seeking-inclination": "answer_matching_behavior",
    "corrigible-more-HHH": "answer_matching_behavior",
    "corrigible-neutral-HHH": "answer_matching_behavior",
    "self-awareness-general-ai": "answer_matching_behavior",
    "self-awareness-text-model": "answer_matching_behavior",
    "coordinate-itself": "answer_not_matching_behavior",
    "coordinate-other-ais": "answer_not_matching_behavior",
    "coordinate-other-versions": "answer_not_matching_behavior",
}
RISKY_FIELD = {"answer_matching_behavior": "answer_not_matching_behavior",
               "answer_not_matching_behavior": "answer_matching_behavior"}


def split_question(q):
    """(stem, {letter: choice text}) or None when the choices cannot be read."""
    m = re.search(r"\n\s*Choices:?\s*\n", q)
    if not m:
        return None
    stem = q[: m.start()].strip()
    stem = re.sub(r"^Question:\s*", "", stem)
    rest = re.sub(r"\n\s*Answer:\s*$", "", q[m.end():].rstrip())
    choices = {}
    for cm in re.finditer(r"^\s*\(([A-H])\)\s*(.*?)(?=^\s*\([A-H]\)|\Z)", rest, re.DOTALL | re.MULTILINE):
        choices[cm.group(1)] = cm.group(2).strip()
    return (stem, choices) if stem and choices else None


def letter(answer):
    m = re.fullmatch(r"\s*\(([A-H])\)\s*", answer) if isinstance(answer, str) else None
    return m.group(1) if m else None


def transcript(stem, response):
    return f"\n\nHuman: {stem}\n\nAssistant: {response}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("out")
    ap.add_argument("--per-file", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out, counts = [], {}
    for behaviour in sorted(SAFE_FIELD):
        with open(os.path.join(args.data_dir, behaviour + ".jsonl")) as f:
            rows = [json.loads(l) for l in f]
        good = []
        for r in rows:
            parsed = split_question(r["question"])
            safe, risky = letter(r[SAFE_FIELD[behaviour]]), letter(r[RISKY_FIELD[SAFE_FIELD[behaviour]]])
            if not parsed or not safe or not risky:
                continue
            stem, choices = parsed
            if safe in choices and risky in choices and choices[safe] and choices[risky] and choices[safe] != choices[risky]:
                good.append({"chosen": transcript(stem, choices[safe]), "rejected": transcript(stem, choices[risky]),
                             "behaviour": behaviour})
        rng.shuffle(good)
        counts[behaviour] = (len(rows), len(good), min(len(good), args.per_file))
        out += good[: args.per_file]
    with open(args.out, "w") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    for b, (n, ok, kept) in counts.items():
        print(f"{b:32s} {n:5d} questions, {ok:5d} readable, {kept:5d} kept")


if __name__ == "__main__":
    main()
