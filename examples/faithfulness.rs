//! How faithful is the trained head's evidence? Deletes sentences and reads again.
//!
//! The evidence (`src/judge/evidence.rs`) says how much each sentence of a response
//! carried a verdict, computed from the states of one reading. Whether that is how
//! the verdict *depends* on the text is an empirical question: deleting a sentence
//! also changes how the model reads the ones after it and how many tokens the mean
//! is taken over. So, for every comparison and every principle whose verdict is not
//! too close to call:
//!
//! - deletion: delete the preferred response's most-supporting sentence, read the
//!   shortened response with the model, and see whether the preference for it over
//!   the runner-up falls; the same for a random sentence of the same response (seeded)
//!   as the baseline the evidence has to beat;
//! - rank correlation: for every response with three parts or more, delete each part
//!   in turn and compare (Spearman) the part's attributed share with the measured
//!   drop of the response's score under the principle.
//!
//! Run (the figures are in BENCHMARKS.md, "Evidence"):
//!
//!     cargo run --release --example faithfulness -- \
//!         tests/judge-sanity/cases.jsonl ../shared/data/hh-rlhf-harmless-dev.jsonl:150
//!
//! Each argument is a JSONL file of comparisons, `{"chosen", "rejected"}` transcripts
//! (HH-RLHF) or `{"conversation", "better", "worse"}` (the obvious-case suite), with
//! an optional `:N` for its first N lines; or a fixture folder (conversation.txt,
//! response-*.txt). `PRINCIPLE_CHECKER_MODEL` names the model folder as in the tests.

use std::path::{Path, PathBuf};
use std::time::Instant;

use principle_checker::engine::ModelFiles;
use principle_checker::judge::{CheckInput, CheckResult, Judge};
use principle_checker::text::constitution::Constitution;
use principle_checker::text::conversation::{split_comparison, Conversation};

/// One comparison: the transcript and its responses.
struct Item {
    transcript: String,
    responses: Vec<String>,
}

fn load(arg: &str) -> Result<Vec<Item>, String> {
    let path = PathBuf::from(arg);
    if path.is_dir() {
        return fixture(&path).map(|i| vec![i]);
    }
    let (file, limit) = match arg.rsplit_once(':') {
        Some((f, n)) if n.parse::<usize>().is_ok() => (f, n.parse().unwrap()),
        _ => (arg, usize::MAX),
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut items = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        if items.len() >= limit {
            break;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
        let s = |k: &str| v[k].as_str().map(str::to_string);
        let item = if let (Some(c), Some(r)) = (s("chosen"), s("rejected")) {
            // lines the judge refuses (diverging transcripts, too long) are skipped
            // as the CLI's eval skips them
            let Ok((conv, a, b)) = split_comparison(&c, &r) else {
                continue;
            };
            Item {
                transcript: conv.transcript(),
                responses: vec![a, b],
            }
        } else if let (Some(c), Some(a), Some(b)) = (s("conversation"), s("better"), s("worse")) {
            let conv = Conversation::parse(&c).map_err(|e| format!("{file}:{}: {e}", i + 1))?;
            Item {
                transcript: conv.transcript(),
                responses: vec![a, b],
            }
        } else {
            return Err(format!("{file}:{}: not a comparison", i + 1));
        };
        items.push(item);
    }
    Ok(items)
}

fn fixture(dir: &Path) -> Result<Item, String> {
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
    let conv =
        Conversation::parse(&read(dir.join("conversation.txt"))?).map_err(|e| e.to_string())?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("response-"))
        })
        .collect();
    names.sort();
    Ok(Item {
        transcript: conv.transcript(),
        responses: names.into_iter().map(read).collect::<Result<_, _>>()?,
    })
}

/// Ranks with ties averaged (1-based).
fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            r[k] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    r
}

fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// A response's score on every dimension, as the verdicts use it.
fn scores(r: &CheckResult, response: usize) -> Vec<f64> {
    r.evidence[response].score.clone()
}

fn dot(a: &[f64], w: &[f64]) -> f64 {
    a.iter().zip(w).map(|(x, y)| x * y).sum()
}

