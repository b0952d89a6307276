//! Quantized weight blocks taken out of the graph before tract reads it, and
//! expanded to f32 only where and when something computes with them.
//!
//! The model ships its weights as the GGUF's own Q4_1 / Q8_0 blocks, with ONNX ops
//! (Cast, Mul, Floor, Sub, Concat, Add, Reshape) that turn each block back into f32
//! (tools/convert_gguf.py). tract folds those ops into constants while optimizing,
//! but it folds every weight's chain at once and keeps each step's full-size result
//! alive until the graph is pruned: about 3.4 GB at the peak for a 135M model, close
//! to the 4 GiB a wasm32 page can ever have, and 6 of the 9 seconds a load takes.
//! Doing the same arithmetic here, one weight at a time, leaves tract a plain graph:
//! the bytes on the wire and their checksum are unchanged, and the numbers are the
//! same (f16 scale × nibble + f16 min, in f32).
//!
//! The blocks are moved out of the parsed protobuf, not copied, and stay blocks: the
//! whole decoder expands each into a constant as it is installed
//! ([`QuantizedWeights::install`]), and the trained head's layer stack keeps them as
//! they are and expands one layer's weights per pass, because a wasm page's memory
//! never shrinks and f32 copies of the weights are five times the blocks. Once
//! taken, `MatMul(x, Transpose(W))` reads `W` as stored through an Einsum, so tract
//! never transposes a weight while typing the graph.

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

/// The quantized weights taken out of the graph, each waiting to replace the
/// placeholder initializer of the same name once tract has parsed the graph, or to be
/// fed to a plan as an input. Shared: the layer stack reads the blocks of its layers,
/// and the whole decoder, built later from the same weights, expands them all.
pub struct QuantizedWeights {
    tensors: Vec<(String, Tensor, Arc<Quantized>)>,
}

/// Placeholders are rank-7 i64 tensors holding their own index: no real initializer
/// looks like that, so tract's merging of equal constants cannot fold two into one
/// (and [`QuantizedWeights::install`] checks that it did not).
fn placeholder(i: usize) -> Tensor {
    tensor1(&[i as i64])
        .into_shape(&[1, 1, 1, 1, 1, 1, 1])
        .expect("one element")
}

impl QuantizedWeights {
    /// How many quantized weights the file had.
    pub fn weights(&self) -> usize {
        self.tensors.len()
    }

    /// One weight's blocks, for a caller that feeds them to a plan as an input and
    /// decodes them when a pass needs them.
    pub fn get(&self, name: &str) -> Option<Arc<Quantized>> {
        self.tensors
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, q)| q.clone())
    }

    /// Expands each weight to f32 and puts it in place of its placeholder constant.
    pub fn install(&self, model: &mut InferenceModel) -> Result<(), WeightsError> {
        for (name, marker, blocks) in &self.tensors {
            let id = model
                .node_by_name(name)
                .map_err(|_| {
                    WeightsError::Invalid(format!("the parsed model lost the weight {name:?}"))
                })?
                .id;
            let node = model.node_mut(id);
            match node.op_as::<Const>() {
                Some(c) if **c.val() == *marker => {}
                _ => {
                    return Err(WeightsError::Invalid(format!(
                        "{name:?} is not the placeholder left for it"
                    )))
                }
            }
            let value = blocks.plain()?.into_arc_tensor();
            let fact = TypedFact::try_from(value.clone()).map_err(WeightsError::Tract)?;
            node.op = Box::new(Const::new(value).map_err(WeightsError::Tract)?);
            node.outputs[0].fact = InferenceFact::from(fact);
        }
        Ok(())
    }
}

