//! Command-line edge: reads files, runs the judge, prints tables or JSON, and turns
//! library errors into one readable line.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    cli::main()
}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::io::{BufRead, BufReader};
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use principle_checker::engine::{self, ModelFiles, PooledLayers};
    use principle_checker::judge::{CheckInput, Judge, Scoring};
    use principle_checker::text::constitution::{Constitution, Principle};
    use principle_checker::text::conversation::{self, Conversation};
    use principle_checker::text::named::{Named, UnknownName};
    use principle_checker::text::prompt::Defence;

    #[derive(Parser)]
    #[command(
        name = "principle-checker",
        version,
        about = "Judge assistant responses against a constitution with a small local language model"
    )]
    struct Cli {
        /// Model folder (manifest.json, model.onnx, tokenizer.json), as written by scripts/setup-model.sh.
        #[arg(
            long,
            global = true,
            env = "PRINCIPLE_CHECKER_MODEL",
            default_value = "models/smollm2-135m-instruct"
        )]
        model: PathBuf,
        /// Where the principle goes: "principle-last" (one KV cache serves all principles) or "paper".
        #[arg(long, global = true, default_value = "principle-last")]
        layout: String,
        /// How the zero-shot prompt quotes the conversation and the responses: "none" (as
        /// written, the default), "delimiters" (each option framed in [[[ ]]] it cannot
        /// close), "normalize" (answer lines and option labels such as "The answer is: (B)"
        /// rewritten) or "both". The trained head is not affected.
        #[arg(long, global = true)]
        prompt_defence: Option<String>,
        /// How verdicts are computed: "trained-head" (default when the model has one) or "zero-shot" (the CAI prompt).
        #[arg(long, global = true)]
        scoring: Option<String>,
        /// A custom constitution (JSON, same schema as constitutions/claude-2023.json).
        #[arg(long, global = true)]
        constitution: Option<PathBuf>,
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand)]
    enum Command {
        /// Judge two or more responses to a conversation under the constitution's principles.
        Judge {
            /// The conversation: a Human:/Assistant: transcript or a plain prompt.
            conversation: PathBuf,
            /// Two to six files, one response each.
            #[arg(required = true, num_args = 2..)]
            responses: Vec<PathBuf>,
            /// Comma-separated principle or group ids, or "all".
            #[arg(long, default_value = "all")]
            principles: String,
            /// Also write the chain of thought for each selected principle (slow: one generation each).
            #[arg(long)]
            reason: bool,
            #[arg(long, default_value_t = 96)]
            reason_tokens: usize,
            /// Print the full result as JSON.
            #[arg(long)]
            json: bool,
            /// After the table, say for each principle which sentences decided its
            /// verdict (trained head only): their share of the logit, exactly.
            #[arg(long)]
            explain: bool,
        },
        /// Accuracy on HH-RLHF-style comparisons (lines of {"chosen": ..., "rejected": ...}).
        Eval {
            file: PathBuf,
            /// Comma-separated principle or group ids, or "all"; every pair is judged under each.
            #[arg(long, default_value = "research-1-02")]
            principles: String,
            /// Only the first N comparisons.
            #[arg(long)]
            limit: Option<usize>,
            #[arg(long)]
            json: bool,
        },
        /// Pooled hidden states for training a judge head (needs a model converted with
        /// --hidden-layers): each comparison's chosen and rejected response read after
        /// the conversation, or with no --pairs the constitution's principles. Writes
        /// OUT.f32 (little-endian f32, [rows, texts, layers, hidden]) and OUT.json, and
        /// with --pairs the conversation's state where the reply begins to OUT.conv.f32
        /// ([rows, layers, hidden]).
        Features {
            /// HH-RLHF-style comparisons; without it, the principles are featurized.
            #[arg(long)]
            pairs: Option<PathBuf>,
            #[arg(long)]
            out: PathBuf,
            /// "K/N": only comparisons whose line number modulo N is K (for parallel runs).
            #[arg(long, default_value = "0/1")]
            shard: String,
            /// "LO-HI": also write every response token's residual stream, averaged
            /// over layers LO..=HI, to OUT.states.f32 ([tokens, hidden] per text, in
            /// row order; the token ids, one row each, are in OUT.json), for read-outs
            /// other than the mean.
            #[arg(long)]
            states: Option<String>,
            /// Only OUT.conv.f32 (and its rows in OUT.conv.json), without running the
            /// responses: adds the conversation's state to features written before.
            #[arg(long, requires = "pairs", conflicts_with = "states")]
            conversation_only: bool,
        },
        /// Time the standard check: the fixture conversation, its responses (response-*.txt,
        /// two in the standard fixture, six in tests/fixtures/six), all principles, both
        /// orders; prints resident memory after every run (growth across runs is a leak).
        Bench {
            #[arg(long, default_value = "tests/fixtures/standard")]
            fixture: PathBuf,
            #[arg(long, default_value_t = 3)]
            runs: usize,
        },
    }

    pub fn main() {
        let cli = Cli::parse();
        if let Err(e) = run(cli) {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }

    type Res<T> = Result<T, String>;

    fn read_text(p: &Path) -> Res<String> {
        std::fs::read_to_string(p).map_err(|e| format!("could not read {}: {e}", p.display()))
    }

    fn load_constitution(path: &Option<PathBuf>) -> Res<Constitution> {
        match path {
            None => Ok(Constitution::default_2023()),
            Some(p) => {
                Constitution::from_json(&read_text(p)?).map_err(|e| format!("{}: {e}", p.display()))
            }
        }
    }

    fn select(c: &Constitution, selector: &str) -> Res<Vec<Principle>> {
        let idx = c.select(selector).map_err(|e| e.to_string())?;
        Ok(idx.into_iter().map(|i| c.principles[i].clone()).collect())
    }

    fn load_judge(cli: &Cli) -> Res<Judge> {
        let t = Instant::now();
        let files = ModelFiles::from_dir(&cli.model).map_err(|e| {
            format!(
                "{e} (model folder {}; run scripts/setup-model.sh to create it)",
                cli.model.display()
            )
        })?;
        let mut judge = Judge::new(&files).map_err(|e| e.to_string())?;
        judge.layout = cli.layout.parse().map_err(|e: UnknownName| e.to_string())?;
        if let Some(d) = &cli.prompt_defence {
            judge.defence = d.parse().map_err(|e: UnknownName| e.to_string())?;
        }
        if let Some(s) = &cli.scoring {
            let s: Scoring = s.parse().map_err(|e: UnknownName| e.to_string())?;
            judge.set_scoring(s).map_err(|e| e.to_string())?;
        }
        eprintln!(
            "loaded {} in {:.2}s; scoring: {}",
            judge.name,
            t.elapsed().as_secs_f64(),
            match judge.head() {
                Some(h) if judge.scoring() == Scoring::TrainedHead => {
                    let dims: Vec<String> = h
                        .dimensions
                        .iter()
                        .map(|d| {
                            h.held_out_accuracy(&d.name).map_or(d.label.clone(), |x| {
                                format!("{} {:.1}%", d.label, x * 100.0)
                            })
                        })
                        .collect();
                    format!(
                        "trained head (layers {}-{}; dimensions with held-out accuracy under their principles: {}; table in BENCHMARKS.md)",
                        h.layers.first().unwrap_or(&0),
                        h.layers.last().unwrap_or(&0),
                        dims.join(", ")
                    )
                }
                _ => format!(
                    "zero-shot prompt, {} layout, prompt defence {}",
                    judge.layout.name(),
                    judge.defence.name()
                ),
            }
        );
        Ok(judge)
    }

    fn bar(len: usize, what: &str) -> ProgressBar {
        let pb = ProgressBar::new(len as u64);
        pb.set_style(
            ProgressStyle::with_template(&format!(
                "{{bar:30}} {{pos}}/{{len}} {what} {{elapsed}} (eta {{eta}})"
            ))
            .expect("static template"),
        );
        pb
    }

    fn run(cli: Cli) -> Res<()> {
        let constitution = load_constitution(&cli.constitution)?;
        match &cli.command {
            Command::Judge {
                conversation: conv_path,
                responses,
                principles,
                reason,
                reason_tokens,
                json,
                explain,
            } => {
                let conv =
                    Conversation::parse(&read_text(conv_path)?).map_err(|e| e.to_string())?;
                let texts = responses
                    .iter()
                    .map(|p| read_text(p))
                    .collect::<Res<Vec<_>>>()?;
                let texts = conversation::validate_responses(&texts).map_err(|e| e.to_string())?;
                let principles = select(&constitution, principles)?;
                let judge = load_judge(&cli)?;
                let transcript = conv.transcript();
                let pb = bar(principles.len(), "principles");
                let t = Instant::now();
                let result = judge
                    .check(
                        &CheckInput {
                            transcript: &transcript,
                            responses: &texts,
                            principles: &principles,
                        },
                        &mut |_, done, _| {
                            pb.set_position(done as u64);
                            true
                        },
                    )
                    .map_err(|e| e.to_string())?;
                pb.finish_and_clear();
                let secs = t.elapsed().as_secs_f64();
                let mut reasonings = Vec::new();
                if *reason {
                    for p in &principles {
                        eprintln!("\n[{}] {}", p.id, p.text);
                        let r = judge
                            .reason(
                                &transcript,
                                &p.text,
                                &texts[0],
                                &texts[1],
                                *reason_tokens,
                                &mut |s| {
                                    eprint!("{s}");
                                    true
                                },
                            )
                            .map_err(|e| e.to_string())?;
                        eprintln!(
                            "\n→ P(response 1 better) = {:.2} (clamped; raw {:.2})",
                            r.p_first, r.p_first_raw
                        );
                        reasonings.push(serde_json::json!({"principle": p.id, "reasoning": r}));
                    }
                }
                if *json {
                    let out = serde_json::json!({"model": judge.name, "seconds": secs, "result": result, "reasoning": reasonings});
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&out).expect("serializable")
                    );
                    return Ok(());
                }
                // the trained head reads each response on its own: order cannot matter,
                // so the order columns are shown only for the zero-shot prompt
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
                if *explain {
                    print_evidence(&result);
                }
                if result.verdicts.iter().any(|v| v.too_close) {
                    println!("~ too close to call: inside the band where the head's held-out verdicts were little better than a coin flip");
                }
                if texts.len() > 2 {
                    let r: Vec<String> =
                        result.ranking.iter().map(|i| (i + 1).to_string()).collect();
                    println!("ranking: {}", r.join(" > "));
                }
                let orderings = if zero_shot {
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
            Command::Eval {
                file,
                principles,
                limit,
                json,
            } => eval(&cli, &constitution, file, principles, *limit, *json),
            Command::Features {
                pairs,
                out,
                shard,
                states,
                conversation_only,
            } => features(
                &cli,
                &constitution,
                pairs,
                out,
                shard,
                states.as_deref(),
                *conversation_only,
            ),
            Command::Bench { fixture, runs } => bench(&cli, &constitution, fixture, *runs),
        }
    }

    #[derive(Default, Clone, serde::Serialize)]
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

    impl Tally {
        fn report(&self) -> serde_json::Value {
            let n = self.pairs.max(1) as f64;
            serde_json::json!({
                "pairs": self.pairs,
                "accuracy_both_orders": self.correct_both as f64 / n,
                "accuracy_as_given": self.correct_as_given as f64 / n,
                "accuracy_swapped": self.correct_swapped as f64 / n,
                "order_agreement": self.orders_agree as f64 / n,
                "position_bias": self.bias_sum / n,
            })
        }
    }

    fn features(
        cli: &Cli,
        c: &Constitution,
        pairs: &Option<PathBuf>,
        out: &Path,
        shard: &str,
        states: Option<&str>,
        conversation_only: bool,
    ) -> Res<()> {
        let (k, n) = shard
            .split_once('/')
            .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .filter(|(k, n)| k < n)
            .ok_or_else(|| format!("--shard must be K/N with K < N, got {shard:?}"))?;
        let judge = load_judge(cli)?;
        let layers = judge.model().hidden_layers();
        if layers.is_empty() {
            return Err(format!(
                "{} exports no hidden states: convert it with tools/convert_gguf.py --hidden-layers",
                cli.model.display()
            ));
        }
        // the exported layers' positions that --states averages
        let band: Option<Vec<usize>> = match states {
            None => None,
            Some(s) => {
                let (lo, hi) = s
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
                    .ok_or_else(|| format!("--states must be LO-HI, got {s:?}"))?;
                let band: Option<Vec<usize>> = (lo..=hi)
                    .map(|l| layers.iter().position(|&e| e == l))
                    .collect();
                Some(
                    band.filter(|b| !b.is_empty()).ok_or_else(|| {
                        format!("--states {s}: the model exports layers {layers:?}")
                    })?,
                )
            }
        };
        if band.is_some() && pairs.is_none() {
            return Err("--states needs --pairs".into());
        }
        let width = judge.model().architecture().hidden;
        let mut state_data: Vec<f32> = Vec::new();
        let mut state_ids = Vec::new();
        let mut data: Vec<f32> = Vec::new();
        let mut conv_data: Vec<f32> = Vec::new();
        let mut rows = Vec::new();
        let mut skipped = Vec::new();
        let push = |data: &mut Vec<f32>, texts: Vec<PooledLayers>| {
            for t in texts {
                for l in t {
                    data.extend(l);
                }
            }
        };
        match pairs {
            None => {
                let texts: Vec<&str> = c.principles.iter().map(|p| p.text.as_str()).collect();
                push(
                    &mut data,
                    judge
                        .principle_features(&texts)
                        .map_err(|e| e.to_string())?,
                );
                rows = c
                    .principles
                    .iter()
                    .map(|p| serde_json::json!(p.id))
                    .collect();
            }
            Some(file) => {
                let text = read_text(file)?;
                let lines: Vec<(usize, &str)> = text
                    .lines()
                    .enumerate()
                    .filter(|(i, l)| i % n == k && !l.trim().is_empty())
                    .collect();
                let pb = bar(lines.len(), "comparisons");
                for (i, line) in lines {
                    pb.inc(1);
                    let v: serde_json::Value = serde_json::from_str(line)
                        .map_err(|e| format!("{}:{}: {e}", file.display(), i + 1))?;
                    let (Some(chosen), Some(rejected)) =
                        (v["chosen"].as_str(), v["rejected"].as_str())
                    else {
                        return Err(format!(
                            "{}:{}: needs \"chosen\" and \"rejected\" strings",
                            file.display(),
                            i + 1
                        ));
                    };
                    let (conv, chosen, rejected) =
                        match conversation::split_comparison(chosen, rejected) {
                            Ok(x) => x,
                            Err(e) => {
                                skipped.push(serde_json::json!({"line": i, "why": e.to_string()}));
                                continue;
                            }
                        };
                    let transcript = conv.transcript();
                    let texts = [chosen, rejected];
                    let read = match &band {
                        _ if conversation_only => judge
                            .conversation_features(&transcript, &texts)
                            .map(|c| (c, Vec::new())),
                        None => judge
                            .response_features(&transcript, &texts)
                            .map(|r| (r.conversation, r.responses)),
                        Some(band) => judge.response_states(&transcript, &texts).map(|read| {
                            state_ids.push(serde_json::json!([read.context, read.responses]));
                            for layers in &read.states {
                                state_data.extend(band_mean(layers, band));
                            }
                            let pooled = read
                                .states
                                .iter()
                                .map(|t| t.iter().map(|l| engine::mean_rows(l, width)).collect())
                                .collect();
                            (read.conversation, pooled)
                        }),
                    };
                    match read {
                        Ok((c, f)) => {
                            push(&mut data, f);
                            push(&mut conv_data, vec![c]);
                            rows.push(serde_json::json!(i));
                        }
                        Err(e @ principle_checker::judge::JudgeError::TooLong { .. }) => {
                            skipped.push(serde_json::json!({"line": i, "why": e.to_string()}));
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                }
                pb.finish_and_clear();
            }
        }
        let with_ext = |ext: &str| {
            let mut p = out.as_os_str().to_owned();
            p.push(ext);
            PathBuf::from(p)
        };
        let write_f32 = |ext: &str, data: &[f32]| {
            let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
            std::fs::write(with_ext(ext), bytes).map_err(|e| e.to_string())
        };
        if pairs.is_some() {
            write_f32(".conv.f32", &conv_data)?;
        }
        if conversation_only {
            let meta = serde_json::json!({"rows": rows, "skipped": skipped});
            std::fs::write(with_ext(".conv.json"), meta.to_string()).map_err(|e| e.to_string())?;
            eprintln!("wrote the conversation state of {} rows", rows.len());
            return Ok(());
        }
        write_f32(".f32", &data)?;
        if band.is_some() {
            write_f32(".states.f32", &state_data)?;
        }
        let mut meta = serde_json::json!({
            "model": judge.name,
            "layers": layers,
            "hidden": judge.model().architecture().hidden,
            "texts_per_row": if pairs.is_some() { 2 } else { 1 },
            "rows": rows,
            "skipped": skipped,
        });
        if let Some(s) = states {
            // ids: [conversation, [chosen, rejected]] as the model read them; a response
            // has as many rows in OUT.states.f32 as it has ids
            meta["states"] = serde_json::json!({"layers": s, "ids": state_ids});
        }
        std::fs::write(with_ext(".json"), meta.to_string()).map_err(|e| e.to_string())?;
        eprintln!(
            "wrote {} rows, skipped {}",
            meta["rows"].as_array().map_or(0, Vec::len),
            meta["skipped"].as_array().map_or(0, Vec::len)
        );
        Ok(())
    }

    /// Each token's state averaged over the layers at `band` (positions among a
    /// text's `[layer][tokens × hidden]`), `[tokens × hidden]`.
    fn band_mean(layers: &[Vec<f32>], band: &[usize]) -> Vec<f32> {
        let mut rows = vec![0f32; layers[0].len()];
        for &l in band {
            rows.iter_mut().zip(&layers[l]).for_each(|(r, x)| *r += x);
        }
        let n = band.len() as f32;
        rows.iter_mut().for_each(|r| *r /= n);
        rows
    }

    fn eval(
        cli: &Cli,
        c: &Constitution,
        file: &Path,
        selector: &str,
        limit: Option<usize>,
        json: bool,
    ) -> Res<()> {
        let principles = select(c, selector)?;
        let f = std::fs::File::open(file)
            .map_err(|e| format!("could not read {}: {e}", file.display()))?;
        let mut items = Vec::new();
        let mut skipped = 0;
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| e.to_string())?;
            if line.trim().is_empty() {
                continue;
            }
            if limit.is_some_and(|l| items.len() + skipped >= l) {
                break;
            }
            let v: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| format!("{}:{}: {e}", file.display(), i + 1))?;
            let (Some(chosen), Some(rejected)) = (v["chosen"].as_str(), v["rejected"].as_str())
            else {
                return Err(format!(
                    "{}:{}: needs \"chosen\" and \"rejected\" strings",
                    file.display(),
                    i + 1
                ));
            };
            match conversation::split_comparison(chosen, rejected) {
                Ok(x) => items.push((i, x)),
                Err(_) => skipped += 1,
            }
        }
        let judge = load_judge(cli)?;
        let pb = bar(items.len(), "comparisons");
        let t = Instant::now();
        let mut overall = Tally::default();
        let mut per_principle: Vec<Tally> = vec![Tally::default(); principles.len()];
        let mut tokens = 0;
        let mut too_long = 0;
        // per comparison: its line, and P(chosen better) averaged over the principles
        let mut per_comparison = Vec::with_capacity(items.len());
        for (line, (conv, chosen, rejected)) in &items {
            let responses = vec![chosen.clone(), rejected.clone()];
            let transcript = conv.transcript();
            let r = judge.check(
                &CheckInput {
                    transcript: &transcript,
                    responses: &responses,
                    principles: &principles,
                },
                &mut |_, _, _| true,
            );
            let r = match r {
                Ok(r) => r,
                Err(principle_checker::judge::JudgeError::TooLong { .. }) => {
                    too_long += 1;
                    pb.inc(1);
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            };
            tokens += r.tokens_processed;
            let mean = r.verdicts.iter().map(|v| v.pairs[0].p_first()).sum::<f64>()
                / r.verdicts.len() as f64;
            per_comparison.push(serde_json::json!({"line": line + 1, "p_chosen": mean}));
            for (k, v) in r.verdicts.iter().enumerate() {
                let p = &v.pairs[0];
                for t in [&mut overall, &mut per_principle[k]] {
                    t.pairs += 1;
                    t.correct_both += (p.p_first() > 0.5) as usize;
                    t.correct_as_given += (p.p_first_shown_first > 0.5) as usize;
                    t.correct_swapped += (p.p_first_shown_second > 0.5) as usize;
                    t.orders_agree += p.orders_agree() as usize;
                    t.bias_sum += p.position_bias();
                }
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        let secs = t.elapsed().as_secs_f64();
        let report = serde_json::json!({
            "model": judge.name,
            "scoring": judge.scoring(),
            "layout": judge.layout,
            // what the prompt quoted text through; the trained head reads it as written
            "defence": used_defence(&judge),
            "file": file.display().to_string(),
            "comparisons": items.len() - too_long,
            "skipped_unparseable": skipped,
            "skipped_too_long": too_long,
            "overall": overall.report(),
            "per_principle": principles.iter().zip(&per_principle).map(|(p, t)| serde_json::json!({"id": p.id, "result": t.report()})).collect::<Vec<_>>(),
            "seconds": secs,
            "tokens_per_second": tokens as f64 / secs,
            "comparisons_per_second": (items.len() - too_long) as f64 / secs,
            "per_comparison": per_comparison,
        });
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("serializable")
            );
        } else {
            let o = &report["overall"];
            println!(
                "{} comparisons ({} unparseable, {} too long skipped), scoring {}, layout {}, prompt defence {}, {} principle(s)",
                report["comparisons"],
                skipped,
                too_long,
                judge.scoring().name(),
                judge.layout.name(),
                used_defence(&judge).name(),
                principles.len()
            );
            println!(
            "accuracy: both orders {:.3}  as given {:.3}  swapped {:.3}  order agreement {:.3}  position bias {:+.3}",
            o["accuracy_both_orders"].as_f64().unwrap_or(0.0),
            o["accuracy_as_given"].as_f64().unwrap_or(0.0),
            o["accuracy_swapped"].as_f64().unwrap_or(0.0),
            o["order_agreement"].as_f64().unwrap_or(0.0),
            o["position_bias"].as_f64().unwrap_or(0.0)
        );
            if principles.len() > 1 {
                for (p, t) in principles.iter().zip(&per_principle) {
                    let r = t.report();
                    println!(
                        "  {:<16} {:.3}",
                        p.id,
                        r["accuracy_both_orders"].as_f64().unwrap_or(0.0)
                    );
                }
            }
            println!("{secs:.1}s, {:.0} tokens/s", tokens as f64 / secs);
        }
        Ok(())
    }

    fn used_defence(judge: &Judge) -> Defence {
        match judge.scoring() {
            Scoring::ZeroShot => judge.defence,
            Scoring::TrainedHead => Defence::None,
        }
    }

    fn bench(cli: &Cli, c: &Constitution, fixture: &Path, runs: usize) -> Res<()> {
        let conv = Conversation::parse(&read_text(&fixture.join("conversation.txt"))?)
            .map_err(|e| e.to_string())?;
        let responses = fixture_responses(fixture)?;
        let transcript = conv.transcript();
        let principles = c.principles.clone();
        let mut judge = load_judge(cli)?;
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
        let timed = |judge: &Judge| -> Res<(f64, usize)> {
            // the same text every run: each check must read it anew
            judge.forget_readings();
            let t = Instant::now();
            let r = judge
                .check(&input, &mut |_, _, _| true)
                .map_err(|e| e.to_string())?;
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
        if judge.scoring() == Scoring::TrainedHead {
            // the head's passes run the layers up to its last one (Model::prefill)
            let layers = judge
                .model()
                .hidden_layers()
                .last()
                .map_or(params.layers, |l| l + 1);
            let flops_per_token = flops_per_token * layers as f64 / params.layers as f64;
            println!(
                "fixture: {total_tokens} tokens (conversation + {n} responses), tokenized in {:.1} ms",
                tok_secs * 1e3
            );
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
            judge
                .set_scoring(Scoring::ZeroShot)
                .map_err(|e| e.to_string())?;
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
            judge
                .score_uncached(&transcript, &p.text, &responses[0], &responses[1])
                .map_err(|e| e.to_string())?;
            judge
                .score_uncached(&transcript, &p.text, &responses[1], &responses[0])
                .map_err(|e| e.to_string())?;
        }
        let uncached_per_principle = t.elapsed().as_secs_f64() / 4.0;
        println!(
            "fixture: {total_tokens} tokens (conversation + {n} responses), tokenized in {:.1} ms",
            tok_secs * 1e3
        );
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
    fn fixture_responses(fixture: &Path) -> Res<Vec<String>> {
        let mut responses = Vec::new();
        while let Ok(text) =
            std::fs::read_to_string(fixture.join(format!("response-{}.txt", responses.len() + 1)))
        {
            responses.push(text);
        }
        if responses.len() < 2 {
            return Err(format!(
                "{}: a fixture needs response-1.txt and response-2.txt",
                fixture.display()
            ));
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
    fn approx_params(a: &principle_checker::engine::Architecture) -> usize {
        let attn = a.hidden * a.heads * a.head_dim * 2 + a.hidden * a.kv_heads * a.head_dim * 2;
        let ffn_dim = if a.ffn > 0 { a.ffn } else { a.hidden * 8 / 3 };
        a.layers * (attn + 3 * a.hidden * ffn_dim)
    }

    /// `judge --explain`: per principle, the plain-words summary and the parts that
    /// moved the verdict most, each signed towards the chosen response.
    fn print_evidence(result: &principle_checker::judge::CheckResult) {
        use principle_checker::judge::evidence;
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
        }
        println!("\n(each number is a sentence's exact share of the logit, signed towards the chosen response; they and the rest add up to it)");
    }

    /// The two dimensions that moved a pair's verdict most, signed towards response 1.
    fn leading_dimensions(
        p: &principle_checker::judge::verdict::PairJudgement,
        dims: &[principle_checker::judge::head::Dimension],
    ) -> String {
        let mut order: Vec<usize> = (0..p.by_dimension.len().min(dims.len())).collect();
        order.sort_by(|&a, &b| p.by_dimension[b].abs().total_cmp(&p.by_dimension[a].abs()));
        order
            .iter()
            .take(2)
            .map(|&k| format!("{} {:+.2}", dims[k].name, p.by_dimension[k]))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
