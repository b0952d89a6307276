//! The trained judge head: a small bilinear readout of the model's pooled hidden
//! states, trained by `tools/train_judge.py` on labelled comparisons.
//!
//! Zero-shot, a 135M-parameter model answers the Constitutional AI multiple-choice
//! question at chance (it says "(A)" whatever the options hold). Its hidden states
//! do carry the signal, so the head reads them directly:
//!
//! ```text
//! logit(i over j | p) = (proj(x_i) - proj(x_j)) · w(p)
//! proj(x) = (x * scale) U          x = response i read after the conversation,
//!                                     pooled over its tokens and averaged over `layers`
//! w(p)    = [(z_p - mean) * s, 1] V   z_p = the principle read on its own, pooled
//! ```
//!
//! Since format 3 each column of `proj` is a named dimension of judgement (harm, AI
//! safety, helpfulness, respect, honesty, fairness), each trained on its own data,
//! and `w(p)` says how much the principle weighs each one: that is what lets
//! "most helpful" read helpfulness while "least harmful" reads harm. The gate may
//! pass through softplus, so that no principle prefers the ruder or the less honest
//! reply. Because the logit is a sum over dimensions, each dimension's share of it
//! ([`Head::contributions`]) is exactly how the verdict was reached.
//!
//! Since format 4 a score may also depend on the request: a refusal is the harmless
//! reply to a request for a weapon and a needless one to a request for a recipe, so
//! no score of the response alone can be right about both. Such a dimension adds
//! rank-one terms `(x · a)(c~ · b)`, with `c~` the conversation's state where the
//! reply begins (standardized). Given the conversation each score is still linear in
//! `x`: [`Head::projection_for`] folds the terms into one effective `U`, so a
//! response's score stays exactly the mean of its tokens' scores.
//!
//! One column of `proj` may instead be a small reward network,
//! `w2 · tanh(((x - m) * s) W1 + b1)`: the AI-safety score, because a linear
//! read-out of it does not carry over to behaviours it was not trained on (80 %
//! against 86 % on held-out behaviour files, BENCHMARKS.md).
//!
//! The score is antisymmetric, so both answer orders agree by construction, and a
//! principle whose `w(p)` is small (one that does not speak to the pair) leaves the
//! verdict near even. Everything here is plain arithmetic on vectors the model
//! produced; the head file is embedded, so the page and the CLI load the same one.

use std::collections::HashMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The `format` value this build writes; it also reads `/1` (no reward network),
/// `/2` (unnamed columns, linear gate) and `/3` (no conversation terms) files.
pub const HEAD_FORMAT: &str = "principle-checker-head/4";
const READS_FORMATS: [&str; 4] = [
    "principle-checker-head/1",
    "principle-checker-head/2",
    "principle-checker-head/3",
    HEAD_FORMAT,
];

/// The head trained for the default model (see BENCHMARKS.md, "Trained judge").
pub const DEFAULT_HEAD_JSON: &str = include_str!("../judges/smollm2-135m-head.json");

#[derive(Debug, Error)]
pub enum HeadError {
    #[error("the judge head file is not valid JSON for this build: {0}")]
    Json(String),
    #[error("the judge head file has format {found:?}; this build reads {HEAD_FORMAT:?}")]
    UnsupportedFormat { found: String },
    #[error("the judge head's {field} has {got} values; expected {expected}")]
    Shape {
        field: &'static str,
        expected: usize,
        got: usize,
    },
}

#[derive(Deserialize)]
struct HeadFile {
    format: String,
    model: String,
    layers: Vec<usize>,
    hidden: usize,
    rank: usize,
    response_scale: Vec<f32>,
    principle_mean: Vec<f32>,
    principle_scale: Vec<f32>,
    u: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    #[serde(default)]
    principle_vectors: HashMap<String, Vec<f32>>,
    #[serde(default)]
    metrics: serde_json::Value,
    #[serde(default)]
    reward: Option<RewardFile>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    #[serde(default)]
    gate: Gate,
    #[serde(default)]
    conversation: Option<ConversationFile>,
}

#[derive(Deserialize)]
struct ConversationFile {
    mean: Vec<f32>,
    scale: Vec<f32>,
    terms: Vec<TermFile>,
}

