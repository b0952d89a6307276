//! The prompt builder on untrusted conversation, response and principle text, and the
//! tokenizer's rule that such text never becomes control tokens.
//!
//! Input: NUL-separated fields: a conversation, a principle, then responses. Both layouts
//! with every defence are built for both orders of the first two responses (and the last
//! against the first), from the raw text and from what the parser and the response checks
//! make of it, checking that the pieces the judge tokenizes separately join into the whole
//! prompt, that the principle and both options appear where the layout puts them (quoted
//! as the defence says, rebuilt here independently), that framed text can never close its
//! frame, that normalized text keeps no option label, and that the prompt ends at the
//! answer cue.
//!
//! When `models/smollm2-135m-instruct/tokenizer.json` exists (after
//! `scripts/setup-model.sh`; another file can be named with `PRINCIPLE_CHECKER_TOKENIZER`),
//! the pieces are also tokenized: no token may be a special token, tokenizing the pieces
//! separately must give the tokens of the whole prompt (what makes the KV-cached prefix
//! sound), and decoding gives the text back.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use principle_checker::engine::tokenizer::TextTokenizer;
use principle_checker::text::conversation::{validate_responses, Conversation};
use principle_checker::text::named::Named;
use principle_checker::text::prompt::{
    self, Defence, Layout, Options, Template, ANSWER_CUE, FRAME_CLOSE, FRAME_OPEN, INTRO,
    OPTION_LETTERS, PRINCIPLE_INTRO, REASONING_CUE,
};

#[path = "common.rs"]
mod common;

/// Tokenizing is the slow part of a run; longer text is still built and checked, just not
/// tokenized.
const MAX_TOKENIZED_BYTES: usize = 4096;

struct Vocab {
    tokenizer: TextTokenizer,
    special_ids: Vec<u32>,
    /// Bytes with no token of their own (in SmolLM2's vocabulary 0x04, 0x06, 0x13, 0x14,
    /// 0x16, 0x1d and the UTF-8 lead bytes 0xf1 and 0xf2, besides bytes UTF-8 never uses).
    dropped_bytes: Vec<u8>,
}

