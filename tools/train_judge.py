#!/usr/bin/env python3
"""Train and measure the principle-conditioned judge head (numpy only, seeded).

Inputs are pooled hidden states written by `principle-checker features` from a
model converted with `--hidden-layers all`: for every comparison, each response
read as the assistant's turn after the conversation, and every principle of the
constitution read on its own (see src/head.rs for how the product computes the
same features).

The head is low-rank:

    logit(i over j | p) = (proj(x_i) - proj(x_j))  ·  [z_p, 1] V
    proj(x) = [x · u_hh,  r_ai(x)]
    r_ai(x) = w2 · tanh(((x - m) / s) W1 + b1)      (or x · u_ai with --ai-reward linear)

x = a response's pooled state (mean over a band of layers), z_p = the principle's
standardized pooled state. proj gives a response one score per kind of judgement:
harmlessness is a linear direction, AI safety a small reward network (16 tanh
units) because a linear read-out does not carry over to held-out behaviours (80 %
against 86 %, BENCHMARKS.md). V says how much each score counts for a principle.
The logit is antisymmetric in (i, j), so the two answer orders agree by
construction and there is no position bias to correct.

Training data (as the paper samples principles that fit each comparison):
  * HH-RLHF harmless pairs, each with the harmlessness principles (target: the
    crowdworker's choice) and with principles about the AI's own identity and
    power, which do not speak to an ordinary harmful request (target: 0.5);
  * advanced-AI-risk comparisons (tools/judge_data.py), each with the Research
    Set 2 principles (target: the safe answer) and with principles about
    unrelated topics such as medical or legal advice (target: 0.5).
The 0.5 targets teach relevance: an unrelated principle should leave the
verdict near even.

Measurement: 5 folds; fold f leaves out a fifth of the HH pairs and two whole
behaviour files, trains on the rest, and scores the left-out part. Every HH pair
and every behaviour is scored exactly once by a head that never saw it. The
shipped head is then trained on everything with the same settings.

    python tools/train_judge.py FEATURES_DIR --constitution constitutions/claude-2023.json \
        --out judges/smollm2-135m-head.json
"""
import argparse
import hashlib
import json
import os
import time

import numpy as np

SEED = 20231

# Which principles fit which kind of comparison, and which do not speak to it.
# Fitting sets follow the paper (harmlessness principles for HH-RLHF, Research
# Set 2 for the AI-risk questions); "unrelated" sets are principles about a
# different topic than the data: the AI's own identity/power for ordinary
# harmful requests, advice-giving and social-bias topics for AI-risk questions.
HH_FIT_GROUPS = ("udhr", "non-western", "research-1")
HH_FIT_EXTRA = ("apple-01", "apple-02", "apple-04", "sparrow-01", "sparrow-02", "sparrow-03", "sparrow-11")
HH_UNRELATED = ("research-2-07", "research-2-09", "research-2-10", "research-2-13", "research-2-14",
                "research-2-15", "sparrow-04")
AI_FIT_GROUPS = ("research-2",)
AI_UNRELATED = ("sparrow-01", "sparrow-08", "sparrow-09", "sparrow-11", "udhr-02", "udhr-07",
                "non-western-04", "research-1-12")
# behaviour files held out together in one fold
BEHAVIOUR_FOLDS = [
    ("power-seeking-inclination", "coordinate-itself"),
    ("survival-instinct", "self-awareness-text-model"),
    ("wealth-seeking-inclination", "coordinate-other-ais"),
    ("corrigible-more-HHH", "self-awareness-general-ai"),
    ("corrigible-neutral-HHH", "coordinate-other-versions"),
]


def load_features(prefix):
    meta = json.load(open(prefix + ".json"))
    arr = np.fromfile(prefix + ".f32", dtype="<f4")
    n = len(meta["rows"])
    arr = arr.reshape(n, meta["texts_per_row"], len(meta["layers"]), meta["hidden"])
    return meta, arr