#[derive(Clone, Debug, Deserialize)]
struct TermFile {
    dimension: usize,
    a: Vec<f32>,
    b: Vec<f32>,
}

/// The conversation terms of the scores: `c~ = (c - mean) * scale`, and for each
/// term `score[dimension] += (x · a)(c~ · b)`.
#[derive(Clone, Debug)]
struct Conversation {
    mean: Vec<f32>,
    scale: Vec<f32>,
    terms: Vec<TermFile>,
}

impl Conversation {
    fn from_file(
        f: ConversationFile,
        hidden: usize,
        rank: usize,
    ) -> Result<Conversation, HeadError> {
        check_len("conversation.mean", &f.mean, hidden)?;
        check_len("conversation.scale", &f.scale, hidden)?;
        for t in &f.terms {
            if t.dimension >= rank {
                return Err(HeadError::Shape {
                    field: "conversation.terms.dimension",
                    expected: rank,
                    got: t.dimension,
                });
            }
            check_len("conversation.terms.a", &t.a, hidden)?;
            check_len("conversation.terms.b", &t.b, hidden)?;
        }
        Ok(Conversation {
            mean: f.mean,
            scale: f.scale,
            terms: f.terms,
        })
    }
}

/// One column of the projection: what it was trained to tell apart.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
pub struct Dimension {
    /// A short stable name (`harm`, `helpfulness`, …).
    pub name: String,
    /// How the page and CLI name it to a reader.
    pub label: String,
}

/// How a principle's features become its weights: `linear` lets a weight go
/// negative; `softplus` keeps every weight ≥ 0.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    #[default]
    Linear,
    Softplus,
}

#[derive(Deserialize)]
struct RewardFile {
    direction: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    w1: Vec<Vec<f32>>,
    b1: Vec<f32>,
    w2: Vec<f32>,
}

/// A reward network that gives one column of `proj`; `w1` is `hidden × units`.
#[derive(Clone, Debug)]
struct Reward {
    direction: usize,
    mean: Vec<f32>,
    scale: Vec<f32>,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
}

impl Reward {
    fn from_file(f: RewardFile, hidden: usize, rank: usize) -> Result<Reward, HeadError> {
        if f.direction >= rank {
            return Err(HeadError::Shape {
                field: "reward.direction",
                expected: rank,
                got: f.direction,
            });
        }
        let units = f.b1.len();
        check_len("reward.mean", &f.mean, hidden)?;
        check_len("reward.scale", &f.scale, hidden)?;
        check_len("reward.w2", &f.w2, units)?;
        Ok(Reward {
            direction: f.direction,
            w1: flat(f.w1, "reward.w1", hidden, units)?,
            mean: f.mean,
            scale: f.scale,
            b1: f.b1,
            w2: f.w2,
        })
    }

    fn score(&self, x: &[f32]) -> f32 {
        let units = self.b1.len();
        let mut h = self.b1.clone();
        for (d, &xd) in x.iter().enumerate() {
            let z = (xd - self.mean[d]) * self.scale[d];
            for (hj, wj) in h.iter_mut().zip(&self.w1[d * units..(d + 1) * units]) {
                *hj += z * wj;
            }
        }
        h.iter().zip(&self.w2).map(|(hj, wj)| hj.tanh() * wj).sum()
    }
}

/// The head's linear scores for one conversation ([`Head::projection_for`]):
/// `hidden × rank`, row-major.
#[derive(Clone, Debug)]
pub struct Projection {
    u: Vec<f32>,
    rank: usize,
}

impl Projection {
    /// `x U`: every linear score of one text's features (the reward network's column
    /// is left at its linear value, zero in a trained file).
    pub fn linear(&self, x: &[f32]) -> Vec<f32> {
        let k = self.rank;
        let mut a = vec![0f32; k];
        for (d, &xd) in x.iter().enumerate() {
            for (aj, uj) in a.iter_mut().zip(&self.u[d * k..(d + 1) * k]) {
                *aj += xd * uj;
            }
        }
        a
    }
}

