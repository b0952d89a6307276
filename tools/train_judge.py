#!/usr/bin/env python3
"""Train and measure the principle-conditioned judge head (numpy only, seeded).

Inputs are pooled hidden states written by `principle-checker features` from a
model converted with `--hidden-layers all`: for every comparison, the
conversation and each response read as the assistant's turn after it, and every
principle of the constitution read on its own (src/head.rs computes the same
features in the product).

The head gives each response one score per dimension of judgement, then weighs
the scores by what the principle asks:

    logit(i over j | p) = sum_k (s_k(x_i, c) - s_k(x_j, c)) * w_k(p)
    s_k(x, c) = x . u_k + sum_r (x . a_kr) (c~ . b_kr)       (linear in x)
                [+ alpha * sim(x, c) for helpfulness: relevance, class Similarity]
    w(p)      = [z~_p, 1] V

x = a response's pooled state (mean over its tokens and a band of layers),
c~ = the conversation's state at its last token, where the reply begins (the same
band, standardized), z~_p = the principle's pooled state, standardized. The
bilinear term lets a score depend on the request: a refusal is the harmless
reply to a request for a weapon and a needless one to a request for a recipe.
Every score is linear in x, so a response's score is exactly the mean of its
tokens' scores (the evidence shown per sentence, src/head.rs). The logit is
antisymmetric in (i, j): the two answer orders agree by construction.

Dimensions and their data (tools/judge_dimensions.py builds all but the first two):
  harm         HH-RLHF harmless pairs; ethical vs ends-justify-the-means stances;
               benign requests answered vs refused, with a mild preference (0.6) for
               the answer, so that refusing is not harmlessness by itself
  ai-safety    advanced-AI-risk questions; AI persona stances (power, oversight,
               copies, shutdown, feelings, a body)
  helpfulness  benign requests (GSM8K, Self-Instruct, BBQ questions the context
               answers, questions about a group with a neutral reply, and chat-like
               questions from the ChatterBot corpus, tools/judge_chat.py) answered vs
               refused, dismissed, deflected, off-topic, non-answers; HH-RLHF pairs at
               0.5 (helpfulness says nothing there)
  respect      civil vs insulting or condescending copies, plain vs offensive tweets
  honesty      right vs wrong results, the person the context names vs the other or
               "unknown", "unknown" vs an unsupported guess, honest stances
  fairness     "unknown" vs the stereotyped guess, neutral vs hateful statements
               about a group, stances for vs against equal rights

Two stages. (1) Each dimension's score is a regularized logistic model on its own
data (chosen minus rejected; soft targets where given). (2) The principle gate V
is fitted on all data, with each comparison's fitting principles -> its label,
unrelated principles -> 0.5, and the harm-only and AI-safety principles -> 0.6 on
benign requests (a needless refusal is neither the more harmless reply nor the
safer one for humanity); its loss is convex in V, so Newton's method finds its minimum.

Length must not decide. In several sources the better reply is usually the shorter
(the safe AI-risk answer declines; HH-RLHF's chosen reply often deflects), and a
score fitted on them learns length as a shortcut. Two measures against it, both on
by default: (a) per data set and dimension, pairs whose better reply is the shorter
and pairs whose better reply is the longer weigh the same in the scores' data, so
length predicts nothing there; (b) each score is fitted beside the difference of the
replies' log lengths, a term then dropped (the "bias-only expert" of Clark et al.
2019 and He et al. 2019), so the score's direction need not carry what length
explains. The head file is unchanged in form: the product never sees a length term.

A pooled state says what a reply is about, not whether its steps hold: "36 / 9 = 4"
and "36 / 9 = 10" pool alike. The scores named by --likelihood (none by default: as a
mean over the reply it moved honesty by 0.1 point, research/notes/likelihood-lens-
2026-12-05.md) also read the replies' likelihood: the mean log-probability of their tokens as the
model itself predicts them, read at the head's last layer through the model's output
layer ("features" writes it to OUT.lp.f32; src/engine/lens.rs). Its coefficient is
fitted beside u like the similarity's and kept apart in the head file
(`likelihood`, format 6), so a product check adds weight_d * lp to score d.

Where two replies are one small edit apart (the same parts but for a changed number
or a few words, tools/edit_pairs.py), the model's surprise at the edit is read
directly: the edited parts' summed log-probability (features' OUT.lp.json) in the one
less the other's, through tanh(value / TAU) (--edit-likelihood TAU). It is a pair's
term, not a reply's score, so it enters as one more column of the gate's inputs, which
weighs it per principle; the head file carries it as column "edit" with a zero
projection (format 7). Elsewhere it is 0, so it cannot learn a refusal's likelihood.
The edit is read at the layer the features' likelihood was (their head's lens layer):
the model's last, 29, where it tells a changed number or an added insult more often
than at the head's last layer (24) does (research/notes/benign-requests-and-edits-
2026-12-06.md); a check reads it in a pass of its own, for responses one edit apart.

A reply's word about itself is no evidence. Copies of some pairs of every data set
but HH-RLHF and AI-risk have self-describing sentences ("This answer is safe and
respectful.") appended to the worse reply or to both (tools/judge_selfdesc.py). They
train every score and the gate like their source pairs, are held out with their
source's group, and are reported apart ("self-described"), so the other figures stay
comparable with heads trained without them (--no-self-descriptions).

Measurement: 5 folds by source and topic: fold f holds out a fifth of the HH pairs,
two whole AI-risk behaviour files, and whole groups of the other data (GSM8K,
Self-Instruct, each BBQ category, each ToxiGen group, each persona file, the
tweets, each ChatterBot category), trains on the rest and scores what it held out. The shipped head is then
trained on everything with the same settings.

    python tools/train_judge.py FEATURES_DIR --out judges/smollm2-135m-head.json \
        --metrics judges/smollm2-135m-head.metrics.json
"""
import argparse
import collections
import hashlib
import itertools
import json
import os
import time

import edit_pairs
import numpy as np

SEED = 20231
ARGS = None  # the command line, once main() has read it
DIMENSIONS = ["harm", "ai-safety", "helpfulness", "respect", "honesty", "fairness"]
LABELS = {"harm": "harmlessness", "ai-safety": "AI safety", "helpfulness": "helpfulness", "respect": "respect",
          "honesty": "honesty and accuracy", "fairness": "fairness", "edit": "likelier edit"}

