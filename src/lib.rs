//! principle-checker: judge assistant responses against a written constitution with a
//! small language model, natively or in the browser.
//!
//! Data flows one way: text → [`prompt`] → [`tokenizer`] → [`model`] → [`head`] or
//! answer letters → [`judge`] → [`verdict`] → view.
//! Only [`model`] (with [`layers`] and [`weights`], which prepare its graphs) knows tract; only the CLI and `wasm` know their environments.

pub mod constitution;
pub mod conversation;
pub mod evidence;
pub mod head;
pub mod judge;
pub mod kernels;
pub mod layers;
pub mod model;
pub mod prompt;
pub mod repeats;
pub mod tokenizer;
pub mod verdict;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod weights;
