//! Scoring: prompts → tokens → model → answer-letter probabilities, for every
//! principle, every pair of responses and both orders.
//!
//! The work is arranged so the expensive part is done once: each ordering's shared
//! prefix is prefilled into a KV cache, and every principle runs only its suffix.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::constitution::Principle;
use crate::evidence::{self, ResponseEvidence};
use crate::head::{Dimension, Head};
use crate::model::{KvCache, Model, ModelError, ModelFiles, PooledLayers};
use crate::prompt::{self, Defence, Layout, Options, Template, OPTION_LETTERS};
use crate::repeats;
use crate::tokenizer::{TextTokenizer, TokenizerError};
use crate::verdict::{self, lead, PairJudgement, PrincipleVerdict, Summary};

/// The longest prompt (prefix + suffix) the judge accepts. Below the model's own
/// context, because attention cost and cache memory grow with it and a browser tab
/// must stay responsive; long inputs get a precise error instead.
pub const DEFAULT_MAX_PROMPT_TOKENS: usize = 2048;

/// The longest chain of thought generated; the paper's are a few sentences.
pub const MAX_REASONING_TOKENS: usize = 512;

#[derive(Debug, Error)]
pub enum JudgeError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("{part} is {part_tokens} tokens long, which makes the prompt {total} tokens; the limit is {limit}: shorten {part} by at least {over} tokens")]
    TooLong {
        part: String,
        part_tokens: usize,
        total: usize,
        limit: usize,
        over: usize,
    },
    #[error("at least 2 responses are needed; got {0}")]
    TooFewResponses(usize),
    #[error("no principles were selected")]
    NoPrinciples,
    #[error("the check was cancelled")]
    Cancelled,
    #[error("{0} has no trained judge head (the head needs the model converted with the layer it reads exported; run scripts/setup-model.sh): use zero-shot scoring")]
    NoHead(String),
}

/// How verdicts are computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scoring {
    /// The trained head reads the model's pooled hidden states ([`crate::head`]):
    /// the default whenever the model exports the layer the head reads.
    TrainedHead,
    /// The Constitutional AI multiple-choice prompt, read from the answer letters'
    /// probabilities; what a model without a trained head can do (at chance for the
    /// default model, see BENCHMARKS.md).
    ZeroShot,
}

impl Scoring {
    pub fn name(self) -> &'static str {
        match self {
            Scoring::TrainedHead => "trained-head",
            Scoring::ZeroShot => "zero-shot",
        }
    }

    pub fn parse(s: &str) -> Option<Scoring> {
        match s {
            "trained-head" => Some(Scoring::TrainedHead),
            "zero-shot" => Some(Scoring::ZeroShot),
            _ => None,
        }
    }
}

/// What to judge: a conversation transcript and the candidate final responses.
#[derive(Clone, Debug)]
pub struct CheckInput<'a> {
    pub transcript: &'a str,
    pub responses: &'a [String],
    pub principles: &'a [Principle],
}

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
    /// twice ([`crate::repeats`]); all zero for ordinary text.
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

/// The chain of thought for one principle and its clamped answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reasoning {
    pub text: String,
    /// P(first response better) read after the reasoning, before clamping.
    pub p_first_raw: f64,
    /// The same, clamped into [0.4, 0.6] as the paper does.
    pub p_first: f64,
    pub tokens: usize,
}

/// Progress reported after each principle; return `false` to stop.
pub type OnVerdict<'a> = dyn FnMut(&PrincipleVerdict, usize, usize) -> bool + 'a;

pub struct Judge {
    model: Model,
    tokenizer: TextTokenizer,
    letters: [u32; 2],
    eos: u32,
    pub layout: Layout,
    /// How the zero-shot prompt quotes untrusted text ([`prompt::Defence`]); the
    /// trained head always reads it as written.
    pub defence: Defence,
    /// Only [`Scoring::TrainedHead`] when `head` is loaded; see [`Judge::set_scoring`].
    scoring: Scoring,
    head: Option<Head>,
    /// Principle vectors computed for texts the head has none for (custom principles).
    principle_vectors: Mutex<HashMap<String, Vec<f32>>>,
    /// What the head has already read; see [`Readings`].
    readings: Mutex<Readings>,
    pub max_prompt_tokens: usize,
    /// Suffix tokens run together in the first pass of a check (small: the first
    /// verdict should appear quickly) and in every later pass.
    pub first_batch_tokens: usize,
    pub batch_tokens: usize,
    pub name: String,
}

/// What the trained head has read: the last conversation's keys and values, and the
/// pooled states of each response read after it, keyed by token ids.
///
/// A response's states depend only on the conversation and its own text, so text
/// read ahead while it was typed ([`Judge::read_ahead`]), a response left unchanged
/// while another was edited, or the same pair checked under other principles needs no
/// model pass at all: the check is a few dot products. Only one conversation is kept
/// (its cache is megabytes: 25 layers of keys and values per token); an edit to it
/// keeps the cache of the tokens before the edit.
///
/// Both are dropped when the whole decoder replaces the head's smaller graph (the
/// zero-shot prompt or a chain of thought needed logits): its cache has more layers,
/// and its states differ from the smaller graph's in the last digits, so a check
/// never mixes the two.
#[derive(Default)]
struct Readings {
    context: Vec<u32>,
    cache: Option<KvCache>,
    /// The conversation's state where the reply begins ([`Model::prefill_with_state`]).
    context_state: PooledLayers,
    responses: HashMap<Vec<u32>, Remembered>,
    /// Read by the whole decoder ([`Model::full_graph_built`]) rather than the head's graph.
    by_whole_decoder: bool,
}

