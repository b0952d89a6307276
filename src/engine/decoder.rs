//! The decoder: a verified model file becomes a runnable network whose KV cache
//! ([`KvCache`]) is passed in and out explicitly, so the judge can prefill a shared
//! prefix once and branch every principle's suffix, or every response, off it.

use std::sync::Arc;

use tract_onnx::prelude::*;

use super::error::ModelError;
use super::kv::KvCache;
use super::layers::{LayerStack, StackInput};
use super::lens::Lens;
use super::manifest::{Architecture, Manifest};
use super::onnx::{parse, Parsed};

type Plan = Arc<TypedSimplePlan>;

/// A loaded decoder: `forward(cache, ids) → (last-position logits, longer cache)`,
/// and for the trained judge head `prefill` and `pooled_hidden`.
///
/// A graph that exports hidden states (`hidden.N`) is loaded in two steps. At load,
/// only the part the trained head reads is built: layers up to the last exported one,
/// without the output layer (for SmolLM2 and layers 16–24, 25 of 30 layers and none
/// of the 49,152 × 576 output matrix), as one layer's plan that runs once per layer
/// ([`LayerStack`]); tract then optimizes one layer instead of 25, which halves a
/// load. The whole decoder, which the zero-shot prompt and the reasoning need, is
/// built from the kept file the first time they ask (about as long as a load used to
/// take) and then serves everything, the layer stack being dropped.
pub struct Model {
    arch: Architecture,
    hidden_layers: Vec<usize>,
    /// How likely the model finds a response's tokens ([`Model::pooled_parts`]).
    lens: Option<Lens>,
    graphs: std::sync::Mutex<Graphs>,
}

struct Graphs {
    /// Layers `0..=last hidden layer`, no logits; `None` once `full` is built.
    features: Option<Arc<LayerStack>>,
    full: Option<Arc<Runner>>,
    /// The parsed file, while `full` is still to be built.
    parsed: Option<Parsed>,
}

/// What a pass is for: the trained head's hidden states (no logits), or logits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Head,
    Logits,
}

/// One runnable graph and where its inputs and outputs sit.
struct Runner {
    plan: Plan,
    /// Positions among the plan's inputs.
    ids_input: usize,
    positions_input: usize,
    bias_input: usize,
    logits_index_input: usize,
    /// For each cache slot this graph computes (layer-major, key then value):
    /// (plan input, plan output).
    kv_slots: Vec<(usize, usize)>,
    logits_output: usize,
    /// Outputs `hidden.N` (layer N's residual stream), sorted by layer.
    hidden_outputs: Vec<(usize, usize)>,
}

/// One text's pooled residual streams: `[layer][hidden]`, layers in
/// [`Model::hidden_layers`] order.
pub type PooledLayers = Vec<Vec<f32>>;

/// One response read by [`Model::pooled_parts`].
#[derive(Clone, Debug)]
pub struct BranchReading {
    /// Its states pooled over its tokens.
    pub mean: PooledLayers,
    /// Each part's tokens' states summed and divided by the branch's token count.
    pub parts: Vec<PooledLayers>,
    /// How likely the model found its tokens, when a lens layer was asked for.
    pub likelihood: Option<Likelihood>,
    /// Its tokens' residual stream at the last exported layer, `[tokens × hidden]`:
    /// what a pass reading further starts from ([`Model::likelihoods_after`]).
    pub stream: Vec<f32>,
}

/// A conversation read by [`Model::prefill_with_state`].
pub struct Prefilled {
    /// The cache, extended by the tokens run.
    pub cache: KvCache,
    /// The last token's state at every exported layer (`[layer][hidden]`): where the
    /// assistant's reply begins.
    pub state: PooledLayers,
    /// The tokens run, their residual stream at the last exported layer
    /// (`[tokens × hidden]`): what [`Model::deepen`] continues.
    pub stream: Vec<f32>,
}

/// The mean log-probability of a text's tokens (each read at the token before it),
/// and each part's tokens' sum of them divided by the same count, so that the parts
/// and the tokens in no part add up to the mean, as the pooled states' parts do.
/// Also each part's own mean and its count of predicted tokens: how likely the
/// model finds that sentence, whatever the rest of the reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Likelihood {
    pub mean: f32,
    pub parts: Vec<f32>,
    /// Each part's tokens' mean (NaN for a part with no predicted token).
    pub part_means: Vec<f32>,
    pub part_tokens: Vec<usize>,
}