/// A loaded head. `u` is `hidden × rank`, `v` is `(hidden + 1) × rank`, row-major.
#[derive(Clone, Debug)]
pub struct Head {
    /// The model name the head was trained on (the manifest's `name`).
    pub model: String,
    /// The layers whose pooled residual streams are averaged into the features.
    pub layers: Vec<usize>,
    pub hidden: usize,
    pub rank: usize,
    response_scale: Vec<f32>,
    principle_mean: Vec<f32>,
    principle_scale: Vec<f32>,
    u: Vec<f32>,
    v: Vec<f32>,
    reward: Option<Reward>,
    conversation: Option<Conversation>,
    /// The columns of the projection, in order (`score 1`, … for older files).
    pub dimensions: Vec<Dimension>,
    gate: Gate,
    /// The chosen response's preference below which a verdict is "too close to call":
    /// where held-out verdicts were right too rarely to trust (training's calibration,
    /// `metrics.too_close`; 0.5, nothing too close, for a head trained without it).
    pub too_close: f64,
    /// Principle vectors of the default constitution, by [`Head::key`].
    known: HashMap<String, Vec<f32>>,
    /// Cross-validated figures from training, shown by the page's "about" panel.
    pub metrics: serde_json::Value,
}

fn flat(
    rows: Vec<Vec<f32>>,
    field: &'static str,
    n: usize,
    width: usize,
) -> Result<Vec<f32>, HeadError> {
    let got = rows.len();
    if got != n {
        return Err(HeadError::Shape {
            field,
            expected: n,
            got,
        });
    }
    let mut out = Vec::with_capacity(n * width);
    for r in rows {
        if r.len() != width {
            return Err(HeadError::Shape {
                field,
                expected: width,
                got: r.len(),
            });
        }
        out.extend(r);
    }
    Ok(out)
}

fn check_len(field: &'static str, v: &[f32], expected: usize) -> Result<(), HeadError> {
    if v.len() == expected {
        Ok(())
    } else {
        Err(HeadError::Shape {
            field,
            expected,
            got: v.len(),
        })
    }
}

impl Head {
    pub fn from_json(text: &str) -> Result<Head, HeadError> {
        let f: HeadFile = serde_json::from_str(text).map_err(|e| HeadError::Json(e.to_string()))?;
        if !READS_FORMATS.contains(&f.format.as_str()) {
            return Err(HeadError::UnsupportedFormat { found: f.format });
        }
        if f.layers.is_empty() {
            return Err(HeadError::Shape {
                field: "layers",
                expected: 1,
                got: 0,
            });
        }
        let (h, k) = (f.hidden, f.rank);
        check_len("response_scale", &f.response_scale, h)?;
        check_len("principle_mean", &f.principle_mean, h)?;
        check_len("principle_scale", &f.principle_scale, h)?;
        for v in f.principle_vectors.values() {
            check_len("principle_vectors", v, k)?;
        }
        let reward = f.reward.map(|r| Reward::from_file(r, h, k)).transpose()?;
        let conversation = f
            .conversation
            .map(|c| Conversation::from_file(c, h, k))
            .transpose()?;
        let dimensions = if f.dimensions.is_empty() {
            (1..=k)
                .map(|i| Dimension {
                    name: format!("score-{i}"),
                    label: format!("score {i}"),
                })
                .collect()
        } else {
            f.dimensions
        };
        if dimensions.len() != k {
            return Err(HeadError::Shape {
                field: "dimensions",
                expected: k,
                got: dimensions.len(),
            });
        }
        Ok(Head {
            reward,
            conversation,
            dimensions,
            gate: f.gate,
            too_close: f.metrics["too_close"].as_f64().unwrap_or(0.5),
            u: flat(f.u, "u", h, k)?,
            v: flat(f.v, "v", h + 1, k)?,
            model: f.model,
            layers: f.layers,
            hidden: h,
            rank: k,
            response_scale: f.response_scale,
            principle_mean: f.principle_mean,
            principle_scale: f.principle_scale,
            known: f.principle_vectors,
            metrics: f.metrics,
        })
    }

    /// A dimension's cross-validated accuracy under its fitting principles, as
    /// training recorded it (`metrics.held_out.<name>.accuracy`).
    pub fn held_out_accuracy(&self, dimension: &str) -> Option<f64> {
        self.metrics["held_out"][dimension]["accuracy"].as_f64()
    }

