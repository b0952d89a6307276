//! The trained head's layers as one decoder layer's plan, run once per layer with
//! that layer's weights as inputs.
//!
//! Why: most of a warm start went to tract typing, decluttering and optimizing the
//! head's graph, 25 copies of the same few dozen nodes (1.9 of 2.8 seconds in
//! Chromium). One layer's plan costs a twenty-fifth of that to build. The price is
//! that tract packs each weight for its kernels at every pass instead of once at
//! load: one read of the weights per pass, small next to the matrix products of the
//! few hundred tokens a head pass runs (research/notes/layer-stack-2026-11-27.md measures both). The whole
//! decoder, which generates one token at a time and would pay that packing at every
//! token, is still one graph with constant weights ([`crate::engine`]).

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::{
    tensor_proto::DataType,
    tensor_shape_proto::{dimension, Dimension},
    type_proto, GraphProto, ModelProto, NodeProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use tract_onnx::prelude::*;

use super::error::ModelError;
use super::manifest::Architecture;
use super::onnx::Parsed;
use super::weights::Quantized;

/// What the converter names the first layer's values (`tools/convert_gguf.py`): every
/// value of layer `l` starts with `l{l}.`, its cache is `past_key_values.{l}.*` in and
/// `present.{l}.*` out, and the residual stream enters layer 0 as `h0`.
const LAYER0: &str = "l0.";
const EMBEDDED: &str = "h0";
const EMBEDDING: &str = "token_embd";
/// The plan's own names for its inputs and outputs.
const STREAM_IN: &str = "stream";
const PAST_KEY: &str = "past_key_values.0.key";
const PAST_VALUE: &str = "past_key_values.0.value";
const STREAM_OUT: &str = "l0.h";
const PRESENT_KEY: &str = "present.0.key";
const PRESENT_VALUE: &str = "present.0.value";

/// Layers `0..=last exported layer` of a decoder that exports hidden states, run
/// for the head; the layers after it are kept too (their weights are the file's, not
/// copies) for the rare pass that reads further ([`LayerStack::run`]'s `through`).
pub struct LayerStack {
    plan: Arc<TypedSimplePlan>,
    /// `[vocab, hidden]`: the first layer's input is a row per token.
    embedding: Weight,
    /// Per layer of the decoder, its weights in the order of `weight_inputs`.
    weights: Vec<Vec<Weight>>,
    /// How many layers a head pass computes: through the last exported one.
    head_layers: usize,
    /// Positions among the plan's inputs.
    stream_input: usize,
    positions_input: usize,
    bias_input: usize,
    past_inputs: [usize; 2],
    weight_inputs: Vec<usize>,
    /// Positions among the plan's outputs.
    stream_output: usize,
    present_outputs: [usize; 2],
    /// The exported layers (`hidden.N` outputs of the file), sorted.
    hidden_layers: Vec<usize>,
    hidden: usize,
}

/// A weight the layer stack feeds its plan: the file's blocks, expanded when a pass
/// reaches its layer (the quantized matrices), or f32 as the file has it (the norms,
/// or every weight of an f32 file).
enum Weight {
    Blocks(Arc<Quantized>),
    Plain(TValue),
}

impl Weight {
    fn shape(&self) -> Vec<usize> {
        match self {
            Weight::Blocks(q) => q.shape().to_vec(),
            Weight::Plain(t) => t.shape().to_vec(),
        }
    }

    /// The weight as a plan input. Blocks are decoded into `slot`'s tensor when the
    /// last pass has let go of it (each layer's weights have the same shapes, so a
    /// pass allocates them once, not once per layer), else into a new one kept there.
    fn value(&self, slot: &mut Option<Arc<Tensor>>) -> Result<TValue, ModelError> {
        let q = match self {
            Weight::Blocks(q) => q,
            Weight::Plain(t) => return Ok(t.clone()),
        };
        match slot.as_mut().and_then(Arc::get_mut) {
            Some(t) if t.shape() == q.shape() => q.decode_into(t)?,
            _ => *slot = Some(Arc::new(q.plain()?)),
        }
        let t = slot.as_ref().expect("filled above");
        Ok(t.clone().into_tvalue())
    }

    /// Appends row `r` of a `[rows, cols]` weight to `out`.
    fn push_row(&self, r: usize, out: &mut Vec<f32>) -> Result<(), ModelError> {
        let [rows, cols] = self.shape()[..] else {
            return Err(ModelError::Run("the embedding is not a matrix".into()));
        };
        if r >= rows {
            return Err(ModelError::Run(format!(
                "token id {r} is past the vocabulary"
            )));
        }
        match self {
            Weight::Blocks(q) => {
                let at = out.len();
                out.resize(at + cols, 0.0);
                q.row(r, &mut out[at..]);
            }
            Weight::Plain(t) => {
                let view = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| ModelError::Run(format!("{e:#}")))?;
                let table = view
                    .as_slice()
                    .ok_or_else(|| ModelError::Run("the embedding is not contiguous".into()))?;
                out.extend_from_slice(&table[r * cols..(r + 1) * cols]);
            }
        }
        Ok(())
    }
}

