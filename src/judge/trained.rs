//! [`Judge::check`] with the trained head: one pass reads the responses after the
//! conversation ([`super::readings`]), principle vectors come precomputed (or from
//! one more pass for custom principles), and every verdict is a few dot products,
//! each with the evidence that adds up to it.

use serde::{Deserialize, Serialize};

use super::{
    ordered_pairs, report, CheckInput, CheckResult, Judge, JudgeError, OnVerdict, Scoring,
};
use crate::judge::evidence::{self, ResponseEvidence};
use crate::judge::head::{Edit, Head};
use crate::judge::verdict::{lead, PairJudgement, PrincipleVerdict};
use crate::text::constitution::Principle;
use crate::text::prompt;

/// [`evidence::summary`] of a verdict: its chosen response against the runner-up.
fn explain(
    v: &PrincipleVerdict,
    evidence: &[ResponseEvidence],
    w: &[f32],
    labels: &[String],
) -> Option<String> {
    let pair = v.deciding_pair()?;
    let reasons = evidence::reasons(
        pair.evidence.as_ref()?,
        (pair.first, pair.second),
        (&evidence[pair.first], &evidence[pair.second]),
        w,
        v.chosen,
    );
    let texts: Vec<Vec<String>> = evidence.iter().map(|e| e.parts.clone()).collect();
    Some(evidence::summary(&reasons, v.chosen, &texts, labels))
}

/// What one principle text is judged on ([`Judge::principle_reads`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrincipleReads {
    /// In words: each dimension's share of the principle's weight.
    pub reads: String,
    /// The weight of each of the head's dimensions.
    pub weights: Vec<f64>,
}