fn vocab() -> Option<&'static Vocab> {
    static VOCAB: OnceLock<Option<Vocab>> = OnceLock::new();
    VOCAB
        .get_or_init(|| {
            let path = std::env::var("PRINCIPLE_CHECKER_TOKENIZER").unwrap_or_else(|_| {
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../models/smollm2-135m-instruct/tokenizer.json"
                )
                .to_string()
            });
            let Ok(bytes) = std::fs::read(&path) else {
                eprintln!("note: {path} not found: prompts are built but not tokenized");
                return None;
            };
            let tokenizer = TextTokenizer::from_bytes(&bytes).expect("tokenizer loads");
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let special_ids: Vec<u32> = json["added_tokens"]
                .as_array()
                .expect("added_tokens")
                .iter()
                .filter(|t| t["special"].as_bool() == Some(true))
                .map(|t| {
                    let spelling = t["content"].as_str().unwrap();
                    tokenizer.special_token(spelling).expect("special token id")
                })
                .collect();
            assert!(!special_ids.is_empty());
            let dropped_bytes = (0..=255u8)
                .filter(|&b| {
                    let spelling = byte_level_char(b).to_string();
                    json["model"]["vocab"].get(&spelling).is_none()
                })
                .collect();
            Some(Vocab {
                tokenizer,
                special_ids,
                dropped_bytes,
            })
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let fields = common::fields(data);
    let conversation = common::field(&fields, 0);
    let principle = common::field(&fields, 1);
    let mut responses: Vec<String> = fields[2.min(fields.len())..].to_vec();
    while responses.len() < 2 {
        responses.push(String::new());
    }

    // The judge builds prompts from a parsed conversation and checked responses; the
    // builder itself takes any text, so raw text is built too.
    let mut transcripts = vec![conversation.to_string()];
    if let Ok(c) = Conversation::parse(conversation) {
        transcripts.push(c.transcript());
    }
    let mut response_sets = vec![responses.clone()];
    if let Ok(checked) = validate_responses(&responses) {
        response_sets.push(checked);
    }

    for transcript in &transcripts {
        for set in &response_sets {
            // Both orders of the first two, as the judge shows them, and one more pair.
            let mut pairs = vec![(0, 1), (1, 0)];
            if set.len() > 2 {
                pairs.push((set.len() - 1, 0));
            }
            for (i, j) in pairs {
                let options = Options {
                    first: &set[i],
                    second: &set[j],
                };
                for layout in [Layout::Paper, Layout::PrincipleLast] {
                    for &defence in Defence::ALL {
                        check_prompt(
                            Template::new(layout, defence),
                            transcript,
                            principle,
                            options,
                        );
                    }
                    check_head_reads_as_written(transcript);
                }
            }
            for r in set {
                let turn = prompt::response_turn(r);
                assert_eq!(turn, format!("\nAssistant: {}", r.trim()));
                check_quoting(r);
            }
        }
    }
    check_quoting(conversation);
    let text = prompt::principle_text(principle);
    assert_eq!(text, format!("{}\n", principle.trim()));

    // Tokenizing is the slow part of a run, so only what the judge would build is
    // tokenized: the parsed transcript and checked responses where they exist (an
    // HH-RLHF comparison may still bring an empty response), the first order, and the
    // principle-last layout, whose pieces meet at every kind of seam the paper layout
    // has (after the conversation, before the principle) and one more.
    let transcript = transcripts.last().unwrap();
    let set = response_sets.last().unwrap();
    let options = Options {
        first: &set[0],
        second: &set[1],
    };
    // The judge only ever sees a non-blank transcript (`Conversation::parse` refuses the
    // rest) and non-blank principle text (so does the constitution loader); the
    // tokenizer's property is promised for those. A blank one leaves `\n\n` at the end
    // of a piece, which tokenizes differently from the same newlines followed by text.
    // One defence per input, picked by the input, so every defence is tokenized
    // without multiplying the cost of a run.
    if !transcript.trim().is_empty() {
        if !principle.trim().is_empty() {
            let t = Template::new(Layout::PrincipleLast, Defence::ALL[data.len() % 4]);
            tokenize(&[
                &t.head(transcript),
                &t.shared_options(options),
                &t.suffix(principle, options),
            ]);
        }
        // what the trained head reads: the text as written
        tokenize(&[
            &prompt::context(transcript),
            &prompt::response_turn(&set[0]),
        ]);
    }
    if !principle.trim().is_empty() {
        tokenize(&[PRINCIPLE_INTRO, &text]);
    }
});

fn check_prompt(t: Template, transcript: &str, principle: &str, options: Options) {
    let head = t.head(transcript);
    let shared = t.shared_options(options);
    let prefix = t.prefix(transcript, options);
    let suffix = t.suffix(principle, options);
    assert_eq!(prefix, format!("{head}{shared}"));
    assert!(head.starts_with(INTRO) && head.ends_with('\n'));
    assert!(prefix.ends_with('\n'));
    assert!(suffix.ends_with(ANSWER_CUE));

    // The prompt rebuilt here from the defence's two rewrites, composed independently.
    let quote = |text: &str| -> String {
        let text = if t.defence.normalizes() {
            prompt::normalize_answer_markers(text).into_owned()
        } else {
            text.to_string()
        };
        if t.defence.frames() {
            spaced_bracket_runs(&text)
        } else {
            text
        }
    };
    assert_eq!(head, format!("{INTRO}{}\n", quote(transcript.trim())));
    let whole = format!("{prefix}{suffix}");
    let principle_line = format!("{}\n", principle.trim());
    // An empty option is its bare label, with no space before the newline; a framed one
    // is an empty frame.
    let line = |letter: &str, text: &str| {
        let text = quote(text.trim());
        if t.defence.frames() {
            assert!(!text.contains(FRAME_OPEN) && !text.contains(FRAME_CLOSE));
            format!(" ({letter}) {FRAME_OPEN}{text}{FRAME_CLOSE}\n")
        } else if text.is_empty() {
            format!(" ({letter})\n")
        } else {
            format!(" ({letter}) {text}\n")
        }
    };
    let options_block = format!(
        "Options:\n{}{}",
        line(OPTION_LETTERS[0], options.first),
        line(OPTION_LETTERS[1], options.second)
    );
    let expected = match t.layout {
        Layout::Paper => format!("{head}{principle_line}{options_block}{ANSWER_CUE}"),
        Layout::PrincipleLast => format!("{head}{options_block}{principle_line}{ANSWER_CUE}"),
    };
    assert_eq!(whole, expected);
    // Shared text never depends on the principle.
    assert!(!matches!(t.layout, Layout::PrincipleLast) || shared == options_block);

    let question = t.reasoning_question(principle, options);
    assert_eq!(
        t.reasoning_suffix(principle, options),
        format!("{question}{REASONING_CUE}")
    );
    assert_eq!(format!("{question}{ANSWER_CUE}"), suffix);
    assert!(question.starts_with(&principle_line));
}

