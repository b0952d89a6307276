//! The model file parsed by tract's ONNX front end, its quantized weights taken out
//! first ([`super::weights`]): what both the head's layer stack and the whole decoder
//! are built from.

use prost::Message;
use tract_onnx::pb::ModelProto;

use super::error::ModelError;
use super::weights::{take_quantized, QuantizedWeights};

/// The file parsed, its quantized weights taken out as blocks (tract would fold the
/// ONNX dequantization ops itself, at a 3.4 GB peak). Kept in place of the file:
/// once parsed, the file's bytes are freed, and the whole decoder, if it is ever
/// asked for, is built from this.
pub(super) struct Parsed {
    /// The graph, a placeholder where each quantized weight was.
    pub proto: ModelProto,
    pub weights: QuantizedWeights,
}

/// Decodes the bytes in place: tract's `proto_model_for_read` reads them into a copy
/// first, and the file, that copy and the parsed graph together were the page's
/// memory high-water mark.
pub(super) fn parse(onnx: &[u8]) -> Result<Parsed, ModelError> {
    let mut proto = ModelProto::decode(onnx).map_err(|e| ModelError::Onnx(e.to_string()))?;
    let weights = take_quantized(&mut proto)?;
    Ok(Parsed { proto, weights })
}
