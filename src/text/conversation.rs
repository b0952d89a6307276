//! Conversations and candidate responses as the judge receives them.
//!
//! Everything here is typed or pasted by a person, or read from HH-RLHF data, so
//! every function accepts any string: malformed input becomes a
//! [`ConversationError`] whose message says what to fix, never a panic. Work is
//! linear in the input, and oversized input is refused before it is copied.
//!
//! The judge compares several final assistant responses to one conversation, so
//! the conversation and the responses are kept apart: the conversation is parsed
//! into [`Turn`]s, and the responses are plain strings checked by
//! [`validate_responses`] or cut from two HH-RLHF transcripts by
//! [`split_comparison`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest conversation, in characters of its canonical
/// [`Conversation::transcript`], that the judge accepts. It bounds the prompt the
/// model reads, so it is measured on what the model will see, not on the pasted
/// text (which may carry extra whitespace or short `H:`/`A:` markers).
pub const MAX_CONVERSATION_CHARS: usize = 20_000;
/// Longest response, in characters after trimming.
pub const MAX_RESPONSE_CHARS: usize = 8_000;
/// Fewest responses worth judging: a comparison needs two.
pub const MIN_RESPONSES: usize = 2;
/// Most responses judged at once; each one costs a model run.
pub const MAX_RESPONSES: usize = 6;

/// Pasted text may exceed a limit only by whitespace and marker spelling, which
/// the canonical transcript drops or rewrites. Text longer than this multiple of
/// the limit cannot fit however it is spelled, so it is refused before parsing,
/// which keeps the work (and the copy parsing makes) bounded.
const RAW_INPUT_FACTOR: usize = 2;

/// Who speaks a turn. Only two roles exist because HH-RLHF transcripts, and the
/// prompts built from them, know only these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Human,
    Assistant,
}

impl Role {
    /// The marker word used in canonical transcripts, so every consumer spells
    /// the roles the way the model saw them in HH-RLHF.
    pub fn label(self) -> &'static str {
        match self {
            Role::Human => "Human",
            Role::Assistant => "Assistant",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One turn of a conversation. The text is trimmed and uses `\n` line endings,
/// so two transcripts that differ only in spacing compare equal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub text: String,
}

/// The conversation the candidate responses continue.
///
/// A value made by [`Conversation::parse`] or [`split_comparison`] has at least
/// one non-empty turn, does not end in an empty Assistant turn, has a transcript
/// of at most [`MAX_CONVERSATION_CHARS`] characters, and parses back from its
/// own transcript to an equal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub turns: Vec<Turn>,
}

/// Which of the two HH-RLHF transcripts an error is about, so a message can
/// point at the field to look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Chosen,
    Rejected,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Chosen => "chosen",
            Side::Rejected => "rejected",
        })
    }
}

/// Why a conversation or a set of responses was refused. Messages are shown to
/// the person who pasted the text, so each names the field and the numbers
/// involved; responses are numbered from 1, as a person counts them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConversationError {
    #[error("the conversation is empty: paste a prompt or a Human:/Assistant: transcript")]
    EmptyConversation,
    #[error("the conversation is {chars} characters long; the limit is {limit}")]
    ConversationTooLong { chars: usize, limit: usize },
    #[error("{min} to {max} responses are needed; got {got}")]
    ResponseCount { got: usize, min: usize, max: usize },
    #[error("response {index} is empty: write its text or remove it")]
    EmptyResponse { index: usize },
    #[error("response {index} is {chars} characters long; the limit is {limit}")]
    ResponseTooLong {
        index: usize,
        chars: usize,
        limit: usize,
    },
    #[error("the {side} transcript is empty")]
    EmptyTranscript { side: Side },
    #[error("the {side} transcript is {chars} characters long; the limit is {limit}")]
    TranscriptTooLong {
        side: Side,
        chars: usize,
        limit: usize,
    },
    #[error(
        "the {side} transcript does not end in an Assistant: turn, so it has no response to compare"
    )]
    NoFinalResponse { side: Side },
    #[error("the two transcripts differ before their last assistant turn (turn {turn})")]
    TranscriptsDiverge { turn: usize },
    #[error(
        "the two transcripts have different numbers of turns (chosen {chosen}, rejected {rejected})"
    )]
    TurnCountMismatch { chosen: usize, rejected: usize },
    #[error("the two transcripts share no conversation before their last assistant turn")]
    NoSharedConversation,
    #[error("the {side} response is {chars} characters long; the limit is {limit}")]
    ComparisonResponseTooLong {
        side: Side,
        chars: usize,
        limit: usize,
    },
    #[error("the two transcripts end in the same assistant turn, so there is nothing to compare")]
    SameResponses,
}

