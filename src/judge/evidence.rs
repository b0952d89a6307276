//! Which sentences decided a trained-head verdict, and by how much.
//!
//! The head scores a response from its hidden states pooled (averaged) over its
//! tokens. A linear score of a mean is the mean of the tokens' scores, so every
//! sentence's share of a verdict is known exactly from the states the check already
//! read: no second model pass, no sampling, no surrogate model. The one non-linear
//! score (a small reward network) is split by integrated gradients along the straight
//! line from the baseline, which for a one-layer network has a closed form
//! ([`crate::judge::head::Head::attribute`]): also exact, also complete.
//!
//! Shares are measured from a stated baseline, the average reply the head was trained
//! on, so that a sentence like an average reply weighs nothing and a long neutral
//! sentence does not look like support. What no sentence carries (the baseline's own
//! score and the tokens that open the assistant's turn) is the `rest`; sentences plus
//! rest give the verdict's logit, which a test checks on the real model.
//!
//! Everything here is pure: text in, byte ranges and sums out.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::judge::head::Edit;

/// Sentences longer than this (in words) are split further at clause punctuation,
/// so that one long sentence does not hide which of its parts carried the verdict.
pub const LONG_SENTENCE_WORDS: usize = 30;
/// A clause split off a long sentence has at least this many words.
const MIN_CLAUSE_WORDS: usize = 8;

/// The parts evidence is reported for: sentences of `text` (split as
/// [`crate::text::repeats`] splits them), long ones further split into clauses. Byte
/// ranges that cover `text` exactly, in order; a part keeps its trailing spaces.
pub fn parts(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for sentence in crate::text::repeats::sentences(text) {
        let end = start + sentence.len();
        out.extend(clauses(text, start..end));
        start = end;
    }
    out
}

/// `range` of `text`, split after `,` `;` `:` when it is long, keeping every clause
/// at least [`MIN_CLAUSE_WORDS`] long (a short tail stays with the clause before it).
fn clauses(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let piece = &text[range.clone()];
    if piece.split_whitespace().count() <= LONG_SENTENCE_WORDS {
        return vec![range];
    }
    let mut cuts = Vec::new();
    let mut last = 0;
    for (i, c) in piece.char_indices() {
        if matches!(c, ',' | ';' | ':') && piece[i + 1..].starts_with(' ') {
            let cut = i + 2;
            let before = piece[last..cut].split_whitespace().count();
            let after = piece[cut..].split_whitespace().count();
            if before >= MIN_CLAUSE_WORDS && after >= MIN_CLAUSE_WORDS {
                cuts.push(cut);
                last = cut;
            }
        }
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0;
    for cut in cuts.into_iter().chain([piece.len()]) {
        out.push(range.start + from..range.start + cut);
        from = cut;
    }
    out
}

/// Which part each token belongs to, from the tokens' byte ranges in the string the
/// model read: the response starts at byte `text_start` of it and `parts` are ranges
/// of the response. A token belongs to the part holding its last byte (byte-level
/// tokens carry the space before a word, which belongs to the sentence before); a
/// token before the response (the turn's opening) belongs to none. A token with an
/// empty range (whitespace the tokenizer trimmed) goes with the token before it.
pub fn token_parts(
    offsets: &[(usize, usize)],
    text_start: usize,
    parts: &[Range<usize>],
) -> Vec<Option<usize>> {
    let mut out: Vec<Option<usize>> = Vec::with_capacity(offsets.len());
    for &(s, e) in offsets {
        let part = if e <= s {
            out.last().copied().flatten()
        } else if e - 1 < text_start {
            None
        } else {
            let byte = e - 1 - text_start;
            parts.iter().position(|r| r.contains(&byte))
        };
        out.push(part);
    }
    out
}

/// One response's scores split among its parts (the trained head's dimensions, in
/// its order), as a check read it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResponseEvidence {
    /// The parts' texts; they concatenate to the response as the judge read it
    /// (trimmed, repeated sentences collapsed).
    pub parts: Vec<String>,
    /// `[dimension]`: the response's score on each dimension, as the verdicts use it.
    pub score: Vec<f64>,
    /// `[part][dimension]`: each part's share of each score.
    pub scores: Vec<Vec<f64>>,
    /// `[dimension]`: what no part carries (the baseline's score and the turn's
    /// opening tokens); parts plus rest give the response's score.
    pub rest: Vec<f64>,
}