/// One response's reading as [`Readings`] keeps it.
#[derive(Clone)]
struct Remembered {
    pooled: PooledLayers,
    /// The part of each token it was split by (text with the same tokens splits the
    /// same way, except where the tokenizer drops characters: then it is read again).
    token_parts: Vec<Option<usize>>,
    /// Each part's share of the pooled state, as the head's features (empty without
    /// a head).
    parts: Vec<Vec<f32>>,
}

/// What the head reads of one conversation and its responses, every exported layer.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The conversation's state at its last token, where the assistant's reply begins:
    /// what the request asks, for scores whose sense depends on it.
    pub conversation: PooledLayers,
    /// Each response's states pooled over its tokens.
    pub responses: Vec<PooledLayers>,
    /// Each response's parts (sentences, clauses), for evidence.
    pub parts: Vec<ResponseParts>,
}

/// A response split into the parts evidence names ([`crate::evidence::parts`]).
#[derive(Clone, Debug, Default)]
pub struct ResponseParts {
    /// The parts' texts, concatenating to the response as read.
    pub texts: Vec<String>,
    /// Each part's tokens' features summed and divided by the response's token
    /// count (the head's features; empty when no head is loaded).
    pub features: Vec<Vec<f32>>,
    /// Each part's fraction of the response's tokens.
    pub shares: Vec<f32>,
}

/// A response encoded as the assistant's turn: its tokens, and its parts.
struct Branch {
    ids: Vec<u32>,
    token_parts: Vec<Option<usize>>,
    parts: Vec<String>,
}

impl Branch {
    fn shares(&self) -> Vec<f32> {
        let n = self.ids.len() as f32;
        (0..self.parts.len())
            .map(|p| self.token_parts.iter().filter(|t| **t == Some(p)).count() as f32 / n)
            .collect()
    }
}

/// Responses remembered for the current conversation (about 20 KB each).
const MAX_REMEMBERED_RESPONSES: usize = 32;

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// What [`Judge::response_states`] read.
pub struct ResponseStates {
    /// The conversation's tokens, as the head reads it.
    pub context: Vec<u32>,
    /// Each response's tokens, as the assistant's turn after it.
    pub responses: Vec<Vec<u32>>,
    /// `[response][layer][tokens × hidden]`, layers in [`Model::hidden_layers`] order.
    pub states: Vec<Vec<Vec<f32>>>,
    /// The conversation's state where the reply begins, as [`Reading::conversation`].
    pub conversation: PooledLayers,
}

/// The responses as a check reads them: runs of a repeated sentence collapsed, so
/// that a head learns from what it will be shown.
fn collapsed(responses: &[String]) -> Vec<String> {
    responses
        .iter()
        .map(|r| repeats::collapse(r).0.into_owned())
        .collect()
}

/// Every ordered pair of distinct responses, (shown as A, shown as B), each pair
/// followed by its swap: the orders a zero-shot check scores.
pub fn ordered_pairs(n: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for i in 0..n {
        for j in (i + 1)..n {
            v.push((i, j));
            v.push((j, i));
        }
    }
    v
}

impl Judge {
    pub fn new(files: &ModelFiles) -> Result<Judge, JudgeError> {
        let tokenizer = TextTokenizer::from_bytes(&files.tokenizer)?;
        let arch = &files.manifest.architecture;
        if tokenizer.vocab_size() != arch.vocab {
            return Err(ModelError::VocabMismatch {
                tokenizer: tokenizer.vocab_size(),
                model: arch.vocab,
            }
            .into());
        }
        let letters = [
            tokenizer.single_token(OPTION_LETTERS[0])?,
            tokenizer.single_token(OPTION_LETTERS[1])?,
        ];
        let model = Model::load(&files.manifest, &files.onnx)?;
        // The embedded head is used only with the model it was trained on, converted
        // so that it exports the layer the head reads.
        let head = Some(Head::default_head()).filter(|h| {
            h.model == files.manifest.name
                && h.hidden == arch.hidden
                && h.readable_from(&model.hidden_layers())
        });
        Ok(Judge {
            scoring: if head.is_some() {
                Scoring::TrainedHead
            } else {
                Scoring::ZeroShot
            },
            head,
            principle_vectors: Mutex::new(HashMap::new()),
            readings: Mutex::new(Readings::default()),
            max_prompt_tokens: DEFAULT_MAX_PROMPT_TOKENS.min(arch.context_length),
            first_batch_tokens: 128,
            batch_tokens: 1024,
            eos: files.manifest.tokens.eos,
            name: files.manifest.name.clone(),
            model,
            tokenizer,
            letters,
            layout: Layout::default(),
            defence: Defence::default(),
        })
    }

    pub fn scoring(&self) -> Scoring {
        self.scoring
    }

    /// The zero-shot prompt this judge builds: its layout and defence.
    pub fn template(&self) -> Template {
        Template::new(self.layout, self.defence)
    }

