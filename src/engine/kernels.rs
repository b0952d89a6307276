//! A run-time check that this build's matrix kernels compute what plain arithmetic
//! computes.
//!
//! The page can run a second wasm build compiled with relaxed SIMD, whose kernels
//! use the fused `f32x4.relaxed_madd`. Relaxed instructions may differ between
//! engines (a feasibility run got wrong int8 results from one), so that build is
//! used only where this check passes in the browser at hand; otherwise the page
//! falls back to the plain SIMD build. The check runs the same optimized tract
//! matrix products the model uses (packed multiply and the one-row path) on fixed
//! data and compares them with a scalar reference.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::einsum::EinSum;

/// Largest relative difference the kernels may show: fused and unfused
/// multiply-adds differ in the last bits, a broken kernel by far more.
pub const TOLERANCE: f32 = 1e-4;

/// Runs `rows × k` by `k × n` products through tract's optimized kernels and returns
/// the largest difference from an f64 reference, relative to the largest value.
pub fn max_relative_error() -> TractResult<f32> {
    let mut worst = 0f32;
    for (rows, k, n) in [(1, 96, 80), (7, 96, 80), (33, 160, 72)] {
        worst = worst.max(product_error(rows, k, n)?);
    }
    Ok(worst)
}

/// Deterministic values in [-1, 1) (a small linear congruential generator).
fn values(count: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..count)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn product_error(rows: usize, k: usize, n: usize) -> TractResult<f32> {
    let x = values(rows * k, 1);
    let w = values(k * n, 2);
    let mut model = TypedModel::default();
    let input = model.add_source("x", f32::fact([rows, k]))?;
    let weight = model.add_const("w", Tensor::from_shape(&[k, n], &w)?)?;
    let out = model.wire_node(
        "product",
        EinSum::new("mk,kn->mn".parse()?, f32::datum_type()),
        &[input, weight],
    )?;
    model.select_output_outlets(&out)?;
    let plan = model.into_optimized()?.into_runnable()?;
    let result = plan.run(tvec!(Tensor::from_shape(&[rows, k], &x)?.into_tvalue()))?;
    let got = result[0].to_plain_array_view::<f32>()?;
    let mut scale = 0f64;
    let mut diff = 0f64;
    for r in 0..rows {
        for c in 0..n {
            let expected: f64 = (0..k)
                .map(|i| x[r * k + i] as f64 * w[i * n + c] as f64)
                .sum();
            scale = scale.max(expected.abs());
            diff = diff.max((got[[r, c]] as f64 - expected).abs());
        }
    }
    Ok((diff / scale.max(1e-12)) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_builds_kernels_agree_with_plain_arithmetic() {
        let e = max_relative_error().unwrap();
        assert!(e < TOLERANCE, "{e}");
        // rounding alone leaves a trace far below the tolerance, not exactly zero
        assert!(e < TOLERANCE / 10.0, "{e}");
    }
}