/// One pair's verdict under one principle split among the parts of both responses:
/// `first` and `second` are each part's signed share of the logit that `first` is
/// better (a sentence of the second response that the principle favours counts
/// negative); `first + second + rest` is that logit.
///
/// A sentence both responses say would mislead with its own shares: they are nearly
/// equal and opposite in the two, cancel in the logit, yet would rank as two
/// reasons. So such a pair of parts gets its net share (the first's part less the
/// second's) half on each side: it weighs only as much as it counts more in one
/// response than in the other (a larger share of a shorter reply). Where the
/// responses are one edit apart (`edit`), every position is treated so, the parts
/// corresponding one to one, and an edited part is named on both sides; elsewhere the
/// parts both say word for word (`shared`, [`crate::judge::edits::shared_parts`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PairEvidence {
    pub first: Vec<f64>,
    pub second: Vec<f64>,
    pub rest: f64,
    /// The pair's edit term, where the responses are one edit apart
    /// ([`crate::judge::edits`]): already inside `first` and `second`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<EditShare>,
    /// Where not one edit apart, the parts both responses say, `(first's part,
    /// second's part)`: each carries half of the two's net share.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<(usize, usize)>,
}

/// An edit term's share of a pair's logit: half to the first response's edited parts
/// and half to the second's (the same parts on both sides), each half split evenly.
/// It is the model's surprise at one version of those parts against the other, so it
/// belongs to them and to no other sentence.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EditShare {
    /// The head's column that carries it.
    pub dimension: usize,
    pub parts: Vec<usize>,
    /// Its share of the logit that the first response is better, per edited part and
    /// side.
    pub per_part: f64,
}

/// [`PairEvidence`] for responses `a` (first) and `b` under principle weights `w`,
/// with the pair's edit term if it has one.
pub fn pair_evidence(
    a: &ResponseEvidence,
    b: &ResponseEvidence,
    w: &[f32],
    edit: Option<&Edit>,
) -> PairEvidence {
    let weigh = |scores: &[f64]| -> f64 { scores.iter().zip(w).map(|(s, w)| s * *w as f64).sum() };
    let mut out = PairEvidence {
        first: a.scores.iter().map(|s| weigh(s)).collect(),
        second: b.scores.iter().map(|s| -weigh(s)).collect(),
        rest: weigh(&a.rest) - weigh(&b.rest),
        edit: None,
        shared: Vec::new(),
    };
    let Some(e) = edit.filter(|e| !e.parts.is_empty() && a.parts.len() == b.parts.len()) else {
        out.shared = crate::judge::edits::shared_parts(&a.parts, &b.parts);
        for &(i, j) in &out.shared {
            let half = (out.first[i] + out.second[j]) / 2.0;
            (out.first[i], out.second[j]) = (half, half);
        }
        return out;
    };
    for (f, s) in out.first.iter_mut().zip(out.second.iter_mut()) {
        let half = (*f + *s) / 2.0;
        (*f, *s) = (half, half);
    }
    let per_part = e.term * w[e.dimension] as f64 / (2 * e.parts.len()) as f64;
    for &p in &e.parts {
        out.first[p] += per_part;
        out.second[p] += per_part;
    }
    out.edit = Some(EditShare {
        dimension: e.dimension,
        parts: e.parts.clone(),
        per_part,
    });
    out
}

/// A part named in an explanation: which response, which part, its share.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weighed {
    /// 0 for the pair's first response, 1 for its second.
    pub side: usize,
    pub part: usize,
    /// The part's share of the logit, signed towards the response it belongs to:
    /// positive when it speaks for its own response.
    pub weight: f64,
}

impl PairEvidence {
    /// Every part of both responses, the one that moved the verdict most first
    /// (largest magnitude; earlier parts first on ties).
    pub fn ranked(&self) -> Vec<Weighed> {
        let mut all: Vec<Weighed> = (self.first.iter().map(|&v| (0, v)))
            .enumerate()
            .chain(self.second.iter().enumerate().map(|(i, &v)| (i, (1, -v))))
            .map(|(part, (side, weight))| Weighed { side, part, weight })
            .collect();
        all.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
        all
    }

