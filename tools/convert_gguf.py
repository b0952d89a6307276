#!/usr/bin/env python3
"""Convert a llama-architecture GGUF file into the model folder principle-checker loads.

Output folder:
  model.onnx      decoder with KV-cache inputs/outputs (symbolic past length), explicit
                  positions and attention bias, and logits only at requested positions
  tokenizer.json  Hugging Face `tokenizers` file rebuilt from the GGUF vocabulary
  manifest.json   what it is, where it came from, sha256 of every file

Weight formats (--format):
  q4   4-bit on the wire: the GGUF's own Q4_1 / Q8_0 blocks are stored as integer
       tensors plus per-block scales, and the graph dequantizes them with plain
       ONNX ops (Cast, Floor, Mul, Add). Those ops only touch constants, so tract
       folds them into f32 weights once at load: the download stays ~GGUF-sized
       while the runtime uses tract's fastest (f32) kernels, and the values equal
       the GGUF's dequantized weights exactly.
  q8   8-bit blocks requantized from the GGUF weights, dequantized at load the same way
       (a comparison point: about 1.5x the download of q4 for no runtime gain).
  f32  plain f32 initializers (5x larger; a reference and a baseline).

Only numpy, gguf and onnx are needed: no torch.
"""
import argparse
import hashlib
import json
import os
import sys

import gguf
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONVERTER_VERSION = 2
OPSET = 17


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


