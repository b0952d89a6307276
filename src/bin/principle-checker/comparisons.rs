//! Files of HH-RLHF-style comparisons: one JSON object a line, whose "chosen" and
//! "rejected" transcripts share the conversation and differ in the last assistant
//! turn. Read here once for `eval` and `features`.

use std::path::Path;

use anyhow::{bail, Context};
use principle_checker::text::conversation::{self, Conversation, ConversationError};

/// One comparison line: its 0-based line number, and the conversation with the
/// chosen and rejected replies, or why the two transcripts do not split that way.
pub struct Comparison {
    pub line: usize,
    pub split: Result<(Conversation, String, String), ConversationError>,
}

/// The non-empty lines of `file` whose 0-based number `keep` accepts. A line that is
/// not JSON with "chosen" and "rejected" strings stops the read (the file is not a
/// comparison file); one whose transcripts do not split is returned, to be counted.
pub fn read(file: &Path, keep: impl Fn(usize) -> bool) -> anyhow::Result<Vec<Comparison>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("could not read {}", file.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || !keep(i) {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}:{}", file.display(), i + 1))?;
        let (Some(chosen), Some(rejected)) = (v["chosen"].as_str(), v["rejected"].as_str()) else {
            bail!(
                "{}:{}: needs \"chosen\" and \"rejected\" strings",
                file.display(),
                i + 1
            );
        };
        out.push(Comparison {
            line: i,
            split: conversation::split_comparison(chosen, rejected),
        });
    }
    Ok(out)
}