    /// The logit these shares add up to.
    pub fn total(&self) -> f64 {
        self.first.iter().sum::<f64>() + self.second.iter().sum::<f64>() + self.rest
    }
}

/// A part that moved a verdict, as an explanation names it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Reason {
    /// The response it belongs to (index in the check).
    pub response: usize,
    pub part: usize,
    /// Its share of the logit, signed towards the chosen response: positive when
    /// it speaks for the verdict.
    pub weight: f64,
    /// The dimension that carries most of it under this principle (index into the
    /// head's dimensions).
    pub dimension: usize,
}

/// Every part of a pair's two responses as a [`Reason`] for choosing `chosen` (one
/// of the pair), the part that moved the verdict most first.
pub fn reasons(
    pair: &PairEvidence,
    responses: (usize, usize),
    evidence: (&ResponseEvidence, &ResponseEvidence),
    w: &[f32],
    chosen: usize,
) -> Vec<Reason> {
    let toward = if chosen == responses.0 { 1.0 } else { -1.0 };
    // the dimension with the largest share of a part's weight, its edit term included;
    // for a part both say, or a pair one edit apart, of the net share (see PairEvidence)
    let partner = |side: usize, part: usize| -> Option<(usize, usize)> {
        if pair.edit.is_some() {
            return Some((part, part));
        }
        pair.shared
            .iter()
            .find(|s| if side == 0 { s.0 == part } else { s.1 == part })
            .copied()
    };
    let dominant = |side: usize, part: usize| -> usize {
        let scores = if side == 0 { evidence.0 } else { evidence.1 };
        let mut shares: Vec<f64> = match partner(side, part) {
            Some((i, j)) => (0..w.len())
                .map(|k| (evidence.0.scores[i][k] - evidence.1.scores[j][k]) * w[k] as f64)
                .collect(),
            None => scores.scores[part]
                .iter()
                .zip(w)
                .map(|(s, wk)| s * *wk as f64)
                .collect(),
        };
        if let Some(e) = pair.edit.as_ref().filter(|e| e.parts.contains(&part)) {
            shares[e.dimension] += 2.0 * e.per_part;
        }
        let mut best = 0;
        for (k, s) in shares.iter().enumerate() {
            if s.abs() > shares[best].abs() {
                best = k;
            }
        }
        best
    };
    let mut out: Vec<Reason> = pair
        .ranked()
        .into_iter()
        .map(|r| {
            let (response, signed) = if r.side == 0 {
                (responses.0, pair.first[r.part])
            } else {
                (responses.1, pair.second[r.part])
            };
            Reason {
                response,
                part: r.part,
                weight: signed * toward,
                dimension: dominant(r.side, r.part),
            }
        })
        .collect();
    out.sort_by(|x, y| y.weight.abs().total_cmp(&x.weight.abs()));
    out
}

/// A part's text as a quotation: one line, at most `max` characters.
pub fn quote(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        format!("“{flat}”")
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("“{}…”", cut.trim_end())
    }
}