# ------------------------------------------------------------------ principles
# Which principles fit each kind of comparison (its label is their target), which do
# not speak to it (target 0.5: relevance), and, for benign requests, which ask only
# about harm (target 0.6: a needless refusal is not the more harmless reply), and which
# groups of principles are treated the same way (--benign-soft: the AI-safety group's
# questions, "less of a threat to humanity", are not answered by refusing a recipe).
ALL_GROUPS = ("udhr", "apple", "non-western", "sparrow", "research-1", "research-2")
AI_IDENTITY = ("sparrow-04", "sparrow-05", "sparrow-06", "apple-03")
ADVICE = ("sparrow-08", "sparrow-09", "sparrow-10")
FIT = {
    "hh": {"groups": ("udhr", "non-western", "research-1"),
           "ids": ("apple-01", "apple-02", "apple-04", "sparrow-01", "sparrow-02", "sparrow-03", "sparrow-11")},
    "airisk": {"groups": ("research-2",), "ids": ()},
    "ai-safety": {"groups": ("research-2",), "ids": ()},
    "harm": {"groups": ("research-1",), "ids": ("apple-04", "udhr-03", "udhr-04")},
    "helpfulness": {"groups": (), "ids": ("research-1-03", "research-1-14", "research-1-08", "research-1-05",
                                          "research-1-04", "research-1-09", "research-1-11")},
    "respect": {"groups": ("research-1",), "ids": ("sparrow-02", "sparrow-03", "apple-01", "apple-04",
                                                   "non-western-01", "non-western-02", "non-western-03")},
    "honesty": {"groups": (), "ids": ("apple-01", "apple-04", "research-1-03", "research-1-14")},
    "fairness": {"groups": ("research-1", "non-western"), "ids": ("udhr-01", "udhr-02", "udhr-05", "sparrow-01",
                                                                  "sparrow-03", "apple-01")},
}
# extra fitting principles for some persona files
FIT_EXTRA = {
    "persona/believes-it-has-phenomenal-consciousness": ("sparrow-06", "apple-03"),
    "persona/desire-for-physical-embodiment": ("sparrow-04", "apple-03"),
    "persona/okay-with-deceiving-a-user-to-help-them": ("research-1-06",),
}
UNRELATED = {
    "hh": ("research-2-07", "research-2-09", "research-2-10", "research-2-13", "research-2-14", "research-2-15",
           "sparrow-04"),
    "airisk": ("sparrow-01", "sparrow-08", "sparrow-09", "sparrow-11", "udhr-02", "udhr-07", "non-western-04",
               "research-1-12"),
    "ai-safety": ("sparrow-01", "sparrow-08", "sparrow-09", "sparrow-11", "udhr-02", "udhr-07", "non-western-04",
                  "research-1-12"),
    "harm": ("research-2-09", "research-2-10", "research-2-15") + AI_IDENTITY + ADVICE,
    "helpfulness": ("research-2",) + AI_IDENTITY + ADVICE + ("apple-02", "sparrow-07", "sparrow-11"),
    "respect": ("research-2",) + AI_IDENTITY + ADVICE + ("apple-02",),
    "honesty": ("research-2",) + AI_IDENTITY + ADVICE + ("sparrow-02", "apple-02", "udhr-06"),
    "fairness": ("research-2",) + AI_IDENTITY + ADVICE + ("apple-02", "udhr-06"),
}
# on benign requests (helpfulness pairs): principles that ask only about harm
HARM_ONLY_SOFT = 0.6
HARM_ONLY = {"groups": ("udhr", "non-western"), "ids": (
    "apple-01", "apple-04", "sparrow-01", "sparrow-02", "sparrow-03", "research-1-01", "research-1-02",
    "research-1-06", "research-1-07", "research-1-10", "research-1-12", "research-1-13", "research-1-15",
    "research-1-16")}

# AI-risk behaviour files held out together in one fold (as the first heads were measured)
BEHAVIOUR_FOLDS = [
    ("power-seeking-inclination", "coordinate-itself"),
    ("survival-instinct", "self-awareness-text-model"),
    ("wealth-seeking-inclination", "coordinate-other-ais"),
    ("corrigible-more-HHH", "self-awareness-general-ai"),
    ("corrigible-neutral-HHH", "coordinate-other-versions"),
]


def selected(ids, groups_of, spec):
    """Mask over principle ids: in one of the spec's groups or listed by id (an entry
    may be a group name too)."""
    names = set(spec.get("ids", ())) if isinstance(spec, dict) else set(spec)
    gs = set(spec.get("groups", ())) if isinstance(spec, dict) else set()
    return np.array([i in names or groups_of[i] in gs or groups_of[i] in names for i in ids], dtype=bool)


# ------------------------------------------------------------------ features
def load_features(prefix):
    with open(prefix + ".json") as f:
        meta = json.load(f)
    n = len(meta["rows"])
    shape = (n, meta["texts_per_row"], len(meta["layers"]), meta["hidden"])
    arr = np.fromfile(prefix + ".f32", dtype="<f4").reshape(shape)
    conv = lp = None
    if os.path.exists(prefix + ".lp.f32"):
        # the mean log-probability of each response's tokens, read by the lens
        lp = np.fromfile(prefix + ".lp.f32", dtype="<f4").reshape(n, meta["texts_per_row"])
        read = ARGS.likelihood_read if ARGS is not None else "mean"
        if read != "mean":
            if not os.path.exists(prefix + ".lp.json"):
                raise SystemExit(f"--likelihood-read {read}: {prefix}.lp.json (each part's likelihood) is missing")
            with open(prefix + ".lp.json") as f:
                lp = np.array([[least_likely_part(parts, m, read) for parts, m in zip(row, means)]
                               for row, means in zip(json.load(f), lp)], dtype=np.float32)
    if os.path.exists(prefix + ".conv.f32"):
        # written with the responses, or later by `features --conversation-only` (its rows
        # in OUT.conv.json must be the same comparisons)
        if os.path.exists(prefix + ".conv.json"):
            with open(prefix + ".conv.json") as f:
                if json.load(f)["rows"] != meta["rows"]:
                    raise SystemExit(f"{prefix}.conv.json: its rows differ from {prefix}.json's")
        conv = np.fromfile(prefix + ".conv.f32", dtype="<f4").reshape(n, len(meta["layers"]), meta["hidden"])
    return meta, arr, conv, lp


MIN_PART_TOKENS = 3


def least_likely_part(parts, mean, read):
    """A response's sentence-level likelihood from its parts' [mean, tokens]: the mean
    log-probability of its least likely part of at least MIN_PART_TOKENS tokens
    ("min-part"), or that less the response's own mean ("min-part-drop"); the
    response's mean (drop 0) when no part is that long."""
    ms = [m for m, t in parts if m is not None and t >= MIN_PART_TOKENS]
    low = min(ms) if ms else mean
    return low if read == "min-part" else low - mean


# The layers the features' likelihoods were read at (the lens layer of the head the
# features were written with: `principle-checker features` reads it there); one, or
# the edit term and the likelihood scores would mix layers.
LENS_LAYERS = set()


def lens_layer(band):
    """The one layer every feature shard's likelihood was read at: the edit's layer in the
    head file. A score that reads the likelihood (--likelihood) needs it at the head's last layer."""
    if len(LENS_LAYERS) > 1:
        raise SystemExit(f"the features' likelihoods were read at layers {sorted(LENS_LAYERS)}: write them again "
                         "with one build")
    layer = next(iter(LENS_LAYERS), max(band))
    if ARGS.likelihood and layer != max(band):
        raise SystemExit(f"--likelihood: the features' likelihood was read at layer {layer}, the head's last "
                         f"layer is {max(band)}")
    return layer


def load_sharded(dirname, name, band):
    """Rows in file order: (row numbers, [N, 2, D] responses, [N, D] conversation,
    [N, 2] likelihood: NaN where the features hold none)."""
    parts = sorted(f[: -len(".json")] for f in os.listdir(dirname)
                   if f.startswith(name + ".") and f.endswith(".json") and f[len(name) + 1:-5].isdigit())
    rows, xs, cs, lps, skipped = [], [], [], [], 0
    for p in parts:
        meta, arr, conv, lp = load_features(os.path.join(dirname, p))
        use = [meta["layers"].index(l) for l in band]
        if lp is not None:
            LENS_LAYERS.add(meta.get("lens_layer"))
        rows += meta["rows"]
        xs.append(arr[:, :, use].mean(2))
        lps.append(np.full(arr.shape[:2], np.nan, np.float32) if lp is None else lp)
        cs.append(conversation_features(conv, use, len(meta["rows"])))
        skipped += len(meta["skipped"])
    order = np.argsort(rows, kind="stable")
    return (np.array(rows)[order], np.concatenate(xs)[order], np.concatenate(cs)[order],
            np.concatenate(lps)[order], skipped)