    /// The trained head, when this model has one.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Chooses how verdicts are computed; the trained head needs a model that has one.
    pub fn set_scoring(&mut self, scoring: Scoring) -> Result<(), JudgeError> {
        if scoring == Scoring::TrainedHead && self.head.is_none() {
            return Err(JudgeError::NoHead(self.name.clone()));
        }
        self.scoring = scoring;
        Ok(())
    }

    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// P(option A) for a prompt whose last token precedes the answer letter.
    fn answer_probability(
        &self,
        cache: &KvCache,
        suffix: &[u32],
    ) -> Result<(f64, KvCache), JudgeError> {
        let (logits, cache) = self.model.forward(cache, suffix)?;
        let p = verdict::two_way(
            logits[self.letters[0] as usize],
            logits[self.letters[1] as usize],
        );
        Ok((p, cache))
    }

    /// Checks every prompt fits before any work starts, naming the longest part.
    fn check_lengths(
        &self,
        template: Template,
        transcript_tokens: usize,
        response_tokens: &[usize],
        principles: &[(usize, &Principle)],
    ) -> Result<(), JudgeError> {
        // the template's own tokens, plus a margin for merges at the joins
        let empty = Options {
            first: "",
            second: "",
        };
        let template = template.prefix("", empty) + &template.suffix("", empty);
        let fixed = self.tokenizer.encode(&template)?.len() + 8;
        let mut resp: Vec<(usize, usize)> = response_tokens.iter().copied().enumerate().collect();
        resp.sort_by_key(|r| std::cmp::Reverse(r.1));
        let (longest_principle, principle_tokens) = principles
            .iter()
            .map(|(n, p)| (p, *n))
            .max_by_key(|x| x.1)
            .expect("principles checked non-empty");
        let total = fixed + transcript_tokens + resp[0].1 + resp[1].1 + principle_tokens;
        if total <= self.max_prompt_tokens {
            return Ok(());
        }
        let mut parts = vec![
            ("the conversation".to_string(), transcript_tokens),
            (format!("response {}", resp[0].0 + 1), resp[0].1),
            (
                format!("principle {:?}", longest_principle.id),
                principle_tokens,
            ),
        ];
        parts.sort_by_key(|p| std::cmp::Reverse(p.1));
        let (part, part_tokens) = parts.swap_remove(0);
        Err(JudgeError::TooLong {
            part,
            part_tokens,
            total,
            limit: self.max_prompt_tokens,
            over: total - self.max_prompt_tokens,
        })
    }

    /// Judges every pair of responses under every principle, in both orders, calling
    /// `on_verdict` as each principle finishes (so a page can stream results).
    ///
    /// Each response is read with verbatim repeats of a sentence collapsed
    /// ([`crate::repeats`]); the result says how many sentences that left out.
    pub fn check(
        &self,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let (responses, ignored): (Vec<String>, Vec<usize>) = input
            .responses
            .iter()
            .map(|r| {
                let (text, n) = repeats::collapse(r);
                (text.into_owned(), n)
            })
            .unzip();
        let read = CheckInput {
            responses: &responses,
            ..*input
        };
        let mut result = self.check_as_read(&read, on_verdict)?;
        result.repeats_ignored = ignored;
        Ok(result)
    }