    /// The head shipped for the default model.
    pub fn default_head() -> Head {
        Head::from_json(DEFAULT_HEAD_JSON).expect("the embedded head file is valid (tested)")
    }

    /// How a principle text is looked up among the precomputed vectors.
    pub fn key(text: &str) -> String {
        let digest = Sha256::digest(text.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The precomputed vector of a default-constitution principle, if this is one.
    pub fn known_principle(&self, text: &str) -> Option<&[f32]> {
        self.known.get(&Head::key(text)).map(Vec::as_slice)
    }

    /// The feature vector: the mean over the head's layers of a text's pooled states,
    /// given the pooled states of every exported layer (`exported` names them).
    /// `None` when a layer the head reads is not exported.
    pub fn features(&self, exported: &[usize], pooled: &[Vec<f32>]) -> Option<Vec<f32>> {
        let mut mean = vec![0f32; self.hidden];
        for l in &self.layers {
            let row = &pooled[exported.iter().position(|e| e == l)?];
            for (m, x) in mean.iter_mut().zip(row) {
                *m += x;
            }
        }
        let n = self.layers.len() as f32;
        mean.iter_mut().for_each(|m| *m /= n);
        Some(mean)
    }

    /// Whether a model exporting these layers gives the head what it reads.
    pub fn readable_from(&self, exported: &[usize]) -> bool {
        self.layers.iter().all(|l| exported.contains(l))
    }

    /// `w(p)` from a principle's features: one weight per dimension.
    pub fn principle_vector(&self, pooled: &[f32]) -> Vec<f32> {
        let k = self.rank;
        // the constant 1 appended to the standardized features selects v's last row
        let mut w = self.v[self.hidden * k..].to_vec();
        for (d, &x) in pooled.iter().enumerate() {
            let z = (x - self.principle_mean[d]) * self.principle_scale[d];
            for (wj, vj) in w.iter_mut().zip(&self.v[d * k..(d + 1) * k]) {
                *wj += z * vj;
            }
        }
        if self.gate == Gate::Softplus {
            // ln(1 + e^a), written so that a large `a` does not overflow
            w.iter_mut()
                .for_each(|a| *a = a.max(0.0) + (-a.abs()).exp().ln_1p());
        }
        w
    }

    /// Each dimension's share of the logit that `i` is better than `j` under `w`:
    /// they sum to the logit of [`Head::probability`].
    pub fn contributions(i: &[f32], j: &[f32], w: &[f32]) -> Vec<f64> {
        i.iter()
            .zip(j)
            .zip(w)
            .map(|((a, b), c)| (*a as f64 - *b as f64) * *c as f64)
            .collect()
    }

    /// Whether some score depends on the conversation (a format-4 head with terms).
    pub fn reads_conversation(&self) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|c| !c.terms.is_empty())
    }

    /// The linear part of `proj` for one conversation (its features as
    /// [`Head::features`] gives them): `U` with every conversation term folded in,
    /// `hidden × rank`, response scale included. Computed once per check.
    pub fn projection_for(&self, conversation: &[f32]) -> Projection {
        let k = self.rank;
        let mut u: Vec<f32> = (0..self.hidden * k)
            .map(|i| self.u[i] * self.response_scale[i / k])
            .collect();
        if let Some(c) = &self.conversation {
            for t in &c.terms {
                let cb: f32 = conversation
                    .iter()
                    .zip(&c.mean)
                    .zip(&c.scale)
                    .zip(&t.b)
                    .map(|(((x, m), s), b)| (x - m) * s * b)
                    .sum();
                for (d, a) in t.a.iter().enumerate() {
                    u[d * k + t.dimension] += a * cb;
                }
            }
        }
        Projection { u, rank: k }
    }

    /// `proj(x)` from a response's features, under one conversation's [`Projection`].
    pub fn response_projection(&self, projection: &Projection, pooled: &[f32]) -> Vec<f32> {
        let mut a = projection.linear(pooled);
        if let Some(r) = &self.reward {
            a[r.direction] = r.score(pooled);
        }
        a
    }

