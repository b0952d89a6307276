// Which build of the wasm engine a worker runs. pkg/relaxed/ is compiled with relaxed
// SIMD: its matrix kernels use fused multiply-adds, faster where the browser has them.
// Relaxed instructions may give different results in different engines, so that
// build is used only when the browser validates relaxed SIMD *and* the build's own
// self-check (tract's kernels against plain arithmetic, src/engine/kernels.rs) passes here.
// Otherwise, or when it is missing, the plain SIMD build in pkg/ runs.

// A module whose one function uses i8x16.relaxed_swizzle: valid only where the
// engine implements relaxed SIMD.
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253, 15, 253, 128, 2, 11,
]);

export function relaxedSimdSupported() {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/**
 * Loads and instantiates an engine build. `want`: "auto" (relaxed if it passes, else
 * plain), "relaxed" (relaxed or an error) or "plain".
 * Returns {engine (the JS module), wasm (the instance's exports, e.g. its memory),
 * build: "relaxed-simd" | "simd128", selfCheck: max relative error or null,
 * note: why the plain build runs, or ""}.
 */
export async function loadEngine(want = "auto") {
  let note = "";
  if (want !== "plain") {
    if (relaxedSimdSupported()) {
      try {
        const engine = await import("./pkg/relaxed/principle_checker.js");
        const wasm = await engine.default();
        const err = engine.kernelSelfCheck();
        if (err < engine.kernelTolerance()) return { engine, wasm, build: "relaxed-simd", selfCheck: err, note };
        note = `the relaxed-SIMD build failed its self-check here (error ${err.toExponential(1)})`;
      } catch (e) {
        note = `the relaxed-SIMD build could not start (${e.message})`;
      }
    } else {
      note = "this browser has no relaxed SIMD";
    }
    if (want === "relaxed") throw new Error(note);
  }
  const engine = await import("./pkg/principle_checker.js");
  const wasm = await engine.default();
  return { engine, wasm, build: "simd128", selfCheck: null, note };
}