impl Judge {
    /// [`Judge::check`] with the trained head: one pass reads the responses after the
    /// conversation, principle vectors come precomputed (or from one more pass for
    /// custom principles), and every verdict is a few dot products.
    pub(super) fn check_with_head(
        &self,
        head: &Head,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let n = input.responses.len();
        let exported = self.model.hidden_layers();
        let features = |pooled: &[Vec<f32>]| {
            head.features(&exported, pooled)
                .expect("the head is loaded only when its layers are exported")
        };
        let (reading, mut tokens) = self.read_responses(input.transcript, input.responses)?;
        let projection = head.projection_for(&features(&reading.conversation));
        let pooled: Vec<Vec<f32>> = reading.responses.iter().map(|l| features(l)).collect();
        let projections: Vec<Vec<f32>> = pooled
            .iter()
            .zip(&reading.likelihood)
            .map(|(x, lp)| head.response_projection(&projection, x, *lp))
            .collect();
        let evidence: Vec<ResponseEvidence> = pooled
            .iter()
            .zip(&reading.parts)
            .zip(&reading.likelihood)
            .zip(&projections)
            .map(|(((x, parts), lp), projected)| {
                let likelihood = lp.map(|m| (m, parts.likelihood.as_slice()));
                let a = head.attribute(&projection, x, &parts.features, &parts.shares, likelihood);
                ResponseEvidence {
                    parts: parts.texts.clone(),
                    score: projected.iter().map(|&v| v as f64).collect(),
                    scores: a.parts,
                    rest: a.rest,
                }
            })
            .collect();
        // pairs one edit apart: the same for every principle
        let edits: Vec<((usize, usize), Edit)> = ordered_pairs(n)
            .into_iter()
            .filter(|(a, b)| a < b)
            .filter_map(|(a, b)| {
                let (pa, pb) = (&reading.parts[a], &reading.parts[b]);
                let e = head.edit(
                    &pa.texts,
                    &pb.texts,
                    &pa.likelihood_means,
                    &pb.likelihood_means,
                )?;
                Some(((a, b), e))
            })
            .collect();
        let edit_of = |a: usize, b: usize| {
            edits
                .iter()
                .find(|(pair, _)| *pair == (a, b))
                .map(|(_, e)| e)
        };
        let (vectors, principle_tokens) =
            self.principle_vectors(head, &features, input.principles)?;
        tokens += principle_tokens;
        let total = input.principles.len();
        let labels: Vec<String> = head.dimensions.iter().map(|d| d.label.clone()).collect();
        let mut verdicts = Vec::with_capacity(total);
        for (k, (principle, w)) in input.principles.iter().zip(&vectors).enumerate() {
            let pairs = ordered_pairs(n)
                .into_iter()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| {
                    // antisymmetric: the same probability whichever is shown first
                    let edit = edit_of(a, b);
                    let by_dimension =
                        Head::pair_contributions(&projections[a], &projections[b], w, edit);
                    let p = Head::probability_of(&by_dimension);
                    PairJudgement {
                        first: a,
                        second: b,
                        p_first_shown_first: p,
                        p_first_shown_second: p,
                        by_dimension,
                        evidence: Some(evidence::pair_evidence(
                            &evidence[a],
                            &evidence[b],
                            w,
                            edit,
                        )),
                    }
                })
                .collect();
            let mut v = PrincipleVerdict::new(&principle.id, &principle.group, n, pairs);
            v.weights = w.iter().map(|&x| x as f64).collect();
            v.too_close = lead(&v.preference, v.chosen) < head.too_close;
            v.because = explain(&v, &evidence, w, &labels);
            v.reads = Some(evidence::reads(w, &labels));
            report(&mut verdicts, v, (k + 1, total), on_verdict)?;
        }
        let mut result = CheckResult::new(Scoring::TrainedHead, self.layout, n, verdicts, tokens);
        result.dimensions = head.dimensions.clone();
        result.evidence = evidence;
        for s in result.groups.iter_mut().chain(result.overall.iter_mut()) {
            s.too_close = lead(&s.preference, s.chosen) < head.too_close;
        }
        Ok(result)
    }

    /// Each principle's head vector: precomputed for the default constitution,
    /// otherwise read by the model once and remembered. Returns the tokens run.
    fn principle_vectors(
        &self,
        head: &Head,
        features: &dyn Fn(&[Vec<f32>]) -> Vec<f32>,
        principles: &[Principle],
    ) -> Result<(Vec<Vec<f32>>, usize), JudgeError> {
        let mut computed = self
            .principle_vectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut missing: Vec<&str> = principles
            .iter()
            .map(|p| p.text.as_str())
            .filter(|t| head.known_principle(t).is_none() && !computed.contains_key(*t))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut tokens = 0;
        if !missing.is_empty() {
            tokens += self.tokenizer.encode(prompt::PRINCIPLE_INTRO)?.len();
            for t in &missing {
                tokens += self.tokenizer.encode(&prompt::principle_text(t))?.len();
            }
            for (t, layers) in missing.iter().zip(self.principle_features(&missing)?) {
                computed.insert(t.to_string(), head.principle_vector(&features(&layers)));
            }
        }
        let vectors = principles
            .iter()
            .map(|p| {
                head.known_principle(&p.text)
                    .map(<[f32]>::to_vec)
                    .unwrap_or_else(|| computed[&p.text].clone())
            })
            .collect();
        Ok((vectors, tokens))
    }

    /// What the trained head takes each principle text to mean ([`evidence::reads`])
    /// and its weights over the head's dimensions, before any check: what an editor
    /// shows while a principle is written. The vectors are remembered as a check
    /// remembers them, so a check under the same text reads it no second time.
    pub fn principle_reads(&self, texts: &[&str]) -> Result<Vec<PrincipleReads>, JudgeError> {
        let head = self
            .head
            .as_ref()
            .ok_or_else(|| JudgeError::NoHead(self.name.clone()))?;
        let exported = self.model.hidden_layers();
        let features = |pooled: &[Vec<f32>]| {
            head.features(&exported, pooled)
                .expect("the head is loaded only when its layers are exported")
        };
        let principles: Vec<Principle> = texts
            .iter()
            .map(|t| Principle {
                id: String::new(),
                group: String::new(),
                text: t.to_string(),
                articles: None,
                note: None,
            })
            .collect();
        let (vectors, _) = self.principle_vectors(head, &features, &principles)?;
        let labels: Vec<String> = head.dimensions.iter().map(|d| d.label.clone()).collect();
        Ok(vectors
            .into_iter()
            .map(|w| PrincipleReads {
                reads: evidence::reads(&w, &labels),
                weights: w.iter().map(|&x| x as f64).collect(),
            })
            .collect())
    }
}
