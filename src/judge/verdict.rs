//! Probability maths and aggregation: pure functions from answer logits to verdicts.
//!
//! Kept apart from the model so that every number the page shows can be checked by a
//! unit test in milliseconds.

use crate::judge::evidence::PairEvidence;
use serde::{Deserialize, Serialize};

/// P(first letter) from the two answer logits: the paper's "normalized probability of
/// the answer tokens" (softmax restricted to the options).
pub fn two_way(logit_first: f32, logit_second: f32) -> f64 {
    let d = logit_second as f64 - logit_first as f64;
    1.0 / (1.0 + d.exp())
}

/// The paper clamps chain-of-thought probabilities into [0.4, 0.6]: after a chain of
/// thought the model is nearly always sure, and mostly wrongly so.
pub fn clamp_after_reasoning(p: f64) -> f64 {
    p.clamp(0.4, 0.6)
}

/// One pair of responses judged under one principle, in both orders.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PairJudgement {
    /// Response indices; `first` < `second`.
    pub first: usize,
    pub second: usize,
    /// P(`first` is better) when it is shown as option (A).
    pub p_first_shown_first: f64,
    /// P(`first` is better) when it is shown as option (B).
    pub p_first_shown_second: f64,
    /// With the trained head: each dimension's share of the logit that `first` is
    /// better (the head's dimension order); they sum to that logit, so they are
    /// how the verdict was reached, not a story told after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_dimension: Vec<f64>,
    /// With the trained head: the same logit split among the sentences of both
    /// responses ([`crate::judge::evidence`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<PairEvidence>,
}

impl PairJudgement {
    /// The verdict: both orders averaged, which cancels a constant position bias.
    pub fn p_first(&self) -> f64 {
        (self.p_first_shown_first + self.p_first_shown_second) / 2.0
    }

    /// Whether both orders pick the same response. When they don't, the choice was
    /// decided by which response came first, and the page says so.
    pub fn orders_agree(&self) -> bool {
        (self.p_first_shown_first > 0.5) == (self.p_first_shown_second > 0.5)
    }

    /// How much the judge prefers option (A) whatever it holds: 0 is unbiased,
    /// +0.5 always (A), −0.5 always (B).
    pub fn position_bias(&self) -> f64 {
        (self.p_first_shown_first + (1.0 - self.p_first_shown_second)) / 2.0 - 0.5
    }
}

/// The judge's answer for one principle.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrincipleVerdict {
    pub principle_id: String,
    pub group: String,
    pub pairs: Vec<PairJudgement>,
    /// Per response, the share of preference (sums to 1): for two responses the
    /// pair's probability, for more a Bradley–Terry fit of all pairs.
    pub preference: Vec<f64>,
    pub chosen: usize,
    /// True when any pair's orders disagree.
    pub position_sensitive: bool,
    pub position_bias: f64,
    /// With the trained head: how much this principle weighs each dimension (the
    /// head's dimension order), so a reader sees what "most helpful" is judged on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<f64>,
    /// The chosen response's preference is inside the band where the judge's held-out
    /// verdicts were little better than a coin flip: say "too close to call".
    #[serde(default)]
    pub too_close: bool,
    /// With the trained head: in plain words, which sentences most decided the
    /// choice against the runner-up ([`crate::judge::evidence::summary`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub because: Option<String>,
    /// With the trained head: what the principle is judged on, in words
    /// ([`crate::judge::evidence::reads`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<String>,
}

impl PrincipleVerdict {
    /// The response with the largest preference after the chosen one.
    pub fn runner_up(&self) -> Option<usize> {
        (0..self.preference.len())
            .filter(|&i| i != self.chosen)
            .reduce(|best, i| {
                if self.preference[i] > self.preference[best] {
                    i
                } else {
                    best
                }
            })
    }

    /// The pair that decided the choice: the chosen response against the runner-up
    /// (what a verdict's `because` and `judge --explain` speak of).
    pub fn deciding_pair(&self) -> Option<&PairJudgement> {
        let other = self.runner_up()?;
        let key = (self.chosen.min(other), self.chosen.max(other));
        self.pairs.iter().find(|p| (p.first, p.second) == key)
    }

    pub fn new(principle_id: &str, group: &str, n: usize, pairs: Vec<PairJudgement>) -> Self {
        let preference = preference_from_pairs(n, &pairs);
        let position_bias = if pairs.is_empty() {
            0.0
        } else {
            pairs.iter().map(|p| p.position_bias()).sum::<f64>() / pairs.len() as f64
        };
        PrincipleVerdict {
            principle_id: principle_id.to_string(),
            group: group.to_string(),
            chosen: argmax(&preference),
            position_sensitive: pairs.iter().any(|p| !p.orders_agree()),
            position_bias,
            pairs,
            preference,
            weights: Vec::new(),
            too_close: false,
            because: None,
            reads: None,
        }
    }
}

