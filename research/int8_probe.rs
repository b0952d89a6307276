//! Would int8 kernels speed up the head's pass? One layer's seven matrix products,
//! f32 against int8 with dynamically quantized activations, timed in the browser; a
//! measurement, so ignored (research/notes/read-ahead-and-workers-2026-11-28.md, "int8
//! kernels"). Run it for both wasm builds:
//!
//! ```text
//! python3 research/int8_layer_probe.py /tmp/int8 && python3 tools/serve.py /tmp/int8 8766 &
//! export PRINCIPLE_CHECKER_MODEL_URL=http://127.0.0.1:8766
//! export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner CHROMEDRIVER=/usr/bin/chromedriver
//! cargo test --release --target wasm32-unknown-unknown --test int8_probe -- --include-ignored --nocapture
//! RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" cargo test --release \
//!   --target wasm32-unknown-unknown --target-dir target/relaxed-simd --test int8_probe -- --include-ignored --nocapture
//! ```
#![cfg(target_arch = "wasm32")]
use js_sys::Uint8Array;
use tract_onnx::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
wasm_bindgen_test_configure!(run_in_browser);

async fn fetch(name: &str) -> Vec<u8> {
    let Some(base) = option_env!("PRINCIPLE_CHECKER_MODEL_URL") else {
        panic!("build with PRINCIPLE_CHECKER_MODEL_URL set to where the probe's graphs are served")
    };
    let window = web_sys::window().unwrap();
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str(&format!("{base}/{name}")))
        .await
        .unwrap()
        .dyn_into()
        .unwrap();
    let buf = JsFuture::from(resp.array_buffer().unwrap()).await.unwrap();
    Uint8Array::new(&buf).to_vec()
}

#[wasm_bindgen_test]
#[ignore]
async fn int8_against_f32() {
    let x: Vec<f32> = (0..361 * 576)
        .map(|i| (i * 7919 % 1000) as f32 / 500.0 - 1.0)
        .collect();
    let x = tract_ndarray::Array2::from_shape_vec((361, 576), x)
        .unwrap()
        .into_tensor();
    let mut ys = vec![];
    for name in [
        "layer-f32.onnx",
        "layer-int8.onnx",
        "layer-f32.onnx",
        "layer-int8.onnx",
    ] {
        let bytes = fetch(name).await;
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap();
        let mut times = vec![];
        let mut y = None;
        for _ in 0..8 {
            let t = js_sys::Date::now();
            let out = plan.run(tvec!(x.clone().into())).unwrap();
            times.push(js_sys::Date::now() - t);
            y = Some(out[0].clone().into_tensor());
        }
        let first = times[0];
        times.sort_by(f64::total_cmp);
        web_sys::console::log_1(
            &format!(
                "{name}: first {first:.0} ms, median {:.1} ms, min {:.1} ms",
                times[4], times[0]
            )
            .into(),
        );
        ys.push(y.unwrap());
    }
    let a = ys[0].to_plain_array_view::<f32>().unwrap();
    let b = ys[1].to_plain_array_view::<f32>().unwrap();
    let max = a.iter().map(|v| v.abs()).fold(0f32, f32::max);
    let diff = a
        .iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0f32, f32::max);
    web_sys::console::log_1(
        &format!("largest |f32 - int8| {diff:.4} of largest |y| {max:.4}").into(),
    );
}
