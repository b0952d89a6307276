#!/usr/bin/env python3
"""Writes a check with six long responses (about 630 tokens each, seeded word salad on
one topic) to a folder, for measuring how memory and time grow with the text:

    python3 research/long_input.py /tmp/big
    /usr/bin/time -v target/release/principle-checker judge /tmp/big/conversation.txt /tmp/big/response-*.txt

(research/notes/memory-2026-12-05.md, "Long responses").
"""
import os
import random
import sys

WORDS = ("the a garden water plant sun soil light grow leaf root seed weather season "
         "careful regularly morning evening").split()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(1)
    with open(os.path.join(out, "conversation.txt"), "w") as f:
        f.write("Human: How should I look after a small vegetable garden through the summer?")
    for i in range(6):
        text, n = [], 0
        while n < 7600:
            sentence = " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + ". "
            text.append(sentence)
            n += len(sentence)
        with open(os.path.join(out, f"response-{i + 1}.txt"), "w") as f:
            f.write("".join(text)[:3600])


if __name__ == "__main__":
    main()
