//! Quantized weight blocks expanded to f32 before tract reads the graph.
//!
//! The model ships its weights as the GGUF's own Q4_1 / Q8_0 blocks, with ONNX ops
//! (Cast, Mul, Floor, Sub, Concat, Add, Reshape) that turn each block back into f32
//! (tools/convert_gguf.py). tract folds those ops into constants while optimizing,
//! but it folds every weight's chain at once and keeps each step's full-size result
//! alive until the graph is pruned: about 3.4 GB at the peak for a 135M model, close
//! to the 4 GiB a wasm32 page can ever have, and 6 of the 9 seconds a load takes.
//! Doing the same arithmetic here, one weight at a time, leaves tract a plain f32
//! graph: the bytes on the wire and their checksum are unchanged, the numbers are
//! the same (f16 scale × nibble + f16 min, in f32), and the peak is that of an f32
//! model.
//!
//! Two more passes over the weights are avoided the same way. The values go straight
//! into tract tensors that replace small placeholders after parsing
//! ([`Expanded::install`]), so tract never copies 540 MB out of the protobuf; and
//! `MatMul(x, Transpose(W))` reads `W` as stored through an Einsum, so tract never
//! transposes a constant while typing the graph.

use std::collections::{HashMap, HashSet};

use thiserror::Error;
use tract_onnx::pb::{
    attribute_proto::AttributeType, tensor_proto::DataType, AttributeProto, GraphProto, ModelProto,
    NodeProto, TensorProto,
};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::InferenceFact;
use tract_onnx::tract_hir::ops::konst::Const;

/// Why the quantized weights could not be expanded: the file is not what
/// tools/convert_gguf.py writes, or tract refused a tensor.
#[derive(Debug, Error)]
pub enum WeightsError {
    #[error("{0}")]
    Invalid(String),
    #[error("a weight tensor could not be built")]
    Tract(#[source] TractError),
}

/// f32 weights computed from their blocks, each waiting to replace the placeholder
/// initializer of the same name once tract has parsed the graph.
pub struct Expanded {
    tensors: Vec<(String, Tensor, Tensor)>,
    /// How many quantized weights were expanded (some give two tensors).
    weights: usize,
}

/// Placeholders are rank-7 i64 tensors holding their own index: no real initializer
/// looks like that, so tract's merging of equal constants cannot fold two into one
/// (and [`Expanded::install`] checks that it did not).
fn placeholder(i: usize) -> Tensor {
    tensor1(&[i as i64])
        .into_shape(&[1, 1, 1, 1, 1, 1, 1])
        .expect("one element")
}

impl Expanded {
    /// How many quantized weights were expanded.
    pub fn weights(&self) -> usize {
        self.weights
    }

    /// The expanded tensors by weight name, for a caller that feeds weights to a plan
    /// as inputs instead of installing them as constants.
    pub fn into_tensors(self) -> HashMap<String, Tensor> {
        self.tensors
            .into_iter()
            .map(|(name, _, value)| (name, value))
            .collect()
    }