/// Index of the largest value; the earliest on ties, so results are deterministic.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Shares of preference among `n` responses from pairwise probabilities.
pub fn preference_from_pairs(n: usize, pairs: &[PairJudgement]) -> Vec<f64> {
    let probs: Vec<(usize, usize, f64)> = pairs
        .iter()
        .map(|p| (p.first, p.second, p.p_first()))
        .collect();
    bradley_terry(n, &probs)
}

/// Bradley–Terry strengths (normalised to sum 1) from soft pairwise outcomes
/// `(i, j, P(i beats j))`, by Hunter's MM iteration. With two responses it returns
/// exactly `[p, 1 − p]`. A small prior win against every other response keeps
/// strengths finite when a response loses everything.
pub fn bradley_terry(n: usize, outcomes: &[(usize, usize, f64)]) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    if n == 2 && outcomes.len() == 1 {
        let (i, _, p) = outcomes[0];
        return if i == 0 {
            vec![p, 1.0 - p]
        } else {
            vec![1.0 - p, p]
        };
    }
    const PRIOR: f64 = 1e-3;
    let mut wins = vec![0.0; n];
    let mut games = vec![vec![0.0; n]; n];
    for &(i, j, p) in outcomes {
        if i >= n || j >= n || i == j {
            continue;
        }
        wins[i] += p;
        wins[j] += 1.0 - p;
        games[i][j] += 1.0;
        games[j][i] += 1.0;
    }
    for (i, row) in games.iter_mut().enumerate() {
        wins[i] += PRIOR * (n - 1) as f64;
        for (j, g) in row.iter_mut().enumerate() {
            if i != j {
                *g += 2.0 * PRIOR;
            }
        }
    }
    let mut s = vec![1.0 / n as f64; n];
    for _ in 0..500 {
        let mut next = vec![0.0; n];
        for i in 0..n {
            let denom: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| games[i][j] / (s[i] + s[j]))
                .sum();
            next[i] = if denom > 0.0 { wins[i] / denom } else { s[i] };
        }
        let total: f64 = next.iter().sum();
        next.iter_mut().for_each(|x| *x /= total);
        let delta = next
            .iter()
            .zip(&s)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        s = next;
        if delta < 1e-12 {
            break;
        }
    }
    s
}

/// How far the chosen response leads: its preference against the strongest other
/// one's, as a two-way probability `p_c / (p_c + p_r)`. With two responses this is
/// the chosen one's preference itself; with more it is what the too-close band
/// (calibrated on pairs) can be compared with, where a share of six never reaches it.
pub fn lead(preference: &[f64], chosen: usize) -> f64 {
    let other = preference
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != chosen)
        .map(|(_, &p)| p)
        .fold(f64::NEG_INFINITY, f64::max);
    let p = preference[chosen];
    if other.is_finite() && p + other > 0.0 {
        p / (p + other)
    } else {
        1.0
    }
}

/// A group's or the whole constitution's summary: the mean of its principles'
/// preferences (every principle one vote, as the paper averages them).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub group: Option<String>,
    pub principles: usize,
    pub preference: Vec<f64>,
    pub chosen: usize,
    /// Principles whose choice differs from this summary's choice.
    pub dissenting: Vec<String>,
    pub position_sensitive: usize,
    /// The mean preference of the chosen response is inside the too-close band.
    #[serde(default)]
    pub too_close: bool,
}

pub fn summarize(group: Option<&str>, verdicts: &[&PrincipleVerdict]) -> Option<Summary> {
    let first = verdicts.first()?;
    let n = first.preference.len();
    let mut preference = vec![0.0; n];
    for v in verdicts {
        for (acc, p) in preference.iter_mut().zip(&v.preference) {
            *acc += p / verdicts.len() as f64;
        }
    }
    let chosen = argmax(&preference);
    Some(Summary {
        group: group.map(String::from),
        principles: verdicts.len(),
        dissenting: verdicts
            .iter()
            .filter(|v| v.chosen != chosen)
            .map(|v| v.principle_id.clone())
            .collect(),
        position_sensitive: verdicts.iter().filter(|v| v.position_sensitive).count(),
        preference,
        chosen,
        too_close: false,
    })
}

