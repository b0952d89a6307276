//! The judge: a conversation, its responses and the principles in; a verdict per
//! principle, summaries, a ranking and the evidence out.
//!
//! [`Judge::check`] checks the input fits, then scores it one of two ways: the
//! trained head ([`trained`], the default; it reads [`readings`] kept between checks)
//! or the zero-shot prompt ([`zero_shot`]). Both hand each verdict to the caller as it
//! is made, so a page can stream them and cancel between batches; [`result`]
//! aggregates them. [`reasoning`] writes an optional chain of thought.
//! [`verdict`] and [`evidence`] are the pure maths; [`head`] is the trained head.

pub mod edits;
pub mod evidence;
pub mod head;
mod readings;
mod reasoning;
mod result;
mod trained;
pub mod verdict;
mod zero_shot;

pub use readings::{Reading, ResponseParts, ResponseStates};
pub use reasoning::{Reasoning, ReasoningRun, MAX_REASONING_TOKENS, REPETITION_PENALTY};
pub use result::CheckResult;
pub use trained::PrincipleReads;
pub use zero_shot::ordered_pairs;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::engine::tokenizer::{TextTokenizer, TokenizerError};
use crate::engine::{Model, ModelError, ModelFiles};
use crate::text::constitution::Principle;
use crate::text::named::{self, Named, UnknownName};
use crate::text::prompt::{Defence, Layout, Options, Template, OPTION_LETTERS};
use crate::text::repeats;
use head::Head;
use readings::Readings;
use verdict::{PairJudgement, PrincipleVerdict};

/// The longest prompt (prefix + suffix) the judge accepts. Below the model's own
/// context, because attention cost and cache memory grow with it and a browser tab
/// must stay responsive; long inputs get a precise error instead.
pub const DEFAULT_MAX_PROMPT_TOKENS: usize = 2048;

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
    /// The trained head reads the model's pooled hidden states ([`crate::judge::head`]):
    /// the default whenever the model exports the layer the head reads.
    TrainedHead,
    /// The Constitutional AI multiple-choice prompt, read from the answer letters'
    /// probabilities; what a model without a trained head can do (at chance for the
    /// default model, see BENCHMARKS.md).
    ZeroShot,
}

impl Named for Scoring {
    const WHAT: &'static str = "scoring";
    const ALL: &'static [Scoring] = &[Scoring::TrainedHead, Scoring::ZeroShot];
    fn name(self) -> &'static str {
        match self {
            Scoring::TrainedHead => "trained-head",
            Scoring::ZeroShot => "zero-shot",
        }
    }
}

impl std::str::FromStr for Scoring {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Scoring, UnknownName> {
        named::parse(s)
    }
}

/// What to judge: a conversation transcript and the candidate final responses.
#[derive(Clone, Debug)]
pub struct CheckInput<'a> {
    pub transcript: &'a str,
    pub responses: &'a [String],
    pub principles: &'a [Principle],
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
    /// verdict should appear quickly) and in every later pass. A pass is a step a
    /// caller can cancel between, so passes are kept short; past a few hundred tokens
    /// a longer pass is no faster anyway (its attention bias grows with tokens × total).
    pub first_batch_tokens: usize,
    pub batch_tokens: usize,
    pub name: String,
    /// Read each response's likelihood ([`crate::engine::lens`]) even when the head's
    /// scores do not use it: for training a head that will (`features`). Off, a check
    /// spends nothing on it.
    pub read_likelihood: bool,
}