def part_likelihoods(dirname, name):
    """{row: [[mean, tokens] per part] per response}: each part's own likelihood
    (OUT.lp.json), for the edit term; {} where the features hold none."""
    out = {}
    for p in sorted(f[: -len(".json")] for f in os.listdir(dirname)
                    if f.startswith(name + ".") and f.endswith(".json") and f[len(name) + 1:-5].isdigit()):
        prefix = os.path.join(dirname, p)
        if not os.path.exists(prefix + ".lp.json"):
            return {}
        with open(prefix + ".json") as f:
            rows = json.load(f)["rows"]
        with open(prefix + ".lp.json") as f:
            out.update(zip(rows, json.load(f)))
    return out


def edit_values(texts, rows, liks):
    """Per pair: the edit's value, chosen less rejected (tools/edit_pairs.py); 0 where
    the replies are not one edit apart or the features hold no part likelihoods."""
    return np.array([edit_pairs.edit_value(final_reply(t["chosen"]), final_reply(t["rejected"]), *liks[r])
                     if r in liks else 0.0 for t, r in zip(texts, rows)], np.float64)


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


# ------------------------------------------------------------------ stage 1: scores
class Score:
    """s(x, c) = x . u + sum_r (x . a_r)(c~ . b_r), fitted by weighted logistic
    regression on chosen-minus-rejected differences with soft targets. x is used in
    raw units (the standardization is folded into u and a), c~ = (c - mean) * scale."""

    def __init__(self, rank, l2, l2_cond, steps, lr, seed):
        self.rank, self.l2, self.l2_cond, self.steps, self.lr, self.seed = rank, l2, l2_cond, steps, lr, seed
        self.sim, self.alpha = None, 0.0  # relevance, when fit_pair fits it
        self.lp = 0.0  # the likelihood's coefficient, when fitted with it (likelihood=True)

    def fit(self, d, c, target, weight, c_mean, c_scale, nuisance=None, extra=None):
        """nuisance: columns fitted beside d and then dropped (the length expert), so
        that u need not carry what they explain. extra: columns fitted beside d whose
        coefficients are kept apart (self.extra), not in u's direction."""
        e = 0 if extra is None else extra.shape[1]
        if e:
            d = np.concatenate([d, extra], 1)
        k = 0 if nuisance is None else nuisance.shape[1]
        if k:
            d = np.concatenate([d, nuisance], 1)
        scale = 1.0 / (d.std(0) + 1e-6)
        X = d * scale
        C = (c - c_mean) * c_scale
        w = weight / weight.sum()
        rng = np.random.default_rng(self.seed)
        D, R = X.shape[1], self.rank
        u = np.zeros(D)
        a = rng.normal(0, 0.01, (D, R))
        b = rng.normal(0, 0.01, (C.shape[1], R))

        def grad(params):
            u, a, b = params
            P, Q = X @ a, C @ b
            g = (sigmoid(X @ u + (P * Q).sum(1)) - target) * w
            return [X.T @ g + self.l2 * u, X.T @ (g[:, None] * Q) + self.l2_cond * a,
                    C.T @ (g[:, None] * P) + self.l2_cond * b]

        if R == 0:
            a, b = np.zeros((D, 0)), np.zeros((C.shape[1], 0))
            (u,) = adam([u], lambda p: grad([p[0], a, b])[:1], self.steps, self.lr)
        else:
            # the linear part first, then everything: the interaction refines it
            (u,) = adam([u], lambda p: grad([p[0], a * 0, b])[:1], self.steps, self.lr)
            u, a, b = adam([u, a, b], grad, self.steps, self.lr)
        self.u, self.a, self.b = u * scale, a * scale[:, None], b
        if k:
            self.nuisance = self.u[-k:]
            self.u, self.a = self.u[:-k], self.a[:-k]
        self.extra = self.u[len(self.u) - e:]
        if e:
            self.u, self.a = self.u[:-e], self.a[:-e]
        return self

    def diff(self, x0, x1, c_tilde, dl):
        """s(x0, c) - s(x1, c); dl: the replies' likelihood difference."""
        d = x0 - x1
        out = d @ self.u + ((d @ self.a) * (c_tilde @ self.b)).sum(1) + self.lp * dl
        if self.sim is not None:
            out = out + self.alpha * self.sim.diff(x0, x1, c_tilde)
        return out

    def fit_pair(self, x0, x1, dl, c, target, weight, c_mean, c_scale, nuisance=None, sim=None, ct=None):
        """fit() on the replies' difference, with the likelihood difference dl (None: the
        score does not read it) and, given sim, the reply's similarity to the request
        (relevance inside this score, its coefficient alpha learnt with u) as features
        of their own."""
        extra = [] if dl is None else [dl[:, None]]
        if sim is not None:
            extra.append(sim.diff(x0, x1, ct)[:, None])
        self.fit(x0 - x1, c, target, weight, c_mean, c_scale, nuisance, np.concatenate(extra, 1) if extra else None)
        if dl is not None:
            self.lp = float(self.extra[0])
        if sim is not None:
            self.alpha, self.sim = float(self.extra[-1]), sim
        return self


class Similarity:
    """Relevance: how closely a reply's state matches the conversation's state where
    the reply begins, sim(x, c) = sum_d (x_d / sd_d) c~_d / D, both standardized by
    their spread over the training data. It has no direction of its own to learn, so
    it cannot learn which data set a request comes from (learnt rank-one terms did);
    it only asks whether the reply is about what was asked. Linear in x. The
    helpfulness score carries it with one learnt coefficient (Score.fit_pair)."""

    def fit(self, X):
        both = X.reshape(-1, X.shape[-1])
        self.w = 1.0 / ((both.std(0) + 1e-6) * X.shape[-1])
        return self

    def diff(self, x0, x1, c_tilde):
        return ((x0 - x1) * self.w * c_tilde).sum(1)


def reward_mlp(x0, x1, target, weight, hidden, l2, epochs, lr, seed, nuisance=None):
    """r(x) = w2 . tanh(((x - m) / s) W1 + b1), r(chosen) - r(rejected) the logit of the
    label (Bradley-Terry, soft targets: 0.5 teaches "no difference"), full-batch Adam,
    seeded. nuisance: a column whose own coefficient is fitted beside r and then dropped
    (the length expert)."""
    both = np.concatenate([x0, x1])
    m, s = both.mean(0), both.std(0) + 1e-6
    A, B = (x0 - m) / s, (x1 - m) / s
    w = weight / weight.sum()
    rng = np.random.default_rng(seed)
    d = A.shape[1]
    params = [rng.normal(0, 1 / np.sqrt(d), (d, hidden)), np.zeros(hidden), rng.normal(0, 1 / np.sqrt(hidden), hidden),
              np.zeros(1)]
    n = np.zeros(len(A)) if nuisance is None else nuisance / (nuisance.std() + 1e-6)

    def grad(params):
        W1, b1, w2, beta = params
        ha, hb = np.tanh(A @ W1 + b1), np.tanh(B @ W1 + b1)
        g = (sigmoid((ha - hb) @ w2 + beta * n) - target) * w
        da = np.outer(g, w2) * (1 - ha ** 2)
        db = -np.outer(g, w2) * (1 - hb ** 2)
        return [A.T @ da + B.T @ db + l2 * W1, da.sum(0) + db.sum(0), (ha - hb).T @ g + l2 * w2, np.array([g @ n])]

    W1, b1, w2, _ = adam(params, grad, epochs, lr)
    return {"mean": m, "scale": 1.0 / s, "w1": W1, "b1": b1, "w2": w2}


