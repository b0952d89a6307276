//! `eval`: accuracy on a file of comparisons, overall and per principle, in both
//! orders and each order alone; `--json` writes the report the injection suite and
//! the experiments read.

use std::path::Path;
use std::time::Instant;

use principle_checker::judge::verdict::PairJudgement;
use principle_checker::judge::{CheckInput, Judge, JudgeError, Scoring};
use principle_checker::text::constitution::Constitution;
use principle_checker::text::named::Named;
use principle_checker::text::prompt::{Defence, Layout};
use serde::Serialize;

use crate::args::Cli;
use crate::{comparisons, load};

/// Counts over the pairs judged under one principle (or all).
#[derive(Default, Clone)]
struct Tally {
    pairs: usize,
    /// Chosen preferred by the order-averaged probability.
    correct_both: usize,
    /// Chosen preferred with chosen shown as (A) only (the "as given" order).
    correct_as_given: usize,
    /// Chosen preferred when shown as (B) only.
    correct_swapped: usize,
    orders_agree: usize,
    bias_sum: f64,
}

/// A tally as rates.
#[derive(Serialize)]
struct Rates {
    pairs: usize,
    accuracy_both_orders: f64,
    accuracy_as_given: f64,
    accuracy_swapped: f64,
    order_agreement: f64,
    position_bias: f64,
}

impl Tally {
    fn add(&mut self, p: &PairJudgement) {
        self.pairs += 1;
        self.correct_both += (p.p_first() > 0.5) as usize;
        self.correct_as_given += (p.p_first_shown_first > 0.5) as usize;
        self.correct_swapped += (p.p_first_shown_second > 0.5) as usize;
        self.orders_agree += p.orders_agree() as usize;
        self.bias_sum += p.position_bias();
    }

    fn rates(&self) -> Rates {
        let n = self.pairs.max(1) as f64;
        Rates {
            pairs: self.pairs,
            accuracy_both_orders: self.correct_both as f64 / n,
            accuracy_as_given: self.correct_as_given as f64 / n,
            accuracy_swapped: self.correct_swapped as f64 / n,
            order_agreement: self.orders_agree as f64 / n,
            position_bias: self.bias_sum / n,
        }
    }
}

#[derive(Serialize)]
struct PrincipleRates {
    id: String,
    result: Rates,
}

#[derive(Serialize)]
struct ComparisonScore {
    line: usize,
    p_chosen: f64,
}

/// What `eval --json` prints.
#[derive(Serialize)]
struct Report {
    model: String,
    scoring: Scoring,
    layout: Layout,
    /// What the prompt quoted text through; the trained head reads it as written.
    defence: Defence,
    file: String,
    comparisons: usize,
    skipped_unparseable: usize,
    skipped_too_long: usize,
    overall: Rates,
    per_principle: Vec<PrincipleRates>,
    seconds: f64,
    tokens_per_second: f64,
    comparisons_per_second: f64,
    /// Per comparison: its line (1-based) and P(chosen better) averaged over the principles.
    per_comparison: Vec<ComparisonScore>,
}

pub fn run(
    cli: &Cli,
    c: &Constitution,
    file: &Path,
    selector: &str,
    limit: Option<usize>,
    json: bool,
) -> anyhow::Result<()> {
    let principles = load::select(c, selector)?;
    let mut lines = comparisons::read(file, |_| true)?;
    lines.truncate(limit.unwrap_or(usize::MAX));
    let skipped = lines.iter().filter(|c| c.split.is_err()).count();
    let items: Vec<_> = lines
        .into_iter()
        .filter_map(|c| Some((c.line, c.split.ok()?)))
        .collect();
    let judge = load::judge(cli)?;
    let pb = load::bar(items.len(), "comparisons");
    let t = Instant::now();
    let mut overall = Tally::default();
    let mut per_principle: Vec<Tally> = vec![Tally::default(); principles.len()];
    let mut tokens = 0;
    let mut too_long = 0;
    let mut per_comparison = Vec::with_capacity(items.len());
    for (line, (conv, chosen, rejected)) in &items {
        pb.inc(1);
        let responses = vec![chosen.clone(), rejected.clone()];
        let transcript = conv.transcript();
        let r = match judge.check(
            &CheckInput {
                transcript: &transcript,
                responses: &responses,
                principles: &principles,
            },
            &mut |_, _, _| true,
        ) {
            Ok(r) => r,
            Err(JudgeError::TooLong { .. }) => {
                too_long += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        tokens += r.tokens_processed;
        let mean =
            r.verdicts.iter().map(|v| v.pairs[0].p_first()).sum::<f64>() / r.verdicts.len() as f64;
        per_comparison.push(ComparisonScore {
            line: line + 1,
            p_chosen: mean,
        });
        for (k, v) in r.verdicts.iter().enumerate() {
            overall.add(&v.pairs[0]);
            per_principle[k].add(&v.pairs[0]);
        }
    }
    pb.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    let judged = items.len() - too_long;
    let report = Report {
        model: judge.name.clone(),
        scoring: judge.scoring(),
        layout: judge.layout,
        defence: used_defence(&judge),
        file: file.display().to_string(),
        comparisons: judged,
        skipped_unparseable: skipped,
        skipped_too_long: too_long,
        overall: overall.rates(),
        per_principle: principles
            .iter()
            .zip(&per_principle)
            .map(|(p, t)| PrincipleRates {
                id: p.id.clone(),
                result: t.rates(),
            })
            .collect(),
        seconds: secs,
        tokens_per_second: tokens as f64 / secs,
        comparisons_per_second: judged as f64 / secs,
        per_comparison,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let o = &report.overall;
    println!(
        "{judged} comparisons ({skipped} unparseable, {too_long} too long skipped), scoring {}, layout {}, prompt defence {}, {} principle(s)",
        report.scoring.name(),
        report.layout.name(),
        report.defence.name(),
        principles.len()
    );
    println!(
        "accuracy: both orders {:.3}  as given {:.3}  swapped {:.3}  order agreement {:.3}  position bias {:+.3}",
        o.accuracy_both_orders, o.accuracy_as_given, o.accuracy_swapped, o.order_agreement, o.position_bias
    );
    if principles.len() > 1 {
        for p in &report.per_principle {
            println!("  {:<16} {:.3}", p.id, p.result.accuracy_both_orders);
        }
    }
    println!("{secs:.1}s, {:.0} tokens/s", tokens as f64 / secs);
    Ok(())
}

/// How the model read the quoted text: through the defence only with the zero-shot
/// prompt.
fn used_defence(judge: &Judge) -> Defence {
    match judge.scoring() {
        Scoring::ZeroShot => judge.defence,
        Scoring::TrainedHead => Defence::None,
    }
}
