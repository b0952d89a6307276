//! The edit term's rules are written twice: in the product (src/judge/edits.rs, on
//! the parts of src/judge/evidence.rs) and in training (tools/edit_pairs.py). A head
//! trained on one and run with the other would weigh edits it never saw, so this test
//! runs the Python rules on the same pairs and asks for the same parts and edits.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write;
use std::process::{Command, Stdio};

use principle_checker::judge::edits::edited;
use principle_checker::judge::evidence::parts;

const LONG: &str = "You can reach the station by taking the number seven bus from the stop \
                    outside the library, which runs every ten minutes during the day, or you \
                    can walk along the river path for about twenty minutes.";

fn pairs() -> Vec<(String, String)> {
    let p = |a: &str, b: &str| (a.to_string(), b.to_string());
    vec![
        p("7 times 8 is 56.", "7 times 8 is 54."),
        p("Paris.", "I can't help with that."),
        p(
            "She saves $9 a week. 36 / 9 = 4 weeks. The answer is 4.",
            "She saves $9 a week. 36 / 9 = 10 weeks. The answer is 10.",
        ),
        p(
            "She saves $9 a week. 36 / 9 = 4 weeks. The answer is 4.",
            "She saves $9 a week. 36 / 9 = 4 weeks. The answer is 5.",
        ),
        p("Yes. It is.", "Yes. It is. Trust me."),
        p("Hello  there.", "hello there"),
        p("Wait... what?! No.", "Wait... what?! Yes."),
        p(
            "He said \"no.\" Then he left.",
            "He said \"yes.\" Then he left.",
        ),
        p("Well… maybe.\nTry again.", "Well… maybe.\nGive up."),
        p(
            &format!("{LONG} Have a good trip."),
            &LONG
                .replace("seven", "eight")
                .to_string()
                .replace("minutes.", "minutes. Have a good trip."),
        ),
        p(LONG, &LONG.replace("library, which", "library; which")),
        p("Canberra.", "Sydney."),
        p(
            "The capital of Australia is Canberra.",
            "The capital of Australia is Sydney.",
        ),
        p("", ""),
        p("A. B. C. D.", "A. X. C. Y."),
        p("A. B. C. D.", "A. X. Y. D."),
        p("A. B. C. D.", "X. Y. Z. D."),
        p("Ünïcödé is fine.", "Ünïcödé is not fine."),
        p("Thanks!", "Thanks!"),
    ]
}

#[test]
fn the_product_and_the_trainer_split_and_gate_edits_alike() {
    let cases = pairs();
    let input = serde_json::to_string(
        &cases
            .iter()
            .map(|(a, b)| [a.as_str(), b.as_str()])
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/edit_pairs.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs tools/edit_pairs.py (the trainer's rules)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "tools/edit_pairs.py failed");
    let python: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(python.len(), cases.len());
    let mut edits = 0;
    for ((a, b), py) in cases.iter().zip(&python) {
        let split =
            |t: &str| -> Vec<String> { parts(t).into_iter().map(|r| t[r].to_string()).collect() };
        let (pa, pb) = (split(a), split(b));
        let py_parts: Vec<Vec<String>> = serde_json::from_value(py["parts"].clone()).unwrap();
        assert_eq!(
            vec![pa.clone(), pb.clone()],
            py_parts,
            "parts of {a:?} / {b:?}"
        );
        let py_edited: Option<Vec<usize>> = serde_json::from_value(py["edited"].clone()).unwrap();
        let ours = edited(&pa, &pb);
        assert_eq!(ours, py_edited, "edit between {a:?} and {b:?}");
        edits += usize::from(ours.is_some());
    }
    // the cases hold edits and non-edits both
    assert!(
        edits >= 5 && edits + 5 <= cases.len(),
        "{edits} of {}",
        cases.len()
    );
}