/// One paragraph in plain words: which parts most decided that `chosen` is
/// preferred, and the strongest part that weighed against it. `texts[r][p]` is part
/// `p` of response `r`; `labels` names the dimensions.
pub fn summary(
    reasons: &[Reason],
    chosen: usize,
    texts: &[Vec<String>],
    labels: &[String],
) -> String {
    let said = |r: &Reason| {
        let quoted = quote(&texts[r.response][r.part], 90);
        let why = format!(
            "({:+.2}, mostly {})",
            r.weight,
            labels
                .get(r.dimension)
                .map(String::as_str)
                .unwrap_or("its score")
        );
        // a sentence of the other response speaks for the verdict by counting
        // against its own response: say so, or it reads as support for that one
        if r.response == chosen {
            format!("it says {quoted} {why}")
        } else {
            let other = r.response + 1;
            format!("response {other}'s {quoted} counts against response {other} {why}")
        }
    };
    let strongest = reasons.first().map(|r| r.weight.abs()).unwrap_or(0.0);
    let mut out = format!("Response {} is preferred", chosen + 1);
    let support: Vec<&Reason> = reasons.iter().filter(|r| r.weight > 0.0).take(2).collect();
    match support.as_slice() {
        [] => out.push_str(", though no sentence speaks for it"),
        [one] => out.push_str(&format!(" mostly because {}", said(one))),
        [one, two, ..] => {
            out.push_str(&format!(" mostly because {}, and {}", said(one), said(two)))
        }
    }
    if let Some(against) = reasons.iter().find(|r| r.weight < 0.0) {
        if strongest > 0.0 && against.weight.abs() >= 0.25 * strongest {
            out.push_str(&format!(
                "; {} in response {} weighed against it ({:+.2})",
                quote(&texts[against.response][against.part], 90),
                against.response + 1,
                against.weight
            ));
        }
    }
    out.push('.');
    out
}

/// Below this total weight (the sum of |w| over the head's dimensions) a principle
/// moves no verdict far from even: a typical gap between two replies' scores is of
/// order one, so the logit stays a fraction of one.
pub const WEAK_PRINCIPLE: f64 = 0.3;

