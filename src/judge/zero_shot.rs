//! The Constitutional AI multiple-choice prompt scored from the answer letters'
//! probabilities, every pair in both orders. Work is shared: the conversation is
//! prefilled once, each ordering's options continue it (principle-last layout), and
//! principles' suffixes run in batches off those caches.

use std::collections::HashMap;

use super::{report_verdict, CheckInput, Judge, JudgeError, OnVerdict};
use crate::engine::KvCache;
use crate::judge::verdict::{self, PairJudgement, PrincipleVerdict};
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

    /// The zero-shot check's first step: the conversation is prefilled once; in the
    /// principle-last layout each ordering's options continue that cache, so no token
    /// is processed twice. Returns the caches and the tokens run.
    pub(super) fn zero_shot_prefixes(
        &self,
        template: Template,
        input: &CheckInput,
    ) -> Result<(Prefixes, usize), JudgeError> {
        let orders = ordered_pairs(input.responses.len());
        let mut tokens = 0usize;
        let head = self.tokenizer.encode(&template.head(input.transcript))?;
        tokens += head.len();
        let (_, head_cache) = self.model.forward(&self.model.empty_cache(), &head)?;
        let mut caches: HashMap<(usize, usize), KvCache> = HashMap::new();
        match template.layout {
            Layout::Paper => {
                caches.insert((0, 0), head_cache);
            }
            Layout::PrincipleLast => {
                for &order in &orders {
                    let ids = self
                        .tokenizer
                        .encode(&template.shared_options(options(input, order)))?;
                    tokens += ids.len();
                    caches.insert(order, self.model.forward(&head_cache, &ids)?.1);
                }
            }
        }
        Ok((
            Prefixes {
                template,
                orders,
                caches,
                next: 0,
            },
            tokens,
        ))
    }

    /// One batch of principles off the prefix caches; returns whether every
    /// principle is done.
    pub(super) fn zero_shot_batch(
        &self,
        state: &mut Prefixes,
        input: &CheckInput,
        verdicts: &mut Vec<PrincipleVerdict>,
        tokens: &mut usize,
        on_verdict: &mut OnVerdict,
    ) -> Result<bool, JudgeError> {
        let n = input.responses.len();
        let (template, orders) = (state.template, &state.orders);
        let suffix_ids = |principle: &Principle, order| {
            self.tokenizer
                .encode(&template.suffix(&principle.text, options(input, order)))
        };
        let total = input.principles.len();
        // The first batch is small so the first verdict shows quickly; later ones
        // fill a token budget, since one pass over many suffixes streams the
        // weights once instead of once per principle.
        let budget = if state.next == 0 {
            self.first_batch_tokens
        } else {
            self.batch_tokens
        };
        let mut batch: Vec<(usize, Vec<Vec<u32>>)> = Vec::new();
        let mut batch_tokens = 0;
        while state.next < total {
            let per_order = orders
                .iter()
                .map(|&o| suffix_ids(&input.principles[state.next], o))
                .collect::<Result<Vec<_>, _>>()?;
            let t: usize = per_order.iter().map(Vec::len).sum();
            if !batch.is_empty() && batch_tokens + t > budget {
                break;
            }
            batch_tokens += t;
            batch.push((state.next, per_order));
            state.next += 1;
        }
        *tokens += batch_tokens;
        // p[principle in batch][order] = P(option A)
        let mut p = vec![vec![0.0; orders.len()]; batch.len()];
        let groups: Vec<((usize, usize), Vec<usize>)> = match template.layout {
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
            let logits = self
                .model
                .forward_branches(&state.caches[&key], &branches)?;
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
            report_verdict(verdicts, principle, n, pairs, (k + 1, total), on_verdict)?;
        }
        Ok(state.next >= total)
    }
}

/// The options of one ordering: `a` shown as (A), `b` as (B).
fn options<'a>(input: &CheckInput<'a>, (a, b): (usize, usize)) -> Options<'a> {
    Options {
        first: &input.responses[a],
        second: &input.responses[b],
    }
}

/// A zero-shot check's shared prefixes: principle-last has one cache per ordering,
/// the paper's layout one in all; and the next principle to judge.
pub(super) struct Prefixes {
    template: Template,
    orders: Vec<(usize, usize)>,
    caches: HashMap<(usize, usize), KvCache>,
    next: usize,
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