/// What a pass of the stack starts from.
pub enum StackInput<'a> {
    /// Token ids: their embedding rows go into layer 0.
    Ids(&'a [u32]),
    /// A residual stream `[tokens × hidden]` that earlier layers left: it goes into
    /// layer `from`. A pass that reads further than the head continues the head's
    /// pass this way instead of running its layers again.
    Stream { rows: &'a [f32], from: usize },
}

/// One pass: the cache slots of every computed layer (key then value), the
/// residual stream of each exported layer when asked, `[tokens × hidden]`, and for a
/// pass run through a given layer, that layer's stream.
pub struct StackOutput {
    pub kv: Vec<TValue>,
    pub hidden: Vec<Vec<f32>>,
    pub last: Option<Vec<f32>>,
}

impl LayerStack {
    /// `None` for a file that exports no hidden states (nothing for a head to read).
    pub(super) fn build(
        arch: &Architecture,
        parsed: &Parsed,
    ) -> Result<Option<LayerStack>, ModelError> {
        let onnx_err = |e: TractError| ModelError::Onnx(format!("{e:#}"));
        let Some(graph) = parsed.proto.graph.as_ref() else {
            return Ok(None);
        };
        let mut hidden_layers: Vec<usize> = graph
            .output
            .iter()
            .filter_map(|o| o.name.strip_prefix("hidden.")?.parse().ok())
            .collect();
        hidden_layers.sort_unstable();
        let Some(&last) = hidden_layers.last() else {
            return Ok(None);
        };
        if last >= arch.layers {
            return Err(ModelError::Onnx(format!(
                "the file exports layer {last}'s states but the manifest has {} layers",
                arch.layers
            )));
        }
        let (mut layer_graph, weight_names) = one_layer(graph, arch)?;
        let initializers: HashMap<&str, &tract_onnx::pb::TensorProto> = graph
            .initializer
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut weights = Vec::with_capacity(arch.layers);
        for l in 0..arch.layers {
            let mut layer = Vec::with_capacity(weight_names.len());
            for suffix in &weight_names {
                let name = format!("l{l}.{suffix}");
                layer.push(match parsed.weights.get(&name) {
                    Some(q) => Weight::Blocks(q),
                    None => Weight::Plain(
                        crate::engine::weights::f32_initializer(
                            initializers
                                .get(name.as_str())
                                .ok_or_else(|| ModelError::MissingTensor(name.clone()))?,
                        )?
                        .into_tvalue(),
                    ),
                });
            }
            weights.push(layer);
        }
        for (name, w) in weight_names.iter().zip(&weights[0]) {
            let dims: Vec<Dim> = w.shape().into_iter().map(Dim::Fixed).collect();
            layer_graph.input.push(value_info(name, &dims));
        }
        let embedding = match parsed.weights.get(EMBEDDING) {
            Some(q) => Weight::Blocks(q),
            None => Weight::Plain(
                crate::engine::weights::f32_initializer(
                    initializers
                        .get(EMBEDDING)
                        .ok_or_else(|| ModelError::MissingTensor(EMBEDDING.into()))?,
                )?
                .into_tvalue(),
            ),
        };
        if embedding.shape() != [arch.vocab, arch.hidden] {
            return Err(ModelError::Onnx(format!(
                "the token embedding is {:?}, the manifest says [{}, {}]",
                embedding.shape(),
                arch.vocab,
                arch.hidden
            )));
        }
        // the file's header (its opsets above all) around the one layer's graph
        let p = &parsed.proto;
        let layer_proto = ModelProto {
            ir_version: p.ir_version,
            opset_import: p.opset_import.clone(),
            producer_name: p.producer_name.clone(),
            producer_version: p.producer_version.clone(),
            domain: p.domain.clone(),
            model_version: p.model_version,
            graph: Some(layer_graph),
            ..Default::default()
        };
        let model = tract_onnx::onnx()
            .model_for_proto_model(&layer_proto)
            .map_err(onnx_err)?;
        let names = |outlets: &[OutletId], model: &InferenceModel| -> Vec<String> {
            outlets
                .iter()
                .map(|o| {
                    model
                        .outlet_label(*o)
                        .map(String::from)
                        .unwrap_or_else(|| model.node(o.node).name.clone())
                })
                .collect()
        };
        let inputs = names(model.input_outlets().map_err(onnx_err)?, &model);
        let outputs = names(model.output_outlets().map_err(onnx_err)?, &model);
        let find = |names: &[String], n: &str| {
            names
                .iter()
                .position(|x| x == n)
                .ok_or_else(|| ModelError::MissingTensor(n.to_string()))
        };
        Ok(Some(LayerStack {
            stream_input: find(&inputs, STREAM_IN)?,
            positions_input: find(&inputs, "position_ids")?,
            bias_input: find(&inputs, "attention_bias")?,
            past_inputs: [find(&inputs, PAST_KEY)?, find(&inputs, PAST_VALUE)?],
            weight_inputs: weight_names
                .iter()
                .map(|w| find(&inputs, w))
                .collect::<Result<_, _>>()?,
            stream_output: find(&outputs, STREAM_OUT)?,
            present_outputs: [find(&outputs, PRESENT_KEY)?, find(&outputs, PRESENT_VALUE)?],
            plan: model
                .into_optimized()
                .and_then(|m| m.into_runnable())
                .map_err(onnx_err)?,
            embedding,
            weights,
            head_layers: last + 1,
            hidden_layers,
            hidden: arch.hidden,
        }))
    }

    /// The exported layers, sorted.
    pub fn hidden_layers(&self) -> &[usize] {
        &self.hidden_layers
    }

    /// How many layers a head pass computes (and a cache for it holds).
    pub fn layers(&self) -> usize {
        self.head_layers
    }

    /// Runs `input` after `past` (two tensors per layer the pass computes, from the
    /// input's first layer on) with the given positions and `[tokens, past + tokens]`
    /// attention bias: through the last exported layer, or with `through`, through
    /// that layer, whose stream is then returned as [`StackOutput::last`].
    pub fn run(
        &self,
        past: &[TValue],
        input: StackInput<'_>,
        positions: &[i64],
        bias: Vec<f32>,
        want_hidden: bool,
        through: Option<usize>,
    ) -> Result<StackOutput, ModelError> {
        let run_err = |e: TractError| ModelError::Run(format!("{e:#}"));
        let layers = match through {
            Some(l) if l < self.weights.len() => l + 1,
            Some(l) => {
                return Err(ModelError::Run(format!(
                    "layer {l} asked for; the decoder has {}",
                    self.weights.len()
                )))
            }
            None => self.head_layers,
        };
        let s = positions.len();
        let (first, rows) = match input {
            StackInput::Ids(ids) => {
                let mut rows = Vec::with_capacity(s * self.hidden);
                for &id in ids {
                    self.embedding.push_row(id as usize, &mut rows)?;
                }
                (0, rows)
            }
            StackInput::Stream { rows, from } => (from, rows.to_vec()),
        };
        if first >= layers || rows.len() != s * self.hidden {
            return Err(ModelError::Run(format!(
                "a stream of {} values into layer {first} for {s} positions, through layer {}",
                rows.len(),
                layers - 1
            )));
        }
        if past.len() < 2 * (layers - first) {
            return Err(ModelError::Run(format!(
                "the cache holds {} layers, the pass needs {}",
                past.len() / 2,
                layers - first
            )));
        }
        let total = bias.len() / s.max(1);
        let mut stream = Tensor::from_shape(&[1, s, self.hidden], &rows)
            .map_err(run_err)?
            .into_tvalue();
        let positions = Tensor::from_shape(&[1, s], positions)
            .map_err(run_err)?
            .into_tvalue();
        let bias = Tensor::from_shape(&[s, total], &bias)
            .map_err(run_err)?
            .into_tvalue();
        let n_inputs = 5 + self.weight_inputs.len();
        let mut kv = Vec::with_capacity(2 * (layers - first));
        let mut hidden = Vec::new();
        let mut decoded: Vec<Option<Arc<Tensor>>> = vec![None; self.weight_inputs.len()];
        for (i, weights) in self.weights[first..layers].iter().enumerate() {
            let l = first + i;
            let mut inputs: TVec<Option<TValue>> = tvec![None; n_inputs];
            inputs[self.stream_input] = Some(stream);
            inputs[self.positions_input] = Some(positions.clone());
            inputs[self.bias_input] = Some(bias.clone());
            inputs[self.past_inputs[0]] = Some(past[2 * i].clone());
            inputs[self.past_inputs[1]] = Some(past[2 * i + 1].clone());
            for ((&at, w), slot) in self.weight_inputs.iter().zip(weights).zip(&mut decoded) {
                inputs[at] = Some(w.value(slot)?);
            }
            let inputs = inputs
                .into_iter()
                .map(|v| v.ok_or_else(|| ModelError::Run("a layer input is unset".into())))
                .collect::<Result<TVec<_>, _>>()?;
            let mut out = self.plan.run(inputs).map_err(run_err)?;
            kv.push(out[self.present_outputs[0]].clone());
            kv.push(out[self.present_outputs[1]].clone());
            stream = out.swap_remove(self.stream_output);
            if want_hidden && self.hidden_layers.binary_search(&l).is_ok() {
                let view = stream.to_plain_array_view::<f32>().map_err(run_err)?;
                hidden.push(view.iter().copied().collect());
            }
        }
        let last = match through {
            Some(_) => Some(
                stream
                    .to_plain_array_view::<f32>()
                    .map_err(run_err)?
                    .iter()
                    .copied()
                    .collect(),
            ),
            None => None,
        };
        Ok(StackOutput { kv, hidden, last })
    }
}

/// Layer 0's part of the decoder, and what it reads, as a graph of its own: the
/// residual stream comes in as an input, the layer's weights are inputs named
/// without their `l0.` prefix (returned in input order), the rest of what it reads
/// (rotary tables, constants) is copied. The caller adds the weight inputs, whose
/// dims are those of the expanded tensors, not of their placeholders.
fn one_layer(
    graph: &GraphProto,
    arch: &Architecture,
) -> Result<(GraphProto, Vec<String>), ModelError> {
    let producer: HashMap<&str, usize> = graph
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .collect();
    // every node the layer's outputs depend on, stopping at its incoming stream
    let mut keep = HashSet::new();
    let mut todo = vec![STREAM_OUT, PRESENT_KEY, PRESENT_VALUE];
    while let Some(v) = todo.pop() {
        if v == EMBEDDED {
            continue;
        }
        if let Some(&i) = producer.get(v) {
            if keep.insert(i) {
                todo.extend(graph.node[i].input.iter().map(String::as_str));
            }
        }
    }
    if !keep
        .iter()
        .any(|&i| graph.node[i].output.iter().any(|o| o == STREAM_OUT))
    {
        return Err(ModelError::MissingTensor(STREAM_OUT.into()));
    }
    let mut nodes: Vec<NodeProto> = Vec::with_capacity(keep.len());
    for (i, n) in graph.node.iter().enumerate() {
        if keep.contains(&i) {
            let mut n = n.clone();
            for input in n.input.iter_mut() {
                if input == EMBEDDED {
                    *input = STREAM_IN.into();
                } else if let Some(w) = input.strip_prefix(LAYER0) {
                    if !producer.contains_key(input.as_str()) {
                        *input = w.to_string();
                    }
                }
            }
            nodes.push(n);
        }
    }
    let read: HashSet<&str> = nodes
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .collect();
    let graph_inputs: HashMap<&str, &ValueInfoProto> =
        graph.input.iter().map(|v| (v.name.as_str(), v)).collect();
    let mut inputs = vec![value_info(
        STREAM_IN,
        &[
            Dim::Fixed(1),
            Dim::Named("sequence"),
            Dim::Fixed(arch.hidden),
        ],
    )];
    for name in ["position_ids", "attention_bias", PAST_KEY, PAST_VALUE] {
        let info = graph_inputs
            .get(name)
            .ok_or_else(|| ModelError::MissingTensor(name.to_string()))?;
        inputs.push((*info).clone());
    }
    let mut initializer = Vec::new();
    let mut weight_names = Vec::new();
    for t in &graph.initializer {
        if let Some(w) = t.name.strip_prefix(LAYER0) {
            if read.contains(w) {
                weight_names.push(w.to_string());
            }
        } else if read.contains(t.name.as_str()) {
            initializer.push(t.clone());
        }
    }
    let outputs = vec![
        value_info(
            STREAM_OUT,
            &[
                Dim::Fixed(1),
                Dim::Named("sequence"),
                Dim::Fixed(arch.hidden),
            ],
        ),
        output_info(graph, PRESENT_KEY)?,
        output_info(graph, PRESENT_VALUE)?,
    ];
    Ok((
        GraphProto {
            name: "layer".into(),
            node: nodes,
            initializer,
            input: inputs,
            output: outputs,
            ..Default::default()
        },
        weight_names,
    ))
}

fn output_info(graph: &GraphProto, name: &str) -> Result<ValueInfoProto, ModelError> {
    graph
        .output
        .iter()
        .find(|o| o.name == name)
        .cloned()
        .ok_or_else(|| ModelError::MissingTensor(name.to_string()))
}

enum Dim {
    Fixed(usize),
    Named(&'static str),
}

fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
                Dim::Named(s) => dimension::Value::DimParam(s.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::TensorProto;

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    fn arch() -> Architecture {
        serde_json::from_str(
            r#"{"layers":2,"hidden":4,"ffn":8,"heads":2,"kv_heads":1,"head_dim":2,"vocab":10,
                "rms_eps":1e-5,"rope_base":10000.0,"context_length":64}"#,
        )
        .unwrap()
    }

    /// A two-layer graph in the converter's naming, reduced to what the cut reads.
    fn decoder() -> GraphProto {
        let init = |name: &str| TensorProto {
            name: name.into(),
            ..Default::default()
        };
        let input = |name: &str| value_info(name, &[Dim::Named("x")]);
        GraphProto {
            node: vec![
                node("Gather", &["token_embd", "input_ids"], EMBEDDED),
                node("Cos", &["position_ids"], "cos"),
                node("Mul", &[EMBEDDED, "l0.attn_norm.w"], "l0.xn"),
                node("Einsum", &["l0.xn", "l0.q.weight"], "l0.q"),
                node("Mul", &["l0.q", "cos"], "l0.qr"),
                node("Concat", &[PAST_KEY, "l0.qr"], PRESENT_KEY),
                node("Concat", &[PAST_VALUE, "l0.qr"], PRESENT_VALUE),
                node("Add", &[EMBEDDED, "l0.qr"], "l0.h0"),
                node("Mul", &["l0.h0", "c.scale"], STREAM_OUT),
                node("Mul", &[STREAM_OUT, "l1.attn_norm.w"], "l1.h"),
            ],
            initializer: [
                "token_embd",
                "l0.attn_norm.w",
                "l0.q.weight",
                "c.scale",
                "c.unused",
                "l1.attn_norm.w",
            ]
            .into_iter()
            .map(init)
            .collect(),
            input: [
                "input_ids",
                "position_ids",
                "attention_bias",
                PAST_KEY,
                PAST_VALUE,
            ]
            .into_iter()
            .map(input)
            .collect(),
            output: [PRESENT_KEY, PRESENT_VALUE, "l1.h"]
                .into_iter()
                .map(input)
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_first_layer_is_cut_out_with_its_weights_as_inputs() {
        let (g, weights) = one_layer(&decoder(), &arch()).unwrap();
        assert_eq!(weights, ["attn_norm.w", "q.weight"]);
        let outputs: Vec<&str> = g.node.iter().map(|n| n.output[0].as_str()).collect();
        assert_eq!(
            outputs,
            [
                "cos",
                "l0.xn",
                "l0.q",
                "l0.qr",
                PRESENT_KEY,
                PRESENT_VALUE,
                "l0.h0",
                STREAM_OUT
            ],
            "the embedding and the next layer stay out"
        );
        assert_eq!(g.node[1].input, [STREAM_IN, "attn_norm.w"]);
        assert_eq!(g.node[2].input, ["l0.xn", "q.weight"]);
        let inits: Vec<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            inits,
            ["c.scale"],
            "only the constants the layer reads are copied"
        );
        let inputs: Vec<&str> = g.input.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(
            inputs,
            [
                STREAM_IN,
                "position_ids",
                "attention_bias",
                PAST_KEY,
                PAST_VALUE
            ]
        );
        let outputs: Vec<&str> = g.output.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(outputs, [STREAM_OUT, PRESENT_KEY, PRESENT_VALUE]);
    }

    #[test]
    fn a_graph_without_the_converters_layer_names_is_refused() {
        let mut g = decoder();
        g.node.retain(|n| n.output[0] != STREAM_OUT);
        let err = one_layer(&g, &arch()).expect_err("must fail").to_string();
        assert!(err.contains(STREAM_OUT), "{err}");
    }
}