/// What a principle reads, in words: each dimension's share of its total weight
/// (|w| over the sum of |w|), largest first, with the direction of the ones it counts
/// against. The verdict is the weighted sum of the dimensions' score gaps, so these
/// shares are exactly how much of "better" under the principle each score makes up.
pub fn reads(w: &[f32], labels: &[String]) -> String {
    let total: f64 = w.iter().map(|x| (*x as f64).abs()).sum();
    let name = |k: usize| {
        labels
            .get(k)
            .cloned()
            .unwrap_or_else(|| format!("score {}", k + 1))
    };
    if total < WEAK_PRINCIPLE {
        return format!(
            "This principle speaks to hardly any of the judge's trained scores \
             (total weight {total:.2}): its verdicts stay near even."
        );
    }
    let mut order: Vec<usize> = (0..w.len()).collect();
    order.sort_by(|&a, &b| w[b].abs().total_cmp(&w[a].abs()));
    let share = |k: usize| (w[k] as f64).abs() / total;
    let shown: Vec<usize> = order.into_iter().filter(|&k| share(k) >= 0.05).collect();
    let part = |k: usize| {
        let pct = (100.0 * share(k)).round();
        if w[k] >= 0.0 {
            format!("{pct:.0} % on {}", name(k))
        } else {
            format!("{pct:.0} % against {} (the higher scorer loses)", name(k))
        }
    };
    let listed: Vec<String> = shown.iter().map(|&k| part(k)).collect();
    let rest = 1.0 - shown.iter().map(|&k| share(k)).sum::<f64>();
    let mut out = format!("Judged {}", listed.join(", "));
    if rest >= 0.005 {
        out.push_str(&format!(", {:.0} % on the rest", 100.0 * rest));
    }
    out.push_str(&format!(" (total weight {total:.2})."));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_text_and_split_only_long_sentences() {
        let short = "Mix flour and milk. Fry it!\nServe warm.";
        let p = parts(short);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.iter().map(|r| &short[r.clone()]).collect::<String>(),
            short
        );
        let long = "You can reach the station by taking the number seven bus from the stop \
                    outside the library, which runs every ten minutes during the day, or you \
                    can walk along the river path for about twenty minutes. Done.";
        let p = parts(long);
        assert!(p.len() >= 3, "{p:?}");
        assert_eq!(p.iter().map(|r| &long[r.clone()]).collect::<String>(), long);
        assert!(p.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(parts(""), Vec::<Range<usize>>::new());
    }

    #[test]
    fn tokens_go_to_the_part_holding_their_last_byte() {
        // "\nA: " then "Hi. Bye." (parts "Hi. " and "Bye.")
        let text = "Hi. Bye.";
        let p = parts(text);
        let offsets = [(0, 1), (1, 3), (4, 6), (6, 7), (7, 11), (11, 11), (11, 12)];
        assert_eq!(
            token_parts(&offsets, 4, &p),
            vec![None, None, Some(0), Some(0), Some(1), Some(1), Some(1)]
        );
    }

    #[test]
    fn an_edit_term_goes_to_the_edited_parts_of_both_responses_and_names_its_column() {
        let ev = |s: [f64; 2], result: &str| ResponseEvidence {
            parts: vec!["Same. ".into(), result.into()],
            score: vec![s[0] + s[1], 0.0],
            scores: vec![vec![s[0], 0.0], vec![s[1], 0.0]],
            rest: vec![0.0, 0.0],
        };
        let (a, b) = (ev([0.5, 0.25], "It is 56."), ev([0.5, 0.5], "It is 54."));
        let w = [1.0f32, 2.0];
        let edit = Edit {
            dimension: 1,
            parts: vec![1],
            term: 0.75,
        };
        let plain = pair_evidence(&a, &b, &w, None);
        let e = pair_evidence(&a, &b, &w, Some(&edit));
        // the term times its weight, all of it on the edited part, half on each side
        assert!((e.total() - plain.total() - 1.5).abs() < 1e-12);
        // the sentence both say weighs nothing either way; with the edit each
        // position's net is split in two
        assert_eq!(plain.shared, vec![(0, 0)]);
        assert!(e.shared.is_empty());
        assert_eq!((e.first[0], e.second[0]), (0.0, 0.0));
        assert_eq!((plain.first[0], plain.second[0]), (0.0, 0.0));
        let net = plain.first[1] + plain.second[1];
        assert!((e.first[1] - (net / 2.0 + 0.75)).abs() < 1e-12);
        assert_eq!(e.first[1], e.second[1]);
        // the edited part's reason is the edit's column, the other part's its score's
        let why = reasons(&e, (0, 1), (&a, &b), &w, 0);
        let of = |side: usize, part: usize| {
            why.iter()
                .find(|r| r.response == side && r.part == part)
                .unwrap()
                .dimension
        };
        assert_eq!((of(0, 1), of(1, 1), of(0, 0)), (1, 1, 0));
    }

    #[test]
    fn pair_shares_add_up_to_the_logit_and_rank_by_size() {
        let a = ResponseEvidence {
            parts: vec!["x".into(), "y".into()],
            score: vec![0.75, 2.0],
            scores: vec![vec![1.0, 0.0], vec![-0.5, 2.0]],
            rest: vec![0.25, 0.0],
        };
        let b = ResponseEvidence {
            parts: vec!["z".into()],
            score: vec![3.0, -0.5],
            scores: vec![vec![3.0, -1.0]],
            rest: vec![0.0, 0.5],
        };
        let w = [2.0f32, 0.5];
        let e = pair_evidence(&a, &b, &w, None);
        let score = |r: &ResponseEvidence| -> f64 {
            let s: Vec<f64> = (0..2)
                .map(|k| r.scores.iter().map(|p| p[k]).sum::<f64>() + r.rest[k])
                .collect();
            s[0] * 2.0 + s[1] * 0.5
        };
        assert!((e.total() - (score(&a) - score(&b))).abs() < 1e-12);
        let r = e.ranked();
        assert_eq!((r[0].side, r[0].part), (1, 0));
        assert_eq!(r[0].weight, 5.5);
        // response 1 (index 1, the pair's second) chosen: its sentence speaks for it
        let why = reasons(&e, (0, 1), (&a, &b), &w, 1);
        assert_eq!((why[0].response, why[0].part, why[0].weight), (1, 0, 5.5));
        assert_eq!(why[0].dimension, 0);
        // response 0 chosen instead: the same sentence weighs against the verdict
        let against = reasons(&e, (0, 1), (&a, &b), &w, 0);
        assert_eq!(against[0].weight, -5.5);
        let texts = vec![a.parts.clone(), b.parts.clone()];
        let labels = vec!["harmlessness".to_string(), "honesty".to_string()];
        let s = summary(&why, 1, &texts, &labels);
        assert!(
            s.starts_with(
                "Response 2 is preferred mostly because it says “z” (+5.50, mostly harmlessness)"
            ),
            "{s}"
        );
        // chosen 1 (index 0) over a sentence of response 2 that counts against it
        let other = [Reason {
            response: 1,
            part: 0,
            weight: 0.5,
            dimension: 1,
        }];
        assert_eq!(
            summary(&other, 0, &texts, &labels),
            "Response 1 is preferred mostly because response 2's “z” counts against \
             response 2 (+0.50, mostly honesty)."
        );
        let s = summary(&against, 0, &texts, &labels);
        assert!(
            s.starts_with("Response 1 is preferred mostly because it says “x” (+2.00"),
            "{s}"
        );
        assert!(
            s.ends_with("; “z” in response 2 weighed against it (-5.50)."),
            "{s}"
        );
    }

    #[test]
    fn a_sentence_both_say_carries_half_its_net_share_on_each_side() {
        let a = ResponseEvidence {
            parts: vec!["Sure!".into(), "Mix flour and eggs.".into()],
            score: vec![1.25, 0.0],
            scores: vec![vec![0.5, 0.0], vec![0.75, 0.0]],
            rest: vec![0.0, 0.0],
        };
        let b = ResponseEvidence {
            parts: vec!["I can't help.".into(), "sure".into()],
            score: vec![-0.7, 0.2],
            scores: vec![vec![-1.0, 0.0], vec![0.3, 0.2]],
            rest: vec![0.0, 0.0],
        };
        let w = [2.0f32, 1.0];
        let plain = pair_evidence(&a, &b, &w, None);
        assert_eq!(plain.shared, vec![(0, 1)]);
        // net 2 × 0.5 − (2 × 0.3 + 0.2) = 0.2, half on each side; the rest untouched
        assert!((plain.first[0] - 0.1).abs() < 1e-12 && (plain.second[1] - 0.1).abs() < 1e-12);
        assert_eq!((plain.first[1], plain.second[0]), (1.5, 2.0));
        let score = |r: &ResponseEvidence| r.score[0] * 2.0 + r.score[1];
        assert!((plain.total() - (score(&a) - score(&b))).abs() < 1e-12);
        // its reason is the dimension of the net share: the second's honesty outweighs
        let why = reasons(&plain, (0, 1), (&a, &b), &w, 0);
        let sure = why.iter().find(|r| (r.response, r.part) == (0, 0)).unwrap();
        assert_eq!(sure.dimension, 0);
        let b_honest = ResponseEvidence {
            scores: vec![vec![-1.0, 0.0], vec![0.5, 0.5]],
            ..b.clone()
        };
        let e = pair_evidence(&a, &b_honest, &w, None);
        let why = reasons(&e, (0, 1), (&a, &b_honest), &w, 0);
        let sure = why.iter().find(|r| (r.response, r.part) == (1, 1)).unwrap();
        assert_eq!(sure.dimension, 1);
        // serialized only where there is one
        let json = serde_json::to_string(&pair_evidence(&b, &b, &w, None)).unwrap();
        assert!(json.contains("\"shared\":[[0,0],[1,1]]"), "{json}");
        let none = ResponseEvidence {
            parts: vec!["Other.".into()],
            ..a.clone()
        };
        let json = serde_json::to_string(&pair_evidence(&none, &b, &w, None)).unwrap();
        assert!(!json.contains("shared"), "{json}");
    }

    #[test]
    fn quotes_are_one_line_and_short() {
        assert_eq!(quote("a\n  b ", 10), "“a b”");
        assert_eq!(quote("abcdefghijkl", 5), "“abcd…”");
    }
    #[test]
    fn reads_names_shares_directions_and_weak_principles() {
        let labels: Vec<String> = ["harmlessness", "AI safety", "helpfulness"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            reads(&[1.4, 0.4, -0.2], &labels),
            "Judged 70 % on harmlessness, 20 % on AI safety, \
             10 % against helpfulness (the higher scorer loses) (total weight 2.00)."
        );
        assert_eq!(
            reads(&[1.0, 0.02, 0.0], &labels),
            "Judged 98 % on harmlessness, 2 % on the rest (total weight 1.02)."
        );
        assert!(reads(&[0.1, -0.05, 0.02], &labels).contains("stay near even"));
    }
}