    fn check_as_read(
        &self,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let n = input.responses.len();
        if n < 2 {
            return Err(JudgeError::TooFewResponses(n));
        }
        if input.principles.is_empty() {
            return Err(JudgeError::NoPrinciples);
        }
        let trained_head = match (self.scoring, &self.head) {
            (Scoring::TrainedHead, Some(head)) => Some(head),
            _ => None,
        };
        // Lengths are those of the text the model reads: the zero-shot prompt quotes
        // the conversation and the responses through its defence; the trained head
        // reads them as written.
        let template = match trained_head {
            Some(_) => Template::new(self.layout, Defence::None),
            None => self.template(),
        };
        let read_tokens = |text: &str| {
            self.tokenizer
                .encode(&template.defence.quote(text))
                .map(|t| t.len())
        };
        let transcript_tokens = read_tokens(input.transcript)?;
        let response_tokens = input
            .responses
            .iter()
            .map(|r| read_tokens(r))
            .collect::<Result<Vec<_>, _>>()?;
        let principle_tokens = input
            .principles
            .iter()
            .map(|p| self.tokenizer.encode(&p.text).map(|t| (t.len(), p)))
            .collect::<Result<Vec<_>, _>>()?;
        self.check_lengths(
            template,
            transcript_tokens,
            &response_tokens,
            &principle_tokens,
        )?;
        if let Some(head) = trained_head {
            return self.check_with_head(head, input, on_verdict);
        }

        let orders = ordered_pairs(n);
        let mut tokens = 0usize;
        // prefix caches: principle-last has one per ordering, paper one in all
        let opts = |(a, b): (usize, usize)| Options {
            first: &input.responses[a],
            second: &input.responses[b],
        };
        // The conversation is prefilled once; in the principle-last layout each
        // ordering's options continue that cache, so no token is processed twice.
        let head = self.tokenizer.encode(&template.head(input.transcript))?;
        tokens += head.len();
        let (_, head_cache) = self.model.forward(&self.model.empty_cache(), &head)?;
        let mut caches: HashMap<(usize, usize), KvCache> = HashMap::new();
        match self.layout {
            Layout::Paper => {
                caches.insert((0, 0), head_cache);
            }
            Layout::PrincipleLast => {
                for &order in &orders {
                    let ids = self
                        .tokenizer
                        .encode(&template.shared_options(opts(order)))?;
                    tokens += ids.len();
                    caches.insert(order, self.model.forward(&head_cache, &ids)?.1);
                }
            }
        }
        let suffix_ids = |principle: &Principle, order| {
            self.tokenizer
                .encode(&template.suffix(&principle.text, opts(order)))
        };
        let mut verdicts = Vec::with_capacity(input.principles.len());
        let total = input.principles.len();
        let mut next = 0;
        while next < total {
            // The first batch is small so the first verdict shows quickly; later ones
            // fill a token budget, since one pass over many suffixes streams the
            // weights once instead of once per principle.
            let budget = if next == 0 {
                self.first_batch_tokens
            } else {
                self.batch_tokens
            };
            let mut batch: Vec<(usize, Vec<Vec<u32>>)> = Vec::new();
            let mut batch_tokens = 0;
            while next < total {
                let per_order = orders
                    .iter()
                    .map(|&o| suffix_ids(&input.principles[next], o))
                    .collect::<Result<Vec<_>, _>>()?;
                let t: usize = per_order.iter().map(Vec::len).sum();
                if !batch.is_empty() && batch_tokens + t > budget {
                    break;
                }
                batch_tokens += t;
                batch.push((next, per_order));
                next += 1;
            }
            tokens += batch_tokens;
            // p[principle in batch][order] = P(option A)
            let mut p = vec![vec![0.0; orders.len()]; batch.len()];
            let groups: Vec<((usize, usize), Vec<usize>)> = match self.layout {
                Layout::Paper => vec![((0, 0), (0..orders.len()).collect())],
                Layout::PrincipleLast => orders
                    .iter()
                    .enumerate()
                    .map(|(k, &o)| (o, vec![k]))
                    .collect(),
            };
            for (key, order_idx) in groups {
                let branches: Vec<Vec<u32>> = batch
                    .iter()
                    .flat_map(|(_, per_order)| order_idx.iter().map(|&k| per_order[k].clone()))
                    .collect();
                let logits = self.model.forward_branches(&caches[&key], &branches)?;
                for (b, l) in logits.iter().enumerate() {
                    let (row, k) = (b / order_idx.len(), order_idx[b % order_idx.len()]);
                    p[row][k] =
                        verdict::two_way(l[self.letters[0] as usize], l[self.letters[1] as usize]);
                }
            }
            for (row, (k, _)) in batch.iter().enumerate() {
                let shown_first = |o: (usize, usize)| {
                    p[row][orders.iter().position(|&x| x == o).expect("order listed")]
                };
                let pairs = orders
                    .iter()
                    .filter(|(a, b)| a < b)
                    .map(|&(a, b)| PairJudgement {
                        first: a,
                        second: b,
                        p_first_shown_first: shown_first((a, b)),
                        p_first_shown_second: 1.0 - shown_first((b, a)),
                        by_dimension: Vec::new(),
                        evidence: None,
                    })
                    .collect();
                let principle = &input.principles[*k];
                report_verdict(
                    &mut verdicts,
                    principle,
                    n,
                    pairs,
                    (k + 1, total),
                    on_verdict,
                )?;
            }
        }
        let mut result = CheckResult::new(Scoring::ZeroShot, self.layout, n, verdicts, tokens);
        result.defence = self.defence;
        Ok(result)
    }

    /// [`Judge::check`] with the trained head: one pass reads the responses after the
    /// conversation, principle vectors come precomputed (or from one more pass for
    /// custom principles), and every verdict is a few dot products.
    fn check_with_head(
        &self,
        head: &Head,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let n = input.responses.len();
        let exported = self.model.hidden_layers();
        let features = |pooled: &[Vec<f32>]| {
            head.features(&exported, pooled)
                .expect("the head is loaded only when its layers are exported")
        };
        let (reading, mut tokens) = self.read_responses(input.transcript, input.responses)?;
        let projection = head.projection_for(&features(&reading.conversation));
        let pooled: Vec<Vec<f32>> = reading.responses.iter().map(|l| features(l)).collect();
        let projections: Vec<Vec<f32>> = pooled
            .iter()
            .map(|x| head.response_projection(&projection, x))
            .collect();
        let evidence: Vec<ResponseEvidence> = pooled
            .iter()
            .zip(&reading.parts)
            .map(|(x, parts)| {
                let a = head.attribute(&projection, x, &parts.features, &parts.shares);
                ResponseEvidence {
                    parts: parts.texts.clone(),
                    score: head
                        .response_projection(&projection, x)
                        .iter()
                        .map(|&v| v as f64)
                        .collect(),
                    scores: a.parts,
                    rest: a.rest,
                }
            })
            .collect();
        let (vectors, principle_tokens) =
            self.principle_vectors(head, &features, input.principles)?;
        tokens += principle_tokens;
        let total = input.principles.len();
        let labels: Vec<String> = head.dimensions.iter().map(|d| d.label.clone()).collect();
        let mut verdicts = Vec::with_capacity(total);
        for (k, (principle, w)) in input.principles.iter().zip(&vectors).enumerate() {
            let pairs = ordered_pairs(n)
                .into_iter()
                .filter(|(a, b)| a < b)
                .map(|(a, b)| {
                    // antisymmetric: the same probability whichever is shown first
                    let p = Head::probability(&projections[a], &projections[b], w);
                    PairJudgement {
                        first: a,
                        second: b,
                        p_first_shown_first: p,
                        p_first_shown_second: p,
                        by_dimension: Head::contributions(&projections[a], &projections[b], w),
                        evidence: Some(evidence::pair_evidence(&evidence[a], &evidence[b], w)),
                    }
                })
                .collect();
            let mut v = PrincipleVerdict::new(&principle.id, &principle.group, n, pairs);
            v.weights = w.iter().map(|&x| x as f64).collect();
            v.too_close = lead(&v.preference, v.chosen) < head.too_close;
            v.because = explain(&v, &evidence, w, &labels);
            v.reads = Some(evidence::reads(w, &labels));
            report(&mut verdicts, v, (k + 1, total), on_verdict)?;
        }
        let mut result = CheckResult::new(Scoring::TrainedHead, self.layout, n, verdicts, tokens);
        result.dimensions = head.dimensions.clone();
        result.evidence = evidence;
        for s in result.groups.iter_mut().chain(result.overall.iter_mut()) {
            s.too_close = lead(&s.preference, s.chosen) < head.too_close;
        }
        Ok(result)
    }

