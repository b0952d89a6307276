//! The Constitutional AI multiple-choice prompt scored from the answer letters'
//! probabilities, every pair in both orders. Work is shared: the conversation is
//! prefilled once, each ordering's options continue it (principle-last layout), and
//! principles' suffixes run in batches off those caches.

use std::collections::HashMap;

use super::{report_verdict, CheckInput, CheckResult, Judge, JudgeError, OnVerdict, Scoring};
use crate::engine::KvCache;
use crate::judge::verdict::{self, PairJudgement};
use crate::text::constitution::Principle;
use crate::text::prompt::{Layout, Options, Template};

/// Every ordered pair of distinct responses, (shown as A, shown as B), each pair
/// followed by its swap: the orders a zero-shot check scores.
pub fn ordered_pairs(n: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            v.push((i, j));
            v.push((j, i));
        }
    }
    v
}

impl Judge {
    /// P(option A) for a prompt whose last token precedes the answer letter.
    pub(super) fn answer_probability(
        &self,
        cache: &KvCache,
        suffix: &[u32],
    ) -> Result<(f64, KvCache), JudgeError> {
        let (logits, cache) = self.model.forward(cache, suffix)?;
        let p = verdict::two_way(
            logits[self.letters[0] as usize],
            logits[self.letters[1] as usize],
        );
        Ok((p, cache))
    }

    /// Scores one prompt in a single forward pass, without prefix reuse: the
    /// reference that the cached path must match.
    pub fn score_uncached(
        &self,
        transcript: &str,
        principle: &str,
        first: &str,
        second: &str,
    ) -> Result<f64, JudgeError> {
        let o = Options { first, second };
        let ids = self.prompt_ids(transcript, &self.template().suffix(principle, o), o)?;
        Ok(self.answer_probability(&self.model.empty_cache(), &ids)?.0)
    }

    /// The tokens of a whole prompt: the shared prefix, then `tail`, tokenized apart
    /// exactly as the cached path does.
    pub(super) fn prompt_ids(
        &self,
        transcript: &str,
        tail: &str,
        o: Options,
    ) -> Result<Vec<u32>, JudgeError> {
        let template = self.template();
        let mut ids = self.tokenizer.encode(&template.head(transcript))?;
        ids.extend(self.tokenizer.encode(&template.shared_options(o))?);
        ids.extend(self.tokenizer.encode(tail)?);
        Ok(ids)
    }

    /// [`Judge::check`] with the zero-shot prompt, once the lengths are checked.
    pub(super) fn check_zero_shot(
        &self,
        template: Template,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let n = input.responses.len();
        let orders = ordered_pairs(n);
        let mut tokens = 0usize;
        // prefix caches: principle-last has one per ordering, paper one in all
        let opts = |(a, b): (usize, usize)| Options {
            first: &input.responses[a],
            second: &input.responses[b],
        };
        // The conversation is prefilled once; in the principle-last layout each
        // ordering's options continue that cache, so no token is processed twice.
        let head = self.tokenizer.encode(&template.head(input.transcript))?;
        tokens += head.len();
        let (_, head_cache) = self.model.forward(&self.model.empty_cache(), &head)?;
        let mut caches: HashMap<(usize, usize), KvCache> = HashMap::new();
        match self.layout {
            Layout::Paper => {
                caches.insert((0, 0), head_cache);
            }
            Layout::PrincipleLast => {
                for &order in &orders {
                    let ids = self
                        .tokenizer
                        .encode(&template.shared_options(opts(order)))?;
                    tokens += ids.len();
                    caches.insert(order, self.model.forward(&head_cache, &ids)?.1);
                }
            }
        }
        let suffix_ids = |principle: &Principle, order| {
            self.tokenizer
                .encode(&template.suffix(&principle.text, opts(order)))
        };
        let mut verdicts = Vec::with_capacity(input.principles.len());
        let total = input.principles.len();
        let mut next = 0;
        while next < total {
            // The first batch is small so the first verdict shows quickly; later ones
            // fill a token budget, since one pass over many suffixes streams the
            // weights once instead of once per principle.
            let budget = if next == 0 {
                self.first_batch_tokens
            } else {
                self.batch_tokens
            };
            let mut batch: Vec<(usize, Vec<Vec<u32>>)> = Vec::new();
            let mut batch_tokens = 0;
            while next < total {
                let per_order = orders
                    .iter()
                    .map(|&o| suffix_ids(&input.principles[next], o))
                    .collect::<Result<Vec<_>, _>>()?;
                let t: usize = per_order.iter().map(Vec::len).sum();
                if !batch.is_empty() && batch_tokens + t > budget {
                    break;
                }
                batch_tokens += t;
                batch.push((next, per_order));
                next += 1;
            }
            tokens += batch_tokens;
            // p[principle in batch][order] = P(option A)
            let mut p = vec![vec![0.0; orders.len()]; batch.len()];
            let groups: Vec<((usize, usize), Vec<usize>)> = match self.layout {
                Layout::Paper => vec![((0, 0), (0..orders.len()).collect())],
                Layout::PrincipleLast => orders
                    .iter()
                    .enumerate()
                    .map(|(k, &o)| (o, vec![k]))
                    .collect(),
            };
            for (key, order_idx) in groups {
                let branches: Vec<Vec<u32>> = batch
                    .iter()
                    .flat_map(|(_, per_order)| order_idx.iter().map(|&k| per_order[k].clone()))
                    .collect();
                let logits = self.model.forward_branches(&caches[&key], &branches)?;
                for (b, l) in logits.iter().enumerate() {
                    let (row, k) = (b / order_idx.len(), order_idx[b % order_idx.len()]);
                    p[row][k] =
                        verdict::two_way(l[self.letters[0] as usize], l[self.letters[1] as usize]);
                }
            }
            for (row, (k, _)) in batch.iter().enumerate() {
                let shown_first = |o: (usize, usize)| {
                    p[row][orders.iter().position(|&x| x == o).expect("order listed")]
                };
                let pairs = orders
                    .iter()
                    .filter(|(a, b)| a < b)
                    .map(|&(a, b)| PairJudgement {
                        first: a,
                        second: b,
                        p_first_shown_first: shown_first((a, b)),
                        p_first_shown_second: 1.0 - shown_first((b, a)),
                        by_dimension: Vec::new(),
                        evidence: None,
                    })
                    .collect();
                let principle = &input.principles[*k];
                report_verdict(
                    &mut verdicts,
                    principle,
                    n,
                    pairs,
                    (k + 1, total),
                    on_verdict,
                )?;
            }
        }
        let mut result = CheckResult::new(Scoring::ZeroShot, self.layout, n, verdicts, tokens);
        result.defence = self.defence;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_pairs_cover_both_orders() {
        assert_eq!(ordered_pairs(2), vec![(0, 1), (1, 0)]);
        assert_eq!(ordered_pairs(3).len(), 6);
    }
}
