//! `bench`: times the standard check on a fixture (median of several runs, each
//! reading the text anew) and prints resident memory after every run, with the
//! zero-shot prompt or the cache-free prompt timed in the same run as the baseline.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use principle_checker::engine::Architecture;
use principle_checker::judge::{CheckInput, Judge, Scoring};
use principle_checker::text::constitution::Constitution;
use principle_checker::text::conversation::Conversation;
use principle_checker::text::named::Named;

use crate::args::Cli;
use crate::load;

pub fn run(cli: &Cli, c: &Constitution, fixture: &Path, runs: usize) -> anyhow::Result<()> {
    let conv = Conversation::parse(&load::read_text(&fixture.join("conversation.txt"))?)?;
    let responses = fixture_responses(fixture)?;
    let transcript = conv.transcript();
    let principles = c.principles.clone();
    let mut judge = load::judge(cli)?;
    let after_load = memory_mb();
    let t = Instant::now();
    let total_tokens: usize = std::iter::once(&transcript)
        .chain(&responses)
        .map(|s| judge.tokenizer().encode(s).map(|t| t.len()).unwrap_or(0))
        .sum();
    let tok_secs = t.elapsed().as_secs_f64();
    let input = CheckInput {
        transcript: &transcript,
        responses: &responses,
        principles: &principles,
    };
    let timed = |judge: &Judge| -> anyhow::Result<(f64, usize)> {
        // the same text every run: each check must read it anew
        judge.forget_readings();
        let t = Instant::now();
        let r = judge.check(&input, &mut |_, _, _| true)?;
        Ok((t.elapsed().as_secs_f64(), r.tokens_processed))
    };
    let mut times = Vec::new();
    let mut processed = 0;
    let mut resident = Vec::new();
    for _ in 0..runs.max(1) {
        let (secs, tokens) = timed(&judge)?;
        times.push(secs);
        processed = tokens;
        resident.extend(memory_mb().map(|m| m.0));
    }
    if let (Some((load_rss, _)), Some((_, peak))) = (after_load, memory_mb()) {
        let each: Vec<String> = resident.iter().map(|m| format!("{m:.0}")).collect();
        println!(
            "memory: resident {load_rss:.0} MB after load; after each check {} MB; peak {peak:.0} MB",
            each.join(", ")
        );
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let params = judge.model().architecture();
    let flops_per_token = 2.0 * approx_params(params) as f64;
    let n = responses.len();
    println!(
        "fixture: {total_tokens} tokens (conversation + {n} responses), tokenized in {:.1} ms",
        tok_secs * 1e3
    );
    if judge.scoring() == Scoring::TrainedHead {
        // the head's passes run the layers up to its last one (Model::prefill)
        let layers = judge
            .model()
            .hidden_layers()
            .last()
            .map_or(params.layers, |l| l + 1);
        let flops_per_token = flops_per_token * layers as f64 / params.layers as f64;
        println!(
            "trained head, {} principles: median {median:.2}s over {} run(s), {processed} tokens processed, {:.1} GFLOP/s",
            principles.len(),
            times.len(),
            flops_per_token * processed as f64 / median / 1e9
        );
        if n > 2 {
            // zero-shot scores every ordered pair separately: minutes for six responses
            println!("zero-shot comparison: run with the two-response fixture");
            return Ok(());
        }
        judge.set_scoring(Scoring::ZeroShot)?;
        let (zs, zs_tokens) = timed(&judge)?;
        println!(
            "zero-shot prompt ({} layout), same run: {zs:.2}s, {zs_tokens} tokens; the trained head is {:.1}x faster",
            judge.layout.name(),
            zs / median
        );
        return Ok(());
    }
    // the same work without prefix reuse: every principle and order is a full prompt
    let t = Instant::now();
    for p in principles.iter().take(4) {
        judge.score_uncached(&transcript, &p.text, &responses[0], &responses[1])?;
        judge.score_uncached(&transcript, &p.text, &responses[1], &responses[0])?;
    }
    let uncached_per_principle = t.elapsed().as_secs_f64() / 4.0;
    println!(
        "scoring {}, layout {}, {} principles, both orders",
        judge.scoring().name(),
        judge.layout.name(),
        principles.len()
    );
    println!(
        "standard check: median {:.2}s over {} run(s) ({:.1} ms/principle), {} tokens processed, {:.1} GFLOP/s",
        median,
        times.len(),
        median * 1e3 / principles.len() as f64,
        processed,
        flops_per_token * processed as f64 / median / 1e9
    );
    println!(
        "without prefix reuse: {:.1} ms/principle (estimated full check {:.2}s); KV-reuse speedup {:.2}x",
        uncached_per_principle * 1e3,
        uncached_per_principle * principles.len() as f64,
        uncached_per_principle * principles.len() as f64 / median
    );
    Ok(())
}

/// The fixture's response-1.txt, response-2.txt, … in order.
fn fixture_responses(fixture: &Path) -> anyhow::Result<Vec<String>> {
    let mut responses = Vec::new();
    while let Ok(text) =
        std::fs::read_to_string(fixture.join(format!("response-{}.txt", responses.len() + 1)))
    {
        responses.push(text);
    }
    if responses.len() < 2 {
        bail!(
            "{}: a fixture needs response-1.txt and response-2.txt",
            fixture.display()
        );
    }
    Ok(responses)
}

/// (resident, peak resident) in MB, from /proc/self/status; None off Linux.
fn memory_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Non-embedding parameters: the work per token (the embedding is a lookup).
fn approx_params(a: &Architecture) -> usize {
    let attn = a.hidden * a.heads * a.head_dim * 2 + a.hidden * a.kv_heads * a.head_dim * 2;
    let ffn_dim = if a.ffn > 0 { a.ffn } else { a.hidden * 8 / 3 };
    a.layers * (attn + 3 * a.hidden * ffn_dim)
}