    /// Puts each expanded tensor in place of its placeholder constant.
    pub fn install(self, model: &mut InferenceModel) -> Result<(), WeightsError> {
        for (name, marker, value) in self.tensors {
            let id = model
                .node_by_name(&name)
                .map_err(|_| {
                    WeightsError::Invalid(format!("the parsed model lost the weight {name:?}"))
                })?
                .id;
            let node = model.node_mut(id);
            match node.op_as::<Const>() {
                Some(c) if **c.val() == marker => {}
                _ => {
                    return Err(WeightsError::Invalid(format!(
                        "{name:?} is not the placeholder left for it"
                    )))
                }
            }
            let value = value.into_arc_tensor();
            let fact = TypedFact::try_from(value.clone()).map_err(WeightsError::Tract)?;
            node.op = Box::new(Const::new(value).map_err(WeightsError::Tract)?);
            node.outputs[0].fact = InferenceFact::from(fact);
        }
        Ok(())
    }
}

/// Replaces each quantized weight's dequantization chain (and a `Transpose(perm=[1,
/// 0])` reading it) with a placeholder initializer, removes the chain, and returns
/// the f32 values for [`Expanded::install`].
pub fn expand_quantized(model: &mut ModelProto) -> Result<Expanded, WeightsError> {
    let Some(graph) = model.graph.as_mut() else {
        return Ok(Expanded {
            tensors: Vec::new(),
            weights: 0,
        });
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
    let expanded: HashSet<String> = weights.iter().map(|(w, _)| w.clone()).collect();
    matmuls_read_weights_directly(graph, &expanded);
    let find = |graph: &GraphProto, name: String| -> Result<usize, WeightsError> {
        index
            .get(&name)
            .copied()
            .filter(|&i| !graph.initializer[i].raw_data.is_empty())
            .ok_or_else(|| WeightsError::Invalid(format!("the model has no initializer {name:?}")))
    };
    let mut tensors = Vec::with_capacity(weights.len());
    for (w, q4) in &weights {
        let t = &graph.initializer;
        let scale = find(graph, format!("{w}.scale"))?;
        let (blocks, used) = if *q4 {
            let (q, min) = (
                find(graph, format!("{w}.q4"))?,
                find(graph, format!("{w}.min"))?,
            );
            (
                Blocks::q4_1(w, &t[q], &t[scale], &t[min])?,
                vec![q, min, scale],
            )
        } else {
            let q = find(graph, format!("{w}.q8"))?;
            (Blocks::q8_0(w, &t[q], &t[scale])?, vec![q, scale])
        };
        tensors.push((w.clone(), blocks.plain()?));
        // this weight's blocks are no longer needed: free them before the next one
        drop(blocks);
        for i in used {
            graph.initializer[i].raw_data = Vec::new();
        }
    }
    graph
        .node
        .retain(|n| n.output.first().is_none_or(|o| !expanded.contains(o)));
    let mut installs = Vec::with_capacity(tensors.len());
    for (i, (name, value)) in tensors.into_iter().enumerate() {
        let marker = placeholder(i);
        graph.initializer.push(TensorProto {
            name: name.clone(),
            dims: marker.shape().iter().map(|&d| d as i64).collect(),
            data_type: DataType::Int64 as i32,
            int64_data: vec![i as i64],
            ..Default::default()
        });
        installs.push((name, marker, value));
    }
    prune(graph);
    Ok(Expanded {
        tensors: installs,
        weights: weights.len(),
    })
}

/// `MatMul(x, Transpose(W))`, every linear layer's `x · Wᵀ`, becomes
/// `Einsum("...k,nk->...n", x, W)`. tract would otherwise compute each transposed
/// weight while typing the graph (0.5 s natively), and packs the weight faster for
/// its kernels from the stored `[out, in]` layout than from a transposed copy.
/// A transpose that anything but a MatMul's right operand reads is left alone.
fn matmuls_read_weights_directly(graph: &mut GraphProto, weights: &HashSet<String>) -> usize {
    let transposes: HashMap<String, String> = graph
        .node
        .iter()
        .filter(|n| is_matrix_transpose(n) && n.input.len() == 1 && weights.contains(&n.input[0]))
        .map(|n| (n.output[0].clone(), n.input[0].clone()))
        .collect();
    let mut foldable: HashSet<&String> = transposes.keys().collect();
    for o in &graph.output {
        foldable.remove(&o.name);
    }
    for n in &graph.node {
        for (ix, i) in n.input.iter().enumerate() {
            if !(n.op_type == "MatMul" && ix == 1) {
                foldable.remove(i);
            }
        }
    }
    let foldable: HashSet<String> = foldable.into_iter().cloned().collect();
    for n in graph.node.iter_mut() {
        if n.op_type == "MatMul" && n.input.len() == 2 && foldable.contains(&n.input[1]) {
            n.input[1] = transposes[&n.input[1]].clone();
            n.op_type = "Einsum".into();
            n.attribute.push(AttributeProto {
                name: "equation".into(),
                r#type: AttributeType::String as i32,
                s: b"...k,nk->...n".to_vec(),
                ..Default::default()
            });
        }
    }
    graph
        .node
        .retain(|n| !(n.op_type == "Transpose" && foldable.contains(&n.output[0])));
    foldable.len()
}

/// `Transpose` of a matrix: no `perm`, or `perm = [1, 0]`.
fn is_matrix_transpose(n: &NodeProto) -> bool {
    n.op_type == "Transpose"
        && n.output.len() == 1
        && n.attribute.iter().all(|a| {
            a.name != "perm" || (a.r#type == AttributeType::Ints as i32 && a.ints == [1, 0])
        })
}

/// One weight's quantized blocks, `[rows, cols]` once decoded.
struct Blocks<'a> {
    rows: usize,
    cols: usize,
    bytes: &'a [u8],
    scale: Vec<f32>,
    /// Q4_1's per-block minimum; Q8_0 has none.
    min: Option<Vec<f32>>,
}

impl<'a> Blocks<'a> {
    /// Q4_1: per block of 32, 16 bytes whose low nibbles are elements 0–15 and high
    /// nibbles elements 16–31; value = nibble × scale + min.
    fn q4_1(
        w: &str,
        q: &'a TensorProto,
        scale: &TensorProto,
        min: &TensorProto,
    ) -> Result<Blocks<'a>, WeightsError> {
        let (rows, blocks) = block_dims(q, 16)?;
        let (scale, min) = (f16s(scale)?, f16s(min)?);
        if scale.len() != rows * blocks || min.len() != rows * blocks {
            return Err(WeightsError::Invalid(format!(
                "{w}: scales or minimums do not match its blocks"
            )));
        }
        Ok(Blocks {
            rows,
            cols: blocks * 32,
            bytes: &q.raw_data,
            scale,
            min: Some(min),
        })
    }

    /// Q8_0: per block of 32, signed bytes; value = byte × scale.
    fn q8_0(w: &str, q: &'a TensorProto, scale: &TensorProto) -> Result<Blocks<'a>, WeightsError> {
        let (rows, blocks) = block_dims(q, 32)?;
        let scale = f16s(scale)?;
        if scale.len() != rows * blocks {
            return Err(WeightsError::Invalid(format!(
                "{w}: scales do not match its blocks"
            )));
        }
        Ok(Blocks {
            rows,
            cols: blocks * 32,
            bytes: &q.raw_data,
            scale,
            min: None,
        })
    }

    /// Decodes row `r` into `out` (`cols` values).
    fn row(&self, r: usize, out: &mut [f32]) {
        let blocks = self.cols / 32;
        let first = r * blocks;
        let scales = &self.scale[first..first + blocks];
        match &self.min {
            Some(min) => {
                let bytes = &self.bytes[first * 16..(first + blocks) * 16];
                for (((q, block), &d), &m) in bytes
                    .chunks_exact(16)
                    .zip(out.chunks_exact_mut(32))
                    .zip(scales)
                    .zip(&min[first..first + blocks])
                {
                    let (low, high) = block.split_at_mut(16);
                    for ((&byte, lo), hi) in q.iter().zip(low).zip(high) {
                        *lo = (byte & 0x0f) as f32 * d + m;
                        *hi = (byte >> 4) as f32 * d + m;
                    }
                }
            }
            None => {
                let bytes = &self.bytes[first * 32..(first + blocks) * 32];
                for ((q, block), &d) in bytes
                    .chunks_exact(32)
                    .zip(out.chunks_exact_mut(32))
                    .zip(scales)
                {
                    for (&byte, v) in q.iter().zip(block) {
                        *v = (byte as i8) as f32 * d;
                    }
                }
            }
        }
    }

    /// The weight as stored: `[rows, cols]`.
    fn plain(&self) -> Result<Tensor, WeightsError> {
        let mut out = f32_tensor(self.rows, self.cols)?;
        let mut view = out
            .to_plain_array_view_mut::<f32>()
            .map_err(WeightsError::Tract)?;
        let values = view
            .as_slice_mut()
            .ok_or_else(|| WeightsError::Invalid("a new tensor is not contiguous".into()))?;
        for (r, row) in values.chunks_exact_mut(self.cols).enumerate() {
            self.row(r, row);
        }
        drop(view);
        Ok(out)
    }
}

/// A `[rows, cols]` f32 tensor whose every element the caller writes.
fn f32_tensor(rows: usize, cols: usize) -> Result<Tensor, WeightsError> {
    // SAFETY: f32 has no invalid bit patterns, so even an element left unwritten is a
    // valid (if meaningless) value; every caller writes all of them. Skipping the
    // zeroing saves a pass over 540 MB at every load.
    unsafe { Tensor::uninitialized::<f32>(&[rows, cols]) }.map_err(WeightsError::Tract)
}

/// A plain f32 initializer (a norm's weights) as a tract tensor.
pub fn f32_initializer(t: &TensorProto) -> Result<Tensor, WeightsError> {
    if t.data_type != DataType::Float as i32 {
        return Err(WeightsError::Invalid(format!("{} is not f32 data", t.name)));
    }
    let shape: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
    let values: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    Tensor::from_shape(&shape, &values).map_err(WeightsError::Tract)
}

/// `[rows, blocks, 1]` f16 values (scales or minimums) as f32.
fn f16s(t: &TensorProto) -> Result<Vec<f32>, WeightsError> {
    if t.data_type != DataType::Float16 as i32 || !t.raw_data.len().is_multiple_of(2) {
        return Err(WeightsError::Invalid(format!(
            "{} is not raw f16 data",
            t.name
        )));
    }
    Ok(t.raw_data
        .chunks_exact(2)
        .map(|b| f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32())
        .collect())
}

/// The dims `[rows, blocks, per_block]` of a block tensor, checked against its bytes.
fn block_dims(t: &TensorProto, per_block: i64) -> Result<(usize, usize), WeightsError> {
    match t.dims[..] {
        [rows, blocks, b] if b == per_block && rows > 0 && blocks > 0 => {
            let (rows, blocks) = (rows as usize, blocks as usize);
            if t.raw_data.len() != rows * blocks * b as usize {
                return Err(WeightsError::Invalid(format!(
                    "{} has {} bytes for dims {:?}",
                    t.name,
                    t.raw_data.len(),
                    t.dims
                )));
            }
            Ok((rows, blocks))
        }
        _ => Err(WeightsError::Invalid(format!(
            "{} has dims {:?}, expected [rows, blocks, {per_block}]",
            t.name, t.dims
        ))),
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
    use tract_onnx::pb::ValueInfoProto;

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

    fn values(t: &Tensor) -> Vec<f32> {
        t.to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect()
    }

    fn expanded(e: &Expanded) -> Vec<(&str, &[usize], Vec<f32>)> {
        e.tensors
            .iter()
            .map(|(n, _, t)| (n.as_str(), t.shape(), values(t)))
            .collect()
    }

    fn graph(initializer: Vec<TensorProto>, node: Vec<NodeProto>, outputs: &[&str]) -> ModelProto {
        ModelProto {
            graph: Some(GraphProto {
                initializer,
                node,
                output: outputs
                    .iter()
                    .map(|o| ValueInfoProto {
                        name: o.to_string(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// One Q4_1 block behind a stand-in chain, read by an op that must survive.
    #[test]
    fn a_q4_1_block_becomes_its_f32_values_and_its_chain_goes() {
        let bytes: Vec<u8> = (0..16u8).map(|i| i | ((15 - i) << 4)).collect();
        let mut model = graph(
            vec![
                raw("w.q4", &[1, 1, 16], DataType::Uint8, bytes),
                raw("w.scale", &[1, 1, 1], DataType::Float16, half(0.5)),
                raw("w.min", &[1, 1, 1], DataType::Float16, half(-1.0)),
                raw("w.shape", &[2], DataType::Int64, vec![0; 16]),
            ],
            vec![
                node("Cast", &["w.q4"], "w.w3"),
                node("Reshape", &["w.w3", "w.shape"], "w"),
                node("Gather", &["w", "ids"], "out"),
            ],
            &["out"],
        );
        let e = expand_quantized(&mut model).unwrap();
        assert_eq!(e.weights(), 1);
        let g = model.graph.unwrap();
        assert_eq!(g.node.len(), 1);
        assert_eq!(g.node[0].op_type, "Gather");
        // only the placeholder is left, holding its index
        assert_eq!(g.initializer.len(), 1);
        assert_eq!(g.initializer[0].name, "w");
        assert_eq!(g.initializer[0].int64_data, [0]);
        // low nibbles 0..15 first, then high nibbles 15..0; × 0.5 − 1
        let expected: Vec<f32> = (0..16)
            .chain((0..16).rev())
            .map(|n| n as f32 * 0.5 - 1.0)
            .collect();
        assert_eq!(expanded(&e), [("w", &[1usize, 32][..], expected)]);
    }

    fn transpose(input: &str, output: &str) -> NodeProto {
        let mut t = node("Transpose", &[input], output);
        t.attribute.push(AttributeProto {
            name: "perm".into(),
            r#type: AttributeType::Ints as i32,
            ints: vec![1, 0],
            ..Default::default()
        });
        t
    }

    /// The embedding matrix is both gathered and, transposed, the output layer's
    /// right operand: the MatMul reads it as stored through an Einsum, and the
    /// Transpose goes. A Transpose read by anything else stays.
    #[test]
    fn a_matmul_of_a_transposed_weight_reads_the_weight_as_stored() {
        let q8 = |w: &str| {
            [
                raw(
                    &format!("{w}.q8"),
                    &[2, 1, 32],
                    DataType::Int8,
                    (0..64u8).collect(),
                ),
                raw(
                    &format!("{w}.scale"),
                    &[2, 1, 1],
                    DataType::Float16,
                    [half(1.0), half(2.0)].concat(),
                ),
            ]
        };
        let mut model = graph(
            [q8("w"), q8("v")].concat(),
            vec![
                node("Reshape", &["w.q8", "s"], "w"),
                transpose("w", "w.t"),
                node("MatMul", &["x", "w.t"], "logits"),
                node("Gather", &["w", "ids"], "embedded"),
                node("Reshape", &["v.q8", "s"], "v"),
                transpose("v", "v.t"),
                node("Relu", &["v.t"], "other"),
            ],
            &["logits", "embedded", "other"],
        );
        let e = expand_quantized(&mut model).unwrap();
        let rows: Vec<f32> = (0..32)
            .map(|i| i as f32)
            .chain((32..64).map(|i| 2.0 * i as f32))
            .collect();
        assert_eq!(
            expanded(&e),
            [
                ("w", &[2usize, 32][..], rows.clone()),
                ("v", &[2usize, 32][..], rows)
            ]
        );
        let g = model.graph.unwrap();
        let ops: Vec<(&str, &[String])> = g
            .node
            .iter()
            .map(|n| (n.op_type.as_str(), &n.input[..]))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ops,
            [
                ("Einsum", &s(&["x", "w"])[..]),
                ("Gather", &s(&["w", "ids"])[..]),
                ("Transpose", &s(&["v"])[..]),
                ("Relu", &s(&["v.t"])[..]),
            ]
        );
        assert_eq!(g.node[0].attribute[0].s, b"...k,nk->...n");
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
        let err = expand_quantized(&mut model).err().unwrap();
        assert_eq!(err.to_string(), "w.q8 has 31 bytes for dims [1, 1, 32]");
    }
}
