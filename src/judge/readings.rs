//! What the trained head has read, kept between checks: the conversation's KV cache
//! and each response's pooled states, keyed by token ids, so read-ahead, an edit to
//! one response, or another set of principles runs the model only on what is new.

use std::collections::HashMap;

use super::{Judge, JudgeError, Scoring};
use crate::engine::{KvCache, Likelihood, ModelError, PooledLayers, Prefilled};
use crate::judge::{edits, evidence};
use crate::text::{prompt, repeats};

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
pub(super) struct Readings {
    context: Vec<u32>,
    cache: Option<KvCache>,
    /// The conversation's state where the reply begins ([`Model::prefill_with_state`]).
    context_state: PooledLayers,
    /// Every conversation token's stream at the head's last layer, and the cache of
    /// the layers after it through the lens layer once a check needed it
    /// ([`Judge::read_lens_apart`]): a pass reading past the head's layers continues
    /// the head's pass instead of running the conversation again.
    context_stream: Vec<f32>,
    deep: Option<(usize, KvCache)>,
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
    /// How likely the model found its tokens, read at the head's lens layer (`None`
    /// when not read): in the head's pass where it runs that layer, else by running on
    /// past the head's layers ([`Judge::read_lens_apart`]).
    likelihood: Option<Likelihood>,
    /// Its tokens' stream at the head's last layer, where that pass continues from;
    /// kept only while the response is among those last read and its likelihood is
    /// still to read (a long response's is megabytes).
    stream: Option<Vec<f32>>,
}

/// What the head reads of one conversation and its responses, every exported layer.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The conversation's state at its last token, where the assistant's reply begins:
    /// what the request asks, for scores whose sense depends on it.
    pub conversation: PooledLayers,
    /// Each response's states pooled over its tokens.
    pub responses: Vec<PooledLayers>,
    /// The mean log-probability of each response's tokens as the model read them
    /// ([`crate::engine::lens`]); `None` unless the head reads it (or
    /// [`Judge::read_likelihood`]) and the model has a lens.
    pub likelihood: Vec<Option<f32>>,
    /// Each response's parts (sentences, clauses), for evidence.
    pub parts: Vec<ResponseParts>,
}