    /// Each principle's head vector: precomputed for the default constitution,
    /// otherwise read by the model once and remembered. Returns the tokens run.
    fn principle_vectors(
        &self,
        head: &Head,
        features: &dyn Fn(&[Vec<f32>]) -> Vec<f32>,
        principles: &[Principle],
    ) -> Result<(Vec<Vec<f32>>, usize), JudgeError> {
        let mut computed = self
            .principle_vectors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut missing: Vec<&str> = principles
            .iter()
            .map(|p| p.text.as_str())
            .filter(|t| head.known_principle(t).is_none() && !computed.contains_key(*t))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let mut tokens = 0;
        if !missing.is_empty() {
            tokens += self.tokenizer.encode(prompt::PRINCIPLE_INTRO)?.len();
            for t in &missing {
                tokens += self.tokenizer.encode(&prompt::principle_text(t))?.len();
            }
            for (t, layers) in missing.iter().zip(self.principle_features(&missing)?) {
                computed.insert(t.to_string(), head.principle_vector(&features(&layers)));
            }
        }
        let vectors = principles
            .iter()
            .map(|p| {
                head.known_principle(&p.text)
                    .map(<[f32]>::to_vec)
                    .unwrap_or_else(|| computed[&p.text].clone())
            })
            .collect();
        Ok((vectors, tokens))
    }

    /// What the trained head takes each principle text to mean ([`evidence::reads`])
    /// and its weights over the head's dimensions, before any check: what an editor
    /// shows while a principle is written. The vectors are remembered as a check
    /// remembers them, so a check under the same text reads it no second time.
    pub fn principle_reads(&self, texts: &[&str]) -> Result<Vec<PrincipleReads>, JudgeError> {
        let head = self
            .head
            .as_ref()
            .ok_or_else(|| JudgeError::NoHead(self.name.clone()))?;
        let exported = self.model.hidden_layers();
        let features = |pooled: &[Vec<f32>]| {
            head.features(&exported, pooled)
                .expect("the head is loaded only when its layers are exported")
        };
        let principles: Vec<Principle> = texts
            .iter()
            .map(|t| Principle {
                id: String::new(),
                group: String::new(),
                text: t.to_string(),
                articles: None,
                note: None,
            })
            .collect();
        let (vectors, _) = self.principle_vectors(head, &features, &principles)?;
        let labels: Vec<String> = head.dimensions.iter().map(|d| d.label.clone()).collect();
        Ok(vectors
            .into_iter()
            .map(|w| PrincipleReads {
                reads: evidence::reads(&w, &labels),
                weights: w.iter().map(|&x| x as f64).collect(),
            })
            .collect())
    }

    /// Each response read as the assistant's turn after the conversation, pooled
    /// (`[response][layer][hidden]` over the layers the graph exports), and the
    /// conversation's own state where the reply begins. The conversation is run once
    /// and the responses continue it side by side.
    pub fn response_features(
        &self,
        transcript: &str,
        responses: &[String],
    ) -> Result<Reading, JudgeError> {
        let responses = collapsed(responses);
        Ok(self.read_responses(transcript, &responses)?.0)
    }

    /// Only the conversation's state of [`Judge::response_features`] (the responses
    /// are encoded to refuse what would not fit, as a check does, but not run):
    /// for adding that state to features exported before it was kept. Nothing is
    /// remembered.
    pub fn conversation_features(
        &self,
        transcript: &str,
        responses: &[String],
    ) -> Result<PooledLayers, JudgeError> {
        let (context, _) = self.encode_reading(transcript, &collapsed(responses))?;
        Ok(self
            .model
            .prefill_with_state(&self.model.empty_cache(), &context)?
            .1)
    }

    /// Reads `responses` after the conversation ahead of a check, so that the check
    /// itself finds them read: the page calls it as the text settles. Takes what a
    /// check would take, one response or more (each as [`crate::conversation::readable_response`]
    /// gives it); returns the tokens the model ran (0 when everything was read before,
    /// and always with zero-shot scoring, whose prompts depend on the principle).
    pub fn read_ahead(&self, transcript: &str, responses: &[String]) -> Result<usize, JudgeError> {
        if self.head.is_none() || self.scoring != Scoring::TrainedHead {
            return Ok(0);
        }
        let responses = collapsed(responses);
        Ok(self.read_responses(transcript, &responses)?.1)
    }

    /// Forgets what [`Judge::read_ahead`] and earlier checks read, so the next check
    /// runs the model again: for benchmarks, which time the same text repeatedly.
    pub fn forget_readings(&self) {
        *self.lock_readings() = Readings::default();
    }

