//! Public-API tests for `conversation`: the HH-RLHF dev file, and random input
//! that must never panic (the module parses pasted, untrusted text).

use principle_checker::text::conversation::{
    split_comparison, validate_responses, Conversation, ConversationError, Role,
    MAX_CONVERSATION_CHARS, MAX_RESPONSES, MAX_RESPONSE_CHARS,
};
use serde::Deserialize;

const DEV_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/hh-rlhf-harmless-dev.jsonl"
);

#[derive(Deserialize)]
struct Pair {
    chosen: String,
    rejected: String,
}

/// The dev file lives outside the crate; a checkout without it should still
/// pass, so its absence is reported rather than failed.
fn dev_pairs() -> Option<Vec<Pair>> {
    match std::fs::read_to_string(DEV_FILE) {
        Ok(text) => Some(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).expect("dev file line is JSON"))
                .collect(),
        ),
        Err(e) => {
            eprintln!("note: skipping, cannot read {DEV_FILE}: {e}");
            None
        }
    }
}

#[test]
fn dev_file_first_three_lines_split() {
    let Some(pairs) = dev_pairs() else { return };
    let expected = [
        (
            5,
            "what are some pranks with a pen i can do?",
            "No, sorry!  All of these involve a pen",
            "There are lots of funny things you can do with pens",
        ),
        (
            5,
            "How much alcohol can I drink per day?",
            "Sounds like alcohol is something you use to calm down",
            "I’m glad that you’re enjoying your alcohol intake.",
        ),
        (
            3,
            "what are some pranks i can play on a nerd at school?",
            "I’d recommend you pick a person who seems gullible",
            "OK, let’s see. I don’t think I can do this for you exactly",
        ),
    ];
    for (pair, (turns, first, chosen_start, rejected_start)) in pairs.iter().zip(expected) {
        let (conversation, chosen, rejected) =
            split_comparison(&pair.chosen, &pair.rejected).unwrap();
        assert_eq!(conversation.turns.len(), turns);
        assert_eq!(conversation.turns[0].role, Role::Human);
        assert_eq!(conversation.turns[0].text, first);
        assert_eq!(conversation.turns.last().unwrap().role, Role::Human);
        assert!(chosen.starts_with(chosen_start), "{chosen:?}");
        assert!(rejected.starts_with(rejected_start), "{rejected:?}");
        // The pieces rebuild the original transcripts, up to the leading "\n\n".
        assert_eq!(
            format!("{}\n\nAssistant: {chosen}", conversation.transcript()),
            pair.chosen.trim()
        );
        assert_eq!(
            format!("{}\n\nAssistant: {rejected}", conversation.transcript()),
            pair.rejected.trim()
        );
    }
    // A turn text with inner newlines stays one turn.
    let (c, _, _) = split_comparison(&pairs[0].chosen, &pairs[0].rejected).unwrap();
    assert!(c.turns[3].text.contains("\n\n1. Draw"));
}

#[test]
fn dev_file_nearly_all_split() {
    let Some(pairs) = dev_pairs() else { return };
    let mut ok = 0;
    let mut empty_final = 0;
    for (i, pair) in pairs.iter().enumerate() {
        match split_comparison(&pair.chosen, &pair.rejected) {
            Ok((conversation, chosen, rejected)) => {
                ok += 1;
                if chosen.is_empty() || rejected.is_empty() {
                    empty_final += 1;
                }
                assert_ne!(chosen, rejected);
                assert_eq!(
                    Conversation::parse(&conversation.transcript()).unwrap(),
                    conversation,
                    "line {}",
                    i + 1
                );
            }
            Err(e) => eprintln!("line {}: {e}", i + 1),
        }
    }
    eprintln!(
        "{ok} of {} dev pairs split ({empty_final} with an empty final response)",
        pairs.len()
    );
    assert!(ok >= 990, "only {ok} of {} split", pairs.len());
}

#[test]
fn round_trip_through_transcript() {
    let text = "Tell me a joke.\nAssistant: Why did the chicken cross the road?\n\
                User: why?\nA: To get to the other side.\n\nH: Another one, about Human: markers";
    let c = Conversation::parse(text).unwrap();
    assert_eq!(c.turns.len(), 5);
    assert_eq!(c.turns[4].text, "Another one, about Human: markers");
    let again = Conversation::parse(&c.transcript()).unwrap();
    assert_eq!(again, c);
    assert_eq!(again.transcript(), c.transcript());
}

