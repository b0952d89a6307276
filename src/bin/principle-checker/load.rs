//! What every subcommand starts from: the constitution, the principles selected, the
//! judge loaded as the flags say (with a line on stderr saying what it is), and a
//! progress bar.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use principle_checker::engine::ModelFiles;
use principle_checker::judge::{Judge, Scoring};
use principle_checker::text::constitution::{Constitution, Principle};
use principle_checker::text::named::Named;

use crate::args::Cli;

pub fn read_text(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("could not read {}", p.display()))
}

pub fn constitution(path: Option<&Path>) -> anyhow::Result<Constitution> {
    match path {
        None => Ok(Constitution::default_2023()),
        Some(p) => Constitution::from_json(&read_text(p)?).with_context(|| p.display().to_string()),
    }
}

pub fn select(c: &Constitution, selector: &str) -> anyhow::Result<Vec<Principle>> {
    let idx = c.select(selector)?;
    Ok(idx.into_iter().map(|i| c.principles[i].clone()).collect())
}

pub fn judge(cli: &Cli) -> anyhow::Result<Judge> {
    let t = Instant::now();
    let files = ModelFiles::from_dir(&cli.model).with_context(|| {
        format!(
            "model folder {} (run scripts/setup-model.sh to create it)",
            cli.model.display()
        )
    })?;
    let mut judge = Judge::new(files)?;
    judge.layout = cli.layout;
    if let Some(d) = cli.prompt_defence {
        judge.defence = d;
    }
    if let Some(s) = cli.scoring {
        judge.set_scoring(s)?;
    }
    eprintln!(
        "loaded {} in {:.2}s; scoring: {}",
        judge.name,
        t.elapsed().as_secs_f64(),
        describe(&judge)
    );
    Ok(judge)
}

/// What scores the verdicts, for the load line.
fn describe(judge: &Judge) -> String {
    match judge.head() {
        Some(h) if judge.scoring() == Scoring::TrainedHead => {
            let edit = h.edit_dimension();
            let dims: Vec<String> = h
                .dimensions
                .iter()
                .filter(|d| Some(*d) != edit)
                .map(|d| {
                    h.held_out_accuracy(&d.name).map_or(d.label.clone(), |x| {
                        format!("{} {:.1}%", d.label, x * 100.0)
                    })
                })
                .collect();
            let readers: Vec<&str> = h
                .likelihood_readers()
                .iter()
                .map(|d| d.label.as_str())
                .collect();
            let likelihood = if readers.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} also read how likely the model finds each response",
                    readers.join(", ")
                )
            };
            let edits = match h.edit_layer() {
                Some(layer) if edit.is_some() => format!(
                    "; where two responses are one small edit apart, also which version of the edit the model finds likelier (read at layer {layer})"
                ),
                _ => String::new(),
            };
            format!(
                "trained head (layers {}-{}; dimensions with held-out accuracy under their principles: {}{likelihood}{edits}; table in BENCHMARKS.md)",
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
}

pub fn bar(len: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {what} {{elapsed}} (eta {{eta}})"
        ))
        .expect("static template"),
    );
    pb
}
