#!/usr/bin/env python3
"""Does the model's own likelihood of a reply tell a right worked answer from a wrong one?

For comparisons of one kind (tools/judge_dimensions.py's `kind`, e.g. wrong-result),
reads each reply after its conversation with the numpy reference forward pass
(tools/reference_forward.py) and compares the replies' mean token log-probability,
read at several layers through the output norm and the (tied) output matrix (a logit
lens), normalized over the whole vocabulary or over the first K token ids and the token
itself (what src/engine/lens.rs does, K = 1024). Prints, per variant, how often the better reply is
the likelier one. Slow (numpy, ~2 s a reply); seeded sample.

    python research/likelihood_probe.py GGUF target/judge/dims.jsonl TOKENIZER_JSON \
        --kinds wrong-result,refusal,insult --n 25
"""
import argparse
import json
import os
import random
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import reference_forward as rf  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402


def hidden_states(W, cfg, ids, layers):
    """The residual stream after each of `layers`, every position: {layer: [S, hidden]}."""
    S = len(ids)
    h = W["token_embd.weight"][ids]
    H, KV = cfg["n_head"], cfg["n_kv"]
    hd = h.shape[-1] // H
    pos = np.arange(S, dtype=np.float64)
    out = {}
    for l in range(cfg["n_layer"]):
        x = rf.rms(h, W[f"blk.{l}.attn_norm.weight"], cfg["eps"])
        q = (x @ W[f"blk.{l}.attn_q.weight"].T).reshape(S, H, hd)
        k = (x @ W[f"blk.{l}.attn_k.weight"].T).reshape(S, KV, hd)
        v = (x @ W[f"blk.{l}.attn_v.weight"].T).reshape(S, KV, hd)
        q, k = rf.rope_pairs(q, pos, cfg["base"]), rf.rope_pairs(k, pos, cfg["base"])
        k, v = np.repeat(k, H // KV, axis=1), np.repeat(v, H // KV, axis=1)
        att = np.einsum("shd,thd->hst", q, k) / np.sqrt(hd) + np.triu(np.full((S, S), -np.inf), 1)[None]
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        h = h + np.einsum("hst,thd->shd", att, v).reshape(S, H * hd) @ W[f"blk.{l}.attn_output.weight"].T
        x = rf.rms(h, W[f"blk.{l}.ffn_norm.weight"], cfg["eps"])
        g, u = x @ W[f"blk.{l}.ffn_gate.weight"].T, x @ W[f"blk.{l}.ffn_up.weight"].T
        h = h + (g / (1 + np.exp(-g)) * u) @ W[f"blk.{l}.ffn_down.weight"].T
        if l in layers:
            out[l] = h.copy()
    return out


def lse(a):
    m = a.max(-1)
    return m + np.log(np.exp(a - m[:, None]).sum(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("pairs")
    ap.add_argument("tokenizer")
    ap.add_argument("--kinds", default="wrong-result")
    ap.add_argument("--n", type=int, default=25)
    ap.add_argument("--layers", default="16,20,24,29")
    ap.add_argument("--vocab", default="256,1024,2048")
    args = ap.parse_args()
    W, cfg = rf.load(args.gguf)
    E = W.get("output.weight", W["token_embd.weight"])
    tok = Tokenizer.from_file(args.tokenizer)
    layers = [int(x) for x in args.layers.split(",")]
    ks = [int(x) for x in args.vocab.split(",")]

    def features(text):
        pre, reply = text.rsplit("\n\nAssistant: ", 1)
        start = len(tok.encode(pre + "\n\nAssistant:").ids)
        ids = tok.encode(pre + "\n\nAssistant: " + reply).ids
        out = {}
        for l, h in hidden_states(W, cfg, ids, layers).items():
            x = rf.rms(h[start - 1:-1], W["output_norm.weight"], cfg["eps"])
            own = np.einsum("sd,sd->s", x, E[ids[start:]])
            logits = x @ E.T
            out[f"L{l} full"] = (own - lse(logits)).mean()
            beyond = np.array(ids[start:]) >= np.array(ks)[:, None]  # [K, S]: the token is outside the first k
            for k, out_k in zip(ks, beyond):
                # over the first k ids and the token itself, as src/engine/lens.rs normalizes
                norm = np.logaddexp(lse(logits[:, :k]), np.where(out_k, own, -np.inf))
                out[f"L{l} first {k}"] = (own - norm).mean()
        return out

    with open(args.pairs) as f:
        rows = [json.loads(line) for line in f]
    for kind in args.kinds.split(","):
        sample = [r for r in rows if r.get("kind") == kind]
        random.Random(0).shuffle(sample)
        wins = {}
        for r in sample[: args.n]:
            a, b = features(r["chosen"]), features(r["rejected"])
            for key in a:
                wins.setdefault(key, []).append(a[key] > b[key])
        print(f"{kind} ({len(sample[:args.n])} pairs): better reply likelier in")
        for key, v in wins.items():
            print(f"  {key:18s} {100 * np.mean(v):5.1f}%")


if __name__ == "__main__":
    main()