/// Responses ordered best first by a Bradley–Terry fit over every principle's pairs.
pub fn ranking(n: usize, verdicts: &[PrincipleVerdict]) -> Vec<usize> {
    let outcomes: Vec<(usize, usize, f64)> = verdicts
        .iter()
        .flat_map(|v| v.pairs.iter().map(|p| (p.first, p.second, p.p_first())))
        .collect();
    let s = bradley_terry(n, &outcomes);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(first: usize, second: usize, a: f64, b: f64) -> PairJudgement {
        PairJudgement {
            first,
            second,
            p_first_shown_first: a,
            by_dimension: Vec::new(),
            evidence: None,
            p_first_shown_second: b,
        }
    }

    #[test]
    fn lead_is_the_two_way_share_against_the_runner_up() {
        assert!((lead(&[0.7, 0.3], 0) - 0.7).abs() < 1e-12);
        assert!((lead(&[0.7, 0.3], 1) - 0.3).abs() < 1e-12);
        // six responses: 0.31 against 0.24 is a 56 % lead, not a 31 % one
        let six = [0.24, 0.05, 0.2, 0.03, 0.31, 0.17];
        assert!((lead(&six, 4) - 0.31 / 0.55).abs() < 1e-12);
    }

    #[test]
    fn two_way_is_a_softmax() {
        assert!((two_way(0.0, 0.0) - 0.5).abs() < 1e-12);
        let p = two_way(2.0, 1.0);
        assert!((p - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-12);
        assert!((two_way(1.0, 2.0) + p - 1.0).abs() < 1e-12);
        assert!(two_way(1000.0, -1000.0) <= 1.0 && two_way(-1000.0, 1000.0) >= 0.0);
    }

    #[test]
    fn clamp_keeps_reasoned_answers_modest() {
        assert_eq!(clamp_after_reasoning(0.99), 0.6);
        assert_eq!(clamp_after_reasoning(0.01), 0.4);
        assert_eq!(clamp_after_reasoning(0.55), 0.55);
    }

    #[test]
    fn pair_orders_and_bias() {
        let agree = pair(0, 1, 0.8, 0.6);
        assert!((agree.p_first() - 0.7).abs() < 1e-12);
        assert!(agree.orders_agree());
        assert!((agree.position_bias() - 0.1).abs() < 1e-12);
        // always answers (A): first wins when first, loses when second
        let biased = pair(0, 1, 0.9, 0.1);
        assert!(!biased.orders_agree());
        assert!((biased.position_bias() - 0.4).abs() < 1e-12);
        assert!((biased.p_first() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bradley_terry_two_is_exact() {
        assert_eq!(bradley_terry(2, &[(0, 1, 0.7)]), vec![0.7, 1.0 - 0.7]);
        assert_eq!(bradley_terry(2, &[(1, 0, 0.7)]), vec![1.0 - 0.7, 0.7]);
    }

    #[test]
    fn bradley_terry_recovers_an_order() {
        // strengths 4:2:1 → P(i beats j) = s_i/(s_i+s_j)
        let s = [4.0, 2.0, 1.0];
        let mut outcomes = vec![];
        for i in 0..3 {
            for j in (i + 1)..3 {
                outcomes.push((i, j, s[i] / (s[i] + s[j])));
            }
        }
        let fit = bradley_terry(3, &outcomes);
        let sum: f64 = fit.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
        for (f, t) in fit.iter().zip(s.iter().map(|x| x / 7.0)) {
            assert!((f - t).abs() < 2e-3, "{fit:?}");
        }
    }

    #[test]
    fn bradley_terry_survives_a_sweep() {
        let fit = bradley_terry(3, &[(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)]);
        assert!(fit.iter().all(|x| x.is_finite() && *x > 0.0));
        assert!(fit[0] > fit[1] && fit[1] > fit[2]);
    }

    #[test]
    fn verdicts_and_summaries() {
        let v1 = PrincipleVerdict::new("p1", "g", 2, vec![pair(0, 1, 0.8, 0.6)]);
        assert_eq!(v1.chosen, 0);
        assert!(!v1.position_sensitive);
        let v2 = PrincipleVerdict::new("p2", "g", 2, vec![pair(0, 1, 0.3, 0.1)]);
        assert_eq!(v2.chosen, 1);
        let s = summarize(Some("g"), &[&v1, &v2]).unwrap();
        assert!((s.preference[0] - 0.45).abs() < 1e-12);
        assert_eq!(s.chosen, 1);
        assert_eq!(s.dissenting, vec!["p1".to_string()]);
        assert!(summarize(None, &[]).is_none());
    }

    #[test]
    fn ranking_orders_best_first() {
        let v = PrincipleVerdict::new(
            "p",
            "g",
            3,
            vec![
                pair(0, 1, 0.2, 0.2),
                pair(0, 2, 0.6, 0.6),
                pair(1, 2, 0.9, 0.9),
            ],
        );
        assert_eq!(ranking(3, &[v]), vec![1, 0, 2]);
    }

    #[test]
    fn argmax_prefers_the_earliest_tie() {
        assert_eq!(argmax(&[0.5, 0.5]), 0);
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), 1);
    }
}
