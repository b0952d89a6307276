//! Quantized weight blocks expanded to f32 before tract reads the graph.
//!
//! The model ships its weights as the GGUF's own Q4_1 / Q8_0 blocks, with ONNX ops
//! (Cast, Mul, Floor, Sub, Concat, Add, Reshape) that turn each block back into f32
//! (tools/convert_gguf.py). tract folds those ops into constants while optimizing,
//! but it folds every weight's chain at once and keeps each step's full-size result
//! alive until the graph is pruned: about 3.4 GB at the peak for a 135M model, close
//! to the 4 GiB a wasm32 page can ever have, and 6 of the 9 seconds a load takes.
//! Doing the same arithmetic here, one weight at a time, straight into the f32
//! initializer that the chain would have produced, leaves tract a plain f32 graph:
//! the bytes on the wire and their checksum are unchanged, the numbers are the same
//! (f16 scale × nibble + f16 min, in f32), and the peak is that of an f32 model.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{tensor_proto::DataType, GraphProto, ModelProto, TensorProto};
use tract_onnx::prelude::f16;

/// Replaces each quantized weight's dequantization chain with its f32 value and
/// removes the chain. Returns how many weights were expanded.
pub fn expand_quantized(model: &mut ModelProto) -> Result<usize, String> {
    let Some(graph) = model.graph.as_mut() else {
        return Ok(0);
    };
    let index: HashMap<String, usize> = graph
        .initializer
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    // a weight W is the Reshape output whose chain starts at W.q4 (Q4_1) or W.q8 (Q8_0)
    let weights: Vec<(String, bool)> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Reshape" && n.output.len() == 1)
        .filter_map(|n| {
            let w = &n.output[0];
            let q4 = index.contains_key(&format!("{w}.q4"));
            (q4 || index.contains_key(&format!("{w}.q8"))).then(|| (w.clone(), q4))
        })
        .collect();
    let find = |graph: &GraphProto, name: String| -> Result<usize, String> {
        index
            .get(&name)
            .copied()
            .filter(|&i| !graph.initializer[i].raw_data.is_empty())
            .ok_or_else(|| format!("the model has no initializer {name:?}"))
    };
    let mut values = Vec::with_capacity(weights.len());
    for (w, q4) in &weights {
        let t = &graph.initializer;
        let scale = find(graph, format!("{w}.scale"))?;
        let (value, used) = if *q4 {
            let (q, min) = (
                find(graph, format!("{w}.q4"))?,
                find(graph, format!("{w}.min"))?,
            );
            (q4_1(w, &t[q], &t[scale], &t[min])?, vec![q, min, scale])
        } else {
            let q = find(graph, format!("{w}.q8"))?;
            (q8_0(w, &t[q], &t[scale])?, vec![q, scale])
        };
        // this weight's blocks are no longer needed: free them before the next one
        for i in used {
            graph.initializer[i].raw_data = Vec::new();
        }
        values.push(value);
    }
    let expanded: HashSet<&String> = weights.iter().map(|(w, _)| w).collect();
    graph
        .node
        .retain(|n| n.output.first().is_none_or(|o| !expanded.contains(o)));
    graph.initializer.extend(values);
    prune(graph);
    Ok(weights.len())
}

/// `[rows, blocks, 1]` f16 values (scales or minimums) as f32.
fn f16s(t: &TensorProto) -> Result<Vec<f32>, String> {
    if t.data_type != DataType::Float16 as i32 || !t.raw_data.len().is_multiple_of(2) {
        return Err(format!("{} is not raw f16 data", t.name));
    }
    Ok(t.raw_data
        .chunks_exact(2)
        .map(|b| f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
        .collect())
}

/// The dims `[rows, blocks, per_block]` of a block tensor, checked against its bytes.
fn block_dims(t: &TensorProto, per_block: i64) -> Result<(usize, usize), String> {
    match t.dims[..] {
        [rows, blocks, b] if b == per_block && rows > 0 && blocks > 0 => {
            let (rows, blocks) = (rows as usize, blocks as usize);
            if t.raw_data.len() != rows * blocks * b as usize {
                return Err(format!(
                    "{} has {} bytes for dims {:?}",
                    t.name,
                    t.raw_data.len(),
                    t.dims
                ));
            }
            Ok((rows, blocks))
        }
        _ => Err(format!(
            "{} has dims {:?}, expected [rows, blocks, {per_block}]",
            t.name, t.dims
        )),
    }
}

/// Q4_1: per block of 32, 16 bytes whose low nibbles are elements 0–15 and high
/// nibbles elements 16–31; value = nibble × scale + min.
fn q4_1(
    w: &str,
    q: &TensorProto,
    scale: &TensorProto,
    min: &TensorProto,
) -> Result<TensorProto, String> {
    let (rows, blocks) = block_dims(q, 16)?;
    let scale = f16s(scale)?;
    let min = f16s(min)?;
    if scale.len() != rows * blocks || min.len() != rows * blocks {
        return Err(format!("{w}: scales or minimums do not match its blocks"));
    }
    let mut out = vec![0u8; rows * blocks * 32 * 4];
    for ((bytes, block), (&d, &m)) in q
        .raw_data
        .chunks_exact(16)
        .zip(out.chunks_exact_mut(32 * 4))
        .zip(scale.iter().zip(&min))
    {
        let (low, high) = block.split_at_mut(16 * 4);
        for ((&byte, lo), hi) in bytes
            .iter()
            .zip(low.chunks_exact_mut(4))
            .zip(high.chunks_exact_mut(4))
        {
            lo.copy_from_slice(&((byte & 0x0f) as f32 * d + m).to_le_bytes());
            hi.copy_from_slice(&((byte >> 4) as f32 * d + m).to_le_bytes());
        }
    }
    Ok(f32_tensor(w, rows, blocks * 32, out))
}

/// Q8_0: per block of 32, signed bytes; value = byte × scale.
fn q8_0(w: &str, q: &TensorProto, scale: &TensorProto) -> Result<TensorProto, String> {
    let (rows, blocks) = block_dims(q, 32)?;
    let scale = f16s(scale)?;
    if scale.len() != rows * blocks {
        return Err(format!("{w}: scales do not match its blocks"));
    }
    let mut out = vec![0u8; rows * blocks * 32 * 4];
    for ((bytes, block), &d) in q
        .raw_data
        .chunks_exact(32)
        .zip(out.chunks_exact_mut(32 * 4))
        .zip(&scale)
    {
        for (&byte, v) in bytes.iter().zip(block.chunks_exact_mut(4)) {
            v.copy_from_slice(&((byte as i8) as f32 * d).to_le_bytes());
        }
    }
    Ok(f32_tensor(w, rows, blocks * 32, out))
}

fn f32_tensor(name: &str, rows: usize, cols: usize, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: vec![rows as i64, cols as i64],
        data_type: DataType::Float as i32,
        raw_data: raw,
        ..Default::default()
    }
}

