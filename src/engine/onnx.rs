//! The model file parsed by tract's ONNX front end, its quantized weights expanded
//! first ([`super::weights`]): where both the head's layer stack and the whole decoder
//! start.

use tract_onnx::prelude::*;

use super::error::ModelError;
use super::weights::{expand_quantized, Expanded};

/// The file parsed, its quantized weights expanded to f32 (tract would fold the ONNX
/// dequantization ops itself, at a 3.4 GB peak), and the framework that reads it.
pub(super) fn read_expanded(
    onnx: &[u8],
) -> Result<(tract_onnx::Onnx, tract_onnx::pb::ModelProto, Expanded), ModelError> {
    let framework = tract_onnx::onnx();
    let mut proto = framework
        .proto_model_for_read(&mut &onnx[..])
        .map_err(|e| ModelError::Onnx(format!("{e:#}")))?;
    let expanded = expand_quantized(&mut proto)?;
    Ok((framework, proto, expanded))
}