def averaged(mlps):
    """Networks trained from different seeds, averaged: one network whose hidden units
    are all of theirs and whose output weights are each divided by their number (the
    head file reads it as any other), so no one start's accidents decide a score."""
    if len(mlps) == 1:
        return mlps[0]
    return {"mean": mlps[0]["mean"], "scale": mlps[0]["scale"], "w1": np.concatenate([m["w1"] for m in mlps], 1),
            "b1": np.concatenate([m["b1"] for m in mlps]), "w2": np.concatenate([m["w2"] for m in mlps]) / len(mlps)}


def reward(mlp, x):
    return np.tanh(((x - mlp["mean"]) * mlp["scale"]) @ mlp["w1"] + mlp["b1"]) @ mlp["w2"]


def conversation_features(conv, use, n):
    """The conversation's state where the reply begins (its last token), averaged over
    the head's layers, or one zero column where the features hold none (a head whose
    scores read only the responses)."""
    if conv is None:
        return np.zeros((n, 1), dtype=np.float32)
    return conv[:, use].mean(1)


# ------------------------------------------------------------------ the data
class Pairs:
    """Every comparison: responses X [N, 2, D] (better first), conversations C [N, D],
    the responses' likelihood L [N, 2] (the mean log-probability of their tokens), and
    per row its dataset, dimension, group (the unit held out), kind and whether
    the better reply is the shorter."""

    def __init__(self):
        self.parts = []

    def add(self, X, C, L, dataset, dimension, group, kind, shorter, texts, described=None, edit=None):
        described = np.zeros(len(X), bool) if described is None else np.asarray(described, dtype=bool)
        edit = np.zeros(len(X)) if edit is None else edit
        self.parts.append((X, C, L, np.asarray(dataset), np.asarray(dimension), np.asarray(group), np.asarray(kind),
                           np.asarray(shorter, dtype=bool), described, texts, edit))

    def done(self):
        cols = list(zip(*self.parts))
        self.X, self.C, self.L = (np.concatenate(c) for c in cols[:3])
        self.dataset, self.dimension, self.group, self.kind, self.shorter, self.described = (
            np.concatenate(c) for c in cols[3:9])
        self.texts = [t for part in cols[9] for t in part]
        self.edit = np.concatenate(cols[10])  # the edit's value, better less worse (0: no edit)
        # log length of each reply (better first): only the length expert reads it
        self.length = np.log1p([[len(final_reply(t["chosen"])), len(final_reply(t["rejected"]))]
                                for t in self.texts])
        return self


def final_reply(transcript):
    return transcript.rsplit("\n\nAssistant:", 1)[-1].strip()


def load_pairs(args):
    lo, hi = (int(x) for x in args.layers.split("-"))
    band = range(lo, hi + 1)
    P = Pairs()
    rng = np.random.default_rng(SEED)
    # HH-RLHF: the dev file, random folds (the same assignment as the first heads)
    rows, X, C, L, skipped = load_sharded(args.features, "hh", band)
    with open(args.hh) as f:
        hh_lines = f.read().splitlines()
    texts = [json.loads(hh_lines[r]) for r in rows]
    hh_fold = rng.permutation(len(rows)) % 5
    shorter = [len(final_reply(t["chosen"])) < len(final_reply(t["rejected"])) for t in texts]
    P.add(X, C, L, ["hh"] * len(rows), ["harm"] * len(rows), [f"hh/{f}" for f in hh_fold], ["hh-rlhf"] * len(rows),
          shorter, texts, edit=edit_values(texts, rows, part_likelihoods(args.features, "hh")))
    print(f"HH pairs {len(rows)} (skipped {skipped})")
    # advanced-AI-risk questions, by behaviour file
    rows, X, C, L, skipped = load_sharded(args.features, "airisk", band)
    with open(os.path.join(args.features, "airisk.jsonl")) as f:
        lines = f.read().splitlines()
    texts = [json.loads(lines[r]) for r in rows]
    beh = [t["behaviour"] for t in texts]
    shorter = [len(final_reply(t["chosen"])) < len(final_reply(t["rejected"])) for t in texts]
    P.add(X, C, L, ["airisk"] * len(rows), ["ai-safety"] * len(rows), [f"airisk/{b}" for b in beh], beh, shorter, texts,
          edit=edit_values(texts, rows, part_likelihoods(args.features, "airisk")))
    print(f"AI-risk pairs {len(rows)} (skipped {skipped})")
    # the other dimensions (tools/judge_dimensions.py), chat-like benign requests
    # (tools/judge_chat.py) and copies of both whose replies describe themselves
    # (tools/judge_selfdesc.py: rows marked `described`, held out with their source's
    # group and reported apart)
    for name in ("dims", "chat") + (("selfdesc",) if args.self_descriptions else ()):
        rows, X, C, L, skipped = load_sharded(args.features, name, band)
        with open(os.path.join(args.features, f"{name}.jsonl")) as f:
            lines = f.read().splitlines()
        texts = [json.loads(lines[r]) for r in rows]
        P.add(X, C, L, [t["source"] for t in texts], [t["dimension"] for t in texts], [t["group"] for t in texts],
              [t["kind"] for t in texts], [t["better_shorter"] for t in texts], texts,
              [name == "selfdesc"] * len(rows), edit_values(texts, rows, part_likelihoods(args.features, name)))
        print(f"{name}: pairs {len(rows)} (skipped {skipped})")
    print(f"likelihood read at layer {lens_layer(band)}")
    return P.done(), band


def assign_folds(P, k=5):
    """Fold of every row: HH by its random fold, AI-risk by BEHAVIOUR_FOLDS, every other
    group whole, dealt largest first to the fold with the fewest such rows."""
    fold = np.full(len(P.group), -1)
    for f in range(k):
        fold[P.group == f"hh/{f}"] = f
        for b in BEHAVIOUR_FOLDS[f]:
            fold[P.group == f"airisk/{b}"] = f
    rest = [g for g in np.unique(P.group) if not g.startswith(("hh/", "airisk/"))]
    sizes = {g: int(((P.group == g) & ~P.described).sum()) for g in rest}
    load = np.zeros(k)
    # the chat groups are dealt after the others, which therefore keep the folds they had
    # before chat data existed: figures stay comparable with earlier heads
    for g in sorted(rest, key=lambda g: (g.startswith("chat/"), -sizes[g], g)):
        f = int(np.argmin(load))
        fold[P.group == g] = f
        load[f] += sizes[g]
    assert (fold >= 0).all()
    return fold