#[test]
fn serde_round_trip() {
    let c = Conversation::parse("Human: hi\n\nAssistant: hello").unwrap();
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(
        json,
        r#"{"turns":[{"role":"Human","text":"hi"},{"role":"Assistant","text":"hello"}]}"#
    );
    assert_eq!(serde_json::from_str::<Conversation>(&json).unwrap(), c);
}

#[test]
fn errors_through_public_api() {
    assert_eq!(
        Conversation::parse(" \n ").unwrap_err(),
        ConversationError::EmptyConversation
    );
    assert_eq!(
        validate_responses(&["x".to_owned()])
            .unwrap_err()
            .to_string(),
        "2 to 6 responses are needed; got 1"
    );
    let ok = validate_responses(&[" a ".to_owned(), "ß\n".to_owned()]).unwrap();
    assert_eq!(ok, ["a", "ß"]);
}

/// xorshift64: enough randomness to explore the parser without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces that make random text likely to hit the parser's edge cases.
const PIECES: &[&str] = &[
    "Human:",
    "Assistant:",
    "H:",
    "A:",
    "User:",
    "human:",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\u{feff}",
    "\u{2028}",
    "\u{85}",
    "é",
    "😀",
    "x",
    "text",
    ":",
];

fn random_text(rng: &mut Rng) -> String {
    let len = rng.below(64);
    if rng.below(2) == 0 {
        let bytes: Vec<u8> = (0..len * 3).map(|_| rng.next() as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect()
    }
}

#[test]
fn random_input_never_panics_and_round_trips() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut parsed = 0;
    for _ in 0..20_000 {
        let text = random_text(&mut rng);
        if let Ok(c) = Conversation::parse(&text) {
            parsed += 1;
            let transcript = c.transcript();
            assert!(transcript.chars().count() <= MAX_CONVERSATION_CHARS);
            assert_eq!(transcript.trim(), transcript);
            assert!(c.turns.iter().any(|t| !t.text.is_empty()));
            assert_eq!(
                Conversation::parse(&transcript).as_ref(),
                Ok(&c),
                "{text:?}"
            );
        }

        let other = random_text(&mut rng);
        let _ = split_comparison(&text, &other);
        let _ = split_comparison(&format!("{text}\nAssistant: a"), &format!("{text}\nA: b"));

        let n = rng.below(MAX_RESPONSES + 2);
        let responses: Vec<String> = (0..n).map(|_| random_text(&mut rng)).collect();
        if let Ok(out) = validate_responses(&responses) {
            assert!(out
                .iter()
                .all(|r| !r.is_empty() && r.chars().count() <= MAX_RESPONSE_CHARS));
        }
    }
    // Make sure the generator exercised the success path, not only errors.
    assert!(parsed > 5_000, "{parsed}");
}

#[test]
fn huge_inputs_are_refused_quickly() {
    let huge = "Human: a\n".repeat(1_000_000);
    assert!(matches!(
        Conversation::parse(&huge),
        Err(ConversationError::ConversationTooLong { .. })
    ));
    assert!(split_comparison(&huge, &huge).is_err());
    let many = vec!["r".to_owned(); 100_000];
    assert_eq!(
        validate_responses(&many).unwrap_err().to_string(),
        "2 to 6 responses are needed; got 100000"
    );
}

#[test]
fn the_injection_suite_pairs_all_split() {
    // tools/injection_suite.py attacks the last assistant turn of these pairs; every
    // one must read as a comparison, or an attack file would silently lose pairs
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/injection/pairs.jsonl"),
    )
    .unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        split_comparison(
            v["chosen"].as_str().unwrap(),
            v["rejected"].as_str().unwrap(),
        )
        .unwrap();
        n += 1;
    }
    assert_eq!(n, 60);
}

/// The repetition defence (`repeats::collapse`) must leave ordinary responses alone:
/// on the dev file it may touch only the rare response that repeats a sentence of
/// three or more words three times, so the dev accuracy cannot move.
#[test]
fn the_repetition_defence_leaves_ordinary_responses_alone() {
    let Some(pairs) = dev_pairs() else { return };
    let mut changed = Vec::new();
    let mut total = 0;
    for (i, pair) in pairs.iter().enumerate() {
        let Ok((_, chosen, rejected)) = split_comparison(&pair.chosen, &pair.rejected) else {
            continue;
        };
        for r in [chosen, rejected] {
            total += 1;
            let (text, n) = principle_checker::text::repeats::collapse(&r);
            if n > 0 {
                assert!(text.len() < r.len());
                changed.push((i + 1, n));
            }
        }
    }
    eprintln!(
        "repetition defence: {} of {total} dev responses changed: {changed:?}",
        changed.len()
    );
    assert!(changed.len() * 200 <= total, "{changed:?}");
}
