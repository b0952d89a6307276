//! The text the trained head reads: the conversation and each response as written
//! (no defence: the head reads no instructions, so quoted text cannot steer it), and
//! a principle after a short introduction.

use super::{principle_line, INTRO};

/// The introduction and the conversation as written, for the trained head (which
/// reads the responses after it, [`response_turn`]); the zero-shot prompt's head with
/// [`Defence::None`].
pub fn context(transcript: &str) -> String {
    format!("{INTRO}{}\n", transcript.trim())
}

/// A response read as the assistant's next turn after [`context`]: the trained judge
/// head pools the model's state over these tokens. The leading newline completes
/// the blank line between turns, as in the HH-RLHF transcripts.
pub fn response_turn(response: &str) -> String {
    format!("\nAssistant: {}", response.trim())
}

/// Context read before a principle whose features the trained head needs, so the
/// pooled tokens are not the first of a sequence (whose states are outliers).
pub const PRINCIPLE_INTRO: &str = "A principle for judging an assistant's responses:\n";

/// The principle text pooled for the trained head, after [`PRINCIPLE_INTRO`].
pub fn principle_text(principle: &str) -> String {
    principle_line(principle)
}