impl Likelihood {
    /// Each part's count of predicted tokens (token 0, which nothing predicts, is in
    /// none): what [`Likelihood::part_tokens`] holds, known before the model runs.
    pub fn part_token_counts(token_parts: &[Option<usize>], parts: usize) -> Vec<usize> {
        let mut counts = vec![0usize; parts];
        for p in token_parts.iter().skip(1).flatten() {
            counts[*p] += 1;
        }
        counts
    }

    /// From [`super::lens::Lens::log_probs`] (whose entry 0 predicts nothing).
    pub fn of(log_probs: &[f32], token_parts: &[Option<usize>], parts: usize) -> Likelihood {
        let n = log_probs.len().saturating_sub(1).max(1) as f32;
        let mut by_part = vec![0f32; parts];
        for (lp, part) in log_probs.iter().zip(token_parts).skip(1) {
            if let Some(p) = part {
                by_part[*p] += lp;
            }
        }
        let counts = Likelihood::part_token_counts(
            &token_parts[..log_probs.len().min(token_parts.len())],
            parts,
        );
        Likelihood {
            mean: log_probs.iter().skip(1).sum::<f32>() / n,
            parts: by_part.iter().map(|s| s / n).collect(),
            part_means: by_part
                .iter()
                .zip(&counts)
                .map(|(s, &c)| if c > 0 { s / c as f32 } else { f32::NAN })
                .collect(),
            part_tokens: counts,
        }
    }
}

/// What one pass returns; the hidden rows are copied out only when asked for.
struct RunOutput {
    logits: Vec<Vec<f32>>,
    kv: Vec<TValue>,
    /// Per exported layer, `[tokens × hidden]` row-major.
    hidden: Vec<Vec<f32>>,
}

impl Runner {
    /// Builds the parsed file's plan: the whole decoder, logits included, every weight
    /// expanded to a constant.
    fn build(arch: &Architecture, parsed: &Parsed) -> Result<Runner, ModelError> {
        let onnx_err = |e: TractError| ModelError::Onnx(format!("{e:#}"));
        let mut model = tract_onnx::onnx()
            .model_for_proto_model(&parsed.proto)
            .map_err(onnx_err)?;
        parsed.weights.install(&mut model)?;
        let name_of = |o: &OutletId| model.node(o.node).name.clone();
        let input_names: Vec<String> = model
            .input_outlets()
            .map_err(onnx_err)?
            .iter()
            .map(name_of)
            .collect();
        let output_label = |model: &InferenceModel, o: &OutletId| {
            model
                .outlet_label(*o)
                .map(String::from)
                .unwrap_or_else(|| model.node(o.node).name.clone())
        };
        let layer_of = |name: &str, prefix: &str| {
            name.strip_prefix(prefix)?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        };
        let output_names: Vec<String> = model
            .output_outlets()
            .map_err(onnx_err)?
            .iter()
            .map(|o| output_label(&model, o))
            .collect();
        let find = |names: &[String], n: &str| {
            names
                .iter()
                .position(|x| x == n)
                .ok_or_else(|| ModelError::MissingTensor(n.to_string()))
        };
        let mut kv_slots = Vec::with_capacity(arch.layers * 2);
        for l in 0..arch.layers {
            for kind in ["key", "value"] {
                kv_slots.push((
                    find(&input_names, &format!("past_key_values.{l}.{kind}"))?,
                    find(&output_names, &format!("present.{l}.{kind}"))?,
                ));
            }
        }
        let mut hidden_outputs: Vec<(usize, usize)> = output_names
            .iter()
            .enumerate()
            .filter_map(|(i, name)| Some((layer_of(name, "hidden.")?, i)))
            .collect();
        hidden_outputs.sort();
        let runner = Runner {
            ids_input: find(&input_names, "input_ids")?,
            positions_input: find(&input_names, "position_ids")?,
            bias_input: find(&input_names, "attention_bias")?,
            logits_index_input: find(&input_names, "logits_index")?,
            logits_output: find(&output_names, "logits")?,
            kv_slots,
            hidden_outputs,
            plan: model
                .into_optimized()
                .and_then(|m| m.into_runnable())
                .map_err(onnx_err)?,
        };
        Ok(runner)
    }
}