class Weights:
    """Turns GGUF tensors into graph values; knows the wire format."""

    def __init__(self, reader, fmt):
        self.fmt = fmt
        self.tensors = {t.name: t for t in reader.tensors}
        self.initializers = []
        self.nodes = []

    def raw(self, name):
        return self.tensors[name]

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.array(array, order="C", copy=True), name))
        return name

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    def f32(self, gguf_name, onnx_name):
        t = self.raw(gguf_name)
        arr = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        return self.const(onnx_name, arr.reshape([int(d) for d in reversed(t.shape)]))

    def matrix(self, gguf_name, onnx_name):
        """Returns a value of shape [rows, K] (rows = output features, as GGUF stores them)."""
        t = self.raw(gguf_name)
        k, rows = int(t.shape[0]), int(t.shape[1])
        qt = t.tensor_type
        if self.fmt == "f32" or qt == gguf.GGMLQuantizationType.F32:
            return self.f32(gguf_name, onnx_name)
        if self.fmt == "q8" and qt != gguf.GGMLQuantizationType.Q8_0:
            return self.requantize_q8(t, rows, k, onnx_name)
        data = np.asarray(t.data).reshape(rows, -1)
        if qt == gguf.GGMLQuantizationType.Q4_1:
            # block: f16 d, f16 m, 16 bytes of nibbles (low nibbles = elements 0..15)
            blocks = data.reshape(rows, k // 32, 20)
            d = blocks[:, :, 0:2].copy().view(np.float16)  # [rows, nb, 1]
            m = blocks[:, :, 2:4].copy().view(np.float16)
            qs = blocks[:, :, 4:20].copy()  # [rows, nb, 16] uint8
            qn = self.const(onnx_name + ".q4", qs)
            dn = self.const(onnx_name + ".scale", d)
            mn = self.const(onnx_name + ".min", m)
            x = self.node("Cast", [qn], [onnx_name + ".qf"], to=TensorProto.FLOAT)
            hi = self.node("Floor", [self.node("Mul", [x, "c.one_16th"], [onnx_name + ".x16"])], [onnx_name + ".hi"])
            lo = self.node("Sub", [x, self.node("Mul", [hi, "c.sixteen"], [onnx_name + ".hi16"])], [onnx_name + ".lo"])
            q = self.node("Concat", [lo, hi], [onnx_name + ".nib"], axis=2)  # [rows, nb, 32]
            df = self.node("Cast", [dn], [onnx_name + ".df"], to=TensorProto.FLOAT)
            mf = self.node("Cast", [mn], [onnx_name + ".mf"], to=TensorProto.FLOAT)
            w = self.node("Add", [self.node("Mul", [q, df], [onnx_name + ".qd"]), mf], [onnx_name + ".w3"])
            shape = self.const(onnx_name + ".shape", np.array([rows, k], dtype=np.int64))
            return self.node("Reshape", [w, shape], [onnx_name])
        if qt == gguf.GGMLQuantizationType.Q8_0:
            blocks = data.reshape(rows, k // 32, 34)
            d = blocks[:, :, 0:2].copy().view(np.float16)
            qs = blocks[:, :, 2:34].copy().view(np.int8)
            return self.int8_blocks(qs, d, rows, k, onnx_name)
        raise SystemExit(f"unsupported tensor type {qt.name} for {gguf_name}")

    def requantize_q8(self, t, rows, k, onnx_name):
        """8-bit blocks of 32 with an f16 scale, from the dequantized weights (a
        comparison point for the wire format: twice the 4-bit size, same runtime)."""
        w = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(rows, k // 32, 32)
        d = (np.abs(w).max(axis=2, keepdims=True) / 127.0).astype(np.float16)
        safe = np.where(d == 0, np.float16(1), d).astype(np.float32)
        qs = np.clip(np.rint(w / safe), -127, 127).astype(np.int8)
        return self.int8_blocks(qs, d, rows, k, onnx_name)

    def int8_blocks(self, qs, d, rows, k, onnx_name):
        """Graph for int8 blocks [rows, nb, 32] with f16 scales [rows, nb, 1] → [rows, K]."""
        qn = self.const(onnx_name + ".q8", qs)
        dn = self.const(onnx_name + ".scale", d)
        x = self.node("Cast", [qn], [onnx_name + ".qf"], to=TensorProto.FLOAT)
        df = self.node("Cast", [dn], [onnx_name + ".df"], to=TensorProto.FLOAT)
        w = self.node("Mul", [x, df], [onnx_name + ".w3"])
        shape = self.const(onnx_name + ".shape", np.array([rows, k], dtype=np.int64))
        return self.node("Reshape", [w, shape], [onnx_name])


def build_graph(reader, fmt, hidden_layers=()):
    arch = field(reader, "general.architecture")
    if arch != "llama":
        raise SystemExit(f"only llama-architecture GGUF files are supported, got {arch!r}")
    n_layer = int(field(reader, "llama.block_count"))
    hidden = int(field(reader, "llama.embedding_length"))
    n_head = int(field(reader, "llama.attention.head_count"))
    n_kv = int(field(reader, "llama.attention.head_count_kv"))
    head_dim = hidden // n_head
    eps = float(field(reader, "llama.attention.layer_norm_rms_epsilon"))
    base = float(field(reader, "llama.rope.freq_base", 10000.0))
    vocab = int(field(reader, "llama.vocab_size", len(reader.fields["tokenizer.ggml.tokens"].data)))
    group = n_head // n_kv

    W = Weights(reader, fmt)
    c = W.const
    n = W.node
    c("c.one_16th", np.array(1.0 / 16.0, dtype=np.float32))
    c("c.sixteen", np.array(16.0, dtype=np.float32))
    c("c.eps", np.array(eps, dtype=np.float32))
    c("c.scale", np.array(1.0 / np.sqrt(head_dim), dtype=np.float32))
    c("c.axis2", np.array([2], dtype=np.int64))
    # GGUF stores q/k rows permuted for llama.cpp's "normal" rope, which rotates
    # adjacent pairs (x[2i], x[2i+1]); the graph uses the same convention.
    inv_freq = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    c("c.inv_freq", inv_freq.astype(np.float32).reshape(1, head_dim // 2))
    dup = np.zeros((head_dim // 2, head_dim), dtype=np.float32)
    rot = np.zeros((head_dim, head_dim), dtype=np.float32)
    for i in range(head_dim // 2):
        dup[i, 2 * i] = dup[i, 2 * i + 1] = 1.0
        rot[2 * i + 1, 2 * i] = -1.0  # out[2i]   = -x[2i+1]
        rot[2 * i, 2 * i + 1] = 1.0  # out[2i+1] =  x[2i]
    c("c.dup", dup)
    c("c.rot", rot)
    c("c.shape_q", np.array([1, -1, n_head, head_dim], dtype=np.int64))
    c("c.shape_kv", np.array([1, -1, n_kv, head_dim], dtype=np.int64))
    c("c.shape_q5", np.array([1, n_kv, group, -1, head_dim], dtype=np.int64))
    c("c.shape_o", np.array([1, n_head, -1, head_dim], dtype=np.int64))
    c("c.shape_h", np.array([1, -1, hidden], dtype=np.int64))

    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "sequence"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["outputs", vocab])]

    # Positions and the attention bias are inputs, not derived from the past length:
    # the caller can then run several independent continuations of one cache in a
    # single pass (each attends to the cache and to itself only), which is how the
    # judge scores many principles at once.
    inputs += [helper.make_tensor_value_info("position_ids", TensorProto.INT64, [1, "sequence"]),
               helper.make_tensor_value_info("attention_bias", TensorProto.FLOAT, ["sequence", "total"]),
               helper.make_tensor_value_info("logits_index", TensorProto.INT64, ["outputs"])]
    mask = "attention_bias"  # [S,T], 0 where visible, large negative elsewhere
    c("c.shape_col", np.array([-1, 1], dtype=np.int64))
    posf = n("Cast", [n("Reshape", ["position_ids", "c.shape_col"], ["pos_col"])], ["posf"], to=TensorProto.FLOAT)  # [S,1]
    ang = n("MatMul", [n("Mul", [posf, "c.inv_freq"], ["ang_half"]), "c.dup"], ["ang"])  # [S,hd]
    cos = n("Cos", [ang], ["cos"])
    sin = n("Sin", [ang], ["sin"])

    emb = W.matrix("token_embd.weight", "token_embd")  # [V, hidden]
    h = n("Gather", [emb, "input_ids"], ["h0"], axis=0)  # [1,S,hidden]

    def rms(x, weight_name, out):
        w = W.f32(weight_name, out + ".w")
        sq = n("Mul", [x, x], [out + ".sq"])
        mean = n("ReduceMean", [sq], [out + ".mean"], axes=[-1], keepdims=1)
        inv = n("Reciprocal", [n("Sqrt", [n("Add", [mean, "c.eps"], [out + ".me"])], [out + ".rt"])], [out + ".inv"])
        return n("Mul", [n("Mul", [x, inv], [out + ".xn"]), w], [out])

    def linear(x, gguf_name, out):
        w = W.matrix(gguf_name, out + ".weight")  # [N, K]
        wt = n("Transpose", [w], [out + ".wt"], perm=[1, 0])
        return n("MatMul", [x, wt], [out])

    def rope(x, out):  # x [1,H,S,hd]
        xr = n("MatMul", [x, "c.rot"], [out + ".rot"])
        return n("Add", [n("Mul", [x, cos], [out + ".c"]), n("Mul", [xr, sin], [out + ".s"])], [out])

    for l in range(n_layer):
        p = f"l{l}"
        pk, pv = f"past_key_values.{l}.key", f"past_key_values.{l}.value"
        inputs += [helper.make_tensor_value_info(pk, TensorProto.FLOAT, [1, n_kv, "past", head_dim]),
                   helper.make_tensor_value_info(pv, TensorProto.FLOAT, [1, n_kv, "past", head_dim])]
        xn = rms(h, f"blk.{l}.attn_norm.weight", p + ".attn_norm")
        q = linear(xn, f"blk.{l}.attn_q.weight", p + ".q")
        k = linear(xn, f"blk.{l}.attn_k.weight", p + ".k")
        v = linear(xn, f"blk.{l}.attn_v.weight", p + ".v")
        q = n("Transpose", [n("Reshape", [q, "c.shape_q"], [p + ".q4d"])], [p + ".qt"], perm=[0, 2, 1, 3])
        k = n("Transpose", [n("Reshape", [k, "c.shape_kv"], [p + ".k4d"])], [p + ".kt"], perm=[0, 2, 1, 3])
        v = n("Transpose", [n("Reshape", [v, "c.shape_kv"], [p + ".v4d"])], [p + ".vt"], perm=[0, 2, 1, 3])
        q = n("Mul", [rope(q, p + ".qr"), "c.scale"], [p + ".qs"])
        k = rope(k, p + ".kr")
        pk_out, pv_out = f"present.{l}.key", f"present.{l}.value"
        n("Concat", [pk, k], [pk_out], axis=2)  # [1,kv,T,hd]
        n("Concat", [pv, v], [pv_out], axis=2)
        outputs += [helper.make_tensor_value_info(pk_out, TensorProto.FLOAT, [1, n_kv, "total", head_dim]),
                    helper.make_tensor_value_info(pv_out, TensorProto.FLOAT, [1, n_kv, "total", head_dim])]
        # grouped-query attention without copying K/V: q heads h = g*group + r share kv head g
        q5 = n("Reshape", [q, "c.shape_q5"], [p + ".q5"])  # [1,kv,group,S,hd]
        k5 = n("Unsqueeze", [pk_out, "c.axis2"], [p + ".k5"])  # [1,kv,1,T,hd]
        v5 = n("Unsqueeze", [pv_out, "c.axis2"], [p + ".v5"])
        kt5 = n("Transpose", [k5], [p + ".kt5"], perm=[0, 1, 2, 4, 3])
        scores = n("Add", [n("MatMul", [q5, kt5], [p + ".qk"]), mask], [p + ".scores"])
        probs = n("Softmax", [scores], [p + ".probs"], axis=-1)
        o = n("MatMul", [probs, v5], [p + ".o5"])  # [1,kv,group,S,hd]
        o = n("Reshape", [o, "c.shape_o"], [p + ".o4"])
        o = n("Reshape", [n("Transpose", [o], [p + ".ot"], perm=[0, 2, 1, 3]), "c.shape_h"], [p + ".oh"])
        h = n("Add", [h, linear(o, f"blk.{l}.attn_output.weight", p + ".attn_out")], [p + ".h_attn"])
        xn = rms(h, f"blk.{l}.ffn_norm.weight", p + ".ffn_norm")
        gate = linear(xn, f"blk.{l}.ffn_gate.weight", p + ".gate")
        up = linear(xn, f"blk.{l}.ffn_up.weight", p + ".up")
        act = n("Mul", [n("Mul", [gate, n("Sigmoid", [gate], [p + ".sig"])], [p + ".silu"]), up], [p + ".act"])
        h = n("Add", [h, linear(act, f"blk.{l}.ffn_down.weight", p + ".down")], [p + ".h"])
        if l in hidden_layers:
            # the residual stream after this layer at every position of the pass: the
            # trained judge head pools it over each response (see src/head.rs)
            n("Identity", [h], [f"hidden.{l}"])
            outputs.append(helper.make_tensor_value_info(f"hidden.{l}", TensorProto.FLOAT, [1, "sequence", hidden]))

    # logits only at the requested positions (the ends of the continuations), through
    # the (tied) embedding matrix: the judge needs one row per principle, not one per token
    hl = n("Gather", [h, "logits_index"], ["h_sel"], axis=1)  # [1,K,hidden]
    xn = rms(hl, "output_norm.weight", "final_norm")
    head = W.matrix("output.weight", "lm_head") if "output.weight" in W.tensors else emb
    c("c.shape_logits", np.array([-1, vocab], dtype=np.int64))
    lg = n("MatMul", [xn, n("Transpose", [head], ["lm_head.t"], perm=[1, 0])], ["logits_3d"])
    n("Reshape", [lg, "c.shape_logits"], ["logits"])  # [K,V]

    graph = helper.make_graph(W.nodes, "decoder", inputs, outputs, W.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="principle-checker/convert_gguf.py",
                              producer_version=str(CONVERTER_VERSION))
    model.ir_version = 8
    arch_info = {"layers": n_layer, "hidden": hidden, "ffn": int(field(reader, "llama.feed_forward_length")), "heads": n_head, "kv_heads": n_kv, "head_dim": head_dim,
                 "vocab": vocab, "rms_eps": eps, "rope_base": base,
                 "context_length": int(field(reader, "llama.context_length", 2048))}
    return model, arch_info


def build_tokenizer(reader):
    tokens = list(field(reader, "tokenizer.ggml.tokens"))
    types = list(field(reader, "tokenizer.ggml.token_type"))
    merges = list(field(reader, "tokenizer.ggml.merges"))
    model_kind = field(reader, "tokenizer.ggml.model")
    pre = field(reader, "tokenizer.ggml.pre")
    if model_kind != "gpt2":
        raise SystemExit(f"only byte-level BPE (gpt2) tokenizers are supported, got {model_kind!r}")
    if pre not in ("smollm",):
        raise SystemExit(f"unknown pre-tokenizer {pre!r}: add its rules to convert_gguf.py")
    # llama.cpp's "smollm" pre-tokenizer: every digit alone, then GPT-2's byte-level regex
    pre_tok = {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True}
             for i, (t, ty) in enumerate(zip(tokens, types)) if ty in (3, 4)]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
        "normalizer": None, "pre_tokenizer": pre_tok,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }, {
        "bos": int(field(reader, "tokenizer.ggml.bos_token_id", 1)),
        "eos": int(field(reader, "tokenizer.ggml.eos_token_id", 2)),
        "special": [t["content"] for t in added],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("out_dir")
    ap.add_argument("--format", choices=["q4", "q8", "f32"], default="q4")
    ap.add_argument("--name", default=None)
    ap.add_argument("--license", default=None)
    ap.add_argument("--source-package", default=None, help="NAME==VERSION the GGUF came from")
    ap.add_argument("--hidden-layers", default="",
                    help="comma-separated layer indices (or 'all') whose residual stream is also an output, "
                         "named hidden.N: the features the trained judge head reads")
    args = ap.parse_args()

    reader = gguf.GGUFReader(args.gguf)
    os.makedirs(args.out_dir, exist_ok=True)
    n_layer = int(field(reader, "llama.block_count"))
    if args.hidden_layers == "all":
        hidden_layers = tuple(range(n_layer))
    else:
        hidden_layers = tuple(int(x) for x in args.hidden_layers.split(",") if x.strip())
    if any(not 0 <= l < n_layer for l in hidden_layers):
        raise SystemExit(f"--hidden-layers must be between 0 and {n_layer - 1}")
    model, arch = build_graph(reader, args.format, hidden_layers)
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(args.out_dir, "model.onnx"))
    tok, tok_info = build_tokenizer(reader)
    with open(os.path.join(args.out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False, separators=(",", ":"))

    files = {}
    for fn in ("model.onnx", "tokenizer.json"):
        p = os.path.join(args.out_dir, fn)
        files[fn] = {"sha256": sha256_file(p), "bytes": os.path.getsize(p)}
    manifest = {
        "format": "principle-checker-model/1",
        "name": args.name or field(reader, "general.name"),
        "license": args.license or field(reader, "general.license"),
        "source": {"package": args.source_package, "file": os.path.basename(args.gguf),
                   "sha256": sha256_file(args.gguf)},
        "converter": {"script": "tools/convert_gguf.py", "version": CONVERTER_VERSION, "weights": args.format,
                      "hidden_layers": list(hidden_layers),
                      "gguf": gguf.__version__ if hasattr(gguf, "__version__") else None,
                      "onnx": onnx.__version__, "numpy": np.__version__},
        "architecture": arch,
        "tokens": tok_info,
        "files": files,
    }
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps({k: files[k]["bytes"] for k in files}))


if __name__ == "__main__":
    sys.exit(main())
