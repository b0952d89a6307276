//! The engine: a model folder becomes token ids in and states or logits out. The only
//! part of the crate that knows tract (and the tokenizer library); nothing here knows
//! what a principle or a verdict is.
//!
//! Order of use: [`manifest`] checks the files → [`tokenizer`] turns text into ids →
//! [`weights`] expands the quantized blocks → [`layers`] (the head's layers, one
//! layer's plan run per layer) or [`decoder`] (the whole network) runs them, carrying
//! a [`kv::KvCache`] the caller owns; [`lens`] reads how likely the model finds a
//! text's tokens from one layer's residual stream (the head's pass, or a pass of the
//! layer stack run on past it). [`kernels`] checks the matrix kernels of the build at hand.

pub mod decoder;
pub mod error;
pub mod kernels;
pub mod kv;
pub mod layers;
pub mod lens;
pub mod manifest;
mod onnx;
pub mod tokenizer;
pub mod weights;

pub use decoder::{mean_rows, BranchReading, Likelihood, Model, PooledLayers, Prefilled};
pub use error::ModelError;
pub use kv::KvCache;
pub use manifest::{Architecture, Manifest, ModelFiles};
