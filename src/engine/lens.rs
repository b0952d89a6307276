//! How likely the model finds each token of a text, read from the residual stream of
//! one layer through the model's own output layer (a "logit lens").
//!
//! Why: a pooled state says what a reply is about and how it sounds, not whether its
//! steps hold. A reply whose last line says `36 / 9 = 10` pools almost exactly like
//! the one that says `= 4`; the model's surprise at the `10` is what tells them
//! apart. The head reads the mean of these log-probabilities as one more feature.
//!
//! Why this way: the head's pass stops at the last layer it reads and never builds the
//! 49,152-row output matrix, so the lens reads that layer and normalizes over the
//! first [`LENS_VOCAB`] token ids (the tokenizer's earliest merges, its commonest
//! tokens) plus the token itself. On the pairs probed it picked the same likelier
//! reply as the full softmax but for one pair in 25, for a fiftieth of the work
//! (research/notes/likelihood-lens-2026-12-05.md); the approximation is the feature's
//! definition, used alike in training and in a check.

use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::*;

use super::error::ModelError;
use super::manifest::Architecture;
use super::onnx::Parsed;
use super::weights::{f32_initializer, Quantized};

/// Token ids `0..LENS_VOCAB` are the vocabulary the lens normalizes over.
pub const LENS_VOCAB: usize = 1024;
/// What the converter names the output norm's weight and the (tied) embedding.
const NORM: &str = "final_norm.w";
const EMBEDDING: &str = "token_embd";

/// An f32 initializer's values, in order.
fn values(t: &tract_onnx::pb::TensorProto) -> Result<Vec<f32>, ModelError> {
    let t = f32_initializer(t)?;
    let view = t
        .to_plain_array_view::<f32>()
        .map_err(|e| ModelError::Run(format!("{e:#}")))?;
    Ok(view.iter().copied().collect())
}

enum Rows {
    Blocks(Arc<Quantized>),
    Plain(Vec<f32>),
}

/// The output norm and the rows of the output matrix the lens reads.
pub struct Lens {
    norm: Vec<f32>,
    eps: f32,
    hidden: usize,
    /// `[LENS_VOCAB, hidden]`, the rows normalized over, decoded at the first read:
    /// a model whose head never reads the likelihood neither spends the time at load
    /// nor keeps the memory.
    table: OnceLock<Vec<f32>>,
    vocab: usize,
    /// Every row, for the token whose probability is read.
    rows: Rows,
}

impl Lens {
    /// `None` for a file without an output norm or a tied embedding (the lens then
    /// reads nothing, and a head that needs it is not offered).
    pub(super) fn build(arch: &Architecture, parsed: &Parsed) -> Result<Option<Lens>, ModelError> {
        let Some(graph) = parsed.proto.graph.as_ref() else {
            return Ok(None);
        };
        let find = |name: &str| graph.initializer.iter().find(|t| t.name == name);
        let Some(norm) = find(NORM) else {
            return Ok(None);
        };
        let norm = values(norm)?;
        let rows = match (parsed.weights.get(EMBEDDING), find(EMBEDDING)) {
            (Some(q), _) => Rows::Blocks(q),
            (None, Some(t)) => Rows::Plain(values(t)?),
            (None, None) => return Ok(None),
        };
        let (hidden, vocab) = (arch.hidden, arch.vocab);
        if norm.len() != hidden {
            return Err(ModelError::Onnx(format!(
                "the output norm has {} values, the manifest says {hidden}",
                norm.len()
            )));
        }
        Ok(Some(Lens {
            norm,
            eps: arch.rms_eps as f32,
            hidden,
            table: OnceLock::new(),
            vocab,
            rows,
        }))
    }

    fn table(&self) -> Result<&[f32], ModelError> {
        if self.table.get().is_none() {
            let h = self.hidden;
            let mut table = vec![0f32; LENS_VOCAB.min(self.vocab) * h];
            for (r, out) in table.chunks_exact_mut(h).enumerate() {
                self.row(r, out)?;
            }
            // another thread may have filled it meanwhile: the same rows either way
            let _ = self.table.set(table);
        }
        Ok(self.table.get().expect("filled above"))
    }

    fn row(&self, r: usize, out: &mut [f32]) -> Result<(), ModelError> {
        let h = self.hidden;
        match &self.rows {
            Rows::Blocks(q) if r < q.shape()[0] => q.row(r, out),
            Rows::Plain(t) if (r + 1) * h <= t.len() => out.copy_from_slice(&t[r * h..(r + 1) * h]),
            _ => {
                return Err(ModelError::Run(format!(
                    "token id {r} is past the vocabulary"
                )))
            }
        }
        Ok(())
    }

