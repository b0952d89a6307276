//! The browser edge: a `#[wasm_bindgen]` judge that a Web Worker owns.
//!
//! The worker fetches and caches the model files and passes their bytes in; every
//! library error becomes a JS `Error` whose message is the library's sentence.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::engine::ModelFiles;
use crate::judge::{
    ordered_pairs, CheckInput, CheckResult, CheckRun, Judge, OnVerdict, ReasoningRun, Scoring,
};
use crate::text::constitution::{Constitution, Principle};
use crate::text::conversation::{self, Conversation};
use crate::text::named::Named;
use crate::text::prompt::{Options, OPTION_LETTERS};
use crate::text::repeats;

/// The error's sentence, then each cause's after a colon, as the CLI prints them.
fn js_err(e: impl std::error::Error) -> JsError {
    let mut message = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    JsError::new(&message)
}

fn to_js<T: serde::Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(js_err)
}

#[wasm_bindgen(start)]
pub fn start() {
    gloo::console::debug!("principle-checker wasm loaded");
}

/// The built-in constitution as JSON, for the page to list principles.
#[wasm_bindgen(js_name = defaultConstitution)]
pub fn default_constitution() -> String {
    Constitution::default_2023().to_json()
}

/// Parses a custom constitution; the error names the line or field at fault.
#[wasm_bindgen(js_name = validateConstitution)]
pub fn validate_constitution(json: &str) -> Result<JsValue, JsError> {
    to_js(&Constitution::from_json(json).map_err(js_err)?)
}

/// The largest relative error of this build's matrix kernels against plain
/// arithmetic (see [`crate::engine::kernels`]); the worker uses the relaxed-SIMD build only
/// when it is below [`crate::engine::kernels::TOLERANCE`], returned as `kernelTolerance`.
#[wasm_bindgen(js_name = kernelSelfCheck)]
pub fn kernel_self_check() -> Result<f32, JsError> {
    crate::engine::kernels::max_relative_error().map_err(|e| JsError::new(&format!("{e:#}")))
}

#[wasm_bindgen(js_name = kernelTolerance)]
pub fn kernel_tolerance() -> f32 {
    crate::engine::kernels::TOLERANCE
}

/// About how many bytes of memory loading this model and a usual check take
/// ([`crate::engine::Manifest::memory_needed`]): the page says it, and tries to set it aside,
/// before the download.
#[wasm_bindgen(js_name = memoryNeeded)]
pub fn memory_needed(manifest: &[u8]) -> Result<f64, JsError> {
    let manifest = crate::engine::Manifest::from_json(manifest).map_err(js_err)?;
    Ok(manifest.memory_needed() as f64)
}

/// The size of the last allocation the browser refused (0 if none): when the engine
/// traps, the worker reads it to say that memory ran out, and how much was asked.
#[wasm_bindgen(js_name = refusedAllocation)]
pub fn refused_allocation() -> f64 {
    REFUSED.load(Ordering::Relaxed) as f64
}

static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, remembering the size of any allocation it could not make.
/// Rust aborts on a failed allocation, which reaches JS as a bare "unreachable" trap;
/// this is how the worker tells running out of memory from a bug.
struct RecordingAllocator;

