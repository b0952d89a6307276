//! A thin wrapper over the Hugging Face `tokenizers` crate, with one rule added:
//! text is never turned into control tokens.
//!
//! Judged text is untrusted. If a response could spell `<|im_end|>` and have it
//! tokenized as the real control token, it could end the prompt early and write its
//! own verdict; so every encode here treats special-token spellings as plain text.
//!
//! Known gap of SmolLM2's vocabulary, found by the `prompt` fuzz target: it has no
//! token for the control bytes 0x04, 0x06, 0x13, 0x14, 0x16 and 0x1D, nor for the
//! characters U+40000–U+BFFFF (UTF-8 lead bytes 0xF1, 0xF2), and the tokenizer drops
//! them silently: the model never sees those characters. None is printable text
//! people paste, and none becomes a control token.

use thiserror::Error;
use tokenizers::Tokenizer;

#[derive(Debug, Error)]
pub enum TokenizerError {
    #[error("the tokenizer file could not be read: {0}")]
    Load(String),
    #[error("the text could not be tokenized: {0}")]
    Encode(String),
    #[error("the tokenizer has no single token for {0:?}, which the judge needs")]
    MissingToken(String),
}

/// A token's `(start, end)` byte offsets in the text it was encoded from.
pub type ByteRange = (usize, usize);

pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    pub fn from_bytes(bytes: &[u8]) -> Result<TextTokenizer, TokenizerError> {
        let mut inner =
            Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::Load(e.to_string()))?;
        inner.set_encode_special_tokens(true);
        Ok(TextTokenizer { inner })
    }

    /// Token ids of `text`, with special-token spellings kept as plain text.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TokenizerError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// [`TextTokenizer::encode`] with each token's byte range in `text`: how a
    /// token is traced back to the sentence it came from.
    pub fn encode_with_offsets(
        &self,
        text: &str,
    ) -> Result<(Vec<u32>, Vec<ByteRange>), TokenizerError> {
        self.inner
            .encode(text, false)
            .map(|e| (e.get_ids().to_vec(), e.get_offsets().to_vec()))
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        self.inner
            .decode(ids, true)
            .map_err(|e| TokenizerError::Encode(e.to_string()))
    }

    /// The id of a text that must be exactly one token (the answer letters).
    pub fn single_token(&self, text: &str) -> Result<u32, TokenizerError> {
        match self.encode(text)?.as_slice() {
            [id] => Ok(*id),
            _ => Err(TokenizerError::MissingToken(text.to_string())),
        }
    }

    /// The id of a special token by its spelling (e.g. a chat-template marker): how
    /// the prompt builder adds control tokens, since [`TextTokenizer::encode`] never
    /// produces them.
    pub fn special_token(&self, spelling: &str) -> Option<u32> {
        self.inner.token_to_id(spelling)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
