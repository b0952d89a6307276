//! What can go wrong between a model folder and a finished pass, in words that name
//! the file or the part: the engine's one error type, which the manifest checks use
//! too (they run before any of the model is parsed).

use thiserror::Error;

use super::weights::WeightsError;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("the model manifest is not valid: {0}")]
    Manifest(String),
    #[error("the model manifest has format {found:?}; this build reads {expected:?}")]
    UnsupportedFormat {
        found: String,
        expected: &'static str,
    },
    #[error("{file} is {actual} bytes but the manifest says {expected}: the download is incomplete or the file was replaced")]
    SizeMismatch {
        file: String,
        expected: u64,
        actual: u64,
    },
    #[error("{file} does not match its checksum (sha256 {actual}, manifest says {expected}): the file is corrupt or belongs to another model; fetch it again")]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("could not read {file}: {reason}")]
    Io { file: String, reason: String },
    #[error("the model file could not be loaded as an ONNX decoder: {0}")]
    Onnx(String),
    #[error("the model's quantized weights could not be expanded")]
    Weights(#[from] WeightsError),
    #[error("the model has no {0:?} input or output: it was not exported with a KV cache by tools/convert_gguf.py")]
    MissingTensor(String),
    #[error("the tokenizer has {tokenizer} tokens but the model has {model}: they belong to different models")]
    VocabMismatch { tokenizer: usize, model: usize },
    #[error("the model failed while running: {0}")]
    Run(String),
    /// A cache prefilled by the head's smaller graph, handed to the whole decoder that
    /// has replaced it since: the caller prefills again.
    #[error(
        "this cache holds only the trained head's layers; the whole decoder cannot continue it"
    )]
    StaleCache,
    /// A pass through layers past the head's asked for after the whole decoder has
    /// replaced the layer stack (which alone runs them one at a time).
    #[error("the layer stack is gone (the whole decoder replaced it); layers past the head's cannot be read alone")]
    NoLayerStack,
}