// SAFETY: every call goes to the system allocator with the caller's arguments; the
// only addition is a store to an atomic.
unsafe impl GlobalAlloc for RecordingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            REFUSED.store(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            REFUSED.store(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            REFUSED.store(new_size, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: RecordingAllocator = RecordingAllocator;

/// What the page may send, so it can say so before the engine refuses:
/// `{minResponses, maxResponses, maxConversationChars, maxResponseChars,
/// maxPrinciples, maxPrincipleChars}`.
#[wasm_bindgen(js_name = inputLimits)]
pub fn input_limits() -> Result<JsValue, JsError> {
    use crate::text::constitution::{MAX_PRINCIPLES, MAX_PRINCIPLE_CHARS};
    to_js(&serde_json::json!({
        "minResponses": conversation::MIN_RESPONSES,
        "maxResponses": conversation::MAX_RESPONSES,
        "maxConversationChars": conversation::MAX_CONVERSATION_CHARS,
        "maxResponseChars": conversation::MAX_RESPONSE_CHARS,
        "maxPrinciples": MAX_PRINCIPLES,
        "maxPrincipleChars": MAX_PRINCIPLE_CHARS,
    }))
}

/// What `stepCheck` returns: whether the check is done, and its result so far.
#[derive(serde::Serialize)]
struct Step {
    done: bool,
    result: CheckResult,
}

#[wasm_bindgen]
pub struct WasmJudge {
    judge: Judge,
    /// The check [`WasmJudge::begin_check`] started, until it is done or cancelled.
    run: Option<CheckRun>,
    /// The chain of thought [`WasmJudge::begin_reason`] started.
    reasoning: Option<ReasoningRun>,
}

#[wasm_bindgen]
impl WasmJudge {
    /// Verifies the files against the manifest's checksums, then loads the model.
    #[wasm_bindgen(constructor)]
    pub fn new(manifest: &[u8], onnx: Vec<u8>, tokenizer: Vec<u8>) -> Result<WasmJudge, JsError> {
        let files = ModelFiles::from_bytes(manifest, onnx, tokenizer).map_err(js_err)?;
        let judge = Judge::new(files).map_err(js_err)?;
        Ok(WasmJudge {
            judge,
            run: None,
            reasoning: None,
        })
    }

    /// Like the constructor, for files the worker has just hashed with WebCrypto
    /// (`crypto.subtle.digest`, native speed): their hex sha256 digests are checked
    /// against the manifest instead of hashing 98 MB again in wasm (0.35 s).
    #[wasm_bindgen(js_name = fromHashed)]
    pub fn from_hashed(
        manifest: &[u8],
        onnx: Vec<u8>,
        onnx_sha256: &str,
        tokenizer: Vec<u8>,
        tokenizer_sha256: &str,
    ) -> Result<WasmJudge, JsError> {
        let files =
            ModelFiles::from_hashed_bytes(manifest, onnx, onnx_sha256, tokenizer, tokenizer_sha256)
                .map_err(js_err)?;
        let judge = Judge::new(files).map_err(js_err)?;
        Ok(WasmJudge {
            judge,
            run: None,
            reasoning: None,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.judge.name.clone()
    }

    /// Whether the whole decoder is built: at load only the trained head's layers are;
    /// the first zero-shot check or reasoning builds the rest (a few seconds), which the
    /// page announces.
    #[wasm_bindgen(getter, js_name = wholeModelBuilt)]
    pub fn whole_model_built(&self) -> bool {
        self.judge.model().full_graph_built()
    }

    /// "trained-head" or "zero-shot".
    #[wasm_bindgen(getter)]
    pub fn scoring(&self) -> String {
        self.judge.scoring().name().to_string()
    }

    #[wasm_bindgen(js_name = setScoring)]
    pub fn set_scoring(&mut self, scoring: &str) -> Result<(), JsError> {
        let s: Scoring = scoring.parse().map_err(js_err)?;
        self.judge.set_scoring(s).map_err(js_err)
    }

    /// The trained head's layers, dimensions (those that read the reply's likelihood,
    /// and the edit term's column) and cross-validated figures, or `null`.
    #[wasm_bindgen(js_name = headInfo)]
    pub fn head_info(&self) -> Result<JsValue, JsError> {
        match self.judge.head() {
            None => Ok(JsValue::NULL),
            Some(h) => to_js(&serde_json::json!({
                "layers": h.layers,
                "rank": h.rank,
                "dimensions": h.dimensions,
                "likelihood": h.likelihood_readers(),
                "edit": h.edit_dimension(),
                "metrics": h.metrics,
            })),
        }
    }

    #[wasm_bindgen(js_name = setLayout)]
    pub fn set_layout(&mut self, layout: &str) -> Result<(), JsError> {
        self.judge.layout = layout.parse().map_err(js_err)?;
        Ok(())
    }

    /// Judges `responses` (an array of strings) under the selected principles of a
    /// constitution (JSON; empty for the built-in one). `onVerdict(verdict, done, total)`
    /// is called as each principle finishes; returning `false` cancels. In one call:
    /// a caller that must stay responsive uses `beginCheck` and `stepCheck`.
    pub fn check(
        &mut self,
        conversation_text: &str,
        responses: Array,
        constitution_json: &str,
        selector: &str,
        on_verdict: &Function,
    ) -> Result<JsValue, JsError> {
        self.begin_check(conversation_text, responses, constitution_json, selector)?;
        loop {
            let step = self.step(on_verdict)?;
            if step.done {
                return to_js(&step.result);
            }
        }
    }

    /// Starts a check (replacing any unfinished one): the input is parsed and its
    /// lengths checked now, so every refusal comes before any model work; nothing is
    /// read until `stepCheck`.
    #[wasm_bindgen(js_name = beginCheck)]
    pub fn begin_check(
        &mut self,
        conversation_text: &str,
        responses: Array,
        constitution_json: &str,
        selector: &str,
    ) -> Result<(), JsError> {
        self.run = None;
        let (conv, responses) = read_inputs(conversation_text, &responses)?;
        let principles = selected_principles(constitution_json, selector)?;
        let transcript = conv.transcript();
        let run = self
            .judge
            .begin(&CheckInput {
                transcript: &transcript,
                responses: &responses,
                principles: &principles,
            })
            .map_err(js_err)?;
        self.run = Some(run);
        Ok(())
    }

    /// Runs the started check one step (one batch of principles; the whole check with
    /// the trained head), calling `onVerdict(verdict, done, total)` for each verdict.
    /// Returns `{done, result}`: `result` is the result so far, its summaries and
    /// ranking aggregated from the verdicts so far exactly as a finished result's
    /// are, so the page never re-derives them. The worker yields between steps so a
    /// Cancel (`cancelCheck`) gets through.
    #[wasm_bindgen(js_name = stepCheck)]
    pub fn step_check(&mut self, on_verdict: &Function) -> Result<JsValue, JsError> {
        to_js(&self.step(on_verdict)?)
    }

    /// One step of the started check, streaming its verdicts to `on_verdict`; the run
    /// is dropped once it is done or has failed.
    fn step(&mut self, on_verdict: &Function) -> Result<Step, JsError> {
        let run = self
            .run
            .as_mut()
            .ok_or_else(|| JsError::new("no check is running: call beginCheck first"))?;
        let mut callback_error = None;
        let mut call = |v: &crate::judge::verdict::PrincipleVerdict, done: usize, total: usize| {
            let Ok(v) = to_js(v) else { return true };
            match on_verdict.call3(
                &JsValue::NULL,
                &v,
                &JsValue::from(done as u32),
                &JsValue::from(total as u32),
            ) {
                Ok(r) => r.as_bool() != Some(false),
                Err(e) => {
                    callback_error = Some(e);
                    false
                }
            }
        };
        let on: &mut OnVerdict = &mut call;
        let step = self.judge.step(run, on);
        let step = match (callback_error, step) {
            (Some(e), _) => Err(JsError::new(&format!("the verdict callback failed: {e:?}"))),
            (None, Err(e)) => Err(js_err(e)),
            (None, Ok(done)) => Ok(Step {
                done,
                result: run.standing(),
            }),
        };
        if step.as_ref().map_or(true, |s| s.done) {
            self.run = None;
        }
        step
    }

    /// Stops the started check between steps and returns its result so far (or
    /// `null` when none was running). The engine and everything it has read stay, so
    /// the next check of the same text reads nothing again.
    #[wasm_bindgen(js_name = cancelCheck)]
    pub fn cancel_check(&mut self) -> Result<JsValue, JsError> {
        match self.run.take() {
            Some(run) => to_js(&run.standing()),
            None => Ok(JsValue::NULL),
        }
    }

    /// Reads the conversation and each response that is already complete enough to
    /// check, so that a check of the same text finds it read (the page calls it as the
    /// text settles); returns `{tokens, responses}`: the tokens the model ran (0 when all
    /// was read before) and how many responses were complete enough to read. An
    /// unfinished conversation is an error the caller may ignore: the check reports it.
    #[wasm_bindgen(js_name = readAhead)]
    pub fn read_ahead(
        &self,
        conversation_text: &str,
        responses: Array,
    ) -> Result<JsValue, JsError> {
        let conv = Conversation::parse(conversation_text).map_err(js_err)?;
        let responses: Vec<String> = responses
            .iter()
            .take(conversation::MAX_RESPONSES)
            .enumerate()
            .filter_map(|(i, v)| conversation::readable_response(i, &v.as_string()?).ok())
            .collect();
        let tokens = self
            .judge
            .read_ahead(&conv.transcript(), &responses)
            .map_err(js_err)?;
        to_js(&serde_json::json!({ "tokens": tokens, "responses": responses.len() }))
    }

    /// What the trained head takes each principle text to mean, before any check:
    /// `[{reads, weights}]` in the texts' order ([`Judge::principle_reads`]). The
    /// constitution editor shows it while a principle is written.
    #[wasm_bindgen(js_name = principleReads)]
    pub fn principle_reads(&self, texts: Array) -> Result<JsValue, JsError> {
        let texts: Vec<String> = texts.iter().filter_map(|v| v.as_string()).collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        to_js(&self.judge.principle_reads(&texts).map_err(js_err)?)
    }

    /// Forgets what was read, so the next check runs the model: for the benchmark.
    #[wasm_bindgen(js_name = forgetReadings)]
    pub fn forget_readings(&self) {
        self.judge.forget_readings();
    }

    /// The zero-shot check's token ids, tokenized exactly as [`Judge::check`] does, so
    /// another runtime can replay the same work (`scripts/bench-browser.sh`):
    /// `{head, orders: [[a, b]], options: [ids per order], suffixes: [principle][order],
    /// letters: [A, B]}`. A full prompt is `head + options[o] + suffixes[p][o]`.
    #[wasm_bindgen(js_name = promptIds)]
    pub fn prompt_ids(
        &self,
        conversation_text: &str,
        responses: Array,
        constitution_json: &str,
        selector: &str,
    ) -> Result<JsValue, JsError> {
        let (conv, responses) = read_inputs(conversation_text, &responses)?;
        // read as a check reads them
        let responses: Vec<String> = responses
            .iter()
            .map(|r| repeats::collapse(r).0.into_owned())
            .collect();
        let principles = selected_principles(constitution_json, selector)?;
        let tok = self.judge.tokenizer();
        let template = self.judge.template();
        let orders = ordered_pairs(responses.len());
        let opts = |(a, b): (usize, usize)| Options {
            first: &responses[a],
            second: &responses[b],
        };
        let head = tok
            .encode(&template.head(&conv.transcript()))
            .map_err(js_err)?;
        let options = orders
            .iter()
            .map(|&o| tok.encode(&template.shared_options(opts(o))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(js_err)?;
        let suffixes = principles
            .iter()
            .map(|p| {
                orders
                    .iter()
                    .map(|&o| tok.encode(&template.suffix(&p.text, opts(o))))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(js_err)?;
        let letters = [
            tok.single_token(OPTION_LETTERS[0]).map_err(js_err)?,
            tok.single_token(OPTION_LETTERS[1]).map_err(js_err)?,
        ];
        to_js(&serde_json::json!({
            "head": head,
            "orders": orders,
            "options": options,
            "suffixes": suffixes,
            "letters": letters,
        }))
    }

    /// Streams a chain of thought through `onText(piece)` (return `false` to stop),
    /// then returns `{text, p_first_raw, p_first, tokens}` with `p_first` clamped. In
    /// one call: a caller that must stay responsive uses `beginReason`, `stepReason`
    /// and `finishReason`.
    pub fn reason(
        &mut self,
        conversation_text: &str,
        principle: &str,
        first: &str,
        second: &str,
        max_tokens: usize,
        on_text: &Function,
    ) -> Result<JsValue, JsError> {
        self.begin_reason(conversation_text, principle, first, second, max_tokens)?;
        while !self.step_reason(usize::MAX, on_text)? {}
        self.finish_reason()
    }

    /// Starts a chain of thought (replacing any unfinished one): reads the prompt,
    /// building the whole decoder first if no zero-shot check or reasoning has.
    #[wasm_bindgen(js_name = beginReason)]
    pub fn begin_reason(
        &mut self,
        conversation_text: &str,
        principle: &str,
        first: &str,
        second: &str,
        max_tokens: usize,
    ) -> Result<(), JsError> {
        self.reasoning = None;
        let conv = Conversation::parse(conversation_text).map_err(js_err)?;
        let run = self
            .judge
            .begin_reason(&conv.transcript(), principle, first, second, max_tokens)
            .map_err(js_err)?;
        self.reasoning = Some(run);
        Ok(())
    }

    /// Writes up to `tokens` more tokens of the started reasoning through
    /// `onText(piece)`; returns whether it is done. The worker writes a few a step and
    /// yields between steps, so a Cancel gets through.
    #[wasm_bindgen(js_name = stepReason)]
    pub fn step_reason(&mut self, tokens: usize, on_text: &Function) -> Result<bool, JsError> {
        let run = self
            .reasoning
            .as_mut()
            .ok_or_else(|| JsError::new("no reasoning is running: call beginReason first"))?;
        let step = self.judge.step_reason(run, tokens, &mut |s| {
            on_text
                .call1(&JsValue::NULL, &JsValue::from_str(s))
                .map(|r| r.as_bool() != Some(false))
                .unwrap_or(false)
        });
        step.map_err(|e| {
            self.reasoning = None;
            js_err(e)
        })
    }

    /// Reads the answer after the reasoning written so far and clamps it:
    /// `{text, p_first_raw, p_first, tokens}`.
    #[wasm_bindgen(js_name = finishReason)]
    pub fn finish_reason(&mut self) -> Result<JsValue, JsError> {
        let run = self
            .reasoning
            .take()
            .ok_or_else(|| JsError::new("no reasoning is running: call beginReason first"))?;
        to_js(&self.judge.finish_reason(run).map_err(js_err)?)
    }

    /// Drops the started reasoning; the engine and what it has read stay.
    #[wasm_bindgen(js_name = cancelReason)]
    pub fn cancel_reason(&mut self) {
        self.reasoning = None;
    }
}

/// The conversation and responses as the page sends them, parsed and checked
/// against the input limits.
fn read_inputs(
    conversation_text: &str,
    responses: &Array,
) -> Result<(Conversation, Vec<String>), JsError> {
    let conv = Conversation::parse(conversation_text).map_err(js_err)?;
    let responses: Vec<String> = responses
        .iter()
        .map(|v| v.as_string().unwrap_or_default())
        .collect();
    let responses = conversation::validate_responses(&responses).map_err(js_err)?;
    Ok((conv, responses))
}

fn selected_principles(constitution_json: &str, selector: &str) -> Result<Vec<Principle>, JsError> {
    let c = if constitution_json.trim().is_empty() {
        Constitution::default_2023()
    } else {
        Constitution::from_json(constitution_json).map_err(js_err)?
    };
    let selector = if selector.trim().is_empty() {
        "all"
    } else {
        selector
    };
    let idx = c.select(selector).map_err(js_err)?;
    Ok(idx.into_iter().map(|i| c.principles[i].clone()).collect())
}