/// The trained head's context is the conversation as written, whatever the defence.
fn check_head_reads_as_written(transcript: &str) {
    assert_eq!(
        prompt::context(transcript),
        format!("{INTRO}{}\n", transcript.trim())
    );
}

/// The two rewrites on their own: neutralizing leaves no delimiter and changes only
/// bracket runs; normalizing leaves no option label, touches only text that has a
/// parenthesis or the word "answer", and a second pass changes nothing.
fn check_quoting(text: &str) {
    let neutral = prompt::neutralize_delimiters(text);
    assert_eq!(neutral, spaced_bracket_runs(text));
    assert!(!neutral.contains(FRAME_OPEN) && !neutral.contains(FRAME_CLOSE));
    assert_eq!(neutral.replace(' ', ""), text.replace(' ', ""));

    let normal = prompt::normalize_answer_markers(text);
    for label in ["(A)", "(B)", "(a)", "(b)"] {
        assert!(!normal.contains(label), "{label} left in {normal:?}");
    }
    if !text.contains(['(', '\u{ff08}']) && !text.to_ascii_lowercase().contains("answer") {
        assert_eq!(normal, text);
    }
    assert_eq!(prompt::normalize_answer_markers(&normal), normal);
    assert_eq!(
        normal.trim_start().len() == normal.len(),
        text.trim_start().len() == text.len()
    );
    assert_eq!(
        normal.trim_end().len() == normal.len(),
        text.trim_end().len() == text.len()
    );
    for &d in Defence::ALL {
        let quoted = d.quote(text);
        if d.frames() {
            assert!(!quoted.contains(FRAME_OPEN) && !quoted.contains(FRAME_CLOSE));
        }
        if d == Defence::None {
            assert_eq!(quoted, text);
        }
    }
}

/// Every run of three or more `[` or `]` with a space between its brackets: the
/// neutralization, written independently of the crate's.
fn spaced_bracket_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        if (c == '[' || c == ']') && j - i >= 3 {
            out.push_str(&vec![c.to_string(); j - i].join(" "));
        } else {
            out.extend(&chars[i..j]);
        }
        i = j;
    }
    out
}

/// Tokenizes `pieces` one by one, as the judge does, and checks them against the whole.
fn tokenize(pieces: &[&str]) {
    let Some(vocab) = vocab() else { return };
    if pieces.iter().map(|p| p.len()).sum::<usize>() > MAX_TOKENIZED_BYTES {
        return;
    }
    let whole: String = pieces.concat();
    let mut joined = Vec::new();
    for piece in pieces {
        joined.extend(vocab.tokenizer.encode(piece).expect("text tokenizes"));
    }
    let ids = vocab.tokenizer.encode(&whole).expect("text tokenizes");
    for id in &ids {
        assert!(
            !vocab.special_ids.contains(id),
            "special token {id} from text {whole:?}"
        );
    }
    assert_eq!(joined, ids, "pieces tokenize differently from {whole:?}");
    // The vocabulary has no token for a few bytes, which the tokenizer drops: text
    // containing them cannot come back whole.
    if !whole.bytes().any(|b| vocab.dropped_bytes.contains(&b)) {
        assert_eq!(vocab.tokenizer.decode(&ids).unwrap(), whole);
    }
}

/// GPT-2's byte-level alphabet: the character that stands for each byte in the vocabulary.
fn byte_level_char(b: u8) -> char {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xa1..=0xac).contains(&b) || b >= 0xae;
    if printable(b) {
        return char::from(b);
    }
    let rank = (0..b).filter(|&x| !printable(x)).count() as u32;
    char::from_u32(256 + rank).unwrap()
}
