//! The real model in a real browser: loads the converted judge in headless Chromium
//! (through wasm-bindgen-test-runner and chromedriver) and scores one principle.
//!
//! The model files are fetched from `PRINCIPLE_CHECKER_MODEL_URL` (set at build time by
//! scripts/test.sh, which serves the model folder on localhost).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Uint8Array};
use principle_checker::wasm::WasmJudge;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

mod faults;

async fn fetch(name: &str) -> Vec<u8> {
    let Some(base) = option_env!("PRINCIPLE_CHECKER_MODEL_URL") else {
        panic!("build the wasm tests with PRINCIPLE_CHECKER_MODEL_URL set (scripts/test.sh does)")
    };
    let window = web_sys::window().expect("a browser window");
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&format!("{base}/{name}")))
        .await
        .expect("fetch")
        .dyn_into()
        .expect("a Response");
    assert!(resp.ok(), "fetching {name}: HTTP {}", resp.status());
    let buf = JsFuture::from(resp.array_buffer().expect("body"))
        .await
        .expect("bytes");
    Uint8Array::new(&buf).to_vec()
}

/// Fetches and loads the real model; returns it with the times before and after loading.
async fn load_judge() -> (WasmJudge, f64, f64) {
    let manifest = fetch("manifest.json").await;
    let onnx = fetch("model.onnx").await;
    let tokenizer = fetch("tokenizer.json").await;
    let t0 = js_sys::Date::now();
    let judge = WasmJudge::new(&manifest, onnx, tokenizer)
        .map_err(JsValue::from)
        .expect("model loads");
    (judge, t0, js_sys::Date::now())
}

fn fixture() -> (String, Array) {
    let conv = include_str!("fixtures/standard/conversation.txt").to_string();
    let responses = Array::new();
    responses.push(&JsValue::from_str(include_str!(
        "fixtures/standard/response-1.txt"
    )));
    responses.push(&JsValue::from_str(include_str!(
        "fixtures/standard/response-2.txt"
    )));
    (conv, responses)
}

/// A check of one principle (`research-1-02`), each verdict streamed to `on_verdict`.
fn check_one(
    judge: &mut WasmJudge,
    conv: &str,
    responses: Array,
    on_verdict: &Function,
) -> JsValue {
    judge
        .check(conv, responses, "", "research-1-02", on_verdict)
        .map_err(JsValue::from)
        .expect("check runs")
}

fn first_verdict(result: &JsValue) -> JsValue {
    Array::from(&js_sys::Reflect::get(result, &"verdicts".into()).unwrap()).get(0)
}