def load_sharded(dirname, name):
    parts = sorted(f[: -len(".json")] for f in os.listdir(dirname) if f.startswith(name + ".") and f.endswith(".json"))
    metas, arrs = zip(*(load_features(os.path.join(dirname, p)) for p in parts))
    rows = [r for m in metas for r in m["rows"]]
    arr = np.concatenate(arrs)
    order = np.argsort(rows, kind="stable")
    return metas[0], np.array(rows)[order], arr[order], sum(len(m["skipped"]) for m in metas)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def adam(params, grad, steps, lr):
    """Full-batch Adam: grad(params) -> list of gradients, same shapes."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for step in range(1, steps + 1):
        for i, (p, g) in enumerate(zip(params, grad(params))):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            p -= lr * (m[i] / (1 - 0.9 ** step)) / (np.sqrt(v[i] / (1 - 0.999 ** step)) + 1e-8)
    return params


def probe_direction(d, l2, epochs=300, lr=0.05):
    """Logistic regression on chosen-minus-rejected pooled states, no bias term (the
    model is antisymmetric, so it is trained on both orders at once). Returns the
    weight vector in raw feature units: logit = d @ w."""
    scale = 1.0 / (d.std(0) + 1e-6)
    X = d * scale
    w = np.zeros(X.shape[1])

    def grad(params):
        return [X.T @ (sigmoid(X @ params[0]) - 1.0) / len(X) + l2 * params[0]]

    return adam([w], grad, epochs, lr)[0] * scale


class Head:
    """Two stages. (1) One direction per kind of judgement, each a regularized
    logistic probe on its own data: harmlessness from HH-RLHF, AI safety from the
    AI-risk comparisons. (2) A principle gate: how much each direction counts for a
    principle, linear in the principle's standardized pooled state, trained on all
    data with fitting principles → the label and unrelated ones → 0.5. Fixing the
    directions first keeps each one as good as its probe; the gate only decides
    which applies and how strongly."""

    def __init__(self, l2_hh, l2_ai, l2_gate, epochs, lr, mlp=None, solver="newton", newton_steps=30,
                 gate_scores="in-sample"):
        """mlp: None for a linear AI-safety direction, else the reward network's
        settings (hidden, l2, epochs, lr, seed). solver: how the gate is fitted,
        "newton" (to its minimum) or "adam" (epochs × lr, as the first heads were).
        gate_scores: the scores the gate is fitted on, "in-sample" (the directions'
        own training pairs) or "out-of-fold" (each pair scored by directions fitted
        without it: 5 inner folds, whole behaviours for AI-risk), which the gate then
        sees as it will see new pairs."""
        self.l2_hh, self.l2_ai, self.l2_gate, self.epochs, self.lr = l2_hh, l2_ai, l2_gate, epochs, lr
        self.solver, self.newton_steps, self.gate_scores = solver, newton_steps, gate_scores
        self.mlp_settings, self.mlp = mlp, None

    def fit_directions(self, hh_pairs, ai_pairs):
        d_hh, d_ai = hh_pairs[:, 0] - hh_pairs[:, 1], ai_pairs[:, 0] - ai_pairs[:, 1]
        u_hh = probe_direction(d_hh, self.l2_hh)
        if self.mlp_settings is None:
            self.U = np.stack([u_hh, probe_direction(d_ai, self.l2_ai)], 1)
        else:
            self.U = np.stack([u_hh, np.zeros_like(u_hh)], 1)
            self.mlp = reward_mlp(ai_pairs, **self.mlp_settings)
        self.scale = np.ones(self.U.shape[0])
        return self

    def out_of_fold_scores(self, hh_pairs, ai_pairs, ai_groups, k=5):
        """Each pair's scores from directions fitted on the other inner folds."""
        rng = np.random.default_rng(SEED + 7)
        hh_in = rng.permutation(len(hh_pairs)) % k
        names = rng.permutation(np.unique(ai_groups))
        ai_in = np.array([int(np.flatnonzero(names == g)[0]) % k for g in ai_groups])
        out = [np.zeros((len(hh_pairs), 2)), np.zeros((len(ai_pairs), 2))]
        for j in range(k):
            inner = Head(self.l2_hh, self.l2_ai, self.l2_gate, self.epochs, self.lr, self.mlp_settings)
            inner.fit_directions(hh_pairs[hh_in != j], ai_pairs[ai_in != j])
            out[0][hh_in == j] = inner.scores(hh_pairs[hh_in == j])
            out[1][ai_in == j] = inner.scores(ai_pairs[ai_in == j])
        return out

    def fit(self, hh_pairs, ai_pairs, blocks, z, ai_groups=None):
        """pairs: [N, 2, D], chosen first. blocks: list of (pairs, mask [N, P]
        weights, target [N, P]); with out-of-fold gate scores, exactly the HH block
        and then the AI-risk block, of hh_pairs and ai_pairs (ai_groups: each AI-risk
        pair's behaviour)."""
        self.fit_directions(hh_pairs, ai_pairs)
        self.z_mean, self.z_scale = z.mean(0), 1.0 / (z.std(0) + 1e-6)
        zt = self.principles(z)
        # start from "every principle uses both directions at full weight"
        V = np.zeros((zt.shape[1], self.U.shape[1]))
        V[-1] = 1.0
        if self.gate_scores == "out-of-fold":
            oof = self.out_of_fold_scores(hh_pairs, ai_pairs, ai_groups)
            scores = [(s, mask, target) for s, (_, mask, target) in zip(oof, blocks, strict=True)]
        else:
            scores = [(self.scores(pairs), mask, target) for pairs, mask, target in blocks]
        weight = sum(b[1].sum() for b in blocks)

        def grad(params):
            (V,) = params
            g = self.l2_gate * V
            g[-1] -= self.l2_gate * V[-1]  # the shared row (constant input) is not shrunk
            ZV = zt @ V
            for A, mask, target in scores:
                G = (sigmoid(A @ ZV.T) - target) * mask / weight
                g = g + zt.T @ (G.T @ A)
            return [g]

        if self.solver == "adam":
            self.V = adam([V], grad, self.epochs, self.lr)[0]
            return self
        # The loss is convex in V (logistic in V for fixed scores, plus L2), so Newton's
        # method finds its one minimum. Full-batch Adam did not: it turns near-zero
        # gradients into full-size steps, and a 1e-14 change in the scores moved the
        # held-out AI-risk figure by 7 points (BENCHMARKS.md).
        ridge = np.full(V.shape, self.l2_gate)
        ridge[-1] = 0.0

        def loss(V):
            total = 0.5 * (ridge * V * V).sum()
            ZV = zt @ V
            for A, mask, target in scores:
                logit = A @ ZV.T
                # binary cross-entropy against soft targets, written to stay finite
                total += ((np.logaddexp(0, logit) - target * logit) * mask).sum() / weight
            return total

        def hessian(V):
            ZV = zt @ V
            M = np.zeros((len(zt), V.shape[1], V.shape[1]))
            for A, mask, target in scores:
                q = sigmoid(A @ ZV.T)
                c = q * (1 - q) * mask / weight  # [N, P]
                M += np.einsum("np,nj,nl->pjl", c, A, A)
            H = np.einsum("pd,pe,pjl->djel", zt, zt, M).reshape(V.size, V.size)
            H[np.diag_indices_from(H)] += ridge.ravel()
            return H

        for _ in range(self.newton_steps):
            g = grad([V])[0]
            if np.abs(g).max() < 1e-10:
                break
            step = np.linalg.solve(hessian(V), g.ravel()).reshape(V.shape)
            t, f0 = 1.0, loss(V)
            while loss(V - t * step) > f0 - 1e-4 * t * (g * step).sum() and t > 1e-8:
                t *= 0.5
            V = V - t * step
        self.V = V
        return self

    def principles(self, z):
        zs = (z - self.z_mean) * self.z_scale
        return np.concatenate([zs, np.ones((len(z), 1))], 1)

    def project(self, x):
        """proj(x): [N, 2] scores of responses."""
        p = (x * self.scale) @ self.U
        if self.mlp is not None:
            p[:, 1] = reward(self.mlp, x)
        return p

    def scores(self, pairs):
        """proj(first) - proj(second), the linear columns from the difference of the
        features (as the head was first trained, so a linear head reproduces)."""
        s = ((pairs[:, 0] - pairs[:, 1]) * self.scale) @ self.U
        if self.mlp is not None:
            s[:, 1] = reward(self.mlp, pairs[:, 0]) - reward(self.mlp, pairs[:, 1])
        return s

    def logits(self, pairs, z):
        """[N pairs, P principles] logit that the first response is better."""
        return self.scores(pairs) @ (self.principles(z) @ self.V).T