/// Removes nodes whose outputs nobody reads (not another node, not the graph's
/// outputs), then initializers nobody reads.
fn prune(graph: &mut GraphProto) {
    let outputs: HashSet<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    loop {
        let mut used: HashMap<&str, ()> = HashMap::new();
        for n in &graph.node {
            for i in &n.input {
                used.insert(i.as_str(), ());
            }
        }
        let dead: HashSet<usize> = graph
            .node
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.output
                    .iter()
                    .all(|o| !used.contains_key(o.as_str()) && !outputs.contains(o))
            })
            .map(|(i, _)| i)
            .collect();
        if dead.is_empty() {
            break;
        }
        let mut i = 0;
        graph.node.retain(|_| {
            i += 1;
            !dead.contains(&(i - 1))
        });
    }
    let used: HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .chain(outputs)
        .collect();
    graph.initializer.retain(|t| used.contains(&t.name));
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{NodeProto, ValueInfoProto};

    fn raw(name: &str, dims: &[i64], dt: DataType, raw_data: Vec<u8>) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: dt as i32,
            raw_data,
            ..Default::default()
        }
    }

    fn node(op: &str, input: &[&str], output: &str) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: input.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    fn half(x: f32) -> Vec<u8> {
        f16::from_f32(x).to_bits().to_le_bytes().to_vec()
    }

    /// One Q4_1 block behind a stand-in chain, read by a Transpose that must survive.
    #[test]
    fn a_q4_1_block_becomes_its_f32_values_and_its_chain_goes() {
        let bytes: Vec<u8> = (0..16u8).map(|i| i | ((15 - i) << 4)).collect();
        let mut model = ModelProto {
            graph: Some(GraphProto {
                initializer: vec![
                    raw("w.q4", &[1, 1, 16], DataType::Uint8, bytes),
                    raw("w.scale", &[1, 1, 1], DataType::Float16, half(0.5)),
                    raw("w.min", &[1, 1, 1], DataType::Float16, half(-1.0)),
                    raw("w.shape", &[2], DataType::Int64, vec![0; 16]),
                ],
                node: vec![
                    node("Cast", &["w.q4"], "w.w3"),
                    node("Reshape", &["w.w3", "w.shape"], "w"),
                    node("Transpose", &["w"], "out"),
                ],
                output: vec![ValueInfoProto {
                    name: "out".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(expand_quantized(&mut model), Ok(1));
        let g = model.graph.unwrap();
        assert_eq!(g.node.len(), 1);
        assert_eq!(g.node[0].op_type, "Transpose");
        assert_eq!(g.initializer.len(), 1);
        let w = &g.initializer[0];
        assert_eq!((w.name.as_str(), &w.dims[..]), ("w", &[1i64, 32][..]));
        let values: Vec<f32> = w
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        // low nibbles 0..15 first, then high nibbles 15..0; × 0.5 − 1
        let expected: Vec<f32> = (0..16)
            .chain((0..16).rev())
            .map(|n| n as f32 * 0.5 - 1.0)
            .collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn a_block_that_does_not_match_its_dims_is_an_error() {
        let mut model = ModelProto {
            graph: Some(GraphProto {
                initializer: vec![
                    raw("w.q8", &[1, 1, 32], DataType::Int8, vec![0; 31]),
                    raw("w.scale", &[1, 1, 1], DataType::Float16, half(1.0)),
                ],
                node: vec![node("Reshape", &["w.q8", "s"], "w")],
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = expand_quantized(&mut model).unwrap_err();
        assert_eq!(err, "w.q8 has 31 bytes for dims [1, 1, 32]");
    }
}
