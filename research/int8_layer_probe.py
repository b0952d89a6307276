"""One decoder layer's seven matrix products (SmolLM2-135M shapes, 361 rows: the
standard check), as f32 MatMul and as int8 MatMulInteger with dynamically quantized
activations (per tensor, as ONNX's DynamicQuantizeLinear does), for the ignored wasm
test research/int8_probe.rs, which times both in Chromium
(research/notes/read-ahead-and-workers-2026-11-28.md, "int8 kernels").

    python research/int8_layer_probe.py DIR      # writes DIR/layer-f32.onnx, DIR/layer-int8.onnx
"""
import numpy as np, onnx, sys
from onnx import helper as h, TensorProto as T, numpy_helper as nh
rng = np.random.default_rng(0)
M = 361
shapes = {"q": (576, 576), "k": (576, 192), "v": (576, 192), "o": (576, 576), "g": (576, 1536), "u": (576, 1536), "d": (1536, 576)}
W = {n: (rng.normal(0, 0.05, s)).astype(np.float32) for n, s in shapes.items()}
flow = [("q", "x", "q"), ("k", "x", "k"), ("v", "x", "v"), ("o", "q", "o"), ("g", "o", "g"), ("u", "o", "u"), ("d", "gu", "y")]

def graph(int8):
    nodes, inits = [], []
    for n, src, dst in flow:
        if n == "d":
            nodes.append(h.make_node("Mul", ["g", "u"], ["gu"]))
        if not int8:
            inits.append(nh.from_array(W[n], f"W{n}"))
            nodes.append(h.make_node("MatMul", [src, f"W{n}"], [dst]))
        else:
            s = np.abs(W[n]).max() / 127.0
            inits += [nh.from_array(np.round(W[n] / s).astype(np.int8), f"W{n}"), nh.from_array(np.array(0, np.int8), f"Z{n}"),
                      nh.from_array(np.array(s, np.float32), f"S{n}")]
            nodes += [h.make_node("DynamicQuantizeLinear", [src], [f"{n}_xq", f"{n}_xs", f"{n}_xz"]),
                      h.make_node("MatMulInteger", [f"{n}_xq", f"W{n}", f"{n}_xz", f"Z{n}"], [f"{n}_i"]),
                      h.make_node("Cast", [f"{n}_i"], [f"{n}_f"], to=T.FLOAT),
                      h.make_node("Mul", [f"{n}_f", f"{n}_xs"], [f"{n}_fs"]),
                      h.make_node("Mul", [f"{n}_fs", f"S{n}"], [dst])]
    g = h.make_graph(nodes, "layer", [h.make_tensor_value_info("x", T.FLOAT, [M, 576])],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in ("y", "k", "v")], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    return m

out = sys.argv[1]
onnx.save(graph(False), f"{out}/layer-f32.onnx")
onnx.save(graph(True), f"{out}/layer-int8.onnx")
print("ok")