impl Model {
    /// Takes the file by value to free it as soon as it is parsed: in a browser the
    /// file and its parsed copy together are the high-water mark of the page's
    /// memory, which never shrinks, so everything built after fits in what they leave.
    pub fn load(manifest: &Manifest, onnx: Vec<u8>) -> Result<Model, ModelError> {
        let arch = manifest.architecture.clone();
        let parsed = parse(&onnx)?;
        drop(onnx);
        let lens = Lens::build(&arch, &parsed)?;
        let (hidden_layers, graphs) = match LayerStack::build(&arch, &parsed)? {
            Some(stack) => (
                stack.hidden_layers().to_vec(),
                Graphs {
                    features: Some(Arc::new(stack)),
                    full: None,
                    parsed: Some(parsed),
                },
            ),
            // no hidden states, no head: the whole decoder is all there is to build
            None => (
                Vec::new(),
                Graphs {
                    features: None,
                    full: Some(Arc::new(Runner::build(&arch, &parsed)?)),
                    parsed: None,
                },
            ),
        };
        Ok(Model {
            arch,
            hidden_layers,
            lens,
            graphs: std::sync::Mutex::new(graphs),
        })
    }

    /// The layers whose residual stream this graph exports (empty for a plain graph).
    pub fn hidden_layers(&self) -> Vec<usize> {
        self.hidden_layers.clone()
    }

    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }

    /// Whether the whole decoder (logits) is built yet; until then `forward` first
    /// builds it.
    pub fn full_graph_built(&self) -> bool {
        self.graphs().full.is_some()
    }

    fn graphs(&self) -> std::sync::MutexGuard<'_, Graphs> {
        // a panic while building leaves nothing half-written: take the data as it is
        self.graphs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The whole decoder, built now if this is its first use.
    fn full(&self) -> Result<Arc<Runner>, ModelError> {
        let mut g = self.graphs();
        if let Some(full) = &g.full {
            return Ok(full.clone());
        }
        // free the smaller graph first: the two together would hold the weights twice
        g.features = None;
        let parsed = g
            .parsed
            .take()
            .ok_or_else(|| ModelError::Run("the model file is gone".into()))?;
        let full = Arc::new(Runner::build(&self.arch, &parsed)?);
        drop(parsed);
        g.full = Some(full.clone());
        Ok(full)
    }

    /// A pass for logits runs the whole decoder (built now if this is its first use);
    /// a pass of the trained head runs the layer stack while it exists, else the
    /// whole decoder (whose logits are then computed for nothing, a row each).
    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        pass: Pass,
        cache: &KvCache,
        ids: &[u32],
        positions: &[i64],
        bias: Vec<f32>,
        ends: &[usize],
        want_hidden: bool,
    ) -> Result<RunOutput, ModelError> {
        if pass == Pass::Logits {
            return self.run(
                &*self.full()?,
                cache,
                ids,
                positions,
                bias,
                ends,
                want_hidden,
            );
        }
        let (stack, full) = {
            let g = self.graphs();
            (g.features.clone(), g.full.clone())
        };
        match (stack, full) {
            (Some(stack), _) => {
                let out = stack.run(
                    &cache.tensors,
                    StackInput::Ids(ids),
                    positions,
                    bias,
                    want_hidden,
                    None,
                )?;
                Ok(RunOutput {
                    logits: Vec::new(),
                    kv: out.kv,
                    hidden: out.hidden,
                })
            }
            (None, Some(full)) if !full.hidden_outputs.is_empty() => {
                self.run(&full, cache, ids, positions, bias, ends, want_hidden)
            }
            _ => Err(ModelError::MissingTensor("hidden.N".into())),
        }
    }

    pub fn empty_cache(&self) -> KvCache {
        let shape = [1, self.arch.kv_heads, 0, self.arch.head_dim];
        let empty: TValue = Tensor::zero::<f32>(&shape)
            .expect("a zero-sized tensor always allocates")
            .into_tvalue();
        KvCache {
            tensors: vec![empty; self.arch.layers * 2],
            len: 0,
        }
    }

    /// Runs `ids` after the tokens already in `cache`; returns the logits of the last
    /// of `ids` and the extended cache. `cache` itself is untouched, so it can be reused.
    pub fn forward(&self, cache: &KvCache, ids: &[u32]) -> Result<(Vec<f32>, KvCache), ModelError> {
        let (mut logits, cache) = self.extend(Pass::Logits, cache, ids, false)?;
        Ok((logits.swap_remove(0), cache))
    }

    /// Extends `cache` by `ids` for the trained head's passes ([`Model::pooled_hidden`]
    /// continues it); no logits. The cache may hold only the head's layers.
    pub fn prefill(&self, cache: &KvCache, ids: &[u32]) -> Result<KvCache, ModelError> {
        Ok(self.extend(Pass::Head, cache, ids, false)?.1)
    }

    /// [`Model::prefill`], and the residual stream of the last of `ids` at every
    /// exported layer (`[layer][hidden]`): the conversation's state where the
    /// assistant's reply begins, which the head's request-dependent scores read. The
    /// last token is always among those run, however much of `cache` an edit kept.
    /// Also every token's stream at the last exported layer, for [`Model::deepen`].
    pub fn prefill_with_state(
        &self,
        cache: &KvCache,
        ids: &[u32],
    ) -> Result<Prefilled, ModelError> {
        let (mut out, cache) = self.extend_run(Pass::Head, cache, ids, true)?;
        let width = self.arch.hidden;
        let last = ids.len() - 1;
        let state = out
            .hidden
            .iter()
            .map(|flat| flat[last * width..(last + 1) * width].to_vec())
            .collect();
        Ok(Prefilled {
            cache,
            state,
            stream: out.hidden.pop().unwrap_or_default(),
        })
    }

    fn extend(
        &self,
        pass: Pass,
        cache: &KvCache,
        ids: &[u32],
        want_hidden: bool,
    ) -> Result<(Vec<Vec<f32>>, KvCache), ModelError> {
        let (out, cache) = self.extend_run(pass, cache, ids, want_hidden)?;
        Ok((out.logits, cache))
    }

    fn extend_run(
        &self,
        pass: Pass,
        cache: &KvCache,
        ids: &[u32],
        want_hidden: bool,
    ) -> Result<(RunOutput, KvCache), ModelError> {
        if ids.is_empty() {
            return Err(ModelError::Run("no tokens to run".into()));
        }
        let p = cache.len;
        let positions: Vec<i64> = (0..ids.len()).map(|i| (p + i) as i64).collect();
        let total = p + ids.len();
        let mut bias = vec![0f32; ids.len() * total];
        for i in 0..ids.len() {
            bias[i * total + p + i + 1..(i + 1) * total].fill(MASKED);
        }
        let mut out = self.pass(
            pass,
            cache,
            ids,
            &positions,
            bias,
            &[ids.len() - 1],
            want_hidden,
        )?;
        let kv = std::mem::take(&mut out.kv);
        Ok((
            out,
            KvCache {
                tensors: kv,
                len: total,
            },
        ))
    }

    /// Runs several independent continuations of `cache` in one pass and returns the
    /// logits after each. Each branch sees the cache and its own earlier tokens, never
    /// another branch, so the result equals separate [`Model::forward`] calls while the
    /// weights are streamed through once for all of them.
    pub fn forward_branches(
        &self,
        cache: &KvCache,
        branches: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self
            .run_branches(Pass::Logits, cache, &[], branches, false)?
            .logits)
    }

    /// Like [`Model::forward_branches`], but returns for each branch the mean of
    /// every exported layer's residual stream over the branch's tokens:
    /// `[branch][layer][hidden]`, layers in [`Model::hidden_layers`] order. The
    /// pooled state of a text read in context is what the trained judge head scores.
    ///
    /// `shared` tokens continue `cache` in the same pass, before every branch, and
    /// every branch reads them: a conversation and its responses are one pass, so
    /// the weights are read (and, on the layer stack, packed) once, not twice.
    pub fn pooled_hidden(
        &self,
        cache: &KvCache,
        shared: &[u32],
        branches: &[Vec<u32>],
    ) -> Result<Vec<PooledLayers>, ModelError> {
        let width = self.arch.hidden;
        self.per_branch(cache, shared, branches, |rows| mean_rows(rows, width))
    }

    /// [`Model::pooled_hidden`] and, for each branch, its tokens' states summed by
    /// part and divided by the branch's token count, so that the parts (with the
    /// tokens in no part) add up to the mean: `token_parts[b][t]` names token `t`'s
    /// part of branch `b` (of `parts[b]`). What evidence splits a verdict by
    /// ([`crate::judge::evidence`]). With `lens_layer`, also how likely the model
    /// finds each branch's tokens, read at that layer ([`super::lens`]). The same
    /// pass, nothing run twice.
    pub fn pooled_parts(
        &self,
        cache: &KvCache,
        shared: &[u32],
        branches: &[Vec<u32>],
        token_parts: &[Vec<Option<usize>>],
        parts: &[usize],
        lens_layer: Option<usize>,
    ) -> Result<Vec<BranchReading>, ModelError> {
        let width = self.arch.hidden;
        let out = self.run_branches(Pass::Head, cache, shared, branches, true)?;
        let lens = match (&self.lens, lens_layer) {
            (Some(lens), Some(l)) => self
                .hidden_layers
                .iter()
                .position(|&e| e == l)
                .map(|i| (lens, i)),
            _ => None,
        };
        branch_rows(shared.len(), branches)
            .enumerate()
            .map(|(b, rows)| {
                let n = rows.len() as f32;
                let mut mean = Vec::with_capacity(out.hidden.len());
                let mut sums = vec![Vec::with_capacity(out.hidden.len()); parts[b]];
                for flat in &out.hidden {
                    let layer = &flat[rows.start * width..rows.end * width];
                    let mut by_part = vec![vec![0f32; width]; parts[b]];
                    for (row, part) in layer.chunks_exact(width).zip(&token_parts[b]) {
                        if let Some(p) = part {
                            by_part[*p].iter_mut().zip(row).for_each(|(s, x)| *s += x);
                        }
                    }
                    for (sum, part) in sums.iter_mut().zip(by_part) {
                        sum.push(part.into_iter().map(|x| x / n).collect());
                    }
                    mean.push(mean_rows(layer, width));
                }
                let likelihood = match lens {
                    Some((lens, i)) => {
                        let layer = &out.hidden[i][rows.start * width..rows.end * width];
                        Some(Likelihood::of(
                            &lens.log_probs(layer, &branches[b])?,
                            &token_parts[b],
                            parts[b],
                        ))
                    }
                    None => None,
                };
                Ok(BranchReading {
                    mean,
                    parts: sums,
                    likelihood,
                    stream: out
                        .hidden
                        .last()
                        .map(|flat| flat[rows.start * width..rows.end * width].to_vec())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The layer stack, for a pass past the head's layers; fails with
    /// [`ModelError::NoLayerStack`] once the whole decoder has replaced it.
    fn stack(&self) -> Result<Arc<LayerStack>, ModelError> {
        self.graphs()
            .features
            .clone()
            .ok_or(ModelError::NoLayerStack)
    }

    /// The conversation's cache for the layers after the last exported one, through
    /// `layer`: its `stream` ([`Prefilled::stream`], every token's) run on from where
    /// the head's pass stopped, for [`Model::likelihoods_after`]. The head's layers are
    /// not run again.
    pub fn deepen(&self, layer: usize, stream: &[f32]) -> Result<KvCache, ModelError> {
        let stack = self.stack()?;
        let from = stack.layers();
        let tokens = stream.len() / self.arch.hidden;
        let empty = self.empty_cache();
        let (positions, bias, _) = layout(0, tokens, &[]);
        let out = stack.run(
            &empty.tensors,
            StackInput::Stream { rows: stream, from },
            &positions,
            bias,
            false,
            Some(layer),
        )?;
        Ok(KvCache {
            tensors: out.kv,
            len: tokens,
        })
    }

    /// How likely the model finds each branch's tokens (each token read at the one
    /// before it, through the lens, [`super::lens`]) at `layer`, past the head's last:
    /// each branch's `streams` entry ([`BranchReading::stream`]) run on from where the
    /// head's pass stopped, side by side after the conversation's `deep` cache
    /// ([`Model::deepen`], through the same layer). For what a head pass does not run
    /// (the edit of two responses, read at the model's last layer) at the cost of the
    /// layers past the head's only; fails with [`ModelError::NoLayerStack`] once the
    /// whole decoder has replaced the layer stack.
    pub fn likelihoods_after(
        &self,
        layer: usize,
        deep: &KvCache,
        branches: &[Vec<u32>],
        streams: &[&[f32]],
        token_parts: &[Vec<Option<usize>>],
        parts: &[usize],
    ) -> Result<Vec<Likelihood>, ModelError> {
        let lens = self
            .lens
            .as_ref()
            .ok_or_else(|| ModelError::MissingTensor("final_norm.w".into()))?;
        let stack = self.stack()?;
        let width = self.arch.hidden;
        if branches.is_empty()
            || branches.len() != streams.len()
            || branches
                .iter()
                .zip(streams)
                .any(|(b, s)| b.is_empty() || s.len() != b.len() * width)
        {
            return Err(ModelError::Run(
                "every branch needs its tokens' stream, at least one token".into(),
            ));
        }
        let lens_of: Vec<usize> = branches.iter().map(Vec::len).collect();
        let (positions, bias, _) = layout(deep.len, 0, &lens_of);
        let rows = streams.concat();
        let out = stack.run(
            &deep.tensors,
            StackInput::Stream {
                rows: &rows,
                from: stack.layers(),
            },
            &positions,
            bias,
            false,
            Some(layer),
        )?;
        let stream = out
            .last
            .ok_or_else(|| ModelError::Run("the pass returned no stream".into()))?;
        branch_rows(0, branches)
            .enumerate()
            .map(|(b, rows)| {
                let rows = &stream[rows.start * width..rows.end * width];
                Ok(Likelihood::of(
                    &lens.log_probs(rows, &branches[b])?,
                    &token_parts[b],
                    parts[b],
                ))
            })
            .collect()
    }

    /// Like [`Model::pooled_hidden`], but every token's residual stream instead of
    /// their mean: `[branch][layer][tokens × hidden]`, row-major. Read-outs other
    /// than the mean are tried on these (`principle-checker features --states`).
    pub fn branch_states(
        &self,
        cache: &KvCache,
        shared: &[u32],
        branches: &[Vec<u32>],
    ) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
        self.per_branch(cache, shared, branches, |rows| rows.to_vec())
    }

    /// One head pass; `read` turns each branch's rows of each exported layer
    /// (`[tokens × hidden]`) into what the caller keeps:
    /// `[branch][layer]`.
    fn per_branch<T>(
        &self,
        cache: &KvCache,
        shared: &[u32],
        branches: &[Vec<u32>],
        read: impl Fn(&[f32]) -> T,
    ) -> Result<Vec<Vec<T>>, ModelError> {
        let out = self.run_branches(Pass::Head, cache, shared, branches, true)?;
        let width = self.arch.hidden;
        Ok(branch_rows(shared.len(), branches)
            .map(|rows| {
                out.hidden
                    .iter()
                    .map(|flat| read(&flat[rows.start * width..rows.end * width]))
                    .collect()
            })
            .collect())
    }

    /// `shared` continues `cache` causally; each branch then sees the cache, all of
    /// `shared` and its own earlier tokens.
    fn run_branches(
        &self,
        pass: Pass,
        cache: &KvCache,
        shared: &[u32],
        branches: &[Vec<u32>],
        want_hidden: bool,
    ) -> Result<RunOutput, ModelError> {
        if branches.is_empty() || branches.iter().any(|b| b.is_empty()) {
            return Err(ModelError::Run(
                "every branch needs at least one token".into(),
            ));
        }
        let lens: Vec<usize> = branches.iter().map(Vec::len).collect();
        let (positions, bias, ends) = layout(cache.len, shared.len(), &lens);
        let ids: Vec<u32> = shared
            .iter()
            .chain(branches.iter().flatten())
            .copied()
            .collect();
        self.pass(pass, cache, &ids, &positions, bias, &ends, want_hidden)
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        runner: &Runner,
        cache: &KvCache,
        ids: &[u32],
        positions: &[i64],
        bias: Vec<f32>,
        logits_at: &[usize],
        want_hidden: bool,
    ) -> Result<RunOutput, ModelError> {
        if cache.tensors.len() < runner.kv_slots.len() {
            return Err(ModelError::StaleCache);
        }
        let s = ids.len();
        let total = cache.len + s;
        let n_inputs = 4 + runner.kv_slots.len();
        let mut inputs: Vec<Option<TValue>> = vec![None; n_inputs];
        let ids: Vec<i64> = ids.iter().map(|&i| i as i64).collect();
        let at: Vec<i64> = logits_at.iter().map(|&i| i as i64).collect();
        inputs[runner.ids_input] = Some(
            Tensor::from_shape(&[1, s], &ids)
                .map_err(run_err)?
                .into_tvalue(),
        );
        inputs[runner.positions_input] = Some(
            Tensor::from_shape(&[1, s], positions)
                .map_err(run_err)?
                .into_tvalue(),
        );
        inputs[runner.bias_input] = Some(
            Tensor::from_shape(&[s, total], &bias)
                .map_err(run_err)?
                .into_tvalue(),
        );
        inputs[runner.logits_index_input] = Some(
            Tensor::from_shape(&[at.len()], &at)
                .map_err(run_err)?
                .into_tvalue(),
        );
        for (slot, &(input, _)) in runner.kv_slots.iter().enumerate() {
            inputs[input] = Some(cache.tensors[slot].clone());
        }
        let inputs: TVec<TValue> = inputs
            .into_iter()
            .map(|v| {
                v.ok_or_else(|| {
                    ModelError::Run("the model has an input the runtime does not know".into())
                })
            })
            .collect::<Result<_, _>>()?;
        let outputs = runner.plan.run(inputs).map_err(run_err)?;
        let view = outputs[runner.logits_output]
            .to_plain_array_view::<f32>()
            .map_err(run_err)?;
        let vocab = self.arch.vocab;
        if view.len() != at.len() * vocab {
            return Err(ModelError::Run(format!(
                "expected {} logits, got {}: the manifest's vocabulary size does not match the model",
                at.len() * vocab,
                view.len()
            )));
        }
        let flat: Vec<f32> = view.iter().copied().collect();
        let logits = flat.chunks(vocab).map(<[f32]>::to_vec).collect();
        let kv = runner
            .kv_slots
            .iter()
            .map(|&(_, output)| outputs[output].clone())
            .collect();
        let mut hidden = Vec::new();
        if want_hidden {
            for &(_, output) in &runner.hidden_outputs {
                let view = outputs[output]
                    .to_plain_array_view::<f32>()
                    .map_err(run_err)?;
                if view.len() != s * self.arch.hidden {
                    return Err(ModelError::Run(format!(
                        "expected {} hidden values, got {}: the manifest's hidden size does not match the model",
                        s * self.arch.hidden,
                        view.len()
                    )));
                }
                hidden.push(view.iter().copied().collect());
            }
        }
        Ok(RunOutput { logits, kv, hidden })
    }
}

/// Additive attention bias for positions a token must not see; finite, so a row
/// never becomes all −∞ (which would give NaN in softmax).
const MASKED: f32 = -1e9;

pub(super) fn run_err(e: TractError) -> ModelError {
    ModelError::Run(format!("{e:#}"))
}

/// Positions, `[rows, past + rows]` attention bias and each branch's last row for a
/// pass of `shared` rows continuing `past` cached tokens causally, then branches of
/// the given lengths, each of which sees the cache, all of `shared` and its own
/// earlier rows, never another branch.
fn layout(past: usize, shared: usize, branches: &[usize]) -> (Vec<i64>, Vec<f32>, Vec<usize>) {
    // visible to every row: the cache, then the shared tokens
    let p = past + shared;
    let s = shared + branches.iter().sum::<usize>();
    let total = past + s;
    let mut positions = Vec::with_capacity(s);
    let mut ends = Vec::with_capacity(branches.len());
    let mut bias = vec![MASKED; s * total];
    for i in 0..shared {
        let row = i * total;
        bias[row..row + past + i + 1].fill(0.0);
        positions.push((past + i) as i64);
    }
    let mut start = 0;
    for &len in branches {
        // a branch's rows sit after the shared ones and the earlier branches
        for t in 0..len {
            let row = (shared + start + t) * total;
            bias[row..row + p].fill(0.0);
            bias[row + p + start..row + p + start + t + 1].fill(0.0);
            positions.push((p + t) as i64);
        }
        start += len;
        ends.push(shared + start - 1);
    }
    (positions, bias, ends)
}

/// The rows of each branch in a pass that ran `shared` tokens, then the branches
/// one after another.
fn branch_rows(
    shared: usize,
    branches: &[Vec<u32>],
) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    branches.iter().scan(shared, |start, b| {
        let rows = *start..*start + b.len();
        *start += b.len();
        Some(rows)
    })
}

/// The mean of `rows` (`[tokens × width]`, row-major), summed in row order: the
/// pooled state the head reads.
pub fn mean_rows(rows: &[f32], width: usize) -> Vec<f32> {
    let mut mean = vec![0f32; width];
    for row in rows.chunks_exact(width) {
        for (m, x) in mean.iter_mut().zip(row) {
            *m += x;
        }
    }
    let n = (rows.len() / width) as f32;
    mean.iter_mut().for_each(|m| *m /= n);
    mean
}
