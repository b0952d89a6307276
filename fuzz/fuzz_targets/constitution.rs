//! The constitution loader and selector on untrusted text.
//!
//! Input: a constitution's JSON, then optionally NUL-separated selectors. Besides "no
//! panic", a loaded constitution must satisfy every rule `validate` promises, survive
//! `to_json` → `from_json` unchanged, and answer selections consistently.

#![no_main]

use libfuzzer_sys::fuzz_target;
use principle_checker::text::constitution::{
    Constitution, ConstitutionError, MAX_PRINCIPLES, MAX_PRINCIPLE_CHARS, SELECT_ALL,
};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let fields = common::fields(data);
    let text = common::field(&fields, 0);
    let selectors = &fields[1.min(fields.len())..];

    match Constitution::from_json(text) {
        Ok(c) => {
            check_loaded(&c);
            for selector in selectors {
                check_selection(&c, selector);
            }
            // Text from the file itself, as someone might paste it into a selection box.
            check_selection(&c, &c.name);
            if let Some(source) = &c.source {
                check_selection(&c, source);
            }
        }
        Err(e) => check_error(text, &e),
    }

    // Any selector against the embedded default, which always loads.
    let default = Constitution::default_2023();
    for selector in selectors {
        check_selection(&default, selector);
    }
});

fn check_loaded(c: &Constitution) {
    assert_eq!(c.validate(), Ok(()));
    assert!(!c.principles.is_empty() && c.principles.len() <= MAX_PRINCIPLES);
    for p in &c.principles {
        assert!(!p.text.trim().is_empty());
        assert!(p.text.chars().count() <= MAX_PRINCIPLE_CHARS);
        assert!(c.group(&p.group).is_some(), "{:?}", p.group);
        let shown = p.display_text();
        assert!(shown.starts_with(&p.text));
        assert_eq!(shown == p.text, p.articles.is_none());
    }
    let json = c.to_json();
    assert_eq!(Constitution::from_json(&json).as_ref(), Ok(c), "{json}");

    let n = c.principles.len();
    let everything: Vec<usize> = (0..n).collect();
    assert_eq!(c.select(SELECT_ALL).unwrap(), everything);
    for (i, p) in c.principles.iter().enumerate() {
        assert_eq!(c.select(&p.id).unwrap(), vec![i]);
        assert_eq!(c.select(&format!(" {} ,", p.id)).unwrap(), vec![i]);
    }
    for g in &c.groups {
        let members: Vec<usize> = (0..n).filter(|&i| c.principles[i].group == g.id).collect();
        assert_eq!(c.select(&g.id).unwrap(), members);
    }
    // Order and repeats do not matter.
    let ids: Vec<&str> = c.principles.iter().rev().map(|p| p.id.as_str()).collect();
    assert_eq!(c.select(&ids.join(",")).unwrap(), everything);
    assert_eq!(
        c.select(&format!("{},{}", ids[0], ids[0])).unwrap(),
        vec![n - 1]
    );
}

/// A selection is either an error or sorted, distinct, in-range indices; and it is the
/// same as selecting its items one by one and taking the union.
fn check_selection(c: &Constitution, selector: &str) {
    match c.select(selector) {
        Ok(chosen) => {
            assert!(chosen.windows(2).all(|w| w[0] < w[1]), "{chosen:?}");
            assert!(chosen.iter().all(|&i| i < c.principles.len()));
            let mut union = Vec::new();
            for item in selector.split(',').filter(|s| !s.trim().is_empty()) {
                union.extend(c.select(item).expect("an item of a valid selection"));
            }
            union.sort_unstable();
            union.dedup();
            assert_eq!(union, chosen);
            // Selecting the chosen principles by id gives them back.
            if !chosen.is_empty() {
                let ids: Vec<&str> = chosen
                    .iter()
                    .map(|&i| c.principles[i].id.as_str())
                    .collect();
                assert_eq!(c.select(&ids.join(",")).unwrap(), chosen);
            }
        }
        Err(ConstitutionError::EmptySelection) => {
            assert!(selector.split(',').all(|s| s.trim().is_empty()));
        }
        Err(ConstitutionError::UnknownSelection { id }) => {
            assert!(!id.is_empty() && id.trim() == id);
            assert!(selector.split(',').any(|s| s.trim() == id));
        }
        Err(other) => panic!("select returned a loader error: {other:?}"),
    }
}

/// Errors carry positions that exist in the text and a message someone can read.
fn check_error(text: &str, e: &ConstitutionError) {
    let message = e.to_string();
    assert!(!message.is_empty());
    if let ConstitutionError::InvalidJson { line, path, .. }
    | ConstitutionError::WrongShape { line, path, .. } = e
    {
        assert!(*line <= text.matches('\n').count() + 1, "{e:?}");
        if let Some(path) = path {
            assert!(!path.is_empty());
        }
    }
}