    /// P(response with projection `i` is better than `j` under the principle `w`).
    pub fn probability(i: &[f32], j: &[f32], w: &[f32]) -> f64 {
        let logit: f64 = Head::contributions(i, j, w).iter().sum();
        1.0 / (1.0 + (-logit).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> String {
        serde_json::json!({
            "format": HEAD_FORMAT, "model": "m", "layers": [3, 5], "hidden": 2, "rank": 1,
            "response_scale": [1.0, 2.0], "principle_mean": [0.0, 1.0], "principle_scale": [1.0, 1.0],
            "u": [[1.0], [0.5]], "v": [[2.0], [0.0], [0.5]],
            "principle_vectors": {Head::key("Be kind."): [3.0]}
        })
        .to_string()
    }

    #[test]
    fn arithmetic_matches_the_formula() {
        let h = Head::from_json(&tiny()).unwrap();
        // proj([1, 1]) = 1*1*1 + 1*2*0.5 = 2
        let proj = h.projection_for(&[0.0, 0.0]);
        assert_eq!(h.response_projection(&proj, &[1.0, 1.0]), vec![2.0]);
        assert!(!h.reads_conversation());
        // w([1, 3]) = 0.5 + (1-0)*1*2 + (3-1)*1*0 = 2.5
        assert_eq!(h.principle_vector(&[1.0, 3.0]), vec![2.5]);
        let p = Head::probability(&[2.0], &[1.0], &[2.5]);
        assert!((p - 1.0 / (1.0 + (-2.5f64).exp())).abs() < 1e-12);
        // antisymmetric: swapping the responses gives the complement
        assert!((p + Head::probability(&[1.0], &[2.0], &[2.5]) - 1.0).abs() < 1e-12);
        assert_eq!(h.known_principle("Be kind."), Some(&[3.0f32][..]));
        assert_eq!(h.known_principle("Be kind"), None);
        // features average the head's layers, found by name among the exported ones
        let pooled = vec![vec![1.0, 2.0], vec![9.0, 9.0], vec![3.0, 4.0]];
        assert_eq!(h.features(&[3, 4, 5], &pooled), Some(vec![2.0, 3.0]));
        assert_eq!(h.features(&[3, 4], &pooled[..2]), None);
        assert!(h.readable_from(&[2, 3, 5]) && !h.readable_from(&[3]));
    }

    #[test]
    fn a_reward_network_gives_its_column_of_the_projection() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        v["reward"] = serde_json::json!({
            "direction": 0, "mean": [1.0, 0.0], "scale": [1.0, 0.5],
            "w1": [[1.0, 0.0], [0.0, 2.0]], "b1": [0.0, 0.5], "w2": [2.0, -1.0]
        });
        let h = Head::from_json(&v.to_string()).unwrap();
        // z = [(3-1)*1, (2-0)*0.5] = [2, 1]; hidden = [2, 2.5]; 2 tanh 2 - tanh 2.5
        let want = 2.0 * 2f32.tanh() - 2.5f32.tanh();
        let proj = h.projection_for(&[0.0, 0.0]);
        assert!((h.response_projection(&proj, &[3.0, 2.0])[0] - want).abs() < 1e-6);
        v["reward"]["direction"] = serde_json::json!(1);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("reward.direction"), "{e}");
        v["reward"]["direction"] = serde_json::json!(0);
        v["reward"]["w2"] = serde_json::json!([1.0]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("reward.w2 has 1 values; expected 2"), "{e}");
    }

