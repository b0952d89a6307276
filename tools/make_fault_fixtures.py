#!/usr/bin/env python3
"""Writes the small ONNX files the fault tests load (tests/fixtures/faults/).

no-kv-cache.onnx: a graph with the decoder's four inputs and its `logits` output
but no past_key_values / present tensors, i.e. a model exported without a KV
cache. The engine must refuse it with one clear error (ModelError::MissingTensor),
not fail later while running. Deterministic: rerunning writes the same bytes.

    ~/.cache/principle-checker/venv-*/bin/python tools/make_fault_fixtures.py
"""
import os

import onnx
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "faults")


def no_kv_cache():
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "seq"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, [1, "seq"]),
        helper.make_tensor_value_info("attention_bias", TensorProto.FLOAT, [1, 1, "seq", "seq"]),
        helper.make_tensor_value_info("logits_index", TensorProto.INT64, ["n"]),
    ]
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1, "seq", "seq"])
    graph = helper.make_graph([helper.make_node("Identity", ["attention_bias"], ["logits"])],
                              "decoder-without-kv-cache", inputs, [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_fault_fixtures")
    onnx.checker.check_model(model)
    return model.SerializeToString()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "no-kv-cache.onnx")
    with open(path, "wb") as f:
        f.write(no_kv_cache())
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