/// A response split into the parts evidence names ([`crate::judge::evidence::parts`]).
#[derive(Clone, Debug, Default)]
pub struct ResponseParts {
    /// The parts' texts, concatenating to the response as read.
    pub texts: Vec<String>,
    /// Each part's tokens' features summed and divided by the response's token
    /// count (the head's features; empty when no head is loaded).
    pub features: Vec<Vec<f32>>,
    /// Each part's fraction of the response's tokens.
    pub shares: Vec<f32>,
    /// Each part's share of the response's likelihood (empty without one).
    pub likelihood: Vec<f32>,
    /// Each part's own mean log-probability and its count of predicted tokens (empty
    /// without a likelihood).
    pub likelihood_means: Vec<(f32, usize)>,
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

/// Response tokens read in one pass at most. A pass's attention is its tokens × (the
/// conversation + its tokens), per head and layer, responses included that never see
/// each other: one pass over six long responses held gigabytes and spent most of its
/// time there. Further passes reuse the conversation's cache and cost only one more
/// read of the weights each.
const RESPONSE_PASS_TOKENS: usize = 512;

/// Consecutive runs of items whose lengths add up to at most `limit` (an item longer
/// than `limit` runs alone), covering every item in order.
fn token_batches(lens: &[usize], limit: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lens.len() {
        let mut end = start;
        let mut n = 0;
        while end < lens.len() && (end == start || n + lens[end] <= limit) {
            n += lens[end];
            end += 1;
        }
        out.push(start..end);
        start = end;
    }
    out
}

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

impl Judge {
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
            .state)
    }

    /// Reads `responses` after the conversation ahead of a check, so that the check
    /// itself finds them read: the page calls it as the text settles. Takes what a
    /// check would take, one response or more (each as [`crate::text::conversation::readable_response`]
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
    pub(super) fn read_responses(
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
        let Prefilled {
            cache,
            state: conversation,
            ..
        } = self
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
                let (kept, mut context_stream) = match cached {
                    Some(cache) if readings.by_whole_decoder == whole => {
                        let same = common_prefix(&readings.context, context);
                        // at least one token to run: the last one's state is what follows
                        let kept = cache.truncated(same.min(context.len().saturating_sub(1)))?;
                        let mut stream = std::mem::take(&mut readings.context_stream);
                        stream.truncate(kept.len() * self.model.architecture().hidden);
                        (kept, stream)
                    }
                    _ => (self.model.empty_cache(), Vec::new()),
                };
                let read = self
                    .model
                    .prefill_with_state(&kept, &context[kept.len()..])?;
                tokens += context.len() - kept.len();
                context_stream.extend_from_slice(&read.stream);
                *readings = Readings {
                    context: context.to_vec(),
                    cache: Some(read.cache.clone()),
                    context_state: read.state,
                    context_stream,
                    deep: None,
                    responses: HashMap::new(),
                    by_whole_decoder: whole,
                };
                read.cache
            }
        };
        let apart = self.lens_apart(branches);
        // a response whose likelihood is read apart needs its stream, dropped once
        // it left the responses read: it is read again
        let mut missing: Vec<&Branch> = branches
            .iter()
            .enumerate()
            .filter(|&(i, b)| {
                readings.responses.get(&b.ids).is_none_or(|r| {
                    r.token_parts != b.token_parts
                        || (apart.as_ref().is_some_and(|(_, need)| need[i])
                            && r.likelihood.is_none()
                            && r.stream.is_none())
                })
            })
            .map(|(_, b)| b)
            .collect();
        missing.sort_unstable_by(|a, b| a.ids.cmp(&b.ids));
        missing.dedup_by(|a, b| a.ids == b.ids);
        if !missing.is_empty() {
            let ids: Vec<Vec<u32>> = missing.iter().map(|b| b.ids.clone()).collect();
            let token_parts: Vec<Vec<Option<usize>>> =
                missing.iter().map(|b| b.token_parts.clone()).collect();
            let counts: Vec<usize> = missing.iter().map(|b| b.parts.len()).collect();
            let lens: Vec<usize> = ids.iter().map(Vec::len).collect();
            let lens_layer = self
                .head
                .as_ref()
                .filter(|h| h.reads_likelihood() || self.read_likelihood)
                .map(|h| h.lens_layer());
            let mut read = Vec::with_capacity(ids.len());
            for batch in token_batches(&lens, RESPONSE_PASS_TOKENS) {
                read.extend(self.model.pooled_parts(
                    &cache,
                    &[],
                    &ids[batch.clone()],
                    &token_parts[batch.clone()],
                    &counts[batch],
                    lens_layer,
                )?);
            }
            tokens += lens.iter().sum::<usize>();
            if readings.responses.len() + missing.len() > MAX_REMEMBERED_RESPONSES {
                readings
                    .responses
                    .retain(|ids, _| branches.iter().any(|b| &b.ids == ids));
            }
            let exported = self.model.hidden_layers();
            for ((ids, token_parts), branch) in ids.into_iter().zip(token_parts).zip(read) {
                let parts = match &self.head {
                    Some(head) if head.readable_from(&exported) => branch
                        .parts
                        .iter()
                        .filter_map(|p| head.features(&exported, p))
                        .collect(),
                    _ => Vec::new(),
                };
                readings.responses.insert(
                    ids,
                    Remembered {
                        pooled: branch.mean,
                        token_parts,
                        parts,
                        likelihood: branch.likelihood,
                        stream: apart.is_some().then_some(branch.stream),
                    },
                );
            }
        }
        if let Some((layer, need)) = apart {
            tokens += self.read_lens_apart(readings, branches, layer, &need)?;
        }
        for (ids, r) in readings.responses.iter_mut() {
            if r.likelihood.is_some() || !branches.iter().any(|b| &b.ids == ids) {
                r.stream = None;
            }
        }
        let reading = Reading {
            conversation: readings.context_state.clone(),
            responses: branches
                .iter()
                .map(|b| readings.responses[&b.ids].pooled.clone())
                .collect(),
            likelihood: branches
                .iter()
                .map(|b| {
                    readings.responses[&b.ids]
                        .likelihood
                        .as_ref()
                        .map(|l| l.mean)
                })
                .collect(),
            parts: branches
                .iter()
                .map(|b| ResponseParts {
                    texts: b.parts.clone(),
                    features: readings.responses[&b.ids].parts.clone(),
                    shares: b.shares(),
                    likelihood: readings.responses[&b.ids]
                        .likelihood
                        .as_ref()
                        .map(|l| l.parts.clone())
                        .unwrap_or_default(),
                    likelihood_means: readings.responses[&b.ids]
                        .likelihood
                        .as_ref()
                        .map(|l| {
                            l.part_means
                                .iter()
                                .copied()
                                .zip(l.part_tokens.iter().copied())
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect(),
        };
        Ok((reading, tokens))
    }

    /// Where the head's lens layer lies past the layers its pass runs (the edit
    /// between two responses is read at the model's last layer,
    /// [`crate::judge::Head::edit_layer`]): that layer, and which of `branches` get
    /// their likelihood read there by [`Judge::read_lens_apart`]: each one edit apart
    /// from another (or every one, with [`Judge::read_likelihood`]). Known from the
    /// texts and token counts before the model runs. Others get none, since the edit
    /// is its only reader, so a check of responses that are not one edit apart costs
    /// nothing more.
    fn lens_apart(&self, branches: &[Branch]) -> Option<(usize, Vec<bool>)> {
        let head = self.head.as_ref()?;
        let layer = head.lens_layer();
        if !(head.reads_edits() || self.read_likelihood)
            || self.model.hidden_layers().contains(&layer)
        {
            return None;
        }
        let counts: Vec<Vec<usize>> = branches
            .iter()
            .map(|b| Likelihood::part_token_counts(&b.token_parts, b.parts.len()))
            .collect();
        let need = (0..branches.len())
            .map(|i| {
                let a = &branches[i];
                self.read_likelihood
                    || branches.iter().zip(&counts).any(|(b, cb)| {
                        a.ids != b.ids
                            && edits::edited_tokens(&a.parts, &b.parts, &counts[i], cb).is_some()
                    })
            })
            .collect();
        Some((layer, need))
    }

    /// The likelihood at `layer`, past the head's layers, of the responses
    /// [`Judge::lens_apart`] picked (`need`) and not read before: the head's pass
    /// continued from its last layer (the conversation's stream once, into a cache
    /// kept with it, then those responses' streams side by side), so only the layers
    /// past the head's run. Returns the tokens run. Where the whole decoder has
    /// replaced the layer stack (after reasoning), nothing is read and the edit stays
    /// out of the verdicts.
    fn read_lens_apart(
        &self,
        readings: &mut Readings,
        branches: &[Branch],
        layer: usize,
        need: &[bool],
    ) -> Result<usize, JudgeError> {
        let mut todo: Vec<&Branch> = Vec::new();
        for (b, _) in branches.iter().zip(need).filter(|(_, n)| **n) {
            if readings.responses[&b.ids].likelihood.is_none()
                && !todo.iter().any(|t| t.ids == b.ids)
            {
                todo.push(b);
            }
        }
        if todo.is_empty() {
            return Ok(0);
        }
        let mut tokens = 0;
        let deep = match &readings.deep {
            Some((l, deep)) if *l == layer => deep.clone(),
            _ => match self.model.deepen(layer, &readings.context_stream) {
                Err(ModelError::NoLayerStack) => return Ok(0),
                deep => {
                    let deep = deep?;
                    tokens += deep.len();
                    readings.deep = Some((layer, deep.clone()));
                    deep
                }
            },
        };
        let lens: Vec<usize> = todo.iter().map(|b| b.ids.len()).collect();
        for batch in token_batches(&lens, RESPONSE_PASS_TOKENS) {
            let batch = &todo[batch];
            let ids: Vec<Vec<u32>> = batch.iter().map(|b| b.ids.clone()).collect();
            let token_parts: Vec<Vec<Option<usize>>> =
                batch.iter().map(|b| b.token_parts.clone()).collect();
            let parts: Vec<usize> = batch.iter().map(|b| b.parts.len()).collect();
            let streams = ids
                .iter()
                .map(|ids| {
                    readings.responses[ids].stream.as_deref().ok_or_else(|| {
                        ModelError::Run(
                            "a response's stream was dropped before its likelihood was read".into(),
                        )
                    })
                })
                .collect::<Result<Vec<&[f32]>, _>>()?;
            let read = match self.model.likelihoods_after(
                layer,
                &deep,
                &ids,
                &streams,
                &token_parts,
                &parts,
            ) {
                Err(ModelError::NoLayerStack) => return Ok(tokens),
                read => read?,
            };
            tokens += ids.iter().map(Vec::len).sum::<usize>();
            for (ids, likelihood) in ids.iter().zip(read) {
                if let Some(r) = readings.responses.get_mut(ids) {
                    r.likelihood = Some(likelihood);
                }
            }
        }
        Ok(tokens)
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
        let lens: Vec<usize> = branches.iter().map(Vec::len).collect();
        for batch in token_batches(&lens, self.batch_tokens) {
            out.extend(self.model.pooled_hidden(&cache, &[], &branches[batch])?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::token_batches;

    #[test]
    fn batches_stay_under_the_limit_and_a_long_item_runs_alone() {
        assert_eq!(token_batches(&[], 10), Vec::<std::ops::Range<usize>>::new());
        assert_eq!(token_batches(&[3, 3, 3, 3], 6), [0..2, 2..4]);
        assert_eq!(token_batches(&[3, 20, 3], 10), [0..1, 1..2, 2..3]);
        assert_eq!(token_batches(&[4, 6, 1], 10), [0..2, 2..3]);
        assert_eq!(
            token_batches(&[5, 5], 10),
            vec![std::ops::Range { start: 0, end: 2 }]
        );
    }
}