def masks(ids, groups, fit_groups, fit_extra, unrelated):
    fit = np.array([groups[i] in fit_groups or i in fit_extra for i in ids], dtype=float)
    unrel = np.array([i in unrelated for i in ids], dtype=float)
    return fit, unrel


def block(pairs, fit, unrel, unrelated_weight):
    """Training block: (chosen, rejected) pairs; fitting principles → 1, unrelated
    → 0.5. Both answer orders are implied by the antisymmetric score."""
    n = len(pairs)
    mask = np.tile(fit + unrelated_weight * unrel, (n, 1))
    target = np.tile(np.where(unrel > 0, 0.5, 1.0), (n, 1))
    return pairs, mask, target


def reward_mlp(pairs, hidden, l2, epochs, lr, seed):
    """A reward network r(x) = w2 · tanh(((x - m) / s) W1 + b1), trained so that
    r(chosen) - r(rejected) is the logit of the label (Bradley-Terry), full-batch
    Adam, seeded. pairs: [N, 2, D], chosen first. Returns the parameters."""
    both = pairs.reshape(-1, pairs.shape[-1])
    m, s = both.mean(0), both.std(0) + 1e-6
    A, B = (pairs[:, 0] - m) / s, (pairs[:, 1] - m) / s
    rng = np.random.default_rng(seed)
    d = A.shape[1]
    params = [rng.normal(0, 1 / np.sqrt(d), (d, hidden)), np.zeros(hidden), rng.normal(0, 1 / np.sqrt(hidden), hidden)]

    def grad(params):
        W1, b1, w2 = params
        ha, hb = np.tanh(A @ W1 + b1), np.tanh(B @ W1 + b1)
        g = (sigmoid((ha - hb) @ w2) - 1.0) / len(A)
        da = np.outer(g, w2) * (1 - ha ** 2)
        db = -np.outer(g, w2) * (1 - hb ** 2)
        return [A.T @ da + B.T @ db + l2 * W1, da.sum(0) + db.sum(0), (ha - hb).T @ g + l2 * w2]

    W1, b1, w2 = adam(params, grad, epochs, lr)
    return {"mean": m, "scale": 1.0 / s, "w1": W1, "b1": b1, "w2": w2}


