//! Shared by the integration tests that run the real model.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use principle_checker::engine::ModelFiles;
use principle_checker::judge::{Judge, Scoring};

pub fn model_dir() -> PathBuf {
    std::env::var_os("PRINCIPLE_CHECKER_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/smollm2-135m-instruct")
        })
}

pub fn files() -> ModelFiles {
    ModelFiles::from_dir(&model_dir()).unwrap_or_else(|e| {
        panic!(
            "{e}: run scripts/setup-model.sh first (model folder {})",
            model_dir().display()
        )
    })
}

/// One judge per test binary: loading and optimising the graph takes seconds.
pub fn judge() -> &'static Judge {
    static JUDGE: OnceLock<Judge> = OnceLock::new();
    JUDGE.get_or_init(|| Judge::new(files()).expect("the real model loads"))
}

pub fn fixture() -> (String, Vec<String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/standard");
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).expect("fixture file");
    (
        read("conversation.txt"),
        vec![read("response-1.txt"), read("response-2.txt")],
    )
}

/// A second judge that scores with the zero-shot prompt (the shared one uses the
/// trained head when the model has it).
pub fn zero_shot_judge() -> &'static Judge {
    static JUDGE: OnceLock<Judge> = OnceLock::new();
    JUDGE.get_or_init(|| {
        let mut j = Judge::new(files()).expect("the real model loads");
        j.set_scoring(Scoring::ZeroShot).unwrap();
        j
    })
}