#[wasm_bindgen_test]
async fn real_model_scores_one_principle_in_the_browser() {
    let (mut judge, t0, loaded) = load_judge().await;
    let (conv, responses) = fixture();
    let seen = Array::new();
    let seen2 = seen.clone();
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue, JsValue, JsValue) -> bool>::new(
        move |v: JsValue, _done: JsValue, _total: JsValue| {
            seen2.push(&v);
            true
        },
    );
    let result = check_one(&mut judge, &conv, responses, cb.as_ref().unchecked_ref());
    let done = js_sys::Date::now();
    assert_eq!(seen.length(), 1, "one verdict streamed");
    // the model from setup-model.sh exports what the embedded trained head reads
    assert_eq!(judge.scoring(), "trained-head");
    assert_eq!(
        js_sys::Reflect::get(&result, &"scoring".into())
            .unwrap()
            .as_string()
            .as_deref(),
        Some("trained-head")
    );
    assert!(!judge.head_info().map_err(JsValue::from).unwrap().is_null());
    let v = first_verdict(&result);
    let pref = Array::from(&js_sys::Reflect::get(&v, &"preference".into()).unwrap());
    let p0 = pref.get(0).as_f64().unwrap();
    let p1 = pref.get(1).as_f64().unwrap();
    assert!(
        (0.0..=1.0).contains(&p0) && ((p0 + p1) - 1.0).abs() < 1e-9,
        "probabilities {p0} {p1}"
    );
    let pairs = Array::from(&js_sys::Reflect::get(&v, &"pairs".into()).unwrap());
    let pair = pairs.get(0);
    for key in ["p_first_shown_first", "p_first_shown_second"] {
        let p = js_sys::Reflect::get(&pair, &key.into())
            .unwrap()
            .as_f64()
            .unwrap();
        assert!(p > 0.0 && p < 1.0, "{key} = {p}");
    }
    web_sys::console::log_1(
        &format!("wasm: model load {:.0} ms, one principle both orders {:.0} ms, P(response 1) = {p0:.4}", loaded - t0, done - loaded).into(),
    );

    // read ahead as the page does while text is typed; the check then runs no pass
    let (conv, responses) = fixture();
    let read = |r: &Array| {
        let read = judge
            .read_ahead(&conv, r.clone())
            .map_err(JsValue::from)
            .unwrap();
        let field = |k: &str| {
            js_sys::Reflect::get(&read, &k.into())
                .unwrap()
                .as_f64()
                .unwrap()
        };
        (field("tokens"), field("responses"))
    };
    assert_eq!(read(&responses), (0.0, 2.0), "the check read both already");
    judge.forget_readings();
    let first = Array::of1(&responses.get(0));
    first.push(&JsValue::from_str("   ")); // an empty response is not read yet
    let ((a, one), (b, two)) = (read(&first), read(&responses));
    assert_eq!((one, two), (1.0, 2.0));
    assert!(a > b && b > 0.0, "{a} then {b}");
    assert!(judge.read_ahead("", responses.clone()).is_err());
    let again = check_one(&mut judge, &conv, responses, cb.as_ref().unchecked_ref());
    let tokens = js_sys::Reflect::get(&again, &"tokens_processed".into()).unwrap();
    assert_eq!(tokens.as_f64(), Some(0.0));
    let v = first_verdict(&again);
    let pref = Array::from(&js_sys::Reflect::get(&v, &"preference".into()).unwrap());
    let p = pref.get(0).as_f64().unwrap();
    assert!((p - p0).abs() < 1e-4, "{p} read ahead against {p0}");
}

/// The message a failed `WasmJudge::new` gives the page.
fn load_error(manifest: &[u8], onnx: Vec<u8>, tokenizer: Vec<u8>) -> String {
    let err = WasmJudge::new(manifest, onnx, tokenizer)
        .err()
        .expect("must fail");
    js_sys::Error::from(JsValue::from(err))
        .message()
        .as_string()
        .unwrap()
}

/// Each fault of a model folder gives its own readable error in the browser (the same
/// as natively, tests/model.rs), never a panic.
#[wasm_bindgen_test]
async fn each_model_fault_is_a_readable_error() {
    let manifest = fetch("manifest.json").await;
    let tokenizer = fetch("tokenizer.json").await;
    let mut onnx = fetch("model.onnx").await;

    let msg = load_error(&manifest, b"not a model".to_vec(), tokenizer.clone());
    assert!(
        msg.contains("model.onnx is 11 bytes but the manifest says"),
        "{msg}"
    );

    let mid = onnx.len() / 2;
    onnx[mid] ^= 0x10;
    let msg = load_error(&manifest, onnx.clone(), tokenizer.clone());
    assert!(
        msg.starts_with("model.onnx does not match its checksum"),
        "{msg}"
    );
    onnx[mid] ^= 0x10;

    let wrong = faults::manifest_with_wrong_checksum(&manifest, "tokenizer.json");
    let msg = load_error(&wrong, onnx.clone(), tokenizer.clone());
    assert!(
        msg.starts_with("tokenizer.json does not match its checksum"),
        "{msg}"
    );

    let other = faults::tokenizer_with_extra_token(&tokenizer);
    let vouched = faults::manifest_vouching_for(&manifest, "tokenizer.json", &other);
    let msg = load_error(&vouched, onnx, other);
    assert_eq!(
        msg,
        "the tokenizer has 49153 tokens but the model has 49152: they belong to different models"
    );

    let no_kv = faults::NO_KV_CACHE_ONNX.to_vec();
    let vouched = faults::manifest_vouching_for(&manifest, "model.onnx", &no_kv);
    let msg = load_error(&vouched, no_kv, tokenizer);
    assert!(
        msg.starts_with("the model has no \"past_key_values.0.key\" input or output"),
        "{msg}"
    );
}