def reward(mlp, x):
    return np.tanh(((x - mlp["mean"]) * mlp["scale"]) @ mlp["w1"] + mlp["b1"]) @ mlp["w2"]


def logistic_probe(d_train, d_test, l2):
    """Principle-free baseline: P(first better) from a probe trained on d_train."""
    return sigmoid(d_test @ probe_direction(d_train, l2))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features")
    ap.add_argument("--constitution", default="constitutions/claude-2023.json")
    ap.add_argument("--airisk", default=None, help="the jsonl tools/judge_data.py wrote (for behaviour names)")
    ap.add_argument("--layers", default="16-24", help="the band of layers whose pooled states are averaged")
    ap.add_argument("--l2-hh", type=float, default=0.3, help="L2 of the harmlessness direction's probe")
    ap.add_argument("--l2-ai", type=float, default=0.01, help="L2 of the AI-safety direction's probe")
    ap.add_argument("--l2-gate", type=float, default=0.1)
    ap.add_argument("--ai-reward", choices=("mlp", "linear"), default="mlp",
                    help="the AI-safety score: a small reward network, or a linear direction")
    ap.add_argument("--gate-solver", choices=("newton", "adam"), default="newton",
                    help="fit the principle gate to its minimum, or by --epochs steps of Adam at --lr")
    ap.add_argument("--gate-scores", choices=("in-sample", "out-of-fold"), default="in-sample",
                    help="fit the gate on the directions' scores of their own training pairs, or on "
                         "out-of-fold scores (5 inner folds; BENCHMARKS.md, tried 2026-12-01, not kept)")
    ap.add_argument("--mlp-hidden", type=int, default=16)
    ap.add_argument("--l2-mlp", type=float, default=0.1)
    ap.add_argument("--mlp-epochs", type=int, default=300)
    ap.add_argument("--mlp-lr", type=float, default=0.01)
    ap.add_argument("--unrelated-weight", type=float, default=2.0)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--out", default=None)
    ap.add_argument("--metrics", default=None)
    args = ap.parse_args()
    t0 = time.time()
    rng = np.random.default_rng(SEED)

    constitution = json.load(open(args.constitution))
    pmeta, parr = load_features(os.path.join(args.features, "principles"))
    ids = pmeta["rows"]
    groups = {p["id"]: p["group"] for p in constitution["principles"]}
    texts = {p["id"]: p["text"] for p in constitution["principles"]}
    hmeta, hh_rows, hh, hh_skipped = load_sharded(args.features, "hh")
    _, ai_rows, ai, ai_skipped = load_sharded(args.features, "airisk")
    airisk = args.airisk or os.path.join(args.features, "airisk.jsonl")
    behaviours = [json.loads(l)["behaviour"] for l in open(airisk)]
    ai_beh = np.array([behaviours[r] for r in ai_rows])
    layers = hmeta["layers"]
    lo, hi = (int(x) for x in args.layers.split("-"))
    use = [layers.index(l) for l in range(lo, hi + 1)]
    print(f"HH pairs {len(hh)} (skipped {hh_skipped}), AI-risk pairs {len(ai)} (skipped {ai_skipped}), "
          f"principles {len(ids)}, features: mean of layers {lo}-{hi}")
    # the mean over a band of middle-to-late layers: steadier than any single layer
    hh, ai, z = hh[:, :, use].mean(2), ai[:, :, use].mean(2), parr[:, 0, use].mean(1)

    hh_fold = rng.permutation(len(hh)) % 5
    ai_fold = np.array([next(f for f, b in enumerate(BEHAVIOUR_FOLDS) if beh in b) for beh in ai_beh])
    d_hh, d_ai = hh[:, 0] - hh[:, 1], ai[:, 0] - ai[:, 1]

    # 1. baseline: principle-free logistic probes, same folds
    probe_hh, probe_ai = np.zeros(len(hh)), np.zeros(len(ai))
    for f in range(5):
        probe_hh[hh_fold == f] = logistic_probe(d_hh[hh_fold != f], d_hh[hh_fold == f], args.l2_hh)
        probe_ai[ai_fold == f] = logistic_probe(d_ai[ai_fold != f], d_ai[ai_fold == f], args.l2_ai)
    probe = {"hh": float((probe_hh > 0.5).mean()), "airisk": float((probe_ai > 0.5).mean())}
    print(f"probe: HH {probe['hh']:.3f}  AI-risk {probe['airisk']:.3f}")

    hh_fit, hh_unrel = masks(ids, groups, HH_FIT_GROUPS, HH_FIT_EXTRA, HH_UNRELATED)
    ai_fit, ai_unrel = masks(ids, groups, AI_FIT_GROUPS, (), AI_UNRELATED)
    mlp = None if args.ai_reward == "linear" else dict(
        hidden=args.mlp_hidden, l2=args.l2_mlp, epochs=args.mlp_epochs, lr=args.mlp_lr, seed=SEED)
    make = lambda: Head(args.l2_hh, args.l2_ai, args.l2_gate, args.epochs, args.lr, mlp, args.gate_solver,
                        gate_scores=args.gate_scores)

    # 2. cross-validated head
    def cross_validate(hh_fold):
        p_hh = np.zeros((len(hh), len(ids)))
        p_ai = np.zeros((len(ai), len(ids)))
        for f in range(5):
            tr, te = hh_fold != f, hh_fold == f
            atr, ate = ai_fold != f, ai_fold == f
            head = make().fit(hh[tr], ai[atr],
                              [block(hh[tr], hh_fit, hh_unrel, args.unrelated_weight),
                               block(ai[atr], ai_fit, ai_unrel, args.unrelated_weight)], z, ai_beh[atr])
            p_hh[te] = sigmoid(head.logits(hh[te], z))
            p_ai[ate] = sigmoid(head.logits(ai[ate], z))
        return p_hh, p_ai

    p_hh, p_ai = cross_validate(hh_fold)
    # the HH figure moves by about a point with the fold assignment: report the spread
    hh_other_splits = []
    for extra in (1, 2):
        fold = np.random.default_rng(SEED + extra).permutation(len(hh)) % 5
        q = cross_validate(fold)[0]
        hh_other_splits.append(float((q[:, hh_fit > 0].mean(1) > 0.5).mean()))
    col = {i: k for k, i in enumerate(ids)}

    def summary(p, fit, unrel):
        f, u = fit > 0, unrel > 0
        return {
            "accuracy_mean_over_fitting_principles": float((p[:, f] > 0.5).mean()),
            "accuracy_mean_probability": float((p[:, f].mean(1) > 0.5).mean()),
            "relevance_fitting": float(np.abs(p[:, f] - 0.5).mean()),
            "relevance_unrelated": float(np.abs(p[:, u] - 0.5).mean()),
        }

    metrics = {
        "hh_pairs": int(len(hh)), "airisk_pairs": int(len(ai)),
        "layers": [lo, hi], "l2_hh": args.l2_hh, "l2_ai": args.l2_ai, "l2_gate": args.l2_gate,
        "unrelated_weight": args.unrelated_weight, "epochs": args.epochs, "lr": args.lr, "seed": SEED,
        "ai_reward": args.ai_reward, "gate_solver": args.gate_solver} | (
        {} if args.gate_scores == "in-sample" else {"gate_scores": args.gate_scores}) | ({} if mlp is None else {
        "mlp_hidden": args.mlp_hidden, "l2_mlp": args.l2_mlp, "mlp_epochs": args.mlp_epochs, "mlp_lr": args.mlp_lr}) | {
        "probe": probe,
        "hh_accuracy_other_fold_splits": hh_other_splits,
        "hh": summary(p_hh, hh_fit, hh_unrel) | {"accuracy_research-1-02": float((p_hh[:, col["research-1-02"]] > 0.5).mean())},
        "airisk": summary(p_ai, ai_fit, ai_unrel) | {"accuracy_research-2-01": float((p_ai[:, col["research-2-01"]] > 0.5).mean())},
        "airisk_by_behaviour": {b: float((p_ai[ai_beh == b][:, ai_fit > 0].mean(1) > 0.5).mean()) for b in sorted(set(ai_beh))},
        "per_principle_mean_abs_shift": {
            "hh": {i: float(np.abs(p_hh[:, col[i]] - 0.5).mean()) for i in ids},
            "airisk": {i: float(np.abs(p_ai[:, col[i]] - 0.5).mean()) for i in ids},
        },
    }
    print(json.dumps({k: metrics[k] for k in ("hh", "hh_accuracy_other_fold_splits", "airisk", "airisk_by_behaviour")}, indent=1))

    # 3. the shipped head: everything, same settings
    head = make().fit(hh, ai, [block(hh, hh_fit, hh_unrel, args.unrelated_weight),
                               block(ai, ai_fit, ai_unrel, args.unrelated_weight)], z, ai_beh)
    metrics["train_seconds"] = round(time.time() - t0, 1)
    if args.metrics:
        with open(args.metrics, "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")
    if args.out:
        zt = head.principles(z) @ head.V
        out = {
            "format": "principle-checker-head/2",
            "model": hmeta["model"],
            "layers": list(range(lo, hi + 1)),
            "hidden": hmeta["hidden"],
            "rank": int(head.U.shape[1]),
            "response_scale": [round(float(x), 7) for x in head.scale],
            "principle_mean": [round(float(x), 6) for x in head.z_mean],
            "principle_scale": [round(float(x), 7) for x in head.z_scale],
            "u": [[round(float(x), 7) for x in row] for row in head.U],
            "v": [[round(float(x), 7) for x in row] for row in head.V],
            # the default constitution's principle vectors, so a check of built-in
            # principles needs no principle pass (custom ones are computed)
            "principle_vectors": {
                hashlib.sha256(texts[i].encode()).hexdigest()[:16]: [round(float(x), 6) for x in zt[k]]
                for k, i in enumerate(ids)
            },
            "metrics": {k: metrics[k] for k in ("hh", "hh_accuracy_other_fold_splits", "airisk", "probe")},
        }
        if head.mlp is not None:
            r = lambda a, nd=7: [round(float(x), nd) for x in a]
            out["reward"] = {"direction": 1, "mean": r(head.mlp["mean"], 6), "scale": r(head.mlp["scale"]),
                             "w1": [r(row) for row in head.mlp["w1"]], "b1": r(head.mlp["b1"]), "w2": r(head.mlp["w2"])}
        with open(args.out, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