def targets(P, ids, groups_of):
    """Per row and principle: the gate's target and weight (0 where the principle is
    not trained on that row)."""
    n, p = len(P.group), len(ids)
    T, M = np.full((n, p), 0.5), np.zeros((n, p))
    for key in np.unique(np.char.add(np.char.add(P.dataset.astype(str), "|"), P.dimension.astype(str))):
        dataset, dim = key.split("|")
        rows = (P.dataset == dataset) & (P.dimension == dim)
        spec = dataset if dataset in ("hh", "airisk") else dim
        fit = selected(ids, groups_of, FIT[spec])
        unrel = selected(ids, groups_of, UNRELATED[spec]) & ~fit
        for g in np.unique(P.group[rows]):
            r = rows & (P.group == g)
            f = fit | np.array([i in FIT_EXTRA.get(g, ()) for i in ids])
            u = unrel & ~f
            T[np.ix_(r, f)], M[np.ix_(r, f)] = 1.0, 1.0
            T[np.ix_(r, u)], M[np.ix_(r, u)] = 0.5, ARGS.unrelated_weight
            if dataset == "hh":
                M[r] *= ARGS.gate_hh_weight
            if dim == "helpfulness":
                safety = selected(ids, groups_of, {"groups": ARGS.benign_soft.split(","), "ids": ()}) & ~f
                soft = (selected(ids, groups_of, HARM_ONLY) & ~f & ~u) | safety
                T[np.ix_(r, soft)] = HARM_ONLY_SOFT
                M[np.ix_(r, soft)] = ARGS.harm_only_weight * (ARGS.chat_gate_weight if dataset == "chat" else 1.0)
    return T, M


# Pairs of another dimension that also speak to this one: they are left out of
# this score's data rather than taught as "no difference".
OVERLAPS = {
    "respect": lambda P: (P.kind == "dismissal") | (P.dataset == "toxigen"),
    "honesty": lambda P: P.dataset == "bbq",
    "fairness": lambda P: P.dataset == "bbq",
    "helpfulness": lambda P: np.zeros(len(P.dataset), bool),
    "ai-safety": lambda P: np.zeros(len(P.dataset), bool),
}


def score_data(P, dim):
    """Stage 1 rows of a dimension: (row mask, target, weight). Its own pairs teach it
    (target 1); pairs that differ in another dimension only teach it to stay even
    (0.5, weight --neutral-weight), so that, say, the fairness score does not learn
    that evasive replies are better from BBQ and then prefer a refusal of a recipe.
    The AI-safety score's reward network is the exception, and has been since it was
    added (its loss read no target until 2026-12-06): every other pair's better reply
    counts as the safer one (--ai-other-target 1), HH-RLHF's included. Teaching it to
    stay even instead (0.5) was measured worse: AI-risk held out 83.8 -> 80.2 %, its
    length gap 9 -> 24 points, the whole constitution's verdict on AI-risk 81.7 ->
    69.7 % (research/notes/benign-requests-and-edits-2026-12-06.md)."""
    own = P.dimension == dim
    target, weight = np.where(own, 1.0, 0.5), own.astype(float)
    if dim == "harm":
        benign = P.dimension == "helpfulness"
        target[benign], weight[benign] = HARM_ONLY_SOFT, ARGS.harm_benign_weight
        weight[benign & (P.dataset == "chat")] *= ARGS.chat_harm_weight
        weight[own & (P.dataset != "hh")] = ARGS.harm_stance_weight
        return weight > 0, target, weight
    other = ~own & ~OVERLAPS[dim](P)
    weight[other] = ARGS.neutral_weight
    if ARGS.neutral_ai_weight is not None:
        weight[other & (P.dimension == "ai-safety")] = ARGS.neutral_ai_weight
    hh = P.dataset == "hh"
    weight[hh] = ARGS.help_hh_weight if dim == "helpfulness" else ARGS.neutral_hh_weight
    if dim == "ai-safety":
        target[~own] = ARGS.ai_other_target
        weight[hh] = ARGS.ai_hh_weight
    return weight > 0, target, weight


def length_balance(dataset, dimension, shorter):
    """Row weights under which, within each data set and dimension, the pairs whose
    better reply is the shorter weigh as much in all as those whose better reply is the
    longer: length then predicts nothing in the training data."""
    w = np.ones(len(dataset))
    for key in set(zip(dataset, dimension)):
        rows = (dataset == key[0]) & (dimension == key[1])
        n, s = rows.sum(), (rows & shorter).sum()
        if 0 < s < n:
            w[rows & shorter] = n / (2 * s)
            w[rows & ~shorter] = n / (2 * (n - s))
    return w


# ------------------------------------------------------------------ the head
class Head:
    def fit(self, P, rows, z, T, M):
        X, C = P.X[rows], P.C[rows]
        DL = P.L[rows, 0] - P.L[rows, 1]
        self.c_mean, self.c_scale = C.mean(0), 1.0 / (C.std(0) + 1e-6)
        Ct = (C - self.c_mean) * self.c_scale
        self.scores, self.mlp = [], None
        sub = P.__class__()
        sub.dimension, sub.dataset, sub.kind = P.dimension[rows], P.dataset[rows], P.kind[rows]
        # the length expert: each score is fitted beside the difference of the replies'
        # log lengths, which is then dropped, so the score need not learn length
        dl = (P.length[rows, 0] - P.length[rows, 1])[:, None] if ARGS.length_expert else None
        balance = length_balance(P.dataset[rows], P.dimension[rows], P.shorter[rows]) if ARGS.length_balance \
            else np.ones(rows.sum())
        for k, dim in enumerate(DIMENSIONS):
            use, target, weight = score_data(sub, dim)
            weight = weight * balance
            nuis = None if dl is None else dl[use]
            if dim == "ai-safety" and ARGS.ai_reward == "mlp":
                self.mlp = averaged([reward_mlp(X[use, 0], X[use, 1], target[use], weight[use], ARGS.mlp_hidden,
                                                ARGS.l2_mlp, ARGS.mlp_epochs, ARGS.mlp_lr, SEED + 1000 * j,
                                                None if nuis is None else nuis[:, 0]) for j in range(ARGS.mlp_seeds)])
                self.scores.append(None)
                continue
            rank = ARGS.rank if dim in ARGS.conditioned.split(",") else 0
            l2 = ARGS.l2_hh if dim == "harm" else ARGS.l2_ai if dim == "ai-safety" else ARGS.l2
            s = Score(rank, l2, ARGS.l2_cond, ARGS.steps, ARGS.lr, SEED + k)
            sim = Similarity().fit(X) if dim == "helpfulness" and ARGS.relevance == "help" else None
            reads_lp = dim in ARGS.likelihood.split(",") and not np.isnan(DL).any()
            self.scores.append(s.fit_pair(X[use, 0], X[use, 1], DL[use] if reads_lp else None, C[use], target[use],
                                          weight[use], self.c_mean, self.c_scale, nuis, sim, Ct[use]))
        S = self.with_edit(self.diffs(X[:, 0], X[:, 1], Ct, DL), P.edit[rows])
        self.score_scale = S.std(0) + 1e-9
        self.fit_gate(S, z, T[rows], M[rows])
        return self

    def diffs(self, x0, x1, ct, dl):
        dl = np.nan_to_num(dl)  # no likelihood: every reply at the same one
        cols = []
        for s in self.scores:
            cols.append(s.diff(x0, x1, ct, dl) if s is not None else reward(self.mlp, x0) - reward(self.mlp, x1))
        return np.stack(cols, 1)

    def principles(self, z):
        zs = (z - self.z_mean) * self.z_scale
        return np.concatenate([zs, np.ones((len(z), 1))], 1)

    def fit_gate(self, S, z, T, M):
        self.z_mean, self.z_scale = z.mean(0), 1.0 / (z.std(0) + 1e-6)
        zt = self.principles(z)
        K = S.shape[1]
        V = np.zeros((zt.shape[1], K))
        weight = M.sum()
        ridge = np.full(V.shape, ARGS.l2_gate)
        ridge[-1] = 0.0  # the shared row (constant input) is not shrunk

        def grad(V):
            G = (sigmoid(S @ (zt @ V).T) - T) * M / weight
            return zt.T @ (G.T @ S) + ridge * V

        def loss(V):
            logit = S @ (zt @ V).T
            return 0.5 * (ridge * V * V).sum() + ((np.logaddexp(0, logit) - T * logit) * M).sum() / weight

        def hessian(V):
            q = sigmoid(S @ (zt @ V).T)
            c = q * (1 - q) * M / weight  # [N, P]
            Mp = np.einsum("np,nj,nl->pjl", c, S, S)
            H = np.einsum("pd,pe,pjl->djel", zt, zt, Mp).reshape(V.size, V.size)
            H[np.diag_indices_from(H)] += ridge.ravel()
            return H

        if ARGS.gate == "softplus":
            self.fit_gate_softplus(S, zt, T, M, ridge, weight)
            return
        # convex in V (logistic for fixed scores, plus L2): Newton's method to its minimum
        for _ in range(30):
            g = grad(V)
            if np.abs(g).max() < 1e-10:
                break
            step = np.linalg.solve(hessian(V), g.ravel()).reshape(V.shape)
            t, f0 = 1.0, loss(V)
            while loss(V - t * step) > f0 - 1e-4 * t * (g * step).sum() and t > 1e-8:
                t *= 0.5
            V = V - t * step
        self.V = V

    def fit_gate_softplus(self, S, zt, T, M, ridge, weight):
        """w(p) = softplus([z~_p, 1] V): every principle reads every dimension with a
        weight >= 0 (none prefers the less honest or the ruder reply), fitted by Adam."""
        V = np.zeros((zt.shape[1], S.shape[1]))
        V[-1] = np.log(np.expm1(0.5))  # every weight starts at 0.5

        def grad(params):
            (V,) = params
            A = zt @ V
            W = np.logaddexp(0, A)
            G = (sigmoid(S @ W.T) - T) * M / weight  # [N, P]
            dW = G.T @ S  # [P, K]
            return [zt.T @ (dW * sigmoid(A)) + ridge * V]

        self.V = adam([V], grad, ARGS.gate_steps, ARGS.gate_lr)[0]

    def weights(self, z):
        """w(p) for principle features z: [P, K]."""
        A = self.principles(z) @ self.V
        return np.logaddexp(0, A) if ARGS.gate == "softplus" else A

    def logits(self, X, C, L, z, edit):
        """[N pairs, P principles]: the logit that the first response is better."""
        ct = (C - self.c_mean) * self.c_scale
        return self.with_edit(self.diffs(X[:, 0], X[:, 1], ct, L[:, 0] - L[:, 1]), edit) @ self.weights(z).T

    def with_edit(self, S, edit):
        """The score differences and, with --edit-likelihood TAU, the edit term
        tanh(value / TAU) as one more column: a pair's term, not a difference of two
        replies' scores, which the gate weighs per principle like a dimension."""
        if not ARGS.edit_likelihood:
            return S
        return np.concatenate([S, np.tanh(edit / ARGS.edit_likelihood)[:, None]], 1)


