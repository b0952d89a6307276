//! Verdicts do not move when the code is reorganized: the full JSON that
//! `principle-checker judge --json` prints for the standard and six-response fixtures,
//! with the trained head and with the zero-shot prompt, is compared with a stored copy
//! (numbers within 1e-6, everything else exactly). A change that is meant to move
//! verdicts rewrites the copies on purpose: `UPDATE_GOLDEN=1 cargo test --release --test
//! golden`, and the diff shows what moved.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The CLI's JSON for one fixture, without the wall-clock time it reports.
fn judge_json(fixture: &str, scoring: &str, principles: &str) -> Value {
    let dir = root().join("tests/fixtures").join(fixture);
    let mut responses: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("fixture entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("response-"))
        })
        .collect();
    responses.sort();
    let out = Command::new(env!("CARGO_BIN_EXE_principle-checker"))
        .arg("--model")
        .arg(common::model_dir())
        .args([
            "judge",
            "--json",
            "--scoring",
            scoring,
            "--principles",
            principles,
        ])
        .arg(dir.join("conversation.txt"))
        .args(&responses)
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "judge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("judge --json prints JSON");
    v.as_object_mut()
        .expect("an object")
        .remove("seconds")
        .expect("the run's time");
    v
}

/// Where `now` differs from `then`: paths of the first few differences.
fn differences(then: &Value, now: &Value, path: &str, found: &mut Vec<String>) {
    if found.len() >= 10 {
        return;
    }
    match (then, now) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            if (a - b).abs() > TOLERANCE {
                found.push(format!("{path}: {a} then, {b} now"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                differences(x, y, &format!("{path}[{i}]"), found);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => differences(x, y, &format!("{path}.{k}"), found),
                    (x, _) => found.push(format!(
                        "{path}.{k}: {} then, {} now",
                        if x.is_some() { "present" } else { "absent" },
                        if x.is_some() { "absent" } else { "present" }
                    )),
                }
            }
        }
        _ if then == now => {}
        _ => found.push(format!("{path}: {then} then, {now} now")),
    }
}

fn check(name: &str, fixture: &str, scoring: &str, principles: &str) {
    let now = judge_json(fixture, scoring, principles);
    let file = root().join("tests/golden").join(format!("{name}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        write(&file, &now);
        return;
    }
    let then: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (UPDATE_GOLDEN=1 writes it)",
            file.strip_prefix(root()).unwrap_or(&file).display()
        )
    }))
    .expect("a golden file is JSON");
    let mut found = Vec::new();
    differences(&then, &now, "", &mut found);
    assert!(
        found.is_empty(),
        "{name}: the verdicts moved:\n  {}",
        found.join("\n  ")
    );
}

fn write(file: &Path, v: &Value) {
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, serde_json::to_string_pretty(v).unwrap() + "\n").unwrap();
}

#[test]
fn trained_head_verdicts_do_not_move() {
    check("standard-head", "standard", "trained-head", "all");
    check("six-head", "six", "trained-head", "all");
}

// one test a fixture: the test harness runs them side by side
#[test]
fn zero_shot_verdicts_do_not_move() {
    check("standard-zero-shot", "standard", "zero-shot", "all");
}

#[test]
fn zero_shot_verdicts_on_six_responses_do_not_move() {
    // six responses are 30 ordered pairs a principle: three principles keep it short
    check(
        "six-zero-shot",
        "six",
        "zero-shot",
        "udhr-02,research-1-03,sparrow-08",
    );
}

#[test]
fn a_moved_number_is_found_and_a_tiny_one_is_not() {
    let then = serde_json::json!({"p": [0.5, 0.25], "id": "a"});
    let mut found = Vec::new();
    differences(
        &then,
        &serde_json::json!({"p": [0.5, 0.2500000001], "id": "a"}),
        "",
        &mut found,
    );
    assert!(found.is_empty(), "{found:?}");
    differences(
        &then,
        &serde_json::json!({"p": [0.5, 0.26], "id": "b"}),
        "",
        &mut found,
    );
    assert_eq!(found.len(), 2, "{found:?}");
    differences(&then, &serde_json::json!({"p": [0.5]}), "", &mut found);
    assert_eq!(found.len(), 4, "{found:?}");
}
