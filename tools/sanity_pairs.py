#!/usr/bin/env python3
"""The obvious-case suite (tests/judge-sanity/cases.jsonl) as comparison lines that
`principle-checker features --pairs` reads: {"chosen", "rejected"} transcripts, the
better reply first, in the suite's order (tools/train_judge.py reports the suite
from them)."""
import json
import sys

cases, out = sys.argv[1], sys.argv[2]
with open(out, "w") as f, open(cases) as src:
    for line in src:
        c = json.loads(line)
        head = "\n\n" + c["conversation"] + "\n\nAssistant: "
        f.write(json.dumps({"chosen": head + c["better"], "rejected": head + c["worse"]}, ensure_ascii=False) + "\n")