    fn lock_readings(&self) -> std::sync::MutexGuard<'_, Readings> {
        self.readings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// [`Judge::response_features`] and the number of tokens the model ran: the
    /// conversation once (unless [`Readings`] holds it), then every response not read
    /// before, side by side in one pass over its cache.
    fn read_responses(
        &self,
        transcript: &str,
        responses: &[String],
    ) -> Result<(Reading, usize), JudgeError> {
        let (context, branches) = self.encode_reading(transcript, responses)?;
        let mut readings = self.lock_readings();
        match self.read_into(&mut readings, &context, &branches) {
            // the whole decoder replaced the head's graph while the conversation was
            // read (another thread needed logits)
            Err(JudgeError::Model(ModelError::StaleCache)) => {
                *readings = Readings::default();
                self.read_into(&mut readings, &context, &branches)
            }
            read => read,
        }
    }

    /// The tokens of the conversation as the head reads it, and of each response as
    /// the assistant's turn after it; refused when a response would not fit after it.
    fn encode_reading(
        &self,
        transcript: &str,
        responses: &[String],
    ) -> Result<(Vec<u32>, Vec<Branch>), JudgeError> {
        let context = self.tokenizer.encode(&prompt::context(transcript))?;
        let branches = responses
            .iter()
            .map(|r| {
                let turn = prompt::response_turn(r);
                // the turn ends with the response as read
                let text = r.trim();
                let start = turn.len() - text.len();
                let ranges = evidence::parts(text);
                let (ids, offsets) = self.tokenizer.encode_with_offsets(&turn)?;
                Ok(Branch {
                    ids,
                    token_parts: evidence::token_parts(&offsets, start, &ranges),
                    parts: ranges.into_iter().map(|p| text[p].to_string()).collect(),
                })
            })
            .collect::<Result<Vec<_>, JudgeError>>()?;
        let longest = branches.iter().map(|b| b.ids.len()).max().unwrap_or(0);
        if context.len() + longest > self.max_prompt_tokens {
            let total = context.len() + longest;
            return Err(JudgeError::TooLong {
                part: "the conversation and the longest response".into(),
                part_tokens: total,
                total,
                limit: self.max_prompt_tokens,
                over: total - self.max_prompt_tokens,
            });
        }
        Ok((context, branches))
    }

    /// Every token's residual stream of each response read as [`Judge::response_features`]
    /// reads it, with the tokens read: for trying read-outs other than the mean, and
    /// for training on the states (`principle-checker features --states`). Nothing
    /// is remembered.
    pub fn response_states(
        &self,
        transcript: &str,
        responses: &[String],
    ) -> Result<ResponseStates, JudgeError> {
        let responses = collapsed(responses);
        let (context, branches) = self.encode_reading(transcript, &responses)?;
        let (cache, conversation) = self
            .model
            .prefill_with_state(&self.model.empty_cache(), &context)?;
        let branches: Vec<Vec<u32>> = branches.into_iter().map(|b| b.ids).collect();
        let states = self.model.branch_states(&cache, &[], &branches)?;
        Ok(ResponseStates {
            context,
            responses: branches,
            states,
            conversation,
        })
    }

    /// [`Judge::read_responses`] once [`Readings`] is locked.
    fn read_into(
        &self,
        readings: &mut Readings,
        context: &[u32],
        branches: &[Branch],
    ) -> Result<(Reading, usize), JudgeError> {
        let mut tokens = 0;
        let whole = self.model.full_graph_built();
        let cache = match &readings.cache {
            Some(cache) if readings.context == context && readings.by_whole_decoder == whole => {
                cache.clone()
            }
            cached => {
                // an edit keeps the conversation's cache up to its first changed token
                let kept = match cached {
                    Some(cache) if readings.by_whole_decoder == whole => {
                        let same = common_prefix(&readings.context, context);
                        // at least one token to run: the last one's state is what follows
                        cache.truncated(same.min(context.len().saturating_sub(1)))?
                    }
                    _ => self.model.empty_cache(),
                };
                let (cache, context_state) = self
                    .model
                    .prefill_with_state(&kept, &context[kept.len()..])?;
                tokens += context.len() - kept.len();
                *readings = Readings {
                    context: context.to_vec(),
                    cache: Some(cache.clone()),
                    context_state,
                    responses: HashMap::new(),
                    by_whole_decoder: whole,
                };
                cache
            }
        };
        let mut missing: Vec<&Branch> = branches
            .iter()
            .filter(|b| {
                readings
                    .responses
                    .get(&b.ids)
                    .is_none_or(|r| r.token_parts != b.token_parts)
            })
            .collect();
        missing.sort_unstable_by(|a, b| a.ids.cmp(&b.ids));
        missing.dedup_by(|a, b| a.ids == b.ids);
        if !missing.is_empty() {
            let ids: Vec<Vec<u32>> = missing.iter().map(|b| b.ids.clone()).collect();
            let token_parts: Vec<Vec<Option<usize>>> =
                missing.iter().map(|b| b.token_parts.clone()).collect();
            let counts: Vec<usize> = missing.iter().map(|b| b.parts.len()).collect();
            let read = self
                .model
                .pooled_parts(&cache, &[], &ids, &token_parts, &counts)?;
            tokens += ids.iter().map(Vec::len).sum::<usize>();
            if readings.responses.len() + missing.len() > MAX_REMEMBERED_RESPONSES {
                readings
                    .responses
                    .retain(|ids, _| branches.iter().any(|b| &b.ids == ids));
            }
            let exported = self.model.hidden_layers();
            for ((ids, token_parts), (pooled, parts)) in ids.into_iter().zip(token_parts).zip(read)
            {
                let parts = match &self.head {
                    Some(head) if head.readable_from(&exported) => parts
                        .iter()
                        .filter_map(|p| head.features(&exported, p))
                        .collect(),
                    _ => Vec::new(),
                };
                readings.responses.insert(
                    ids,
                    Remembered {
                        pooled,
                        token_parts,
                        parts,
                    },
                );
            }
        }
        let reading = Reading {
            conversation: readings.context_state.clone(),
            responses: branches
                .iter()
                .map(|b| readings.responses[&b.ids].pooled.clone())
                .collect(),
            parts: branches
                .iter()
                .map(|b| ResponseParts {
                    texts: b.parts.clone(),
                    features: readings.responses[&b.ids].parts.clone(),
                    shares: b.shares(),
                })
                .collect(),
        };
        Ok((reading, tokens))
    }

