//! `features`: the pooled states the trained head is fitted on, written by the same
//! code path a check reads with (tools/train_judge.py reads them). Research
//! read-outs (`--states`) use the same pass.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use principle_checker::engine::{self, PooledLayers};
use principle_checker::judge::JudgeError;
use principle_checker::text::constitution::Constitution;

use crate::args::{Cli, LayerBand, Shard};
use crate::{comparisons, load};

pub fn run(
    cli: &Cli,
    c: &Constitution,
    pairs: Option<&Path>,
    out: &Path,
    shard: Shard,
    states: Option<LayerBand>,
    conversation_only: bool,
) -> anyhow::Result<()> {
    let mut judge = load::judge(cli)?;
    // OUT.lp.f32: for a head whose scores will read it
    judge.read_likelihood = true;
    let layers = judge.model().hidden_layers();
    if layers.is_empty() {
        bail!(
            "{} exports no hidden states: convert it with tools/convert_gguf.py --hidden-layers",
            cli.model.display()
        );
    }
    // the exported layers' positions that --states averages
    let band: Option<Vec<usize>> = match states {
        None => None,
        Some(s) => {
            let band: Option<Vec<usize>> = (s.lo..=s.hi)
                .map(|l| layers.iter().position(|&e| e == l))
                .collect();
            Some(
                band.with_context(|| format!("--states {s}: the model exports layers {layers:?}"))?,
            )
        }
    };
    let width = judge.model().architecture().hidden;
    let mut state_data: Vec<f32> = Vec::new();
    let mut state_ids = Vec::new();
    let mut data: Vec<f32> = Vec::new();
    let mut conv_data: Vec<f32> = Vec::new();
    // the mean log-probability of each response's tokens (NaN where the model has no lens)
    let mut lp_data: Vec<f32> = Vec::new();
    // per row and response, each part's own mean log-probability and token count
    let mut lp_parts = Vec::new();
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
            push(&mut data, judge.principle_features(&texts)?);
            rows = c
                .principles
                .iter()
                .map(|p| serde_json::json!(p.id))
                .collect();
        }
        Some(file) => {
            let lines = comparisons::read(file, |i| i % shard.n == shard.k)?;
            let pb = load::bar(lines.len(), "comparisons");
            for comparison in lines {
                pb.inc(1);
                let i = comparison.line;
                let (conv, chosen, rejected) = match comparison.split {
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
                    None => judge.response_features(&transcript, &texts).map(|r| {
                        lp_data.extend(r.likelihood.iter().map(|l| l.unwrap_or(f32::NAN)));
                        let parts: Vec<&Vec<(f32, usize)>> =
                            r.parts.iter().map(|p| &p.likelihood_means).collect();
                        lp_parts.push(serde_json::json!(parts));
                        (r.conversation, r.responses)
                    }),
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
                    Err(e @ JudgeError::TooLong { .. }) => {
                        skipped.push(serde_json::json!({"line": i, "why": e.to_string()}));
                    }
                    Err(e) => return Err(e.into()),
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
    let write = |ext: &str, bytes: Vec<u8>| {
        let path = with_ext(ext);
        std::fs::write(&path, bytes).with_context(|| format!("could not write {}", path.display()))
    };
    let f32_bytes = |data: &[f32]| {
        data.iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    if pairs.is_some() {
        write(".conv.f32", f32_bytes(&conv_data))?;
    }
    if conversation_only {
        let meta = serde_json::json!({"rows": rows, "skipped": skipped});
        write(".conv.json", meta.to_string().into_bytes())?;
        eprintln!("wrote the conversation state of {} rows", rows.len());
        return Ok(());
    }
    write(".f32", f32_bytes(&data))?;
    if pairs.is_some() && band.is_none() {
        write(".lp.f32", f32_bytes(&lp_data))?;
        // [row][response][part] = [mean, tokens]; NaN (a part without a predicted
        // token) is written as null
        write(
            ".lp.json",
            serde_json::json!(lp_parts).to_string().into_bytes(),
        )?;
    }
    if band.is_some() {
        write(".states.f32", f32_bytes(&state_data))?;
    }
    let (n_rows, n_skipped) = (rows.len(), skipped.len());
    let mut meta = serde_json::json!({
        "model": judge.name,
        "layers": layers,
        "hidden": width,
        "texts_per_row": if pairs.is_some() { 2 } else { 1 },
        // OUT.lp.f32 ([rows, texts]) was read by the lens at this layer
        "lens_layer": judge.head().map(|h| h.lens_layer()),
        "rows": rows,
        "skipped": skipped,
    });
    if let Some(s) = states {
        // ids: [conversation, [chosen, rejected]] as the model read them; a response
        // has as many rows in OUT.states.f32 as it has ids
        meta["states"] = serde_json::json!({"layers": s.to_string(), "ids": state_ids});
    }
    write(".json", meta.to_string().into_bytes())?;
    eprintln!("wrote {n_rows} rows, skipped {n_skipped}");
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
