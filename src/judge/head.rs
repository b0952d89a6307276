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
//! Since format 5 a score may also read the reply's similarity to that state,
//! `sum_d x_d w_d c~_d`: relevance (the answer to another request is not helpful).
//! Its weights are the standardization times one learnt coefficient, no direction
//! of its own, so it cannot memorize which data set a request came from (learnt
//! rank-one terms did). It too is linear in `x` and folds into the same effective `U`.
//!
//! One column of `proj` may instead be a small reward network,
//! `w2 · tanh(((x - m) * s) W1 + b1)`: the AI-safety score, because a linear
//! read-out of it does not carry over to behaviours it was not trained on (80 %
//! against 86 % on held-out behaviour files,
//! research/notes/trained-judge-two-scores.md).
//!
//! Since format 6 the scores may also read how likely the model found the reply's
//! tokens ([`crate::engine::lens`]): `score[d] += weight_d · lp`, `lp` the mean
//! log-probability of its tokens. A pooled state cannot tell `36 / 9 = 4` from
//! `36 / 9 = 10`; the model's surprise at the wrong result can. `lp` is a mean over
//! tokens too, so it splits among a reply's parts exactly as the states do.
//!
//! Since format 7 one column may be a pair's term rather than a difference of two
//! replies' scores: where two responses are one small edit apart
//! ([`crate::judge::edits`]), `tanh(value / tau)`, the edited parts' summed
//! log-probability in one less the other's, read by the same lens. The gate weighs it
//! per principle like a dimension; its column of `U` is zero.
//!
//! The score is antisymmetric, so both answer orders agree by construction, and a
//! principle whose `w(p)` is small (one that does not speak to the pair) leaves the
//! verdict near even. Everything here is plain arithmetic on vectors the model
//! produced; the head file is embedded, so the page and the CLI load the same one.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The `format` value this build writes; it also reads `/1` (no reward network),
/// `/2` (unnamed columns, linear gate), `/3` (no conversation terms), `/4` (no
/// similarity score), `/5` (no likelihood) and `/6` (no edit term) files.
pub const HEAD_FORMAT: &str = "principle-checker-head/7";
const READS_FORMATS: [&str; 7] = [
    "principle-checker-head/1",
    "principle-checker-head/2",
    "principle-checker-head/3",
    "principle-checker-head/4",
    "principle-checker-head/5",
    "principle-checker-head/6",
    HEAD_FORMAT,
];

/// The head trained for the default model (see BENCHMARKS.md, "Trained judge").
pub const DEFAULT_HEAD_JSON: &str = include_str!("../../judges/smollm2-135m-head.json");

