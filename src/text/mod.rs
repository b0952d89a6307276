//! Text in, text out: the constitution, the pasted conversation, repeated sentences,
//! and the prompts built from them. Pure functions, no model and no browser, so all
//! of it is tested natively in milliseconds and fuzzed.

pub mod constitution;
pub mod conversation;
pub mod named;
pub mod prompt;
pub mod repeats;
