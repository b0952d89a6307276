//! Faulty model folders made from the real one, shared by the native fault tests
//! (tests/model.rs) and the browser ones (tests/wasm.rs): the same faults must give
//! the same one clear error on both, never a panic. Pure byte edits, no file access,
//! so the module builds for wasm32 too.
#![allow(dead_code)]

use principle_checker::engine::manifest::sha256_hex;
use serde_json::{json, Value};

/// A decoder graph with the engine's inputs and `logits` but no KV-cache tensors
/// (written by tools/make_fault_fixtures.py).
pub const NO_KV_CACHE_ONNX: &[u8] = include_bytes!("../fixtures/faults/no-kv-cache.onnx");

/// `manifest` with `file`'s size and checksum set to those of `bytes`: the file then
/// passes verification, so the fault under test is the next thing the engine meets.
pub fn manifest_vouching_for(manifest: &[u8], file: &str, bytes: &[u8]) -> Vec<u8> {
    let mut m: Value = serde_json::from_slice(manifest).expect("manifest is JSON");
    m["files"][file] = json!({ "sha256": sha256_hex(bytes), "bytes": bytes.len() });
    serde_json::to_vec(&m).unwrap()
}

/// `manifest` with a wrong checksum for `file` (right size, so the checksum is what fails).
pub fn manifest_with_wrong_checksum(manifest: &[u8], file: &str) -> Vec<u8> {
    let mut m: Value = serde_json::from_slice(manifest).expect("manifest is JSON");
    m["files"][file]["sha256"] = json!("0".repeat(64));
    serde_json::to_vec(&m).unwrap()
}

/// `tokenizer` with one token more than the model's vocabulary, as a tokenizer of
/// another model would have.
pub fn tokenizer_with_extra_token(tokenizer: &[u8]) -> Vec<u8> {
    let mut t: Value = serde_json::from_slice(tokenizer).expect("tokenizer is JSON");
    let vocab_max = t["model"]["vocab"]
        .as_object()
        .expect("a vocab")
        .values()
        .filter_map(Value::as_u64)
        .max();
    let added_max = t["added_tokens"]
        .as_array()
        .expect("added_tokens")
        .iter()
        .filter_map(|a| a["id"].as_u64())
        .max();
    let id = vocab_max.max(added_max).unwrap() + 1;
    t["added_tokens"].as_array_mut().unwrap().push(json!({
        "id": id, "content": "<|another_model|>", "single_word": false, "lstrip": false,
        "rstrip": false, "normalized": false, "special": true
    }));
    serde_json::to_vec(&t).unwrap()
}