#[derive(Debug, Error)]
pub enum HeadError {
    #[error("the judge head file is not valid JSON for this build: {0}")]
    Json(String),
    #[error("the judge head file has format {found:?}; this build reads {HEAD_FORMAT:?}")]
    UnsupportedFormat { found: String },
    #[error("the judge head's {field} is {value}; it must be positive")]
    NotPositive { field: &'static str, value: f32 },
    /// The lens reads one layer per check: a score's likelihood and the edit share it.
    #[error("the judge head reads the likelihood at layer {likelihood} and the edit at layer {edit}; both must be one layer")]
    LensLayers { likelihood: usize, edit: usize },
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
    /// The average training reply (evidence's baseline); zero when absent.
    #[serde(default)]
    response_mean: Vec<f32>,
    principle_mean: Vec<f32>,
    principle_scale: Vec<f32>,
    u: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    #[serde(default)]
    principle_vectors: HashMap<String, Vec<f32>>,
    #[serde(default)]
    metrics: HeadMetrics,
    #[serde(default)]
    reward: Option<RewardFile>,
    #[serde(default)]
    dimensions: Vec<Dimension>,
    #[serde(default)]
    gate: Gate,
    #[serde(default)]
    conversation: Option<ConversationFile>,
    #[serde(default)]
    likelihood: Option<LikelihoodTerm>,
    #[serde(default)]
    edit: Option<EditTerm>,
}

/// The edit term (format 7): where two responses are one edit apart, column
/// `dimension` of a pair's differences is `tanh(value / tau)`, the value read by the
/// lens at `layer` ([`crate::judge::edits`]).
#[derive(Clone, Debug, Deserialize)]
struct EditTerm {
    layer: usize,
    tau: f32,
    dimension: usize,
}

/// Two responses one edit apart, as the head reads them: the edited parts of each
/// and the term, `tanh(value / tau)`, positive when the first's edit is the likelier.
#[derive(Clone, Debug, PartialEq)]
pub struct Edit {
    pub dimension: usize,
    pub parts: Vec<usize>,
    pub term: f64,
}

/// The scores' reading of the reply's likelihood (format 6): `score[d] += weights[d] ·
/// lp`, `lp` read by the lens at `layer`; `mean` is the average training reply's `lp`
/// (evidence's baseline, and what a reading without a lens stands at).
#[derive(Clone, Debug, Deserialize)]
struct LikelihoodTerm {
    layer: usize,
    weights: Vec<f32>,
    mean: f32,
}

#[derive(Deserialize)]
struct ConversationFile {
    mean: Vec<f32>,
    scale: Vec<f32>,
    #[serde(default)]
    terms: Vec<TermFile>,
    #[serde(default)]
    similarity: Vec<SimilarityFile>,
}

/// Relevance in a score: the reply's similarity to the conversation's state,
/// `score[dimension] += sum_d x_d weight_d c~_d` (format 5).
#[derive(Clone, Debug, Deserialize)]
struct SimilarityFile {
    dimension: usize,
    weight: Vec<f32>,
}

#[derive(Clone, Debug, Deserialize)]
struct TermFile {
    dimension: usize,
    a: Vec<f32>,
    b: Vec<f32>,
}

/// The conversation terms of the scores: `c~ = (c - mean) * scale`, and for each
/// term `score[dimension] += (x · a)(c~ · b)`, for each similarity
/// `score[dimension] += sum_d x_d weight_d c~_d`.
#[derive(Clone, Debug)]
struct Conversation {
    mean: Vec<f32>,
    scale: Vec<f32>,
    terms: Vec<TermFile>,
    similarity: Vec<SimilarityFile>,
}

impl Conversation {
    fn from_file(
        f: ConversationFile,
        hidden: usize,
        rank: usize,
    ) -> Result<Conversation, HeadError> {
        check_len("conversation.mean", &f.mean, hidden)?;
        check_len("conversation.scale", &f.scale, hidden)?;
        let check_dimension = |field: &'static str, got: usize| {
            if got >= rank {
                Err(HeadError::Shape {
                    field,
                    expected: rank,
                    got,
                })
            } else {
                Ok(())
            }
        };
        for t in &f.terms {
            check_dimension("conversation.terms.dimension", t.dimension)?;
            check_len("conversation.terms.a", &t.a, hidden)?;
            check_len("conversation.terms.b", &t.b, hidden)?;
        }
        for t in &f.similarity {
            check_dimension("conversation.similarity.dimension", t.dimension)?;
            check_len("conversation.similarity.weight", &t.weight, hidden)?;
        }
        Ok(Conversation {
            mean: f.mean,
            scale: f.scale,
            terms: f.terms,
            similarity: f.similarity,
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

    /// The hidden units' pre-activations at `x`, in f64.
    fn pre_activations(&self, x: &[f64]) -> Vec<f64> {
        let mut h: Vec<f64> = self.b1.iter().map(|&b| b as f64).collect();
        self.add_linear(&mut h, x, true);
        h
    }

    /// Adds `((x - mean·[centred]) * scale) W1` to `h`: with `centred` false, the
    /// change of the pre-activations that a step `x` causes.
    fn add_linear(&self, h: &mut [f64], x: &[f64], centred: bool) {
        let units = self.b1.len();
        for (d, &xd) in x.iter().enumerate() {
            let m = if centred { self.mean[d] as f64 } else { 0.0 };
            let z = (xd - m) * self.scale[d] as f64;
            for (hj, wj) in h.iter_mut().zip(&self.w1[d * units..(d + 1) * units]) {
                *hj += z * *wj as f64;
            }
        }
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

/// One response's scores split among parts of its text ([`Head::attribute`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    /// `[part][dimension]`.
    pub parts: Vec<Vec<f64>>,
    /// `[dimension]`: what no part carries (the baseline's score and the tokens
    /// outside every part).
    pub rest: Vec<f64>,
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
    response_mean: Vec<f32>,
    principle_mean: Vec<f32>,
    principle_scale: Vec<f32>,
    u: Vec<f32>,
    v: Vec<f32>,
    reward: Option<Reward>,
    conversation: Option<Conversation>,
    likelihood: Option<LikelihoodTerm>,
    edit: Option<EditTerm>,
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
    pub metrics: HeadMetrics,
}

/// What training measured on data the head did not see (tools/train_judge.py
/// writes it into the head file; the page's About panel and the CLI's load line
/// show it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeadMetrics {
    /// By dimension name, and by `dimension/data set`: accuracy under the
    /// dimension's fitting principles, overall and where the better reply is the
    /// shorter or the longer one.
    #[serde(default)]
    pub held_out: BTreeMap<String, HeldOut>,
    /// The obvious-case suite's result with this head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanity: Option<Sanity>,
    /// The chosen response's preference below which a verdict is too close to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub too_close: Option<f64>,
    /// Held-out accuracy by the verdict's preference, in bins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calibration: Vec<CalibrationBin>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    pub pairs: usize,
    pub accuracy: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub better_shorter: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub better_longer: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sanity {
    pub fitting_right: usize,
    pub fitting: usize,
    pub overall_right: usize,
    pub cases: usize,
    /// By kind of case: [fitting right, fitting, overall right, cases].
    #[serde(default)]
    pub by_kind: BTreeMap<String, [usize; 4]>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub verdicts: usize,
    pub accuracy: f64,
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
        let response_mean = if f.response_mean.is_empty() {
            vec![0.0; h]
        } else {
            check_len("response_mean", &f.response_mean, h)?;
            f.response_mean
        };
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
        if let Some(l) = &f.likelihood {
            check_len("likelihood.weights", &l.weights, k)?;
        }
        if let Some(e) = &f.edit {
            if e.dimension >= k {
                return Err(HeadError::Shape {
                    field: "edit.dimension",
                    expected: k,
                    got: e.dimension,
                });
            }
            if e.tau.is_nan() || e.tau <= 0.0 {
                return Err(HeadError::NotPositive {
                    field: "edit.tau",
                    value: e.tau,
                });
            }
            if let Some(l) = f.likelihood.as_ref().filter(|l| l.layer != e.layer) {
                return Err(HeadError::LensLayers {
                    likelihood: l.layer,
                    edit: e.layer,
                });
            }
        }
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
            likelihood: f.likelihood,
            edit: f.edit,
            dimensions,
            gate: f.gate,
            too_close: f.metrics.too_close.unwrap_or(0.5),
            u: flat(f.u, "u", h, k)?,
            v: flat(f.v, "v", h + 1, k)?,
            model: f.model,
            layers: f.layers,
            hidden: h,
            rank: k,
            response_scale: f.response_scale,
            response_mean,
            principle_mean: f.principle_mean,
            principle_scale: f.principle_scale,
            known: f.principle_vectors,
            metrics: f.metrics,
        })
    }