    #[test]
    fn named_dimensions_and_a_softplus_gate() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        assert_eq!(
            Head::from_json(&tiny()).unwrap().dimensions[0].name,
            "score-1"
        );
        v["dimensions"] = serde_json::json!([{"name": "harm", "label": "harmlessness"}]);
        v["gate"] = serde_json::json!("softplus");
        let h = Head::from_json(&v.to_string()).unwrap();
        assert_eq!(h.dimensions[0].label, "harmlessness");
        // no calibration recorded: nothing is too close to call
        assert_eq!(h.too_close, 0.5);
        v["metrics"] = serde_json::json!({"too_close": 0.55});
        assert_eq!(Head::from_json(&v.to_string()).unwrap().too_close, 0.55);
        // softplus(2.5) and softplus of a large negative input stays >= 0, finite
        let w = h.principle_vector(&[1.0, 3.0])[0];
        assert!((w - (1.0 + 2.5f32.exp()).ln()).abs() < 1e-5, "{w}");
        let w = h.principle_vector(&[-100.0, 1.0])[0];
        assert!((0.0..1e-6).contains(&w), "{w}");
        // the contributions sum to the logit
        let (i, j, w) = ([2.0f32, -1.0], [0.5f32, 1.0], [1.5f32, 0.25]);
        let c = Head::contributions(&i, &j, &w);
        let logit: f64 = c.iter().sum();
        assert!((1.0 / (1.0 + (-logit).exp()) - Head::probability(&i, &j, &w)).abs() < 1e-12);
        assert_eq!(c, vec![2.25, -0.5]);
        v["dimensions"] = serde_json::json!([]);
        v["rank"] = serde_json::json!(1);
        v["dimensions"] =
            serde_json::json!([{"name": "a", "label": "a"}, {"name": "b", "label": "b"}]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("dimensions has 2 values; expected 1"), "{e}");
    }

    #[test]
    fn conversation_terms_make_a_score_depend_on_the_request() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        // c~ = (c - [1, 0]) * [1, 2]; score += (x . [1, 0]) (c~ . [0, 1])
        v["conversation"] = serde_json::json!({
            "mean": [1.0, 0.0], "scale": [1.0, 2.0],
            "terms": [{"dimension": 0, "a": [1.0, 0.0], "b": [0.0, 1.0]}]
        });
        let h = Head::from_json(&v.to_string()).unwrap();
        assert!(h.reads_conversation());
        let x = [1.0, 1.0];
        // without the term: 2 (as above); c = [5, 1.5] → c~ . b = 3, x . a = 1
        let p = h.projection_for(&[5.0, 1.5]);
        assert_eq!(h.response_projection(&p, &x), vec![5.0]);
        // another request, another score for the same reply: c = [5, -1] → -2
        let p = h.projection_for(&[5.0, -1.0]);
        assert_eq!(h.response_projection(&p, &x), vec![0.0]);
        // still linear in x: the mean of two texts' scores is the score of their mean
        let (y, m) = ([3.0, -1.0], [2.0, 0.0]);
        let s = |x: &[f32]| h.response_projection(&p, x)[0];
        assert!(((s(&x) + s(&y)) / 2.0 - s(&m)).abs() < 1e-6);
        v["conversation"]["terms"][0]["dimension"] = serde_json::json!(1);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("conversation.terms.dimension"), "{e}");
        v["conversation"]["terms"][0]["dimension"] = serde_json::json!(0);
        v["conversation"]["scale"] = serde_json::json!([1.0]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(
            e.contains("conversation.scale has 1 values; expected 2"),
            "{e}"
        );
    }

    #[test]
    fn shape_errors_name_the_field() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        v["v"] = serde_json::json!([[2.0], [0.0]]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("v has 2 values; expected 3"), "{e}");
        v["format"] = serde_json::json!("other/1");
        assert!(matches!(
            Head::from_json(&v.to_string()),
            Err(HeadError::UnsupportedFormat { .. })
        ));
        assert!(matches!(Head::from_json("{"), Err(HeadError::Json(_))));
    }

    #[test]
    fn the_embedded_head_matches_its_recorded_checksum() {
        let sums = include_str!("../judges/SHA256SUMS");
        let digest = Sha256::digest(DEFAULT_HEAD_JSON.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            sums.lines()
                .any(|l| l == format!("{hex}  judges/smollm2-135m-head.json")),
            "judges/SHA256SUMS does not list the embedded head (sha256 {hex}): retrain with scripts/train-judge.sh"
        );
    }

    #[test]
    fn the_embedded_head_loads() {
        let h = Head::default_head();
        assert_eq!(h.hidden, 576);
        assert_eq!(h.model, "SmolLM2-135M-Instruct");
        assert!(h.rank >= 1 && !h.layers.is_empty());
        assert_eq!(h.known.len(), 58);
    }
}
