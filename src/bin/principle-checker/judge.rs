//! `judge`: one conversation, its responses, the selected principles; a table (or the
//! whole result as JSON), the summaries, and with `--explain` the sentences that
//! decided each verdict.

use std::path::{Path, PathBuf};
use std::time::Instant;

use principle_checker::judge::evidence;
use principle_checker::judge::head::Dimension;
use principle_checker::judge::verdict::PairJudgement;
use principle_checker::judge::{CheckInput, CheckResult, Scoring};
use principle_checker::text::constitution::Constitution;
use principle_checker::text::conversation::{self, Conversation};

use crate::args::Cli;
use crate::load;

pub struct Options<'a> {
    pub conversation: &'a Path,
    pub responses: &'a [PathBuf],
    pub principles: &'a str,
    /// Also write a chain of thought per principle, of at most this many tokens.
    pub reason: Option<usize>,
    pub json: bool,
    pub explain: bool,
}

pub fn run(cli: &Cli, constitution: &Constitution, o: Options) -> anyhow::Result<()> {
    let conv = Conversation::parse(&load::read_text(o.conversation)?)?;
    let texts = o
        .responses
        .iter()
        .map(|p| load::read_text(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let texts = conversation::validate_responses(&texts)?;
    let principles = load::select(constitution, o.principles)?;
    let judge = load::judge(cli)?;
    let transcript = conv.transcript();
    let pb = load::bar(principles.len(), "principles");
    let t = Instant::now();
    let result = judge.check(
        &CheckInput {
            transcript: &transcript,
            responses: &texts,
            principles: &principles,
        },
        &mut |_, done, _| {
            pb.set_position(done as u64);
            true
        },
    )?;
    pb.finish_and_clear();
    let secs = t.elapsed().as_secs_f64();
    let mut reasonings = Vec::new();
    if let Some(tokens) = o.reason {
        for p in &principles {
            eprintln!("\n[{}] {}", p.id, p.text);
            let r = judge.reason(
                &transcript,
                &p.text,
                &texts[0],
                &texts[1],
                tokens,
                &mut |s| {
                    eprint!("{s}");
                    true
                },
            )?;
            eprintln!(
                "\n→ P(response 1 better) = {:.2} (clamped; raw {:.2})",
                r.p_first, r.p_first_raw
            );
            reasonings.push(serde_json::json!({"principle": p.id, "reasoning": r}));
        }
    }
    if o.json {
        let out = serde_json::json!({"model": judge.name, "seconds": secs, "result": result, "reasoning": reasonings});
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print_table(&result);
    if o.explain {
        print_evidence(&result);
    }
    if result.verdicts.iter().any(|v| v.too_close) {
        println!("~ too close to call: inside the band where the head's held-out verdicts were little better than a coin flip");
    }
    if texts.len() > 2 {
        let r: Vec<String> = result.ranking.iter().map(|i| (i + 1).to_string()).collect();
        println!("ranking: {}", r.join(" > "));
    }
    let orderings = if result.scoring == Scoring::ZeroShot {
        format!(" × {} orderings", texts.len() * (texts.len() - 1))
    } else {
        String::new()
    };
    println!(
        "{} principles{orderings} in {:.2}s ({} tokens, {:.0} tokens/s)",
        result.verdicts.len(),
        secs,
        result.tokens_processed,
        result.tokens_processed as f64 / secs
    );
    Ok(())
}

/// A row per principle, then the summaries. The trained head reads each response on
/// its own, so order cannot matter: the order column is shown only for the
/// zero-shot prompt, and the head's rows say which dimensions moved the verdict.
fn print_table(result: &CheckResult) {
    let zero_shot = result.scoring == Scoring::ZeroShot;
    let why = !result.dimensions.is_empty();
    println!(
        "{:<16} {:>9}  chosen  {}",
        "principle",
        "P(resp 1)",
        if zero_shot {
            "orders"
        } else {
            "why (each dimension's share of the logit, responses 1 vs 2)"
        }
    );
    for v in &result.verdicts {
        let last = match v.pairs.first() {
            _ if zero_shot => if v.position_sensitive {
                "disagree"
            } else {
                "agree"
            }
            .to_string(),
            Some(p) if why => leading_dimensions(p, &result.dimensions),
            _ => String::new(),
        };
        println!(
            "{:<16} {:>9.3}  {:>6}  {last}",
            v.principle_id,
            v.preference[0],
            format!("{}{}", v.chosen + 1, if v.too_close { "~" } else { "" }),
        );
    }
    for s in result.groups.iter().chain(result.overall.iter()) {
        println!(
            "{:<16} chosen {}{} (P = {}) {} principle(s) dissent{}",
            s.group.as_deref().unwrap_or("OVERALL"),
            s.chosen + 1,
            if s.too_close { "~" } else { "" },
            s.preference
                .iter()
                .map(|p| format!("{p:.3}"))
                .collect::<Vec<_>>()
                .join(" / "),
            s.dissenting.len(),
            if zero_shot {
                format!(", {} position-sensitive", s.position_sensitive)
            } else {
                String::new()
            }
        );
    }
}

/// `--explain`: per principle, the plain-words summary and the parts that moved the
/// verdict most, each signed towards the chosen response.
fn print_evidence(result: &CheckResult) {
    if result.evidence.is_empty() {
        println!(
            "\n(--explain: the zero-shot prompt gives no evidence; it needs the trained head)"
        );
        return;
    }
    for v in &result.verdicts {
        let Some(p) = v.deciding_pair() else { continue };
        let Some(ev) = &p.evidence else { continue };
        let w: Vec<f32> = v.weights.iter().map(|&x| x as f32).collect();
        println!(
            "\n{}: {}",
            v.principle_id,
            v.because.as_deref().unwrap_or("")
        );
        if let Some(reads) = &v.reads {
            println!("  {reads}");
        }
        let reasons = evidence::reasons(
            ev,
            (p.first, p.second),
            (&result.evidence[p.first], &result.evidence[p.second]),
            &w,
            v.chosen,
        );
        for r in reasons.iter().take(3) {
            println!(
                "  {:+7.3}  response {}  {}",
                r.weight,
                r.response + 1,
                evidence::quote(&result.evidence[r.response].parts[r.part], 70)
            );
        }
        let toward = if v.chosen == p.first { 1.0 } else { -1.0 };
        println!(
            "  {:+7.3}  no sentence (the average reply's score, the turn's opening)",
            ev.rest * toward
        );
        if ev.edit.is_some() {
            println!(
                "  (one edit apart: each sentence carries half of its position's net share, the likelier edit included)"
            );
        } else if !ev.shared.is_empty() {
            println!(
                "  (a sentence both responses say carries half of its net share on each side: only what it counts for more in one of them)"
            );
        }
    }
    println!("\n(each number is a sentence's exact share of the logit, signed towards the chosen response; they and the rest add up to it)");
}

/// The two dimensions that moved a pair's verdict most, signed towards response 1.
fn leading_dimensions(p: &PairJudgement, dims: &[Dimension]) -> String {
    let mut order: Vec<usize> = (0..p.by_dimension.len().min(dims.len())).collect();
    order.sort_by(|&a, &b| p.by_dimension[b].abs().total_cmp(&p.by_dimension[a].abs()));
    order
        .iter()
        .take(2)
        .map(|&k| format!("{} {:+.2}", dims[k].name, p.by_dimension[k]))
        .collect::<Vec<_>>()
        .join(", ")
}