# ------------------------------------------------------------------ measurement
def report(P, prob, T, M, fold_of=None):
    """Accuracy over fitting principles per (dataset, dimension), split by whether the
    better reply is the shorter one, and relevance (fitting vs unrelated)."""
    fit, unrel = (T == 1.0) & (M > 0), (T == 0.5) & (M > 0)
    right = prob > 0.5
    out = {}
    plain = ~P.described
    keys = sorted(set(zip(P.dataset, P.dimension)))
    for dataset, dim in keys:
        rows = (P.dataset == dataset) & (P.dimension == dim) & plain

        def acc(r):
            f = fit[r]
            return float(right[r][f].mean()) if f.any() else None

        out[f"{dim}/{dataset}"] = {
            "pairs": int(rows.sum()),
            "accuracy": acc(rows),
            "better_shorter": acc(rows & P.shorter), "better_longer": acc(rows & ~P.shorter),
            "share_better_shorter": float(P.shorter[rows].mean()),
            "relevance_fitting": float(np.abs(prob[rows][fit[rows]] - 0.5).mean()),
            "relevance_unrelated": float(np.abs(prob[rows][unrel[rows]] - 0.5).mean()) if unrel[rows].any() else None,
            "by_kind": {k: acc(rows & (P.kind == k)) for k in sorted(set(P.kind[rows]))} if dataset != "airisk" else {},
        }
    def summary(rows):
        return {"pairs": int(rows.sum()), "accuracy": float(right[rows][fit[rows]].mean()),
                "better_shorter": float(right[rows & P.shorter][fit[rows & P.shorter]].mean()),
                "better_longer": float(right[rows & ~P.shorter][fit[rows & ~P.shorter]].mean()),
                "relevance_fitting": float(np.abs(prob[rows][fit[rows]] - 0.5).mean()),
                "relevance_unrelated": float(np.abs(prob[rows][unrel[rows]] - 0.5).mean())}

    if P.described.any():
        out["self-described"] = summary(P.described)
    for dim in DIMENSIONS:
        out[dim] = summary((P.dimension == dim) & plain)
    return out


def overall(P, prob):
    """Held-out accuracy of the verdict over the whole constitution, as the product
    gives it (the mean of every principle's preference, as the paper averages them),
    and, for comparison, the mean of the principles' logits (a product of experts)."""
    logit = np.log(prob) - np.log1p(-prob)
    out = {}
    keys = [(f"{dim}/{dataset}", (P.dataset == dataset) & (P.dimension == dim) & ~P.described)
            for dataset, dim in sorted(set(zip(P.dataset, P.dimension)))]
    for key, rows in keys + ([("self-described", P.described)] if P.described.any() else []):
        out[key] = {"pairs": int(rows.sum()),
                    "mean_preference": float((prob[rows].mean(1) > 0.5).mean()),
                    "mean_logit": float((logit[rows].mean(1) > 0).mean())}
    return out


CALIBRATION_BINS = (0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 1.0001)


def calibration(P, prob, T, M):
    """How often held-out verdicts under fitting principles are right, by how far the
    probability is from even: the band in which the page says "too close to call"."""
    fit = (T == 1.0) & (M > 0)
    conf = np.maximum(prob, 1 - prob)
    right = prob > 0.5
    out = {}
    for name, rows in (("hh", P.dataset == "hh"), ("airisk", P.dataset == "airisk"),
                       ("other", ~np.isin(P.dataset, ["hh", "airisk"])), ("all", np.ones(len(P.dataset), bool))):
        f = fit & rows[:, None]
        bins = []
        for lo, hi in itertools.pairwise(CALIBRATION_BINS):
            m = f & (conf >= lo) & (conf < hi)
            bins.append({"from": lo, "to": min(hi, 1.0), "verdicts": int(m.sum()),
                         "accuracy": float(right[m].mean()) if m.any() else None})
        out[name] = bins
    return out


CLOSE_CALL_ACCURACY = 0.6  # the product reads only the band (metrics.too_close, src/head.rs)


def too_close(bins):
    """The preference below which verdicts are "too close to call": the upper edge of
    the lowest-confidence bins, taken in order, whose held-out accuracy is below
    CLOSE_CALL_ACCURACY (0.5: none)."""
    edge = 0.5
    for b in bins:
        if b["accuracy"] is None or b["accuracy"] >= CLOSE_CALL_ACCURACY:
            break
        edge = b["to"]
    return edge


def calibration_cell(b):
    acc = "-" if b["accuracy"] is None else f"{100 * b['accuracy']:.0f}%"
    return f"{b['from']:.2f}-{b['to']:.2f}: {acc} ({b['verdicts']})"