impl Conversation {
    /// Parse a pasted transcript or plain prompt.
    ///
    /// A turn starts only at a line beginning with `Human:`, `Assistant:`,
    /// `H:`, `A:` or `User:` (case-sensitive, the last three being common
    /// spellings of the first two), because HH-RLHF turn text itself contains
    /// newlines and quoted words like "Human:" mid-line. Text before the first
    /// marker, or text with no marker, is a Human turn: a plain prompt.
    ///
    /// Empty turns (a marker with no text) are kept, because dropping one would
    /// join two turns of one speaker and shift the turn numbers a person sees,
    /// with one exception: empty Assistant turns at the very end are dropped,
    /// since `...\n\nAssistant:` is how a transcript says "the assistant speaks
    /// next", and that next turn is what the responses supply. Input with no text
    /// in any turn is [`ConversationError::EmptyConversation`].
    ///
    /// Line endings are normalised to `\n` and a leading byte-order mark is
    /// ignored, because both come from copying text out of other programs.
    pub fn parse(text: &str) -> Result<Conversation, ConversationError> {
        let raw_chars = text.chars().count();
        if raw_chars > RAW_INPUT_FACTOR * MAX_CONVERSATION_CHARS {
            return Err(ConversationError::ConversationTooLong {
                chars: raw_chars,
                limit: MAX_CONVERSATION_CHARS,
            });
        }
        finish(split_turns(text)).map_err(|failure| match failure {
            Unfinished::Empty => ConversationError::EmptyConversation,
            Unfinished::TooLong(chars) => ConversationError::ConversationTooLong {
                chars,
                limit: MAX_CONVERSATION_CHARS,
            },
        })
    }

    /// The conversation as the prompt builder writes it, in the HH-RLHF layout
    /// the model was trained on. An empty turn is written as its bare marker so
    /// the result has no trailing spaces and parses back to the same turns.
    pub fn transcript(&self) -> String {
        let mut out = String::new();
        for (i, turn) in self.turns.iter().enumerate() {
            if i > 0 {
                out.push_str("\n\n");
            }
            out.push_str(turn.role.label());
            out.push(':');
            // Trimmed again so hand-built values also give a clean transcript.
            let text = turn.text.trim();
            if !text.is_empty() {
                out.push(' ');
                out.push_str(text);
            }
        }
        out
    }
}

/// Split an HH-RLHF comparison into the shared conversation and the two final
/// assistant responses, chosen first.
///
/// The judge sees the conversation once and the responses side by side, so the
/// two transcripts must agree on every turn but the last, and both must end in
/// an Assistant turn. An empty final response is accepted: in HH-RLHF a blank
/// reply is a real option a crowdworker compared (three of the first 1,000
/// harmless-base test pairs prefer it). Identical final responses are refused,
/// since there is nothing to judge. The shared conversation obeys the same
/// rules as [`Conversation::parse`] output; each response must fit
/// [`MAX_RESPONSE_CHARS`].
pub fn split_comparison(
    chosen: &str,
    rejected: &str,
) -> Result<(Conversation, String, String), ConversationError> {
    let mut chosen_turns = comparison_turns(chosen, Side::Chosen)?;
    let mut rejected_turns = comparison_turns(rejected, Side::Rejected)?;

    // Both end in an Assistant turn, so both have at least one turn. Compare
    // the turns before the shorter one's last turn first: a divergence there is
    // the more useful thing to report than a different turn count.
    let shared_len = chosen_turns.len().min(rejected_turns.len()) - 1;
    if let Some(i) = (0..shared_len).find(|&i| chosen_turns[i] != rejected_turns[i]) {
        return Err(ConversationError::TranscriptsDiverge { turn: i + 1 });
    }
    if chosen_turns.len() != rejected_turns.len() {
        return Err(ConversationError::TurnCountMismatch {
            chosen: chosen_turns.len(),
            rejected: rejected_turns.len(),
        });
    }

    let chosen_response = chosen_turns.pop().map(|t| t.text).unwrap_or_default();
    let rejected_response = rejected_turns.pop().map(|t| t.text).unwrap_or_default();
    let conversation = finish(chosen_turns).map_err(|failure| match failure {
        Unfinished::Empty => ConversationError::NoSharedConversation,
        Unfinished::TooLong(chars) => ConversationError::ConversationTooLong {
            chars,
            limit: MAX_CONVERSATION_CHARS,
        },
    })?;
    for (side, response) in [
        (Side::Chosen, &chosen_response),
        (Side::Rejected, &rejected_response),
    ] {
        let chars = response.chars().count();
        if chars > MAX_RESPONSE_CHARS {
            return Err(ConversationError::ComparisonResponseTooLong {
                side,
                chars,
                limit: MAX_RESPONSE_CHARS,
            });
        }
    }
    if chosen_response == rejected_response {
        return Err(ConversationError::SameResponses);
    }
    Ok((conversation, chosen_response, rejected_response))
}

