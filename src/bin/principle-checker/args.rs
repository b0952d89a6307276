//! The command line, parsed by clap: every word that names an option (layout,
//! defence, scoring) is parsed by the library's own `FromStr`, so a wrong word gets
//! the same message here as on the page.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Parser, Subcommand};
use principle_checker::judge::Scoring;
use principle_checker::text::prompt::{Defence, Layout};

#[derive(Parser)]
#[command(
    name = "principle-checker",
    version,
    about = "Judge assistant responses against a constitution with a small local language model"
)]
pub struct Cli {
    /// Model folder (manifest.json, model.onnx, tokenizer.json), as written by scripts/setup-model.sh.
    #[arg(
        long,
        global = true,
        env = "PRINCIPLE_CHECKER_MODEL",
        default_value = "models/smollm2-135m-instruct"
    )]
    pub model: PathBuf,
    /// Where the principle goes: "principle-last" (one KV cache serves all principles) or "paper".
    #[arg(long, global = true, default_value = "principle-last")]
    pub layout: Layout,
    /// How the zero-shot prompt quotes the conversation and the responses: "none" (as
    /// written, the default), "delimiters" (each option framed in [[[ ]]] it cannot
    /// close), "normalize" (answer lines and option labels such as "The answer is: (B)"
    /// rewritten) or "both". The trained head is not affected.
    #[arg(long, global = true)]
    pub prompt_defence: Option<Defence>,
    /// How verdicts are computed: "trained-head" (default when the model has one) or "zero-shot" (the CAI prompt).
    #[arg(long, global = true)]
    pub scoring: Option<Scoring>,
    /// A custom constitution (JSON, same schema as constitutions/claude-2023.json).
    #[arg(long, global = true)]
    pub constitution: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Judge two or more responses to a conversation under the constitution's principles.
    Judge {
        /// The conversation: a Human:/Assistant: transcript or a plain prompt.
        conversation: PathBuf,
        /// Two to six files, one response each.
        #[arg(required = true, num_args = 2..)]
        responses: Vec<PathBuf>,
        /// Comma-separated principle or group ids, or "all".
        #[arg(long, default_value = "all")]
        principles: String,
        /// Also write the chain of thought for each selected principle (slow: one generation each).
        #[arg(long)]
        reason: bool,
        #[arg(long, default_value_t = 96)]
        reason_tokens: usize,
        /// Print the full result as JSON.
        #[arg(long)]
        json: bool,
        /// After the table, say for each principle which sentences decided its
        /// verdict (trained head only): their share of the logit, exactly.
        #[arg(long)]
        explain: bool,
    },
    /// Accuracy on HH-RLHF-style comparisons (lines of {"chosen": ..., "rejected": ...}).
    Eval {
        file: PathBuf,
        /// Comma-separated principle or group ids, or "all"; every pair is judged under each.
        #[arg(long, default_value = "research-1-02")]
        principles: String,
        /// Only the first N comparisons.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Pooled hidden states for training a judge head (needs a model converted with
    /// --hidden-layers): each comparison's chosen and rejected response read after
    /// the conversation, or with no --pairs the constitution's principles. Writes
    /// OUT.f32 (little-endian f32, [rows, texts, layers, hidden]) and OUT.json, and
    /// with --pairs the conversation's state where the reply begins to OUT.conv.f32
    /// ([rows, layers, hidden]) and the mean log-probability of each response's
    /// tokens to OUT.lp.f32 ([rows, texts]).
    Features {
        /// HH-RLHF-style comparisons; without it, the principles are featurized.
        #[arg(long)]
        pairs: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// "K/N": only comparisons whose line number modulo N is K (for parallel runs).
        #[arg(long, default_value = "0/1")]
        shard: Shard,
        /// "LO-HI": also write every response token's residual stream, averaged
        /// over layers LO..=HI, to OUT.states.f32 ([tokens, hidden] per text, in
        /// row order; the token ids, one row each, are in OUT.json), for read-outs
        /// other than the mean.
        #[arg(long, requires = "pairs")]
        states: Option<LayerBand>,
        /// Only OUT.conv.f32 (and its rows in OUT.conv.json), without running the
        /// responses: adds the conversation's state to features written before.
        #[arg(long, requires = "pairs", conflicts_with = "states")]
        conversation_only: bool,
    },
    /// Time the standard check: the fixture conversation, its responses (response-*.txt,
    /// two in the standard fixture, six in tests/fixtures/six), all principles, both
    /// orders; prints resident memory after every run (growth across runs is a leak).
    Bench {
        #[arg(long, default_value = "tests/fixtures/standard")]
        fixture: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

/// `K/N`: the lines whose number modulo N is K.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shard {
    pub k: usize,
    pub n: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        s.split_once('/')
            .and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)))
            .filter(|(k, n)| k < n)
            .map(|(k, n)| Shard { k, n })
            .ok_or_else(|| format!("must be K/N with K < N, got {s:?}"))
    }
}

/// `LO-HI`: model layers LO..=HI.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerBand {
    pub lo: usize,
    pub hi: usize,
}

impl FromStr for LayerBand {
    type Err = String;
    fn from_str(s: &str) -> Result<LayerBand, String> {
        s.split_once('-')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .filter(|(lo, hi)| lo <= hi)
            .map(|(lo, hi)| LayerBand { lo, hi })
            .ok_or_else(|| format!("must be LO-HI with LO <= HI, got {s:?}"))
    }
}

impl std::fmt::Display for LayerBand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.lo, self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_with_the_librarys_messages() {
        let cli =
            Cli::try_parse_from(["pc", "--layout", "paper", "--scoring", "zero-shot", "bench"])
                .unwrap();
        assert_eq!(cli.layout, Layout::Paper);
        assert_eq!(cli.scoring, Some(Scoring::ZeroShot));
        let e = Cli::try_parse_from(["pc", "--prompt-defence", "walls", "bench"])
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(
                r#"unknown prompt defence "walls": use "none", "delimiters", "normalize" or "both""#
            ),
            "{e}"
        );
    }

    #[test]
    fn shards_and_bands_parse_or_say_what_they_need() {
        assert_eq!("1/2".parse(), Ok(Shard { k: 1, n: 2 }));
        assert!("2/2".parse::<Shard>().unwrap_err().contains("K < N"));
        assert_eq!("16-24".parse(), Ok(LayerBand { lo: 16, hi: 24 }));
        assert_eq!(LayerBand { lo: 16, hi: 24 }.to_string(), "16-24");
        assert!("24-16".parse::<LayerBand>().is_err());
    }
}