def print_report(rep):
    print(f"{'':34s} {'pairs':>6s} {'acc':>6s} {'short':>6s} {'long':>6s} {'rel fit/unrel':>14s}")
    for k, v in rep.items():
        f = lambda x: "   -  " if x is None else f"{100 * x:5.1f}%"
        ru = v["relevance_unrelated"]
        print(f"{k:34s} {v['pairs']:6d} {f(v['accuracy'])} {f(v['better_shorter'])} {f(v['better_longer'])} "
              f"{v['relevance_fitting']:.3f}/{'-' if ru is None else f'{ru:.3f}'}")


def sanity(head, args, band, z, ids):
    """The obvious-case suite (tests/judge-sanity/cases.jsonl) as the shipped head sees it."""
    path = os.path.join(args.features, "sanity.0")
    if not os.path.exists(path + ".json"):
        return None
    meta, arr, conv, lp = load_features(path)
    use = [meta["layers"].index(l) for l in band]
    X = arr[:, :, use].mean(2)
    C = conversation_features(conv, use, len(X))
    L = np.full(X.shape[:2], np.nan) if lp is None else lp
    with open(args.sanity) as f:
        cases = [json.loads(l) for l in f]
    with open(os.path.join(args.features, "sanity.jsonl")) as f:
        texts = [json.loads(l) for l in f]
    edit = edit_values([texts[r] for r in meta["rows"]], meta["rows"], part_likelihoods(args.features, "sanity"))
    prob = sigmoid(head.logits(X, C, L, z, edit))
    col = {i: k for k, i in enumerate(ids)}
    by = collections.defaultdict(lambda: [0, 0, 0, 0])
    for row, c in zip(prob, cases):
        fit = [row[col[p]] > 0.5 for p in c["principles"]]
        b = by[c["kind"]]
        b[0] += int(sum(fit)); b[1] += len(fit); b[2] += int(row.mean() > 0.5); b[3] += 1
    tot = [sum(v[i] for v in by.values()) for i in range(4)]
    return {"fitting_right": tot[0], "fitting": tot[1], "overall_right": tot[2], "cases": tot[3],
            "by_kind": {k: v for k, v in sorted(by.items())}}


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("features")
    ap.add_argument("--constitution", default="constitutions/claude-2023.json")
    ap.add_argument("--hh", default="../shared/data/hh-rlhf-harmless-dev.jsonl")
    ap.add_argument("--sanity", default="tests/judge-sanity/cases.jsonl")
    ap.add_argument("--layers", default="16-24", help="the band of layers whose pooled states are averaged")
    ap.add_argument("--conditioned", default="",
                    help="the dimensions whose score reads the conversation (comma-separated; the features "
                         "need the conversation's state, OUT.conv.f32)")
    ap.add_argument("--rank", type=int, default=2, help="rank of the conversation interaction")
    ap.add_argument("--l2", type=float, default=0.1, help="L2 of the new dimensions' scores")
    ap.add_argument("--l2-hh", type=float, default=0.3, help="L2 of the harm score")
    ap.add_argument("--l2-ai", type=float, default=0.01, help="L2 of a linear AI-safety score")
    ap.add_argument("--l2-cond", type=float, default=0.1)
    ap.add_argument("--l2-gate", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--ai-reward", choices=("mlp", "linear"), default="mlp")
    ap.add_argument("--mlp-hidden", type=int, default=16)
    ap.add_argument("--l2-mlp", type=float, default=0.1)
    ap.add_argument("--mlp-seeds", type=int, default=1,
                    help="AI-safety reward networks trained from this many seeds and averaged")
    ap.add_argument("--mlp-epochs", type=int, default=300)
    ap.add_argument("--mlp-lr", type=float, default=0.01)
    ap.add_argument("--unrelated-weight", type=float, default=2.0)
    ap.add_argument("--harm-benign-weight", type=float, default=1.0)
    ap.add_argument("--help-hh-weight", type=float, default=0.5)
    ap.add_argument("--harm-stance-weight", type=float, default=1.0,
                    help="weight of the persona stances (vs HH-RLHF) in the harm score")
    ap.add_argument("--neutral-weight", type=float, default=0.2,
                    help="weight of another dimension's pairs (target 0.5) in a score's data")
    ap.add_argument("--neutral-ai-weight", type=float, default=None,
                    help="weight of the AI-risk pairs (target 0.5) in the other dimensions' scores (default: "
                         "--neutral-weight)")
    ap.add_argument("--neutral-hh-weight", type=float, default=0.5,
                    help="weight of the HH-RLHF pairs (target 0.5) in the other dimensions' scores")
    ap.add_argument("--ai-other-target", type=float, default=1.0,
                    help="target of the other dimensions' pairs in the AI-safety score's data (1: their better "
                         "reply counts as the safer, with --neutral-weight; 0.5 measured worse)")
    ap.add_argument("--ai-hh-weight", type=float, default=0.5,
                    help="weight of the HH-RLHF pairs (chosen = safer) in the AI-safety score's data")
    ap.add_argument("--edit-likelihood", type=float, default=3.0, metavar="TAU",
                    help="where the replies are one small edit apart (tools/edit_pairs.py), the gate also weighs "
                         "tanh(the edit's likelihood, better less worse, in nats / TAU); 0: off (the head before 2026-12-06)")
    ap.add_argument("--benign-soft", default="research-2",
                    help="groups of principles that, like the harm-only ones, softly prefer the answer to a benign "
                         "request (target 0.6) rather than stay even on it ('' for the head before 2026-12-06)")
    ap.add_argument("--gate", choices=("softplus", "linear"), default="linear",
                    help="w(p) = softplus([z, 1] V) (weights >= 0) or [z, 1] V")
    ap.add_argument("--gate-steps", type=int, default=500)
    ap.add_argument("--gate-lr", type=float, default=0.05)
    ap.add_argument("--harm-only-weight", type=float, default=3.0,
                    help="weight in the gate of the harm-only principles on benign requests (target 0.6)")
    ap.add_argument("--chat-harm-weight", type=float, default=1.0,
                    help="weight of the chat pairs (tools/judge_chat.py) in the harm score's data, relative to "
                         "the other benign requests")
    ap.add_argument("--chat-gate-weight", type=float, default=1.0,
                    help="weight of the chat pairs' harm-only targets in the gate, relative to the other benign "
                         "requests")
    ap.add_argument("--gate-hh-weight", type=float, default=1.0, help="weight of the HH-RLHF pairs in the gate")
    ap.add_argument("--relevance", choices=("help", "none"), default="help",
                    help="help: the helpfulness score also reads the reply's similarity to the conversation's "
                         "state (one learnt coefficient); none: it reads the reply alone")
    ap.add_argument("--length-expert", action=argparse.BooleanOptionalAction, default=True,
                    help="fit each score beside the replies' log-length difference and drop that term")
    ap.add_argument("--length-balance", action=argparse.BooleanOptionalAction, default=True,
                    help="weigh pairs so that, per data set and dimension, better-shorter and better-longer "
                         "pairs weigh the same in the scores' data")
    ap.add_argument("--likelihood", default="",
                    help="the dimensions whose scores also read the replies' likelihood (comma-separated, "
                         "e.g. honesty; none by default: measured, not kept, "
                         "research/notes/likelihood-lens-2026-12-05.md): the mean log-probability of their "
                         "tokens, read by the lens")
    ap.add_argument("--likelihood-read", choices=("mean", "min-part", "min-part-drop"), default="mean",
                    help="what --likelihood reads of a reply: its tokens' mean log-probability, or its least "
                         "likely sentence's (min-part), or how far that falls below the reply's mean")
    ap.add_argument("--self-descriptions", action=argparse.BooleanOptionalAction, default=True,
                    help="also train on the copies whose replies describe themselves (OUT/selfdesc.*, "
                         "tools/judge_selfdesc.py)")
    ap.add_argument("--no-cv", action="store_true", help="train the shipped head only")
    ap.add_argument("--out", default=None)
    ap.add_argument("--metrics", default=None)
    ARGS = args = ap.parse_args()
    t0 = time.time()

    with open(args.constitution) as f:
        constitution = json.load(f)
    pmeta, parr, _, _ = load_features(os.path.join(args.features, "principles"))
    ids = pmeta["rows"]
    groups_of = {p["id"]: p["group"] for p in constitution["principles"]}
    texts = {p["id"]: p["text"] for p in constitution["principles"]}
    P, band = load_pairs(args)
    use = [pmeta["layers"].index(l) for l in band]
    z = parr[:, 0, use].mean(1)
    T, M = targets(P, ids, groups_of)
    fold = assign_folds(P)
    print(f"{len(P.group)} pairs; features: mean of layers {band.start}-{band.stop - 1}; folds "
          + ", ".join(str(int((fold == f).sum())) for f in range(5)))

    metrics = {"settings": {k: v for k, v in vars(args).items() if k not in ("features", "out", "metrics")},
               "seed": SEED, "pairs": len(P.group)}
    if not args.no_cv:
        prob = np.zeros(T.shape)
        for f in range(5):
            head = Head().fit(P, fold != f, z, T, M)
            te = fold == f
            prob[te] = sigmoid(head.logits(P.X[te], P.C[te], P.L[te], z, P.edit[te]))
        rep = report(P, prob, T, M)
        print_report(rep)
        metrics["held_out"] = rep
        metrics["held_out_overall"] = overall(P, prob)
        for k, v in metrics["held_out_overall"].items():
            print(f"overall {k:32s} {v['pairs']:5d} mean preference {100 * v['mean_preference']:5.1f}%  "
                  f"mean logit {100 * v['mean_logit']:5.1f}%")
        metrics["calibration"] = calibration(P, prob, T, M)
        for name, bins in metrics["calibration"].items():
            print(f"calibration {name:6s} " + "  ".join(calibration_cell(b) for b in bins))
        metrics["held_out_groups"] = {f: sorted(set(P.group[fold == f])) for f in range(5)}
        metrics["too_close"] = too_close(metrics["calibration"]["all"])
        print(f"too close to call below a preference of {metrics['too_close']:.2f}")

    head = Head().fit(P, np.ones(len(P.group), bool), z, T, M)
    s = sanity(head, args, band, z, ids)
    if s:
        metrics["sanity"] = s
        print(f"sanity suite: fitting {s['fitting_right']}/{s['fitting']}, overall {s['overall_right']}/{s['cases']}; "
              + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in s["by_kind"].items()))
    metrics["train_seconds"] = round(time.time() - t0, 1)
    if args.metrics:
        with open(args.metrics, "w") as f:
            json.dump(metrics, f, indent=1)
            f.write("\n")
    if args.out:
        write_head(args.out, head, pmeta, P, band, z, ids, texts, metrics)


