//! A check's result: every principle's verdict, each group's and the overall summary,
//! and the ranking, aggregated from the verdicts alone (so a partial run aggregates
//! the same way as a finished one).

use serde::{Deserialize, Serialize};

use super::Scoring;
use crate::judge::evidence::ResponseEvidence;
use crate::judge::head::Dimension;
use crate::judge::verdict::{self, PrincipleVerdict, Summary};
use crate::text::prompt::{Defence, Layout};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckResult {
    pub scoring: Scoring,
    /// The prompt layout (meaningful for zero-shot scoring only).
    pub layout: Layout,
    /// How the zero-shot prompt quoted the conversation and the responses; `none` for
    /// the trained head, which reads them as written.
    #[serde(default = "no_defence")]
    pub defence: Defence,
    pub responses: usize,
    pub verdicts: Vec<PrincipleVerdict>,
    pub groups: Vec<Summary>,
    pub overall: Option<Summary>,
    /// Best first (Bradley–Terry over every principle's pairs).
    pub ranking: Vec<usize>,
    /// Tokens the model processed, prefixes and suffixes together.
    pub tokens_processed: usize,
    /// Per response, sentences not read because the same sentence came more than
    /// twice ([`crate::text::repeats`]); all zero for ordinary text.
    #[serde(default)]
    pub repeats_ignored: Vec<usize>,
    /// With the trained head: what each entry of a verdict's `weights` and a pair's
    /// `by_dimension` stands for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    /// With the trained head: each response's parts (as read) and their shares of
    /// every dimension's score; a pair's `evidence` weighs them by the principle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<ResponseEvidence>,
}

impl CheckResult {
    pub fn new(
        scoring: Scoring,
        layout: Layout,
        responses: usize,
        verdicts: Vec<PrincipleVerdict>,
        tokens: usize,
    ) -> Self {
        let mut group_ids: Vec<&str> = Vec::new();
        for v in &verdicts {
            if !group_ids.contains(&v.group.as_str()) {
                group_ids.push(&v.group);
            }
        }
        let groups = group_ids
            .iter()
            .filter_map(|g| {
                let members: Vec<&PrincipleVerdict> =
                    verdicts.iter().filter(|v| v.group == *g).collect();
                verdict::summarize(Some(g), &members)
            })
            .collect();
        let all: Vec<&PrincipleVerdict> = verdicts.iter().collect();
        CheckResult {
            scoring,
            layout,
            defence: Defence::None,
            responses,
            overall: verdict::summarize(None, &all),
            ranking: verdict::ranking(responses, &verdicts),
            groups,
            verdicts,
            tokens_processed: tokens,
            repeats_ignored: vec![0; responses],
            dimensions: Vec::new(),
            evidence: Vec::new(),
        }
    }
}

fn no_defence() -> Defence {
    Defence::None
}