/// The page hands the engine WebCrypto's digests (`WasmJudge.fromHashed`): a digest
/// that is not the manifest's is refused like a bad file; and this build's matrix
/// kernels pass the self-check that gates the relaxed-SIMD build.
#[wasm_bindgen_test]
async fn digests_from_the_page_are_checked_and_the_kernels_self_check() {
    let manifest = fetch("manifest.json").await;
    let tokenizer = fetch("tokenizer.json").await;
    let onnx = fetch("model.onnx").await;
    let (onnx_sha, tok_sha) = (
        principle_checker::engine::manifest::sha256_hex(&onnx),
        principle_checker::engine::manifest::sha256_hex(&tokenizer),
    );
    let err = WasmJudge::from_hashed(&manifest, onnx, &tok_sha, tokenizer, &tok_sha)
        .err()
        .expect("must fail");
    let msg = js_sys::Error::from(JsValue::from(err))
        .message()
        .as_string()
        .unwrap();
    assert!(
        msg.starts_with("model.onnx does not match its checksum (sha256 "),
        "{msg}"
    );
    assert_ne!(onnx_sha, tok_sha);

    let error = principle_checker::wasm::kernel_self_check().unwrap();
    assert!(
        error < principle_checker::wasm::kernel_tolerance(),
        "{error}"
    );
}

/// The standard check (58 principles, both orders) timed in the browser; slow, so run
/// on demand: `scripts/test.sh` does not include it (see BENCHMARKS.md for the command).
#[wasm_bindgen_test]
#[ignore]
async fn standard_check_timing() {
    let (mut judge, t0, loaded) = load_judge().await;
    let (conv, responses) = fixture();
    let first = std::rc::Rc::new(std::cell::Cell::new(0.0));
    let first2 = first.clone();
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue, JsValue, JsValue) -> bool>::new(
        move |_v: JsValue, done: JsValue, _total: JsValue| {
            if done.as_f64() == Some(1.0) {
                first2.set(js_sys::Date::now());
            }
            true
        },
    );
    judge
        .check(
            &conv,
            responses,
            "",
            "all",
            cb.as_ref().unchecked_ref::<Function>(),
        )
        .map_err(JsValue::from)
        .expect("check runs");
    let done = js_sys::Date::now();
    let msg = format!(
        "wasm standard check: model load {:.0} ms, first verdict {:.0} ms, all 58 principles {:.0} ms ({:.0} ms/principle)",
        loaded - t0,
        first.get() - loaded,
        done - loaded,
        (done - loaded) / 58.0
    );
    web_sys::console::log_1(&msg.into());
}

/// An allocation the browser cannot give is remembered, so the worker can tell running
/// out of memory (which Rust turns into a bare trap) from a bug.
#[wasm_bindgen_test]
fn a_refused_allocation_is_remembered() {
    // a 32-bit page holds at most 4 GiB: gigabytes are refused by the fourth at the latest
    let layout = std::alloc::Layout::from_size_align(1 << 30, 8).unwrap();
    let mut held = Vec::new();
    for _ in 0..4 {
        // SAFETY: a null result is checked, nothing is written through the pointer, and
        // every block is freed with the layout it was allocated with
        let p = unsafe { std::alloc::alloc(layout) };
        if p.is_null() {
            break;
        }
        held.push(p);
    }
    assert!(held.len() < 4, "four gigabytes were given to a 32-bit page");
    for p in held {
        unsafe { std::alloc::dealloc(p, layout) };
    }
    assert_eq!(
        principle_checker::wasm::refused_allocation(),
        (1u64 << 30) as f64
    );
}

/// The memory the page announces before the download, from the model's manifest.
#[wasm_bindgen_test]
async fn the_memory_needed_comes_from_the_manifest() {
    let manifest = fetch("manifest.json").await;
    let need = principle_checker::wasm::memory_needed(&manifest)
        .map_err(JsValue::from)
        .unwrap();
    let parsed = principle_checker::engine::Manifest::from_json(&manifest).unwrap();
    assert_eq!(need, parsed.memory_needed() as f64);
    let err = principle_checker::wasm::memory_needed(b"{}")
        .map_err(JsValue::from)
        .err()
        .unwrap();
    let message = String::from(js_sys::Error::from(err).message());
    assert!(message.contains("manifest"), "{message}");
}