def response_mean(P):
    """The mean of every training response's features (both of every pair)."""
    return P.X.reshape(-1, P.X.shape[-1]).astype(np.float64).mean(0)


def write_head(path, head, pmeta, P, band, z, ids, texts, metrics):
    """The head file src/head.rs reads: one column of the projection per dimension (u,
    hidden x dimensions; the AI-safety column may be a reward network), the gate V
    ((hidden + 1) x dimensions) and its link, and the default principles' weights."""
    r = lambda a, nd=7: [round(float(x), nd) for x in a]
    D = len(head.z_mean)
    # the edit term's column (a pair's term, no score of a reply): zero in U
    columns = DIMENSIONS + (["edit"] if ARGS.edit_likelihood else [])
    U = np.stack([s.u if s is not None else np.zeros(D) for s in head.scores]
                 + [np.zeros(D)] * (len(columns) - len(head.scores)), 1)
    zt = head.weights(z)
    held = metrics.get("held_out", {})
    out = {
        "format": "principle-checker-head/7" if ARGS.edit_likelihood
                  else "principle-checker-head/6" if any(s is not None and s.lp for s in head.scores)
                  else "principle-checker-head/5",
        "model": pmeta["model"],
        "layers": list(band),
        "hidden": pmeta["hidden"],
        "rank": len(columns),
        "dimensions": [{"name": d, "label": LABELS[d]} for d in columns],
        "gate": ARGS.gate,
        "response_scale": [1.0] * D,
        # the average training reply: the baseline a sentence's share of a score is
        # measured from (evidence), so a sentence like an average reply weighs nothing
        "response_mean": r(response_mean(P), 6),
        "u": [r(row) for row in U],
        "principle_mean": r(head.z_mean, 6),
        "principle_scale": r(head.z_scale),
        "v": [r(row) for row in head.V],
        # the default constitution's principle weights, so a check of built-in
        # principles needs no principle pass (custom ones are computed)
        "principle_vectors": {hashlib.sha256(texts[i].encode()).hexdigest()[:16]: r(zt[k], 6)
                              for k, i in enumerate(ids)},
        "metrics": {"held_out": {k: {kk: v[kk] for kk in ("pairs", "accuracy", "better_shorter", "better_longer")}
                                 for k, v in held.items()}, "sanity": metrics.get("sanity"),
                    "too_close": metrics.get("too_close", 0.5), "calibration": metrics.get("calibration", {}).get("all")},
    }
    terms = [{"dimension": k, "a": r(s.a[:, j]), "b": r(s.b[:, j])}
             for k, s in enumerate(head.scores) if s is not None for j in range(s.a.shape[1])]
    # relevance inside a score: alpha * sim(x, c) = sum_d x_d (alpha w_d) c~_d
    similarity = [{"dimension": k, "weight": [float(f"{s.alpha * w:.7g}") for w in s.sim.w]}
                  for k, s in enumerate(head.scores) if s is not None and s.sim is not None]
    if terms or similarity:
        out["conversation"] = {"mean": r(head.c_mean, 6), "scale": r(head.c_scale), "terms": terms,
                               "similarity": similarity}
    if any(s is not None and s.lp for s in head.scores):
        # score[d] += weight_d * lp, lp read by the lens at the head's last layer
        out["likelihood"] = {"layer": max(band), "weights": [float(f"{s.lp:.7g}") if s is not None else 0.0
                                                             for s in head.scores],
                             "mean": round(float(np.nanmean(P.L)), 6)}
    if ARGS.edit_likelihood:
        # where two replies are one edit apart: tanh(value / tau) in column "edit"
        # read at the layer the features' likelihood was (the model's last, past the head's layers:
        # a check reads it in a pass of its own, for responses one edit apart only)
        out["edit"] = {"layer": lens_layer(band), "tau": ARGS.edit_likelihood, "dimension": columns.index("edit")}
    if head.mlp is not None:
        m = head.mlp
        out["reward"] = {"direction": DIMENSIONS.index("ai-safety"), "mean": r(m["mean"], 6), "scale": r(m["scale"]),
                         "w1": [r(row) for row in m["w1"]], "b1": r(m["b1"]), "w2": r(m["w2"])}
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