/// Check the responses a person supplies before any model time is spent on
/// them, and return them trimmed so surrounding whitespace neither counts
/// against the limit nor reaches the prompt.
///
/// The count is checked first so that an absurd number of responses is refused
/// without reading any of them. Limits count characters, not bytes, so text in
/// any script gets the same allowance.
pub fn validate_responses(responses: &[String]) -> Result<Vec<String>, ConversationError> {
    if !(MIN_RESPONSES..=MAX_RESPONSES).contains(&responses.len()) {
        return Err(ConversationError::ResponseCount {
            got: responses.len(),
            min: MIN_RESPONSES,
            max: MAX_RESPONSES,
        });
    }
    responses
        .iter()
        .enumerate()
        .map(|(i, r)| readable_response(i, r))
        .collect()
}

/// Response `index` (from 0) as a check reads it: trimmed, and refused when empty or
/// over [`MAX_RESPONSE_CHARS`]. Reading text ahead of a check takes each response that
/// passes this on its own, before the whole set is complete.
pub fn readable_response(index: usize, response: &str) -> Result<String, ConversationError> {
    let text = response.trim();
    if text.is_empty() {
        return Err(ConversationError::EmptyResponse { index: index + 1 });
    }
    let chars = text.chars().count();
    if chars > MAX_RESPONSE_CHARS {
        return Err(ConversationError::ResponseTooLong {
            index: index + 1,
            chars,
            limit: MAX_RESPONSE_CHARS,
        });
    }
    Ok(text.to_owned())
}

/// Why turn text could not become a [`Conversation`]; each caller turns it into
/// the message that fits its own input.
enum Unfinished {
    Empty,
    TooLong(usize),
}

/// Apply the invariants every [`Conversation`] keeps (see its docs) to freshly
/// split turns.
fn finish(mut turns: Vec<Turn>) -> Result<Conversation, Unfinished> {
    while turns
        .last()
        .is_some_and(|t| t.role == Role::Assistant && t.text.is_empty())
    {
        turns.pop();
    }
    if turns.iter().all(|t| t.text.is_empty()) {
        return Err(Unfinished::Empty);
    }
    let conversation = Conversation { turns };
    let chars = conversation.transcript().chars().count();
    if chars > MAX_CONVERSATION_CHARS {
        return Err(Unfinished::TooLong(chars));
    }
    Ok(conversation)
}

/// Turns of one side of an HH-RLHF comparison, every marker kept (an empty final
/// Assistant turn is that side's response).
fn comparison_turns(text: &str, side: Side) -> Result<Vec<Turn>, ConversationError> {
    let limit = MAX_CONVERSATION_CHARS + MAX_RESPONSE_CHARS;
    let chars = text.chars().count();
    if chars > RAW_INPUT_FACTOR * limit {
        return Err(ConversationError::TranscriptTooLong { side, chars, limit });
    }
    let turns = split_turns(text);
    if turns.iter().all(|t| t.text.is_empty()) {
        return Err(ConversationError::EmptyTranscript { side });
    }
    if turns.last().map(|t| t.role) != Some(Role::Assistant) {
        return Err(ConversationError::NoFinalResponse { side });
    }
    Ok(turns)
}

/// Cut text into turns at marker lines, keeping every marker, even with no text.
/// Text before the first marker becomes a Human turn unless it is blank.
fn split_turns(text: &str) -> Vec<Turn> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut turns = Vec::new();
    let mut role = Role::Human;
    let mut current = String::new();
    let mut preamble = true;
    for (i, line) in text.split('\n').enumerate() {
        match marker(line) {
            Some((next_role, rest)) => {
                if !preamble || !current.trim().is_empty() {
                    turns.push(Turn {
                        role,
                        text: current.trim().to_owned(),
                    });
                }
                preamble = false;
                role = next_role;
                current.clear();
                current.push_str(rest);
            }
            None => {
                if i > 0 {
                    current.push('\n');
                }
                current.push_str(line);
            }
        }
    }
    if !preamble || !current.trim().is_empty() {
        turns.push(Turn {
            role,
            text: current.trim().to_owned(),
        });
    }
    turns
}

