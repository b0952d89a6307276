//! The KV cache: a value the caller owns, so a prefix prefilled once can be branched
//! into many continuations.

use tract_onnx::prelude::*;

use super::error::ModelError;

/// Keys and values of every layer for the tokens seen so far.
///
/// Values are reference-counted tensors: branching a cache (one per principle off a
/// shared prefix) copies pointers, not megabytes.
#[derive(Clone)]
pub struct KvCache {
    pub(super) tensors: Vec<TValue>,
    pub(super) len: usize,
}

impl KvCache {
    /// Number of tokens the cache holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held, for memory reports.
    pub fn bytes(&self) -> usize {
        self.tensors.iter().map(|t| t.len() * 4).sum()
    }

    /// The cache of the first `len` tokens: a causal model's keys and values for a
    /// prefix do not depend on what came after it, so an edited text keeps the part
    /// before the edit.
    pub fn truncated(&self, len: usize) -> Result<KvCache, ModelError> {
        if len >= self.len {
            return Ok(self.clone());
        }
        let tensors = self
            .tensors
            .iter()
            // [batch, kv heads, tokens, head dim]
            .map(|t| t.slice(2, 0, len).map(|t| t.into_tvalue()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ModelError::Run(format!("truncating the cache: {e}")))?;
        Ok(KvCache { tensors, len })
    }
}