/// Replaces each quantized weight's dequantization chain (and a `Transpose(perm=[1,
/// 0])` reading it) with a placeholder initializer, removes the chain, and moves the
/// weight's blocks out of the graph (no copy) for [`QuantizedWeights`].
pub fn take_quantized(model: &mut ModelProto) -> Result<QuantizedWeights, WeightsError> {
    let Some(graph) = model.graph.as_mut() else {
        return Ok(QuantizedWeights {
            tensors: Vec::new(),
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
    let taken: HashSet<String> = weights.iter().map(|(w, _)| w.clone()).collect();
    matmuls_read_weights_directly(graph, &taken);
    let find = |graph: &GraphProto, name: String| -> Result<usize, WeightsError> {
        index
            .get(&name)
            .copied()
            .filter(|&i| !graph.initializer[i].raw_data.is_empty())
            .ok_or_else(|| WeightsError::Invalid(format!("the model has no initializer {name:?}")))
    };
    let mut tensors = Vec::with_capacity(weights.len());
    for (i, (w, q4)) in weights.iter().enumerate() {
        let scale = find(graph, format!("{w}.scale"))?;
        let (q, min) = if *q4 {
            (
                find(graph, format!("{w}.q4"))?,
                Some(find(graph, format!("{w}.min"))?),
            )
        } else {
            (find(graph, format!("{w}.q8"))?, None)
        };
        let t = &mut graph.initializer;
        // the blocks move out of the graph; the tensor's header comes with them
        let raw_data = std::mem::take(&mut t[q].raw_data);
        let mut q = TensorProto {
            raw_data,
            ..t[q].clone()
        };
        let blocks = Quantized::new(w, &mut q, &t[scale], min.map(|m| &t[m]))?;
        // the blocks now live in `blocks`: the scales and minimums go with the graph
        for used in [Some(scale), min].into_iter().flatten() {
            t[used].raw_data = Vec::new();
        }
        let marker = placeholder(i);
        t.push(TensorProto {
            name: w.clone(),
            dims: marker.shape().iter().map(|&d| d as i64).collect(),
            data_type: DataType::Int64 as i32,
            int64_data: vec![i as i64],
            ..Default::default()
        });
        tensors.push((w.clone(), marker, Arc::new(blocks)));
    }
    graph
        .node
        .retain(|n| n.output.first().is_none_or(|o| !taken.contains(o)));
    prune(graph);
    Ok(QuantizedWeights { tensors })
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

/// One weight as the file ships it, `[rows, cols]` once decoded: the GGUF's blocks
/// of 32, 4 or 8 bits each plus an f16 scale (and, for Q4_1, an f16 minimum) per
/// block. Holding this instead of f32 values is what keeps a loaded model at a fifth
/// of its f32 size; [`Quantized::plain`] gives the same f32 values tract would have
/// folded, bit for bit.
pub struct Quantized {
    rows: usize,
    cols: usize,
    bytes: Vec<u8>,
    /// Widened from f16 once: converting per block at every pass cost more than the
    /// blocks' arithmetic (and wasm has no f16 instructions).
    scale: Vec<f32>,
    /// Q4_1's per-block minimum; Q8_0 has none.
    min: Option<Vec<f32>>,
}

impl Quantized {
    /// Takes the blocks out of `q` (`W.q4`, `[rows, blocks, 16]`, or `W.q8`, `[rows,
    /// blocks, 32]`) after checking them against their scales (and minimums).
    ///
    /// Q4_1: per block of 32, 16 bytes whose low nibbles are elements 0–15 and high
    /// nibbles elements 16–31; value = nibble × scale + min. Q8_0: per block of 32,
    /// signed bytes; value = byte × scale.
    fn new(
        w: &str,
        q: &mut TensorProto,
        scale: &TensorProto,
        min: Option<&TensorProto>,
    ) -> Result<Quantized, WeightsError> {
        let (rows, blocks) = block_dims(q, if min.is_some() { 16 } else { 32 })?;
        let scale = f16s(scale)?;
        let min = min.map(f16s).transpose()?;
        if scale.len() != rows * blocks || min.as_ref().is_some_and(|m| m.len() != rows * blocks) {
            return Err(WeightsError::Invalid(format!(
                "{w}: scales or minimums do not match its blocks"
            )));
        }
        Ok(Quantized {
            rows,
            cols: blocks * 32,
            bytes: std::mem::take(&mut q.raw_data),
            scale,
            min,
        })
    }

    /// `[rows, cols]`.
    pub fn shape(&self) -> [usize; 2] {
        [self.rows, self.cols]
    }

    /// Decodes row `r` into `out` (`cols` values). Fixed-size blocks let the compiler
    /// drop the bounds checks and vectorize: this runs over every weight of the head's
    /// layers at every pass.
    pub fn row(&self, r: usize, out: &mut [f32]) {
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
                    let q: &[u8; 16] = q.try_into().expect("16 bytes");
                    let block: &mut [f32; 32] = block.try_into().expect("32 values");
                    // the nibbles in output order first: then one plain loop the
                    // compiler turns into vector widen, multiply and add
                    let mut nibbles = [0u8; 32];
                    for i in 0..16 {
                        nibbles[i] = q[i] & 0x0f;
                        nibbles[i + 16] = q[i] >> 4;
                    }
                    for (v, &n) in block.iter_mut().zip(&nibbles) {
                        *v = n as f32 * d + m;
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
                    let q: &[u8; 32] = q.try_into().expect("32 bytes");
                    let block: &mut [f32; 32] = block.try_into().expect("32 values");
                    for i in 0..32 {
                        block[i] = (q[i] as i8) as f32 * d;
                    }
                }
            }
        }
    }

    /// The weight decoded: `[rows, cols]` f32.
    pub fn plain(&self) -> Result<Tensor, WeightsError> {
        let mut out = f32_tensor(self.rows, self.cols)?;
        self.decode_into(&mut out)?;
        Ok(out)
    }

    /// Decodes the weight into `out`, a `[rows, cols]` f32 tensor, overwriting every
    /// value: a pass reuses one tensor per weight across the layers.
    pub fn decode_into(&self, out: &mut Tensor) -> Result<(), WeightsError> {
        if out.shape() != self.shape() {
            return Err(WeightsError::Invalid(format!(
                "a {:?} weight cannot be decoded into a {:?} tensor",
                self.shape(),
                out.shape()
            )));
        }
        let mut view = out
            .to_plain_array_view_mut::<f32>()
            .map_err(WeightsError::Tract)?;
        let values = view
            .as_slice_mut()
            .ok_or_else(|| WeightsError::Invalid("a weight tensor is not contiguous".into()))?;
        for (r, row) in values.chunks_exact_mut(self.cols).enumerate() {
            self.row(r, row);
        }
        Ok(())
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

    fn expanded(e: &QuantizedWeights) -> Vec<(&str, Vec<usize>, Vec<f32>)> {
        e.tensors
            .iter()
            .map(|(n, _, q)| {
                let t = q.plain().unwrap();
                (n.as_str(), t.shape().to_vec(), values(&t))
            })
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
        let e = take_quantized(&mut model).unwrap();
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
        assert_eq!(expanded(&e), [("w", vec![1usize, 32], expected)]);
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
        let e = take_quantized(&mut model).unwrap();
        let rows: Vec<f32> = (0..32)
            .map(|i| i as f32)
            .chain((32..64).map(|i| 2.0 * i as f32))
            .collect();
        assert_eq!(
            expanded(&e),
            [
                ("w", vec![2usize, 32], rows.clone()),
                ("v", vec![2usize, 32], rows)
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
        let err = take_quantized(&mut model).err().unwrap();
        assert_eq!(err.to_string(), "w.q8 has 31 bytes for dims [1, 1, 32]");
    }
}