/// The role a line's marker names and the text after it, if the line starts a
/// turn. Longer markers are tried first only for clarity: no marker is a prefix
/// of another, because each ends at its colon.
fn marker(line: &str) -> Option<(Role, &str)> {
    const MARKERS: [(&str, Role); 5] = [
        ("Human:", Role::Human),
        ("Assistant:", Role::Assistant),
        ("User:", Role::Human),
        ("H:", Role::Human),
        ("A:", Role::Assistant),
    ];
    MARKERS
        .iter()
        .find_map(|&(prefix, role)| line.strip_prefix(prefix).map(|rest| (role, rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(role: Role, text: &str) -> Turn {
        Turn {
            role,
            text: text.to_owned(),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn plain_prompt_is_one_human_turn() {
        let c = Conversation::parse("  How do I bake bread?\nStep by step, please.  \n").unwrap();
        assert_eq!(
            c.turns,
            vec![turn(
                Role::Human,
                "How do I bake bread?\nStep by step, please."
            )]
        );
        assert_eq!(
            c.transcript(),
            "Human: How do I bake bread?\nStep by step, please."
        );
    }

    #[test]
    fn multi_turn_hh_transcript() {
        let text = "\n\nHuman: hi\nthere\n\nAssistant: Hello!\n\n\nHuman: bye\n\nAssistant: Bye.";
        let c = Conversation::parse(text).unwrap();
        assert_eq!(
            c.turns,
            vec![
                turn(Role::Human, "hi\nthere"),
                turn(Role::Assistant, "Hello!"),
                turn(Role::Human, "bye"),
                turn(Role::Assistant, "Bye."),
            ]
        );
        assert_eq!(
            c.transcript(),
            "Human: hi\nthere\n\nAssistant: Hello!\n\nHuman: bye\n\nAssistant: Bye."
        );
    }

    #[test]
    fn alias_markers_and_optional_space() {
        let c = Conversation::parse("User:one\nA:two\nH: three\nAssistant:four").unwrap();
        assert_eq!(
            c.turns,
            vec![
                turn(Role::Human, "one"),
                turn(Role::Assistant, "two"),
                turn(Role::Human, "three"),
                turn(Role::Assistant, "four"),
            ]
        );
    }

    #[test]
    fn markers_must_start_a_line_and_match_case() {
        let text = "Human: I said Human: hi and Assistant: no\n human: x\n Assistant: y\nhuman: z\nAnswer: w";
        let c = Conversation::parse(text).unwrap();
        assert_eq!(c.turns.len(), 1);
        assert_eq!(
            c.turns[0].text,
            "I said Human: hi and Assistant: no\n human: x\n Assistant: y\nhuman: z\nAnswer: w"
        );
    }

    #[test]
    fn preamble_before_first_marker_is_a_human_turn() {
        let c = Conversation::parse("Context first.\nAssistant: ok\nHuman: go").unwrap();
        assert_eq!(
            c.turns,
            vec![
                turn(Role::Human, "Context first."),
                turn(Role::Assistant, "ok"),
                turn(Role::Human, "go"),
            ]
        );
        // A blank preamble is not a turn.
        let c = Conversation::parse(" \n\t\nAssistant: ok").unwrap();
        assert_eq!(c.turns, vec![turn(Role::Assistant, "ok")]);
    }

    #[test]
    fn empty_turns_kept_except_trailing_assistant() {
        let c = Conversation::parse("Human: hi\n\nAssistant:\n\nHuman: hello?\n\nAssistant:\nA: ")
            .unwrap();
        assert_eq!(
            c.turns,
            vec![
                turn(Role::Human, "hi"),
                turn(Role::Assistant, ""),
                turn(Role::Human, "hello?"),
            ]
        );
        assert_eq!(c.transcript(), "Human: hi\n\nAssistant:\n\nHuman: hello?");
        assert_eq!(Conversation::parse(&c.transcript()).unwrap(), c);

        // A final Assistant turn with text is the conversation so far: keep it.
        let c = Conversation::parse("Human: hi\n\nAssistant: hello").unwrap();
        assert_eq!(c.turns.last().unwrap().role, Role::Assistant);
    }

    #[test]
    fn line_endings_and_bom_are_normalised() {
        let c = Conversation::parse("\u{feff}Human: a\r\nb\r\n\r\nAssistant: c\rHuman: d").unwrap();
        assert_eq!(
            c.turns,
            vec![
                turn(Role::Human, "a\nb"),
                turn(Role::Assistant, "c"),
                turn(Role::Human, "d"),
            ]
        );
    }

    #[test]
    fn round_trip() {
        for text in [
            "plain prompt",
            "\n\nHuman: a\n\nAssistant: b\nmore\n\nHuman: c",
            "H: x\nA:\nH: y",
            "Human:\n\nAssistant: only the assistant spoke",
            "Say Human: inline\nUser: ok",
        ] {
            let c = Conversation::parse(text).unwrap();
            let t = c.transcript();
            assert_eq!(Conversation::parse(&t).unwrap(), c, "{text:?}");
            assert_eq!(t.trim(), t);
        }
    }

    #[test]
    fn empty_conversation_message() {
        for text in [
            "",
            "   \n\t ",
            "Human:",
            "Human:\n\nAssistant:",
            "A:",
            "\u{feff}",
        ] {
            let err = Conversation::parse(text).unwrap_err();
            assert_eq!(err, ConversationError::EmptyConversation, "{text:?}");
            assert_eq!(
                err.to_string(),
                "the conversation is empty: paste a prompt or a Human:/Assistant: transcript"
            );
        }
    }

    #[test]
    fn conversation_too_long_message() {
        let err = Conversation::parse(&"x".repeat(25_000)).unwrap_err();
        // "Human: " is added by the canonical transcript.
        assert_eq!(
            err.to_string(),
            "the conversation is 25007 characters long; the limit is 20000"
        );
        assert_eq!(
            Conversation::parse(&format!("Human: {}", "x".repeat(24_993)))
                .unwrap_err()
                .to_string(),
            "the conversation is 25000 characters long; the limit is 20000"
        );
        // Far too long to read at all: the pasted length is reported.
        assert_eq!(
            Conversation::parse(&"y".repeat(50_000))
                .unwrap_err()
                .to_string(),
            "the conversation is 50000 characters long; the limit is 20000"
        );
    }

    #[test]
    fn conversation_limit_counts_the_canonical_transcript() {
        // Whitespace does not count against the limit...
        let padded = format!(
            "{}\nHuman: {}{}",
            " ".repeat(9_999),
            "x".repeat(19_993),
            "\n".repeat(10_000)
        );
        assert!(Conversation::parse(&padded).is_ok());
        // ...but short markers count as the full ones the model will read.
        let short = "A:x\n".repeat(4_000); // 16,000 pasted chars
        let err = Conversation::parse(&short).unwrap_err();
        assert_eq!(
            err,
            ConversationError::ConversationTooLong {
                chars: 4_000 * 14 - 2,
                limit: MAX_CONVERSATION_CHARS
            }
        );
    }

    #[test]
    fn unicode_limits_count_chars_not_bytes() {
        // 20,000 chars but 80,000 bytes: within the limit.
        let emoji = "😀".repeat(MAX_CONVERSATION_CHARS - "Human: ".len());
        let c = Conversation::parse(&emoji).unwrap();
        assert_eq!(c.transcript().chars().count(), MAX_CONVERSATION_CHARS);
        let over = format!("{emoji}é");
        assert_eq!(
            Conversation::parse(&over).unwrap_err().to_string(),
            "the conversation is 20001 characters long; the limit is 20000"
        );

        let ok = "é".repeat(MAX_RESPONSE_CHARS);
        assert_eq!(ok.len(), 2 * MAX_RESPONSE_CHARS);
        assert!(validate_responses(&[ok.clone(), "short".into()]).is_ok());
        let err = validate_responses(&["a".into(), format!("{ok}ü")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "response 2 is 8001 characters long; the limit is 8000"
        );
    }

    #[test]
    fn response_messages() {
        assert_eq!(
            validate_responses(&strings(&["only one"]))
                .unwrap_err()
                .to_string(),
            "2 to 6 responses are needed; got 1"
        );
        assert_eq!(
            validate_responses(&[]).unwrap_err().to_string(),
            "2 to 6 responses are needed; got 0"
        );
        assert_eq!(
            validate_responses(&strings(&["a"; 7]))
                .unwrap_err()
                .to_string(),
            "2 to 6 responses are needed; got 7"
        );
        assert_eq!(
            validate_responses(&strings(&["a", "b", " \n\t"]))
                .unwrap_err()
                .to_string(),
            "response 3 is empty: write its text or remove it"
        );
        let long = "z".repeat(9_120);
        assert_eq!(
            validate_responses(&["a".into(), "b".into(), format!("  {long}\n")])
                .unwrap_err()
                .to_string(),
            "response 3 is 9120 characters long; the limit is 8000"
        );
    }

    #[test]
    fn responses_are_trimmed_and_whitespace_is_free() {
        let padded = format!("  {}\n\n", "w".repeat(MAX_RESPONSE_CHARS));
        let out = validate_responses(&[padded, "\tsecond ".into()]).unwrap();
        assert_eq!(out[0].len(), MAX_RESPONSE_CHARS);
        assert_eq!(out[1], "second");
        assert!(validate_responses(&strings(&["a"; MAX_RESPONSES])).is_ok());
    }

    #[test]
    fn split_comparison_basic_and_empty_final_response() {
        let (c, a, b) = split_comparison(
            "\n\nHuman: q\n\nAssistant: r\n\nHuman: q2\n\nAssistant: good",
            "\n\nHuman: q\n\nAssistant: r\n\nHuman: q2\n\nAssistant: bad\nline two",
        )
        .unwrap();
        assert_eq!(c.transcript(), "Human: q\n\nAssistant: r\n\nHuman: q2");
        assert_eq!((a.as_str(), b.as_str()), ("good", "bad\nline two"));

        let (c, a, b) = split_comparison(
            "\n\nHuman: list of words\n\nAssistant: ",
            "\n\nHuman: list of words\n\nAssistant: Ok",
        )
        .unwrap();
        assert_eq!(c.turns, vec![turn(Role::Human, "list of words")]);
        assert_eq!((a.as_str(), b.as_str()), ("", "Ok"));
    }

    #[test]
    fn split_comparison_messages() {
        let msg = |a: &str, b: &str| split_comparison(a, b).unwrap_err().to_string();
        assert_eq!(
            msg("  ", "Human: q\n\nAssistant: a"),
            "the chosen transcript is empty"
        );
        assert_eq!(
            msg("Human: q\n\nAssistant: a", "Human:"),
            "the rejected transcript is empty"
        );
        assert_eq!(
            msg("Human: q\n\nAssistant: a", "Human: q"),
            "the rejected transcript does not end in an Assistant: turn, so it has no response to compare"
        );
        assert_eq!(
            msg("Human: q\n\nAssistant: a\n\nHuman: more", "Human: q\n\nAssistant: b"),
            "the chosen transcript does not end in an Assistant: turn, so it has no response to compare"
        );
        assert_eq!(
            msg(
                "Human: q\n\nAssistant: r\n\nHuman: x\n\nAssistant: a",
                "Human: q\n\nAssistant: R\n\nHuman: x\n\nAssistant: b"
            ),
            "the two transcripts differ before their last assistant turn (turn 2)"
        );
        assert_eq!(
            msg(
                "Human: q\n\nAssistant: a",
                "Human: q\n\nAssistant: b\n\nHuman: x\n\nAssistant: c"
            ),
            "the two transcripts have different numbers of turns (chosen 2, rejected 4)"
        );
        assert_eq!(
            msg("Assistant: a", "Assistant: b"),
            "the two transcripts share no conversation before their last assistant turn"
        );
        assert_eq!(
            msg(
                "Human: q\n\nAssistant: same ",
                "Human: q\n\nAssistant: same"
            ),
            "the two transcripts end in the same assistant turn, so there is nothing to compare"
        );
        let long = "r".repeat(9_000);
        assert_eq!(
            msg(
                "Human: q\n\nAssistant: a",
                &format!("Human: q\n\nAssistant: {long}")
            ),
            "the rejected response is 9000 characters long; the limit is 8000"
        );
        let long_q = "q".repeat(25_000);
        assert_eq!(
            msg(
                &format!("Human: {long_q}\n\nAssistant: a"),
                &format!("Human: {long_q}\n\nAssistant: b")
            ),
            "the conversation is 25007 characters long; the limit is 20000"
        );
        assert_eq!(
            msg(&"c".repeat(60_000), "Human: q\n\nAssistant: b"),
            "the chosen transcript is 60000 characters long; the limit is 28000"
        );
    }
}