    /// A dimension's cross-validated accuracy under its fitting principles, as
    /// training recorded it (`metrics.held_out.<name>.accuracy`).
    pub fn held_out_accuracy(&self, dimension: &str) -> Option<f64> {
        self.metrics.held_out.get(dimension).map(|h| h.accuracy)
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

    /// The layer the lens reads a reply's likelihood at: the head's own choice, else
    /// its last layer (what features for training one are read with).
    pub fn lens_layer(&self) -> usize {
        match (&self.likelihood, &self.edit) {
            (Some(l), _) => l.layer,
            (None, Some(e)) => e.layer,
            (None, None) => *self
                .layers
                .iter()
                .max()
                .expect("a head has layers (checked)"),
        }
    }

    /// Whether some score, or the edit term, reads the replies' likelihood.
    pub fn reads_likelihood(&self) -> bool {
        self.likelihood.is_some() || self.edit.is_some()
    }

    /// Whether the head weighs edits between responses ([`Head::edit`]).
    pub fn reads_edits(&self) -> bool {
        self.edit.is_some()
    }

    /// The layer the edit between two responses is read at, if the head weighs edits.
    /// It may lie past the head's layers: a check then runs the layers after the
    /// head's on from where its pass stopped, for responses one edit apart only.
    pub fn edit_layer(&self) -> Option<usize> {
        self.edit.as_ref().map(|e| e.layer)
    }

    /// The column that carries the edit term, if the head has one.
    pub fn edit_dimension(&self) -> Option<&Dimension> {
        self.edit.as_ref().map(|e| &self.dimensions[e.dimension])
    }

    /// The edit term between two responses, from their parts' texts and each part's
    /// own likelihood (mean log-probability, tokens): `None` where the head has no
    /// such term, a reply has no likelihood, or they are not one edit apart. The
    /// same parts are edited in both ([`crate::judge::edits::edited`]).
    pub fn edit<S: AsRef<str>>(
        &self,
        a: &[S],
        b: &[S],
        lik_a: &[(f32, usize)],
        lik_b: &[(f32, usize)],
    ) -> Option<Edit> {
        let e = self.edit.as_ref()?;
        let (parts, value) = crate::judge::edits::edit_value(a, b, lik_a, lik_b)?;
        Some(Edit {
            dimension: e.dimension,
            parts,
            term: (value / e.tau as f64).tanh(),
        })
    }

    /// The dimensions whose scores read the reply's likelihood.
    pub fn likelihood_readers(&self) -> Vec<&Dimension> {
        match &self.likelihood {
            Some(l) => self
                .dimensions
                .iter()
                .zip(&l.weights)
                .filter(|(_, w)| **w != 0.0)
                .map(|(d, _)| d)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether a model exporting these layers gives the head's pass what it reads:
    /// its layers, and the likelihood's layer if a score reads it (the edit's layer
    /// need not be exported, [`Head::edit_layer`]).
    pub fn readable_from(&self, exported: &[usize]) -> bool {
        self.layers.iter().all(|l| exported.contains(l))
            && self
                .likelihood
                .as_ref()
                .is_none_or(|l| exported.contains(&l.layer))
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

    /// Whether some score depends on the conversation (terms or a similarity).
    pub fn reads_conversation(&self) -> bool {
        self.conversation
            .as_ref()
            .is_some_and(|c| !c.terms.is_empty() || !c.similarity.is_empty())
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
            if !c.similarity.is_empty() {
                let ct: Vec<f32> = conversation
                    .iter()
                    .zip(c.mean.iter().zip(&c.scale))
                    .map(|(x, (m, s))| (x - m) * s)
                    .collect();
                for t in &c.similarity {
                    for (d, (x, w)) in ct.iter().zip(&t.weight).enumerate() {
                        u[d * k + t.dimension] += w * x;
                    }
                }
            }
        }
        Projection { u, rank: k }
    }

    /// `proj(x)` from a response's features and the mean log-probability of its tokens,
    /// under one conversation's [`Projection`]. Without a likelihood (a model with no
    /// lens) every reply stands at the baseline's, so it decides nothing.
    pub fn response_projection(
        &self,
        projection: &Projection,
        pooled: &[f32],
        likelihood: Option<f32>,
    ) -> Vec<f32> {
        let mut a = projection.linear(pooled);
        if let Some(r) = &self.reward {
            a[r.direction] = r.score(pooled);
        }
        if let Some(l) = &self.likelihood {
            let lp = likelihood.unwrap_or(l.mean);
            a.iter_mut()
                .zip(&l.weights)
                .for_each(|(aj, w)| *aj += w * lp);
        }
        a
    }

    /// How one response's scores divide among parts of its text.
    ///
    /// `parts[s]` is part `s`'s tokens' features summed and divided by the response's
    /// token count, so the parts and the turn's opening tokens add up to `pooled`;
    /// `shares[s]` is the part's fraction of the tokens. Each part is measured from
    /// the baseline (the average training reply, `response_mean`) taken at its share,
    /// so a part like an average reply scores zero. A linear score splits exactly; the
    /// reward network's score is split by integrated gradients from the baseline along
    /// the straight line to `pooled`, which for `w2 · tanh(a(x))` with `a` linear is,
    /// per hidden unit, that unit's change divided in proportion to each part's
    /// change of its pre-activation: exact, with no steps to integrate. In both,
    /// parts plus `rest` equal [`Head::response_projection`] (to rounding). The
    /// likelihood term splits like a linear score: `likelihood` is the response's
    /// mean and each part's share of it ([`crate::engine::Likelihood`]).
    pub fn attribute(
        &self,
        projection: &Projection,
        pooled: &[f32],
        parts: &[Vec<f32>],
        shares: &[f32],
        likelihood: Option<(f32, &[f32])>,
    ) -> Attribution {
        let (h, k) = (self.hidden, self.rank);
        let m = &self.response_mean;
        // each part's step from its share of the baseline
        let steps: Vec<Vec<f64>> = parts
            .iter()
            .zip(shares)
            .map(|(p, &w)| {
                p.iter()
                    .zip(m)
                    .map(|(&x, &b)| x as f64 - w as f64 * b as f64)
                    .collect()
            })
            .collect();
        let mut scores: Vec<Vec<f64>> = steps
            .iter()
            .map(|c| {
                let mut a = vec![0f64; k];
                for (d, &cd) in c.iter().enumerate() {
                    for (aj, uj) in a.iter_mut().zip(&projection.u[d * k..(d + 1) * k]) {
                        *aj += cd * *uj as f64;
                    }
                }
                a
            })
            .collect();
        let total: Vec<f64> = self
            .response_projection(projection, pooled, likelihood.map(|(m, _)| m))
            .iter()
            .map(|&v| v as f64)
            .collect();
        if let Some(r) = &self.reward {
            let x: Vec<f64> = pooled.iter().map(|&v| v as f64).collect();
            let base: Vec<f64> = m.iter().map(|&v| v as f64).collect();
            let at_x = r.pre_activations(&x);
            let at_base = r.pre_activations(&base);
            // per unit: the change of its output per unit change of its input
            let slope: Vec<f64> = at_x
                .iter()
                .zip(&at_base)
                .zip(&r.w2)
                .map(|((&a, &a0), &w2)| {
                    let da = a - a0;
                    let w2 = w2 as f64;
                    if da.abs() > 1e-9 {
                        w2 * (a.tanh() - a0.tanh()) / da
                    } else {
                        w2 * (1.0 - a.tanh().powi(2))
                    }
                })
                .collect();
            for (c, score) in steps.iter().zip(scores.iter_mut()) {
                let mut da = vec![0f64; r.b1.len()];
                r.add_linear(&mut da, c, false);
                score[r.direction] = da.iter().zip(&slope).map(|(d, g)| d * g).sum();
            }
        }
        // after the reward network's split, which sets its column
        if let (Some(l), Some((_, by_part))) = (&self.likelihood, likelihood) {
            for ((score, &lp), &w) in scores.iter_mut().zip(by_part).zip(shares) {
                let step = lp as f64 - w as f64 * l.mean as f64;
                for (sj, &wj) in score.iter_mut().zip(&l.weights) {
                    *sj += step * wj as f64;
                }
            }
        }
        debug_assert!(h == pooled.len());
        let rest = (0..k)
            .map(|j| total[j] - scores.iter().map(|s| s[j]).sum::<f64>())
            .collect();
        Attribution {
            parts: scores,
            rest,
        }
    }

    /// P(response with projection `i` is better than `j` under the principle `w`).
    pub fn probability(i: &[f32], j: &[f32], w: &[f32]) -> f64 {
        Head::probability_of(&Head::contributions(i, j, w))
    }

    /// The probability whose logit is the sum of these contributions.
    pub fn probability_of(contributions: &[f64]) -> f64 {
        let logit: f64 = contributions.iter().sum();
        1.0 / (1.0 + (-logit).exp())
    }

    /// [`Head::contributions`] with the pair's edit term (if any) in its column.
    pub fn pair_contributions(i: &[f32], j: &[f32], w: &[f32], edit: Option<&Edit>) -> Vec<f64> {
        let mut c = Head::contributions(i, j, w);
        if let Some(e) = edit {
            c[e.dimension] += e.term * w[e.dimension] as f64;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_heads_metrics_are_read_whole() {
        let file: serde_json::Value = serde_json::from_str(DEFAULT_HEAD_JSON).unwrap();
        let h = Head::default_head();
        assert_eq!(serde_json::to_value(&h.metrics).unwrap(), file["metrics"]);
        assert!(h.held_out_accuracy("respect").is_some());
        assert_eq!(h.held_out_accuracy("no such dimension"), None);
    }

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
        assert_eq!(h.response_projection(&proj, &[1.0, 1.0], None), vec![2.0]);
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
        assert!((h.response_projection(&proj, &[3.0, 2.0], None)[0] - want).abs() < 1e-6);
        v["reward"]["direction"] = serde_json::json!(1);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("reward.direction"), "{e}");
        v["reward"]["direction"] = serde_json::json!(0);
        v["reward"]["w2"] = serde_json::json!([1.0]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("reward.w2 has 1 values; expected 2"), "{e}");
    }

    /// A small deterministic generator for the property tests (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        }
        fn vec(&mut self, n: usize, scale: f32) -> Vec<f32> {
            (0..n).map(|_| self.next() * scale).collect()
        }
    }

    /// A random head: `hidden` 5, three scores, the second a reward network.
    fn random_head(rng: &mut Rng) -> Head {
        let (h, k, units) = (5, 3, 4);
        let rows = |rng: &mut Rng, n: usize, w: usize| -> Vec<Vec<f32>> {
            (0..n).map(|_| rng.vec(w, 1.0)).collect()
        };
        let scale: Vec<f32> = rng.vec(h, 0.5).iter().map(|x| 1.0 + x).collect();
        let json = serde_json::json!({
            "format": HEAD_FORMAT, "model": "m", "layers": [0], "hidden": h, "rank": k,
            "response_scale": scale, "response_mean": rng.vec(h, 2.0),
            "principle_mean": vec![0.0; h], "principle_scale": vec![1.0; h],
            "u": rows(rng, h, k), "v": rows(rng, h + 1, k),
            "reward": {"direction": 1, "mean": rng.vec(h, 1.0), "scale": vec![0.7; h],
                       "w1": rows(rng, h, units), "b1": rng.vec(units, 1.0), "w2": rng.vec(units, 2.0)},
            "conversation": {"mean": vec![0.0; h], "scale": vec![1.0; h],
                             "terms": [{"dimension": 2, "a": rng.vec(h, 1.0), "b": rng.vec(h, 1.0)}],
                             "similarity": [{"dimension": 0, "weight": rng.vec(h, 1.0)}]},
            "likelihood": {"layer": 0, "weights": rng.vec(k, 1.0), "mean": -2.5}
        });
        Head::from_json(&json.to_string()).unwrap()
    }

    /// Random token features split into an opening and parts: (pooled, parts, shares,
    /// the opening's own step).
    fn random_response(
        rng: &mut Rng,
        opening: usize,
        lens: &[usize],
    ) -> (Vec<f32>, Vec<Vec<f32>>, Vec<f32>) {
        let n = opening + lens.iter().sum::<usize>();
        let tokens: Vec<Vec<f32>> = (0..n).map(|_| rng.vec(5, 3.0)).collect();
        let sum = |rows: &[Vec<f32>]| -> Vec<f32> {
            (0..5)
                .map(|d| rows.iter().map(|r| r[d]).sum::<f32>() / n as f32)
                .collect()
        };
        let pooled = sum(&tokens);
        let mut parts = Vec::new();
        let mut at = opening;
        for &l in lens {
            parts.push(sum(&tokens[at..at + l]));
            at += l;
        }
        let shares = lens.iter().map(|&l| l as f32 / n as f32).collect();
        (pooled, parts, shares)
    }

    #[test]
    fn parts_and_rest_add_up_to_every_score_of_random_heads() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for case in 0..200 {
            let head = random_head(&mut rng);
            let proj = head.projection_for(&rng.vec(5, 1.0));
            let lens: Vec<usize> = (0..1 + case % 6).map(|i| 1 + (i * 7 + case) % 5).collect();
            let (pooled, parts, shares) = random_response(&mut rng, 1 + case % 3, &lens);
            let lp_parts: Vec<f32> = rng.vec(parts.len(), 2.0).iter().map(|x| x - 1.0).collect();
            let lp = lp_parts.iter().sum::<f32>() + rng.vec(1, 1.0)[0];
            let a = head.attribute(&proj, &pooled, &parts, &shares, Some((lp, &lp_parts)));
            let want = head.response_projection(&proj, &pooled, Some(lp));
            for (k, w) in want.iter().enumerate() {
                let got = a.parts.iter().map(|p| p[k]).sum::<f64>() + a.rest[k];
                assert!(
                    (got - *w as f64).abs() < 1e-5,
                    "case {case} score {k}: {got} vs {w}"
                );
            }
        }
    }

    #[test]
    fn with_every_token_in_a_part_the_rest_is_the_baselines_score() {
        // the rest is not a remainder that hides error: when parts cover every token
        // it is exactly the score of the average training reply
        let mut rng = Rng(7);
        for _ in 0..50 {
            let head = random_head(&mut rng);
            let proj = head.projection_for(&rng.vec(5, 1.0));
            let (pooled, parts, shares) = random_response(&mut rng, 0, &[3, 1, 4]);
            let lp_parts = rng.vec(3, 1.0);
            let lp = lp_parts.iter().sum::<f32>();
            let a = head.attribute(&proj, &pooled, &parts, &shares, Some((lp, &lp_parts)));
            let base = head.response_projection(&proj, &head.response_mean, None);
            for (r, b) in a.rest.iter().zip(&base) {
                assert!((r - *b as f64).abs() < 1e-4, "{r} vs {b}");
            }
        }
    }

    #[test]
    fn the_reward_networks_split_is_integrated_gradients() {
        // against a numerical integral of the gradient along the straight line
        let mut rng = Rng(42);
        let head = random_head(&mut rng);
        let proj = head.projection_for(&[0.0; 5]);
        let (pooled, parts, shares) = random_response(&mut rng, 2, &[2, 3]);
        let a = head.attribute(&proj, &pooled, &parts, &shares, None);
        let r = head.reward.as_ref().unwrap();
        let m: Vec<f64> = head.response_mean.iter().map(|&v| v as f64).collect();
        let x: Vec<f64> = pooled.iter().map(|&v| v as f64).collect();
        let steps = 20_000;
        for (s, part) in parts.iter().enumerate() {
            let step: Vec<f64> = part
                .iter()
                .zip(&m)
                .map(|(p, b)| *p as f64 - shares[s] as f64 * b)
                .collect();
            let mut da = vec![0f64; r.b1.len()];
            r.add_linear(&mut da, &step, false);
            let mut ig = 0.0;
            for i in 0..steps {
                let t = (i as f64 + 0.5) / steps as f64;
                let point: Vec<f64> = m.iter().zip(&x).map(|(b, x)| b + t * (x - b)).collect();
                let pre = r.pre_activations(&point);
                ig += pre
                    .iter()
                    .zip(&r.w2)
                    .zip(&da)
                    .map(|((a, w), d)| *w as f64 * (1.0 - a.tanh().powi(2)) * d)
                    .sum::<f64>()
                    / steps as f64;
            }
            assert!(
                (a.parts[s][1] - ig).abs() < 1e-6,
                "part {s}: {} vs {ig}",
                a.parts[s][1]
            );
        }
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
        assert_eq!(h.response_projection(&p, &x, None), vec![5.0]);
        // another request, another score for the same reply: c = [5, -1] → -2
        let p = h.projection_for(&[5.0, -1.0]);
        assert_eq!(h.response_projection(&p, &x, None), vec![0.0]);
        // still linear in x: the mean of two texts' scores is the score of their mean
        let (y, m) = ([3.0, -1.0], [2.0, 0.0]);
        let s = |x: &[f32]| h.response_projection(&p, x, None)[0];
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
    fn a_similarity_score_is_relevance_to_the_request() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        // c~ = (c - [1, 0]) * [1, 2]; score += x . ([0.5, 1] * c~)
        v["conversation"] = serde_json::json!({
            "mean": [1.0, 0.0], "scale": [1.0, 2.0],
            "similarity": [{"dimension": 0, "weight": [0.5, 1.0]}]
        });
        let h = Head::from_json(&v.to_string()).unwrap();
        assert!(h.reads_conversation());
        let x = [1.0, 1.0];
        // 2 without it; c = [3, 1] → c~ = [2, 2] → + 0.5*2 + 1*2 = 3
        let p = h.projection_for(&[3.0, 1.0]);
        assert_eq!(h.response_projection(&p, &x, None), vec![5.0]);
        // a reply along the request's state scores higher than one across it
        let (along, across) = ([2.0, 2.0], [2.0, -2.0]);
        let s = |x: &[f32]| h.response_projection(&p, x, None)[0];
        assert!(s(&along) > s(&across));
        // linear in x
        let m = [2.0, 0.0];
        assert!(((s(&along) + s(&across)) / 2.0 - s(&m)).abs() < 1e-6);
        v["conversation"]["similarity"][0]["dimension"] = serde_json::json!(1);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("conversation.similarity.dimension"), "{e}");
        v["conversation"]["similarity"][0]["dimension"] = serde_json::json!(0);
        v["conversation"]["similarity"][0]["weight"] = serde_json::json!([1.0]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(
            e.contains("conversation.similarity.weight has 1 values; expected 2"),
            "{e}"
        );
    }

    #[test]
    fn an_edit_term_is_a_pairs_column_read_only_where_the_replies_are_one_edit_apart() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        v["edit"] = serde_json::json!({"layer": 7, "tau": 2.0, "dimension": 0});
        let h = Head::from_json(&v.to_string()).unwrap();
        assert!(h.reads_edits() && h.reads_likelihood());
        assert_eq!(h.lens_layer(), 7);
        assert_eq!(h.edit_layer(), Some(7));
        // read by running on past the head's layers where its pass does not reach it
        assert!(h.readable_from(&[3, 5]));
        let a = ["Same. ", "It is 56."];
        let b = ["Same. ", "It is 54."];
        let lik_a = [(-1.0, 2), (-2.0, 4)];
        let lik_b = [(-1.0, 2), (-3.0, 4)];
        let e = h.edit(&a, &b, &lik_a, &lik_b).unwrap();
        assert_eq!(e.parts, vec![1]);
        assert!((e.term - (4.0f64 / 2.0).tanh()).abs() < 1e-12);
        // antisymmetric
        assert!((h.edit(&b, &a, &lik_b, &lik_a).unwrap().term + e.term).abs() < 1e-12);
        // its weight times the term, added to the scores' difference
        let c = Head::pair_contributions(&[2.0], &[1.0], &[0.5], Some(&e));
        assert!((c[0] - (0.5 + 0.5 * e.term)).abs() < 1e-12);
        assert_eq!(
            Head::pair_contributions(&[2.0], &[1.0], &[0.5], None),
            vec![0.5]
        );
        // nothing where the replies are not one edit apart or have no likelihood
        assert_eq!(h.edit(&a, &["Other."], &lik_a, &[(-1.0, 2)]), None);
        assert_eq!(h.edit(&a, &b, &[], &[]), None);
        assert_eq!(
            Head::from_json(&tiny())
                .unwrap()
                .edit(&a, &b, &lik_a, &lik_b),
            None
        );
        v["edit"]["tau"] = serde_json::json!(0.0);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("edit.tau is 0; it must be positive"), "{e}");
        v["edit"] = serde_json::json!({"layer": 7, "tau": 2.0, "dimension": 1});
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("edit.dimension"), "{e}");
        // one lens layer for the likelihood and the edit
        v["edit"] = serde_json::json!({"layer": 7, "tau": 2.0, "dimension": 0});
        v["likelihood"] = serde_json::json!({"layer": 5, "weights": [0.5], "mean": -4.0});
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(e.contains("layer 5 and the edit at layer 7"), "{e}");
    }

    #[test]
    fn a_likelihood_term_adds_its_weight_times_the_replys_likelihood() {
        let mut v: serde_json::Value = serde_json::from_str(&tiny()).unwrap();
        v["likelihood"] = serde_json::json!({"layer": 7, "weights": [0.5], "mean": -4.0});
        let h = Head::from_json(&v.to_string()).unwrap();
        assert_eq!(h.lens_layer(), 7);
        assert_eq!(h.likelihood_readers().len(), 1);
        // the lens layer must be exported too
        assert!(!h.readable_from(&[3, 5]) && h.readable_from(&[3, 5, 7]));
        let p = h.projection_for(&[0.0, 0.0]);
        let x = [1.0, 1.0];
        let plain = Head::from_json(&tiny())
            .unwrap()
            .response_projection(&p, &x, None)[0];
        assert_eq!(plain, 2.0);
        assert_eq!(h.response_projection(&p, &x, Some(-2.0))[0], 2.0 - 1.0);
        // without a likelihood every reply stands at the average reply's
        assert_eq!(h.response_projection(&p, &x, None)[0], 2.0 - 2.0);
        v["likelihood"]["weights"] = serde_json::json!([0.5, 1.0]);
        let e = Head::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(
            e.contains("likelihood.weights has 2 values; expected 1"),
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
        let sums = include_str!("../../judges/SHA256SUMS");
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
