"""Two replies one small edit apart, and how much likelier the model finds one edit
than the other: the same rules as src/judge/edits.rs, which a check applies.

Pooled states cannot tell "36 / 9 = 4 weeks" from "36 / 9 = 10 weeks": both replies
say the same thing about the same numbers. The model's own next-token probabilities
can, but only where everything else is shared: summed over whole replies they mostly
measure length, and a refusal is always likelier than an answer. So the signal is read
only where the replies differ by an edit, and only over the edited parts:

- both replies split into the same number of parts (sentences, long ones split at
  clause punctuation, as src/judge/evidence.rs splits them);
- they differ in at least one part, and in at most half of them, or in their only
  part when that part is at least EDIT_SIMILARITY alike (longest common subsequence
  of characters, 2 LCS / (|a| + |b|));
- the edited parts hold about as many tokens on both sides (an added sentence is not
  an edit: it only lowers the sum).

The edit's value is the edited parts' summed log-probability in one reply less the
other's; the head reads tanh(value / tau), so an edit votes with a bounded weight.

Run as a script it reads a JSON list of [text, text] pairs on stdin and writes, for
each, its parts and its edited parts (null: not one edit apart): tests/edits.rs checks
that the product splits and gates alike.
"""
import json
import sys

LONG_SENTENCE_WORDS = 30
MIN_CLAUSE_WORDS = 8
EDIT_SIMILARITY = 0.8
ENDS = set(".!?\u2026\n")
TRAIL = set(".!?\u2026\"'\u201d\u2019)")
SPACE = set(" \t\n\r")


def sentences(text):
    """src/text/repeats.rs `sentences`: after sentence-ending punctuation or a line
    break, with the punctuation run and the spaces after it."""
    out, rest = [], text
    while rest:
        end = len(rest)
        for i, c in enumerate(rest):
            if c in ENDS:
                j = i + 1
                while j < len(rest) and rest[j] in TRAIL:
                    j += 1
                while j < len(rest) and rest[j] in SPACE:
                    j += 1
                end = j
                break
        out.append(rest[:end])
        rest = rest[end:]
    return out


def clauses(piece):
    """src/judge/evidence.rs `clauses`: a long sentence split after , ; : and a space,
    every clause at least MIN_CLAUSE_WORDS long."""
    if len(piece.split()) <= LONG_SENTENCE_WORDS:
        return [piece]
    cuts, last = [], 0
    for i, c in enumerate(piece):
        if c in ",;:" and piece[i + 1:].startswith(" "):
            cut = i + 2
            if len(piece[last:cut].split()) >= MIN_CLAUSE_WORDS and len(piece[cut:].split()) >= MIN_CLAUSE_WORDS:
                cuts.append(cut)
                last = cut
    out, start = [], 0
    for cut in cuts + [len(piece)]:
        out.append(piece[start:cut])
        start = cut
    return out


def parts(text):
    return [c for s in sentences(text) for c in clauses(s)]


def normalized(part):
    return " ".join(part.lower().split()).strip(" .!?")


def similarity(a, b):
    """2 LCS / (|a| + |b|) over characters (1 for two empty strings)."""
    if not a and not b:
        return 1.0
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return 2 * prev[-1] / (len(a) + len(b))


def edited(a, b):
    """Indices of the parts in which texts a and b differ, where they are one edit
    apart by the rules above (token counts aside); None otherwise."""
    return edited_parts(parts(a), parts(b))


def edited_parts(pa, pb):
    if len(pa) != len(pb):
        return None
    diff = [i for i in range(len(pa)) if normalized(pa[i]) != normalized(pb[i])]
    if not diff:
        return None
    if 2 * len(diff) > len(pa) and not (len(pa) == 1 and similarity(pa[0], pb[0]) >= EDIT_SIMILARITY):
        return None
    return diff


def edit_value(a, b, lik_a, lik_b):
    """The edited parts' summed log-probability in a less b's; 0 where a and b are
    not one edit apart. lik_*: each part's [mean log-probability, tokens] (features'
    OUT.lp.json; mean None for a part without tokens)."""
    pa, pb = parts(a), parts(b)
    diff = edited_parts(pa, pb)
    if diff is None or len(lik_a) != len(pa) or len(lik_b) != len(pb):
        return 0.0
    ta = sum(lik_a[i][1] for i in diff)
    tb = sum(lik_b[i][1] for i in diff)
    if min(ta, tb) == 0 or max(ta, tb) > 1.5 * min(ta, tb) + 2:
        return 0.0
    total = lambda lik: sum(lik[i][0] * lik[i][1] for i in diff if lik[i][0] is not None)
    return total(lik_a) - total(lik_b)


if __name__ == "__main__":
    pairs = json.load(sys.stdin)
    json.dump([{"parts": [parts(a), parts(b)], "edited": edited(a, b)} for a, b in pairs], sys.stdout)
