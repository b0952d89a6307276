//! principle-checker: judge assistant responses against a written constitution with a
//! small language model, natively or in the browser.
//!
//! Data flows one way, and so do the modules' dependencies:
//!
//! - [`text`]: the constitution, the conversation, and the prompts (pure; no model).
//! - [`engine`]: model files → tokens → states and logits (the only part that knows
//!   tract).
//! - [`judge`]: texts read by the engine → per-principle verdicts, summaries, ranking
//!   and the evidence behind them ([`judge::head`] reads states, [`judge::verdict`]
//!   and [`judge::evidence`] are pure maths).
//! - the edges: the CLI (`src/bin`) and the browser surface (`wasm`, wasm32 only),
//!   which turn errors into messages for their users.

pub mod engine;
pub mod judge;
pub mod text;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
