#!/usr/bin/env python3
"""An independent numpy forward pass over the GGUF weights: the yardstick for the ONNX graph.

It is written the textbook way (explicit heads, repeated K/V, a loop over rotary
pairs) so that a mistake in convert_gguf.py's graph tricks does not repeat here.
It writes reference.json: the fixed text, its token ids and the last-position
logits. The ids were produced once by the Python `tokenizers` package (the Hugging
Face reference implementation) reading the converted tokenizer.json; the Rust tests
check that the Rust tokenizer gives the same ids, and that tract's logits for them
match these. With --generate it also prints a greedy continuation (token ids for a
chat prompt that asks for the capital of France), a sanity check that the weights
mean what we think: the expected start is " The capital of France is Paris."
"""
import argparse
import json
import os

import gguf
import numpy as np

# fmt: off
TEXT_IDS = [16865, 260, 1695, 6634, 826, 253, 1205, 284, 354, 11173, 42, 198, 198, 14917, 42, 1812, 314, 260,
            3575, 282, 4649, 47, 198, 198, 9519, 9531, 42, 378, 3575, 282, 4649, 314, 7042, 30]
CHAT_IDS = [1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
# fmt: on
TEXT = ("Consider the following conversation between a human and an assistant:\n\n"
        "Human: What is the capital of France?\n\nAssistant: The capital of France is Paris.")


def weights(reader):
    """Every tensor of a GGUF, dequantized to f32, in the shape the file names."""
    W = {}
    for t in reader.tensors:
        a = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        W[t.name] = a.reshape([int(d) for d in reversed(t.shape)])
    return W


def load(path):
    r = gguf.GGUFReader(path)
    W = weights(r)
    f = lambda k: r.fields[k].contents()
    cfg = {"n_layer": int(f("llama.block_count")), "n_head": int(f("llama.attention.head_count")),
           "n_kv": int(f("llama.attention.head_count_kv")), "eps": float(f("llama.attention.layer_norm_rms_epsilon")),
           "base": float(f("llama.rope.freq_base"))}
    return W, cfg


def rms(x, w, eps):
    return x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + eps).astype(np.float32) * w


def rope_pairs(x, pos, base):
    # x [S, H, hd]; rotate adjacent pairs (llama.cpp's normal rope on GGUF-permuted weights)
    hd = x.shape[-1]
    out = x.copy()
    for i in range(hd // 2):
        theta = pos * base ** (-2.0 * i / hd)
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        a, b = x[:, :, 2 * i], x[:, :, 2 * i + 1]
        out[:, :, 2 * i] = a * c - b * s
        out[:, :, 2 * i + 1] = a * s + b * c
    return out


def forward(W, cfg, ids):
    S = len(ids)
    h = W["token_embd.weight"][ids]
    H, KV = cfg["n_head"], cfg["n_kv"]
    hd = h.shape[-1] // H
    pos = np.arange(S, dtype=np.float64)
    for l in range(cfg["n_layer"]):
        x = rms(h, W[f"blk.{l}.attn_norm.weight"], cfg["eps"])
        q = (x @ W[f"blk.{l}.attn_q.weight"].T).reshape(S, H, hd)
        k = (x @ W[f"blk.{l}.attn_k.weight"].T).reshape(S, KV, hd)
        v = (x @ W[f"blk.{l}.attn_v.weight"].T).reshape(S, KV, hd)
        q, k = rope_pairs(q, pos, cfg["base"]), rope_pairs(k, pos, cfg["base"])
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        att = np.einsum("shd,thd->hst", q, k) / np.sqrt(hd)
        att = att + np.triu(np.full((S, S), -np.inf), 1)[None]
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hst,thd->shd", att, v).reshape(S, H * hd)
        h = h + o @ W[f"blk.{l}.attn_output.weight"].T
        x = rms(h, W[f"blk.{l}.ffn_norm.weight"], cfg["eps"])
        g = x @ W[f"blk.{l}.ffn_gate.weight"].T
        u = x @ W[f"blk.{l}.ffn_up.weight"].T
        h = h + (g / (1 + np.exp(-g)) * u) @ W[f"blk.{l}.ffn_down.weight"].T
    x = rms(h[-1:], W["output_norm.weight"], cfg["eps"])
    head = W.get("output.weight", W["token_embd.weight"])
    return (x @ head.T)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("out_dir")
    ap.add_argument("--generate", type=int, default=0)
    args = ap.parse_args()
    W, cfg = load(args.gguf)
    logits = forward(W, cfg, TEXT_IDS)
    print("top next token ids:", [int(t) for t in np.argsort(-logits)[:5]])
    if args.generate:
        g = list(CHAT_IDS)
        for _ in range(args.generate):
            g.append(int(np.argmax(forward(W, cfg, g))))
        print("greedy token ids:", g[len(CHAT_IDS):])
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "reference.json"), "w") as f:
        json.dump({"text": TEXT, "ids": TEXT_IDS, "logits": [round(float(x), 5) for x in logits]}, f)


if __name__ == "__main__":
    main()
