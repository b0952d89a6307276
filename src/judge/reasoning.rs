//! A chain of thought before the answer (the paper's optional step): the whole
//! decoder writes greedily with a repetition penalty, stops where a small model
//! starts to ramble, and the answer letter is read after it and clamped to 40–60 %.
//! Written after the verdict for the reader; the verdict itself never depends on it.

use serde::{Deserialize, Serialize};

use super::{Judge, JudgeError};
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

impl Judge {
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