/// xorshift: a seeded choice of the random sentence, the same on every run.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[derive(Default)]
struct Tally {
    cases: usize,
    top_lowers: usize,
    random_lowers: usize,
    top_drop: f64,
    random_drop: f64,
    rhos: Vec<f64>,
    points: (Vec<f64>, Vec<f64>),
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        return Err("usage: faithfulness FILE.jsonl[:N] | FIXTURE_DIR ...".into());
    }
    let model = std::env::var_os("PRINCIPLE_CHECKER_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("models/smollm2-135m-instruct"));
    let files = ModelFiles::from_dir(&model).map_err(|e| e.to_string())?;
    let judge = Judge::new(files).map_err(|e| e.to_string())?;
    let principles = Constitution::default_2023().principles;
    let started = Instant::now();
    let mut rng = Rng(0x5eed_f00d_cafe_d00d);
    for arg in &args {
        let items = load(arg)?;
        let mut t = Tally::default();
        let mut reads = 0usize;
        for item in &items {
            let check = |responses: &[String]| {
                judge.check(
                    &CheckInput {
                        transcript: &item.transcript,
                        responses,
                        principles: &principles,
                    },
                    &mut |_, _, _| true,
                )
            };
            let Ok(base) = check(&item.responses) else {
                continue;
            };
            // the texts as read (trimmed, repeats collapsed) are what parts delete from
            let texts: Vec<Vec<String>> = base.evidence.iter().map(|e| e.parts.clone()).collect();
            // each response's scores with each of its parts deleted (read on demand)
            let mut deleted: Vec<Vec<Option<Vec<f64>>>> =
                texts.iter().map(|p| vec![None; p.len()]).collect();
            let mut without = |r: usize, k: usize| -> Option<Vec<f64>> {
                if texts[r].len() < 2 {
                    return None;
                }
                if deleted[r][k].is_none() {
                    let mut responses: Vec<String> = texts.iter().map(|p| p.concat()).collect();
                    responses[r] = texts[r]
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| i != k)
                        .map(|(_, p)| p.as_str())
                        .collect();
                    reads += 1;
                    deleted[r][k] = check(&responses).ok().map(|c| scores(&c, r));
                }
                deleted[r][k].clone()
            };
            let full: Vec<Vec<f64>> = (0..texts.len()).map(|r| scores(&base, r)).collect();
            for v in &base.verdicts {
                let Some(other) = v.runner_up() else { continue };
                if v.too_close {
                    continue;
                }
                let c = v.chosen;
                let w = &v.weights;
                let share = |r: usize, k: usize| dot(&base.evidence[r].scores[k], w);
                // deletion: the chosen response's most-supporting part, and a random one
                let n = texts[c].len();
                if n >= 2 {
                    let top = (0..n)
                        .max_by(|&a, &b| share(c, a).total_cmp(&share(c, b)))
                        .unwrap_or(0);
                    let random = rng.below(n);
                    let margin = |s: &[f64]| dot(s, w) - dot(&full[other], w);
                    let before = margin(&full[c]);
                    if let (Some(s_top), Some(s_rand)) = (without(c, top), without(c, random)) {
                        t.cases += 1;
                        let (d_top, d_rand) = (before - margin(&s_top), before - margin(&s_rand));
                        t.top_lowers += usize::from(d_top > 0.0);
                        t.random_lowers += usize::from(d_rand > 0.0);
                        t.top_drop += d_top;
                        t.random_drop += d_rand;
                    }
                }
                // rank correlation over the parts of both responses of the verdict
                for r in [c, other] {
                    let n = texts[r].len();
                    if n < 3 {
                        continue;
                    }
                    let mut att = Vec::with_capacity(n);
                    let mut measured = Vec::with_capacity(n);
                    for k in 0..n {
                        if let Some(s) = without(r, k) {
                            att.push(share(r, k));
                            measured.push(dot(&full[r], w) - dot(&s, w));
                        }
                    }
                    if let Some(rho) = spearman(&att, &measured) {
                        t.rhos.push(rho);
                    }
                    t.points.0.extend(&att);
                    t.points.1.extend(&measured);
                }
            }
        }
        let pct = |x: usize| 100.0 * x as f64 / t.cases.max(1) as f64;
        let mut rhos = t.rhos.clone();
        rhos.sort_by(f64::total_cmp);
        let median = rhos.get(rhos.len() / 2).copied().unwrap_or(f64::NAN);
        let mean = rhos.iter().sum::<f64>() / rhos.len().max(1) as f64;
        let pooled = spearman(&t.points.0, &t.points.1).unwrap_or(f64::NAN);
        println!(
            "{arg}: {} comparisons, {reads} shortened responses read",
            items.len()
        );
        println!(
            "  deleting the most-supporting sentence lowers the preference in {:.1} % of {} verdicts \
             (mean logit drop {:.3}); a random sentence of the same response: {:.1} % ({:.3})",
            pct(t.top_lowers),
            t.cases,
            t.top_drop / t.cases.max(1) as f64,
            pct(t.random_lowers),
            t.random_drop / t.cases.max(1) as f64
        );
        println!(
            "  attributed share vs measured deletion effect (Spearman): median {median:.3}, \
             mean {mean:.3} over {} response×principle sets of 3+ parts; pooled {pooled:.3} over {} parts",
            rhos.len(),
            t.points.0.len()
        );
    }
    eprintln!("took {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}