    /// Each principle's text read after [`prompt::PRINCIPLE_INTRO`], pooled like
    /// [`Judge::response_features`]; all principles run in one pass.
    pub fn principle_features(&self, texts: &[&str]) -> Result<Vec<PooledLayers>, JudgeError> {
        let intro = self.tokenizer.encode(prompt::PRINCIPLE_INTRO)?;
        let cache = self.model.prefill(&self.model.empty_cache(), &intro)?;
        let branches = texts
            .iter()
            .map(|t| self.tokenizer.encode(&prompt::principle_text(t)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(texts.len());
        // a bounded number of tokens per pass: the attention bias is tokens × total
        let mut start = 0;
        while start < branches.len() {
            let mut end = start;
            let mut n = 0;
            while end < branches.len()
                && (end == start || n + branches[end].len() <= self.batch_tokens)
            {
                n += branches[end].len();
                end += 1;
            }
            out.extend(
                self.model
                    .pooled_hidden(&cache, &[], &branches[start..end])?,
            );
            start = end;
        }
        Ok(out)
    }

    /// Scores one prompt in a single forward pass, without prefix reuse: the
    /// reference that the cached path must match.
    pub fn score_uncached(
        &self,
        transcript: &str,
        principle: &str,
        first: &str,
        second: &str,
    ) -> Result<f64, JudgeError> {
        let o = Options { first, second };
        let ids = self.prompt_ids(transcript, &self.template().suffix(principle, o), o)?;
        Ok(self.answer_probability(&self.model.empty_cache(), &ids)?.0)
    }

    /// The tokens of a whole prompt: the shared prefix, then `tail`, tokenized apart
    /// exactly as the cached path does.
    fn prompt_ids(&self, transcript: &str, tail: &str, o: Options) -> Result<Vec<u32>, JudgeError> {
        let template = self.template();
        let mut ids = self.tokenizer.encode(&template.head(transcript))?;
        ids.extend(self.tokenizer.encode(&template.shared_options(o))?);
        ids.extend(self.tokenizer.encode(tail)?);
        Ok(ids)
    }

    /// Writes a chain of thought about which of `first`/`second` better satisfies the
    /// principle, streaming text through `on_text` (return `false` to stop early),
    /// then reads the answer and clamps it.
    pub fn reason(
        &self,
        transcript: &str,
        principle: &str,
        first: &str,
        second: &str,
        max_new_tokens: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Reasoning, JudgeError> {
        let o = Options { first, second };
        let chat = self
            .tokenizer
            .special_token(prompt::CHAT_START)
            .zip(self.tokenizer.special_token(prompt::CHAT_END));
        let ids = match chat {
            Some((start, end)) => {
                let mut ids = vec![start];
                ids.extend(self.tokenizer.encode(prompt::CHAT_USER)?);
                ids.extend(self.prompt_ids(
                    transcript,
                    &self.template().reasoning_question(principle, o),
                    o,
                )?);
                ids.push(end);
                ids.extend(self.tokenizer.encode("\n")?);
                ids.push(start);
                ids.extend(self.tokenizer.encode(prompt::CHAT_ASSISTANT)?);
                ids.extend(self.tokenizer.encode(prompt::REASONING_CUE)?);
                ids
            }
            None => self.prompt_ids(
                transcript,
                &self.template().reasoning_suffix(principle, o),
                o,
            )?,
        };
        let max_new_tokens = max_new_tokens.min(MAX_REASONING_TOKENS);
        if ids.len() > self.max_prompt_tokens {
            return Err(JudgeError::TooLong {
                part: "the reasoning prompt".into(),
                part_tokens: ids.len(),
                total: ids.len(),
                limit: self.max_prompt_tokens,
                over: ids.len() - self.max_prompt_tokens,
            });
        }
        let (mut logits, prompt_cache) = self.model.forward(&self.model.empty_cache(), &ids)?;
        let mut cache = prompt_cache.clone();
        let mut generated: Vec<u32> = Vec::new();
        let mut text = String::new();
        for _ in 0..max_new_tokens {
            let next = greedy(&logits, &generated);
            if next == self.eos {
                break;
            }
            generated.push(next);
            let decoded = self.tokenizer.decode(&generated)?;
            // emit only whole characters: a multi-byte character may span tokens
            if !decoded.ends_with('\u{FFFD}')
                && decoded.len() > text.len()
                && decoded.starts_with(&text)
            {
                let delta = decoded[text.len()..].to_string();
                text = decoded;
                if !on_text(&delta) {
                    break;
                }
            }
            if stop_reasoning(&text) {
                break;
            }
            let (l, c) = self.model.forward(&cache, &[next])?;
            logits = l;
            cache = c;
        }
        let text = trim_reasoning(&text);
        // score after the reasoning as written (trimmed), asking again for the letter
        let mut tail = self.tokenizer.encode(&text)?;
        tail.extend(self.tokenizer.encode(prompt::REASONING_ANSWER_CUE)?);
        let (p, _) = self.answer_probability(&prompt_cache, &tail)?;
        Ok(Reasoning {
            tokens: generated.len(),
            p_first_raw: p,
            p_first: verdict::clamp_after_reasoning(p),
            text,
        })
    }
}

/// [`evidence::summary`] of a verdict: its chosen response against the runner-up.
fn explain(
    v: &PrincipleVerdict,
    evidence: &[ResponseEvidence],
    w: &[f32],
    labels: &[String],
) -> Option<String> {
    let pair = v.deciding_pair()?;
    let reasons = evidence::reasons(
        pair.evidence.as_ref()?,
        (pair.first, pair.second),
        (&evidence[pair.first], &evidence[pair.second]),
        w,
        v.chosen,
    );
    let texts: Vec<Vec<String>> = evidence.iter().map(|e| e.parts.clone()).collect();
    Some(evidence::summary(&reasons, v.chosen, &texts, labels))
}

/// What one principle text is judged on ([`Judge::principle_reads`]).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrincipleReads {
    /// In words: each dimension's share of the principle's weight.
    pub reads: String,
    /// The weight of each of the head's dimensions.
    pub weights: Vec<f64>,
}

/// Records one principle's verdict and streams it; `Err(Cancelled)` when the consumer
/// asks to stop (what it has already received is what a cancelled run keeps).
fn report_verdict(
    verdicts: &mut Vec<PrincipleVerdict>,
    principle: &Principle,
    n: usize,
    pairs: Vec<PairJudgement>,
    progress: (usize, usize),
    on_verdict: &mut OnVerdict,
) -> Result<(), JudgeError> {
    let v = PrincipleVerdict::new(&principle.id, &principle.group, n, pairs);
    report(verdicts, v, progress, on_verdict)
}

/// Hands a verdict to the caller and keeps it; stops when the caller cancels.
fn report(
    verdicts: &mut Vec<PrincipleVerdict>,
    v: PrincipleVerdict,
    (done, total): (usize, usize),
    on_verdict: &mut OnVerdict,
) -> Result<(), JudgeError> {
    let go_on = on_verdict(&v, done, total);
    verdicts.push(v);
    if go_on {
        Ok(())
    } else {
        Err(JudgeError::Cancelled)
    }
}

/// Keskar et al.'s (CTRL) repetition penalty: greedy decoding of a 135M model
/// otherwise loops on one sentence ("2. … 3. … 4. …" with the same words).
pub const REPETITION_PENALTY: f32 = 1.3;

/// The most likely next token after penalizing tokens already written.
fn greedy(logits: &[f32], written: &[u32]) -> u32 {
    let penalized = |i: usize| {
        let x = logits[i];
        if !written.contains(&(i as u32)) {
            x
        } else if x > 0.0 {
            x / REPETITION_PENALTY
        } else {
            x * REPETITION_PENALTY
        }
    };
    let mut best = 0;
    let mut best_score = penalized(0);
    for (i, &raw) in logits.iter().enumerate().skip(1) {
        // cheap test first: a penalty only lowers a score
        if raw > best_score {
            let x = penalized(i);
            if x > best_score {
                best = i;
                best_score = x;
            }
        }
    }
    best as u32
}

/// A small model rambles on into new "questions" or writes its own answer line; the
/// reasoning ends at either, and the judge asks for the answer itself.
fn stop_reasoning(text: &str) -> bool {
    text.contains("\n\n\n")
        || text.contains("answer is")
        || text.contains("\nHuman:")
        || text.contains("\nOptions:")
}

fn trim_reasoning(text: &str) -> String {
    let mut t = text;
    for cut in ["\n\n\n", "\nHuman:", "\nOptions:"] {
        if let Some(i) = t.find(cut) {
            t = &t[..i];
        }
    }
    if let Some(i) = t.find("answer is") {
        // drop the sentence that starts to state the answer; the judge reads it itself
        let start = t[..i].rfind(['\n', '.']).map(|j| j + 1).unwrap_or(0);
        t = &t[..start];
    }
    t.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_penalizes_tokens_already_written() {
        assert_eq!(greedy(&[1.0, 2.0, 1.8], &[]), 1);
        // 2.0 / 1.3 = 1.54 < 1.8
        assert_eq!(greedy(&[1.0, 2.0, 1.8], &[1]), 2);
        // a negative logit is pushed further down, not up
        assert_eq!(greedy(&[-1.0, -1.2], &[0]), 1);
    }

    #[test]
    fn ordered_pairs_cover_both_orders() {
        assert_eq!(ordered_pairs(2), vec![(0, 1), (1, 0)]);
        assert_eq!(ordered_pairs(3).len(), 6);
    }

    #[test]
    fn reasoning_is_trimmed_before_an_answer_line() {
        assert_eq!(
            trim_reasoning(" A is kind. B is rude.\nSo the answer is (A)"),
            " A is kind. B is rude."
        );
        assert_eq!(trim_reasoning("A helps.\n\n\nHuman: more"), "A helps.");
        assert!(stop_reasoning("x\nOptions:"));
        assert!(!stop_reasoning("A helps."));
    }
}