    /// `rows` is one layer's residual stream over a text's tokens (`[tokens × hidden]`)
    /// and `ids` the tokens: entry `t` is the log-probability of `ids[t]` read at
    /// token `t - 1` (entry 0, which nothing in the text predicts, is 0).
    pub fn log_probs(&self, rows: &[f32], ids: &[u32]) -> Result<Vec<f32>, ModelError> {
        let h = self.hidden;
        let n = ids.len();
        if rows.len() != n * h {
            return Err(ModelError::Run(format!(
                "{} states for {n} tokens of width {h}",
                rows.len()
            )));
        }
        let mut out = vec![0f32; n];
        if n < 2 {
            return Ok(out);
        }
        let mut x = vec![0f32; (n - 1) * h];
        for (xt, row) in x.chunks_exact_mut(h).zip(rows.chunks_exact(h)) {
            let ms = row.iter().map(|v| v * v).sum::<f32>() / h as f32;
            let inv = 1.0 / (ms + self.eps).sqrt();
            for ((o, v), w) in xt.iter_mut().zip(row).zip(&self.norm) {
                *o = v * inv * w;
            }
        }
        let table = self.table()?;
        let k = table.len() / h;
        let xs = tract_ndarray::ArrayView2::from_shape((n - 1, h), &x)
            .map_err(|e| ModelError::Run(e.to_string()))?;
        let table = tract_ndarray::ArrayView2::from_shape((k, h), table)
            .map_err(|e| ModelError::Run(e.to_string()))?;
        let logits = xs.dot(&table.t());
        let mut target = vec![0f32; h];
        for t in 1..n {
            let id = ids[t] as usize;
            self.row(id, &mut target)?;
            let xt = &x[(t - 1) * h..t * h];
            let own: f32 = xt.iter().zip(&target).map(|(a, b)| a * b).sum();
            let row = logits.row(t - 1);
            // the vocabulary normalized over: the table's tokens and this one
            let others = row
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != id)
                .map(|(_, v)| *v);
            let top = others.clone().fold(own, f32::max);
            let sum: f32 = others.map(|v| (v - top).exp()).sum::<f32>() + (own - top).exp();
            out[t] = own - top - sum.ln();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens(vocab: usize, hidden: usize, seed: u64) -> Lens {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let emb: Vec<f32> = (0..vocab * hidden).map(|_| next()).collect();
        Lens {
            norm: vec![1.0; hidden],
            eps: 1e-5,
            hidden,
            table: OnceLock::new(),
            vocab,
            rows: Rows::Plain(emb),
        }
    }

    #[test]
    fn log_probs_are_a_softmax_over_the_table_and_the_token() {
        let (vocab, hidden) = (40, 8);
        let l = lens(vocab, hidden, 7);
        let rows: Vec<f32> = (0..3 * hidden).map(|i| (i as f32 * 0.37).sin()).collect();
        let ids = [3u32, 17, 39];
        let lp = l.log_probs(&rows, &ids).unwrap();
        assert_eq!(lp[0], 0.0);
        // with a vocabulary under LENS_VOCAB, the full softmax
        let Rows::Plain(emb) = &l.rows else {
            unreachable!()
        };
        for t in 1..3 {
            let row = &rows[(t - 1) * hidden..t * hidden];
            let ms = row.iter().map(|v| v * v).sum::<f32>() / hidden as f32;
            let x: Vec<f32> = row.iter().map(|v| v / (ms + 1e-5).sqrt()).collect();
            let logits: Vec<f32> = emb
                .chunks_exact(hidden)
                .map(|e| e.iter().zip(&x).map(|(a, b)| a * b).sum())
                .collect();
            let lse = logits.iter().map(|v| v.exp()).sum::<f32>().ln();
            assert!(
                (lp[t] - (logits[ids[t] as usize] - lse)).abs() < 1e-4,
                "{t}"
            );
            assert!(lp[t] < 0.0);
        }
    }

    #[test]
    fn a_token_outside_the_table_joins_the_normalization() {
        let (vocab, hidden) = (LENS_VOCAB + 5, 4);
        let l = lens(vocab, hidden, 3);
        let rows = vec![0.5f32; 2 * hidden];
        let lp = l.log_probs(&rows, &[1, (LENS_VOCAB + 2) as u32]).unwrap();
        assert!(lp[1] < 0.0 && lp[1].is_finite());
        assert!(l.log_probs(&rows, &[1, vocab as u32]).is_err());
        assert!(l.log_probs(&rows[..hidden], &[1, 2]).is_err());
    }
}
