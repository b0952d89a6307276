//! The transcript parser, the HH-RLHF comparison splitter and the response checks on
//! untrusted text.
//!
//! Input: NUL-separated fields: a conversation (also the chosen transcript), the rejected
//! transcript, then responses. Besides "no panic", every documented invariant of a parsed
//! [`Conversation`] is checked, together with two oracles computed here independently of
//! the parser: text without marker lines is one Human turn, and the conversation is empty
//! exactly when no line has text beyond its marker.

#![no_main]

use libfuzzer_sys::fuzz_target;
use principle_checker::text::conversation::{
    split_comparison, validate_responses, Conversation, ConversationError, Role,
    MAX_CONVERSATION_CHARS, MAX_RESPONSES, MAX_RESPONSE_CHARS, MIN_RESPONSES,
};

#[path = "common.rs"]
mod common;

/// The parser's own raw-input cut-off (`RAW_INPUT_FACTOR` times the limit).
const RAW_LIMIT: usize = 2 * MAX_CONVERSATION_CHARS;
const MARKERS: [&str; 5] = ["Human:", "Assistant:", "User:", "H:", "A:"];

fuzz_target!(|data: &[u8]| {
    let fields = common::fields(data);
    let text = common::field(&fields, 0);
    let other = common::field(&fields, 1);
    let responses = &fields[2.min(fields.len())..];

    check_parse(text);
    check_responses(responses);
    check_split(text, other);
    // The same conversation continued two ways: the split's success path.
    if let [first, second, ..] = responses {
        check_split(
            &format!("{text}\n\nAssistant: {first}"),
            &format!("{text}\n\nA: {second}"),
        );
    }
});

/// Line-ending and byte-order-mark normalisation as the parser documents it.
fn normalised(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn strip_marker(line: &str) -> Option<&str> {
    MARKERS.iter().find_map(|m| line.strip_prefix(m))
}

fn check_parse(text: &str) {
    let raw_chars = text.chars().count();
    let result = Conversation::parse(text);
    if raw_chars <= RAW_LIMIT {
        let lines = normalised(text);
        let blank = lines
            .split('\n')
            .all(|line| strip_marker(line).unwrap_or(line).trim().is_empty());
        assert_eq!(
            blank,
            result == Err(ConversationError::EmptyConversation),
            "{result:?}"
        );
        if let Ok(c) = &result {
            if lines.split('\n').all(|line| strip_marker(line).is_none()) {
                assert_eq!(c.turns.len(), 1);
                assert_eq!(c.turns[0].role, Role::Human);
                assert_eq!(c.turns[0].text, lines.trim());
            }
        }
    }
    match &result {
        Ok(c) => {
            check_conversation(c);
            // A trailing empty Assistant marker says "the assistant speaks next": no turn.
            if raw_chars + 13 <= RAW_LIMIT {
                assert_eq!(
                    Conversation::parse(&format!("{text}\nAssistant:")).as_ref(),
                    Ok(c)
                );
            }
        }
        Err(ConversationError::ConversationTooLong { chars, limit }) => {
            assert_eq!(*limit, MAX_CONVERSATION_CHARS);
            assert!(*chars > *limit);
        }
        Err(ConversationError::EmptyConversation) => {}
        Err(other) => panic!("parse returned {other:?}"),
    }
    if let Err(e) = &result {
        assert!(!e.to_string().is_empty());
    }
}

/// What the docs promise of every `Conversation` that `parse` or `split_comparison` made.
fn check_conversation(c: &Conversation) {
    assert!(c.turns.iter().any(|t| !t.text.is_empty()));
    let last = c.turns.last().unwrap();
    assert!(!(last.role == Role::Assistant && last.text.is_empty()));
    for t in &c.turns {
        assert_eq!(t.text.trim(), t.text);
        assert!(!t.text.contains('\r'));
    }
    let transcript = c.transcript();
    assert!(transcript.chars().count() <= MAX_CONVERSATION_CHARS);
    assert_eq!(transcript.trim(), transcript);
    let again = Conversation::parse(&transcript).expect("a transcript parses");
    assert_eq!(&again, c, "{transcript:?}");
    assert_eq!(again.transcript(), transcript);
    let json = serde_json::to_string(c).unwrap();
    assert_eq!(&serde_json::from_str::<Conversation>(&json).unwrap(), c);
}

fn check_responses(responses: &[String]) {
    match validate_responses(responses) {
        Ok(out) => {
            assert!((MIN_RESPONSES..=MAX_RESPONSES).contains(&out.len()));
            assert_eq!(out.len(), responses.len());
            for (r, o) in responses.iter().zip(&out) {
                assert_eq!(r.trim(), o);
                assert!(!o.is_empty() && o.chars().count() <= MAX_RESPONSE_CHARS);
            }
        }
        Err(ConversationError::ResponseCount { got, .. }) => {
            assert_eq!(got, responses.len());
            assert!(!(MIN_RESPONSES..=MAX_RESPONSES).contains(&got));
        }
        Err(ConversationError::EmptyResponse { index }) => {
            assert!(responses[index - 1].trim().is_empty());
        }
        Err(ConversationError::ResponseTooLong {
            index,
            chars,
            limit,
        }) => {
            assert_eq!(responses[index - 1].trim().chars().count(), chars);
            assert!(chars > limit);
        }
        Err(other) => panic!("validate_responses returned {other:?}"),
    }
}

fn check_split(chosen: &str, rejected: &str) {
    let result = split_comparison(chosen, rejected);
    // Nothing in the rules depends on which side is which.
    let swapped = split_comparison(rejected, chosen);
    match (&result, &swapped) {
        (Ok((c, a, b)), Ok((c2, b2, a2))) => {
            assert_eq!((c, a, b), (c2, a2, b2));
        }
        (Err(_), Err(_)) => {}
        _ => panic!("split depends on the order: {result:?} / {swapped:?}"),
    }
    assert!(split_comparison(chosen, chosen).is_err());

    if let Ok((c, a, b)) = &result {
        check_conversation(c);
        assert_ne!(a, b);
        for r in [a, b] {
            assert_eq!(r.trim(), r);
            assert!(r.chars().count() <= MAX_RESPONSE_CHARS);
        }
        // The pieces make a canonical comparison that splits into the same pieces.
        let transcript = c.transcript();
        let rebuilt = split_comparison(
            &format!("{transcript}\n\nAssistant: {a}"),
            &format!("{transcript}\n\nAssistant: {b}"),
        );
        assert_eq!(rebuilt.as_ref(), Ok(&(c.clone(), a.clone(), b.clone())));
    }
    if let Err(e) = &result {
        assert!(!e.to_string().is_empty());
    }
}