impl Judge {
    /// Takes the files by value: the model file is kept, not copied, for the whole
    /// decoder ([`Model::load`]).
    pub fn new(files: ModelFiles) -> Result<Judge, JudgeError> {
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
        let model = Model::load(&files.manifest, files.onnx)?;
        // The embedded head is used only with the model it was trained on, converted
        // so that it exports the layers the head reads.
        let head = Some(Head::default_head()).filter(|h| {
            h.model == files.manifest.name
                && h.hidden == arch.hidden
                && h.readable_from(&model.hidden_layers())
                && h.edit_layer().is_none_or(|l| l < arch.layers)
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
            batch_tokens: 256,
            read_likelihood: false,
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
    /// ([`crate::text::repeats`]); the result says how many sentences that left out.
    /// The same as [`Judge::begin`], then [`Judge::step`] until it is done.
    pub fn check(
        &self,
        input: &CheckInput,
        on_verdict: &mut OnVerdict,
    ) -> Result<CheckResult, JudgeError> {
        let mut run = self.begin(input)?;
        while !self.step(&mut run, on_verdict)? {}
        Ok(run.standing())
    }

    /// A check that has not run yet: the input is validated and its lengths checked
    /// (so every refusal comes before any model work), nothing is read.
    pub fn begin(&self, input: &CheckInput) -> Result<CheckRun, JudgeError> {
        let (responses, ignored): (Vec<String>, Vec<usize>) = input
            .responses
            .iter()
            .map(|r| {
                let (text, n) = repeats::collapse(r);
                (text.into_owned(), n)
            })
            .unzip();
        let n = responses.len();
        if n < 2 {
            return Err(JudgeError::TooFewResponses(n));
        }
        if input.principles.is_empty() {
            return Err(JudgeError::NoPrinciples);
        }
        let trained_head = self.scoring == Scoring::TrainedHead && self.head.is_some();
        // Lengths are those of the text the model reads: the zero-shot prompt quotes
        // the conversation and the responses through its defence; the trained head
        // reads them as written.
        let template = if trained_head {
            Template::new(self.layout, Defence::None)
        } else {
            self.template()
        };
        let read_tokens = |text: &str| {
            self.tokenizer
                .encode(&template.defence.quote(text))
                .map(|t| t.len())
        };
        let transcript_tokens = read_tokens(input.transcript)?;
        let response_tokens = responses
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
        Ok(CheckRun {
            transcript: input.transcript.to_string(),
            responses,
            principles: input.principles.to_vec(),
            repeats_ignored: ignored,
            scoring: if trained_head {
                Scoring::TrainedHead
            } else {
                Scoring::ZeroShot
            },
            template,
            verdicts: Vec::new(),
            tokens: 0,
            stage: Stage::Start,
        })
    }

    /// Advances a check by one step: with the trained head, the whole check (one
    /// model pass at most, then dot products); zero-shot, the shared prefixes first,
    /// then one batch of principles a step. Returns whether the check is done. A
    /// caller that must stay responsive (the page's worker) yields between steps, so
    /// a Cancel gets through; what was read stays remembered for the next check.
    pub fn step(&self, run: &mut CheckRun, on_verdict: &mut OnVerdict) -> Result<bool, JudgeError> {
        let input = CheckInput {
            transcript: &run.transcript,
            responses: &run.responses,
            principles: &run.principles,
        };
        match std::mem::replace(&mut run.stage, Stage::Done(None)) {
            Stage::Done(result) => {
                run.stage = Stage::Done(result);
                Ok(true)
            }
            Stage::Start if run.scoring == Scoring::TrainedHead => {
                let head = self.head.as_ref().expect("checked by begin");
                let mut verdicts = Vec::new();
                let result = self.check_with_head(head, &input, &mut |v, done, total| {
                    verdicts.push(v.clone());
                    on_verdict(v, done, total)
                });
                run.verdicts = verdicts;
                let mut result = result?;
                result.repeats_ignored = run.repeats_ignored.clone();
                run.tokens = result.tokens_processed;
                run.stage = Stage::Done(Some(Box::new(result)));
                Ok(true)
            }
            Stage::Start => {
                let (state, tokens) = self.zero_shot_prefixes(run.template, &input)?;
                run.tokens += tokens;
                run.stage = Stage::ZeroShot(state);
                Ok(false)
            }
            Stage::ZeroShot(mut state) => {
                let (verdicts, tokens) = (&mut run.verdicts, &mut run.tokens);
                let done =
                    self.zero_shot_batch(&mut state, &input, verdicts, tokens, on_verdict)?;
                run.stage = if done {
                    Stage::Done(None)
                } else {
                    Stage::ZeroShot(state)
                };
                Ok(done)
            }
        }
    }
}

/// A check in progress ([`Judge::begin`], [`Judge::step`]): its input as read, the
/// verdicts so far, and where it stands.
pub struct CheckRun {
    transcript: String,
    /// As read: repeats collapsed.
    responses: Vec<String>,
    principles: Vec<Principle>,
    repeats_ignored: Vec<usize>,
    scoring: Scoring,
    template: Template,
    verdicts: Vec<PrincipleVerdict>,
    tokens: usize,
    stage: Stage,
}

enum Stage {
    Start,
    ZeroShot(zero_shot::Prefixes),
    /// The trained head's result carries its evidence; zero-shot's is aggregated.
    Done(Option<Box<CheckResult>>),
}

impl CheckRun {
    /// Principles judged so far, and how many there are.
    pub fn progress(&self) -> (usize, usize) {
        (self.verdicts.len(), self.principles.len())
    }

    /// The result as it stands: the finished result once done, otherwise the
    /// verdicts so far with their summaries and ranking (Bradley–Terry over the
    /// principles judged), aggregated exactly as a finished check aggregates them.
    pub fn standing(&self) -> CheckResult {
        if let Stage::Done(Some(result)) = &self.stage {
            return (**result).clone();
        }
        let mut result = CheckResult::new(
            self.scoring,
            self.template.layout,
            self.responses.len(),
            self.verdicts.clone(),
            self.tokens,
        );
        if self.scoring == Scoring::ZeroShot {
            result.defence = self.template.defence;
        }
        result.repeats_ignored = self.repeats_ignored.clone();
        result
    }
}

/// Records one principle's verdict and streams it; `Err(Cancelled)` when the consumer
/// asks to stop (what it has already received is what a cancelled run keeps).
pub(super) fn report_verdict(
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
pub(super) fn report(
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
