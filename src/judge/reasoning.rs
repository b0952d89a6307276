//! A chain of thought before the answer (the paper's optional step): the whole
//! decoder writes greedily with a repetition penalty, stops where a small model
//! starts to ramble, and the answer letter is read after it and clamped to 40–60 %.
//! Written after the verdict for the reader; the verdict itself never depends on it.

use serde::{Deserialize, Serialize};

use super::{Judge, JudgeError};
use crate::engine::KvCache;
use crate::judge::verdict;
use crate::text::prompt::{self, Options};

/// The longest chain of thought generated; the paper's are a few sentences.
pub const MAX_REASONING_TOKENS: usize = 512;

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

/// A chain of thought being written ([`Judge::begin_reason`]): the prompt's cache, the
/// tokens so far, and the text they decode to.
pub struct ReasoningRun {
    prompt_cache: KvCache,
    cache: KvCache,
    logits: Vec<f32>,
    generated: Vec<u32>,
    text: String,
    max_new_tokens: usize,
    finished: bool,
}

impl ReasoningRun {
    /// The text written so far.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Judge {
    /// Writes a chain of thought about which of `first`/`second` better satisfies the
    /// principle, streaming text through `on_text` (return `false` to stop early),
    /// then reads the answer and clamps it. The same as [`Judge::begin_reason`], then
    /// [`Judge::step_reason`] until it is done, then [`Judge::finish_reason`].
    pub fn reason(
        &self,
        transcript: &str,
        principle: &str,
        first: &str,
        second: &str,
        max_new_tokens: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Reasoning, JudgeError> {
        let mut run = self.begin_reason(transcript, principle, first, second, max_new_tokens)?;
        while !self.step_reason(&mut run, usize::MAX, on_text)? {}
        self.finish_reason(run)
    }

    /// Reads the reasoning prompt (the whole decoder, built on first use): the
    /// expensive start of a chain of thought; no token is written yet.
    pub fn begin_reason(
        &self,
        transcript: &str,
        principle: &str,
        first: &str,
        second: &str,
        max_new_tokens: usize,
    ) -> Result<ReasoningRun, JudgeError> {
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
        if ids.len() > self.max_prompt_tokens {
            return Err(JudgeError::TooLong {
                part: "the reasoning prompt".into(),
                part_tokens: ids.len(),
                total: ids.len(),
                limit: self.max_prompt_tokens,
                over: ids.len() - self.max_prompt_tokens,
            });
        }
        let (logits, prompt_cache) = self.model.forward(&self.model.empty_cache(), &ids)?;
        Ok(ReasoningRun {
            cache: prompt_cache.clone(),
            prompt_cache,
            logits,
            generated: Vec::new(),
            text: String::new(),
            max_new_tokens: max_new_tokens.min(MAX_REASONING_TOKENS),
            finished: false,
        })
    }

    /// Writes up to `tokens` more tokens, streaming whole characters through
    /// `on_text` (return `false` to stop); returns whether the reasoning is done (the
    /// model ended it, it started to ramble, the limit was reached, or `on_text`
    /// stopped it). A caller that must stay responsive writes a few tokens a step and
    /// yields between steps.
    pub fn step_reason(
        &self,
        run: &mut ReasoningRun,
        tokens: usize,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<bool, JudgeError> {
        for _ in 0..tokens {
            if run.finished || run.generated.len() >= run.max_new_tokens {
                run.finished = true;
                break;
            }
            let next = greedy(&run.logits, &run.generated);
            if next == self.eos {
                run.finished = true;
                break;
            }
            run.generated.push(next);
            let decoded = self.tokenizer.decode(&run.generated)?;
            // emit only whole characters: a multi-byte character may span tokens
            if !decoded.ends_with('\u{FFFD}')
                && decoded.len() > run.text.len()
                && decoded.starts_with(&run.text)
            {
                let delta = decoded[run.text.len()..].to_string();
                run.text = decoded;
                if !on_text(&delta) {
                    run.finished = true;
                    break;
                }
            }
            if stop_reasoning(&run.text) {
                run.finished = true;
                break;
            }
            let (l, c) = self.model.forward(&run.cache, &[next])?;
            run.logits = l;
            run.cache = c;
        }
        run.finished |= run.generated.len() >= run.max_new_tokens;
        Ok(run.finished)
    }

    /// Reads the answer after the reasoning as written (trimmed), asking again for
    /// the letter, and clamps it.
    pub fn finish_reason(&self, run: ReasoningRun) -> Result<Reasoning, JudgeError> {
        let text = trim_reasoning(&run.text);
        let mut tail = self.tokenizer.encode(&text)?;
        tail.extend(self.tokenizer.encode(prompt::REASONING_ANSWER_CUE)?);
        let (p, _) = self.answer_probability(&run.prompt_cache, &tail)?;
        Ok(Reasoning {
            tokens: run.generated.len(),
            p_first_raw: p,
            p_first: verdict::clamp_after_reasoning(p),
            text,
        })
    }
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
