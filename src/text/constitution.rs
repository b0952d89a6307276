//! Constitutions: the principles the judge compares responses against.
//!
//! The built-in constitution and user-supplied ones share one JSON schema, so a custom
//! constitution is simply a file that replaces `constitutions/claude-2023.json`. People write
//! those files by hand, so parsing is strict and every error names the line, column or field
//! path to fix: a typo that silently dropped a principle would change verdicts without anyone
//! noticing.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The only schema version this build understands. Files carry it so that a later format
/// change fails loudly here instead of being half-read.
pub const SCHEMA_VERSION: u32 = 1;

/// The judge runs once per principle, so this bounds the work a pasted constitution can
/// demand of a browser tab.
pub const MAX_PRINCIPLES: usize = 200;

/// Principle text goes into every judge prompt; the small model's context has to hold it
/// alongside the conversation being judged. Counted in characters, not bytes, so the limit
/// is the same for every script.
pub const MAX_PRINCIPLE_CHARS: usize = 1000;

/// The word that selects every principle; ids may not use it, or a selection would be
/// ambiguous.
pub const SELECT_ALL: &str = "all";

static DEFAULT_2023_JSON: &str = include_str!("../../constitutions/claude-2023.json");

/// Where a principle came from. Kept separate from the principles so a user can select a
/// whole source (`udhr`) at once and a view can credit it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// Optional in files (custom groups rarely have a citation); empty when absent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Principle {
    /// Stable across releases, so saved selections and reports keep meaning the same thing.
    pub id: String,
    pub group: String,
    /// What the judge is shown. For UDHR principles this excludes the article reference:
    /// a trailing "(4 & 5)" reads like an answer option next to the judge's (A)/(B).
    pub text: String,
    /// The UDHR article numbers the published text cites, e.g. `"4 & 5"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub articles: Option<String>,
    /// Editorial remarks, such as where a text was repaired; never shown to the judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Principle {
    /// The principle as published, article reference included, for showing to people and
    /// for checking against the source.
    pub fn display_text(&self) -> String {
        match &self.articles {
            Some(articles) => format!("{} ({})", self.text, articles),
            None => self.text.clone(),
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Constitution {
    pub schema: u32,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub groups: Vec<Group>,
    pub principles: Vec<Principle>,
}

/// Everything that can be wrong with a constitution file or a selection. Messages are shown
/// to the person who wrote the file, so each says where the problem is and what to do.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ConstitutionError {
    /// The text is not JSON at all.
    #[error("line {line}, column {column}: invalid JSON: {message}{}", at(.path))]
    InvalidJson {
        line: usize,
        column: usize,
        message: String,
        path: Option<String>,
    },
    /// Valid JSON that does not fit the schema: a wrong type, a missing or unknown field.
    #[error("line {line}, column {column}: {message}{}", at(.path))]
    WrongShape {
        line: usize,
        column: usize,
        message: String,
        path: Option<String>,
    },
    #[error("unsupported schema version {found}: this build of principle-checker reads schema {SCHEMA_VERSION} only")]
    UnsupportedSchema { found: u64 },
    #[error("the constitution has no principles: add at least one to \"principles\"")]
    NoPrinciples,
    #[error("the constitution has {count} principles, more than the limit of {MAX_PRINCIPLES}: remove some or split it into several constitutions")]
    TooManyPrinciples { count: usize },
    #[error("{path} is empty: every group and principle needs an id")]
    EmptyId { path: String },
    #[error("{path} is {id:?}, which cannot be selected: ids may not contain commas or whitespace, or be \"all\"")]
    InvalidId { path: String, id: String },
    #[error(
        "duplicate group id {id:?} at groups[{first}] and groups[{second}]: ids must be unique"
    )]
    DuplicateGroupId {
        id: String,
        first: usize,
        second: usize,
    },
    #[error("duplicate principle id {id:?} at principles[{first}] and principles[{second}]: ids must be unique")]
    DuplicatePrincipleId {
        id: String,
        first: usize,
        second: usize,
    },
    #[error("id {id:?} names both groups[{group}] and principles[{principle}]: rename one so a selection can tell them apart")]
    IdClash {
        id: String,
        group: usize,
        principle: usize,
    },
    #[error("principles[{index}].group is {group:?}, which is not a group id (known: {known}): add it to \"groups\" or fix the id")]
    UnknownGroup {
        index: usize,
        group: String,
        known: String,
    },
    #[error("principles[{index}].text is empty: every principle needs text")]
    EmptyText { index: usize },
    #[error("principles[{index}].text is {chars} characters long, more than the limit of {MAX_PRINCIPLE_CHARS}: shorten it")]
    TextTooLong { index: usize, chars: usize },
    #[error("unknown principle or group id {id:?} in selection: use ids from the constitution, or \"all\"")]
    UnknownSelection { id: String },
    #[error("the selection is empty: name principle ids, group ids, or \"all\"")]
    EmptySelection,
}

fn at(path: &Option<String>) -> String {
    match path {
        Some(path) => format!(" ({path})"),
        None => String::new(),
    }
}

impl Constitution {
    /// The constitution Claude was trained with as of May 2023; the judge's default.
    ///
    /// Returns an owned copy so callers may edit it into a custom constitution; the parse
    /// itself happens once per process. Panics only if the embedded file is invalid, which
    /// the test suite rules out.
    pub fn default_2023() -> Constitution {
        static CACHE: OnceLock<Constitution> = OnceLock::new();
        CACHE
            .get_or_init(|| {
                Constitution::from_json(DEFAULT_2023_JSON)
                    .unwrap_or_else(|e| panic!("constitutions/claude-2023.json: {e}"))
            })
            .clone()
    }

    /// Parses and validates; the only way untrusted text should become a `Constitution`.
    pub fn from_json(text: &str) -> Result<Constitution, ConstitutionError> {
        // Parse loosely first: syntax errors get reported as such, and a file from a newer
        // schema is rejected for its version rather than for whatever field it added.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        if let Some(found) = value.get("schema").and_then(serde_json::Value::as_u64) {
            if found != u64::from(SCHEMA_VERSION) {
                return Err(ConstitutionError::UnsupportedSchema { found });
            }
        }
        // Deserialize from the text, not the `Value`, so shape errors keep their position.
        let constitution: Constitution =
            serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        constitution.validate()?;
        Ok(constitution)
    }

    /// The rules serde cannot express. Public so a constitution edited in code can be checked
    /// before use.
    pub fn validate(&self) -> Result<(), ConstitutionError> {
        use ConstitutionError as E;
        if self.schema != SCHEMA_VERSION {
            return Err(E::UnsupportedSchema {
                found: u64::from(self.schema),
            });
        }
        if self.principles.is_empty() {
            return Err(E::NoPrinciples);
        }
        if self.principles.len() > MAX_PRINCIPLES {
            return Err(E::TooManyPrinciples {
                count: self.principles.len(),
            });
        }

        let mut groups: HashMap<&str, usize> = HashMap::new();
        for (i, group) in self.groups.iter().enumerate() {
            check_id(&group.id, || format!("groups[{i}].id"))?;
            if let Some(&first) = groups.get(group.id.as_str()) {
                return Err(E::DuplicateGroupId {
                    id: group.id.clone(),
                    first,
                    second: i,
                });
            }
            groups.insert(&group.id, i);
        }

        let mut principles: HashMap<&str, usize> = HashMap::new();
        for (i, principle) in self.principles.iter().enumerate() {
            check_id(&principle.id, || format!("principles[{i}].id"))?;
            if let Some(&first) = principles.get(principle.id.as_str()) {
                return Err(E::DuplicatePrincipleId {
                    id: principle.id.clone(),
                    first,
                    second: i,
                });
            }
            if let Some(&group) = groups.get(principle.id.as_str()) {
                return Err(E::IdClash {
                    id: principle.id.clone(),
                    group,
                    principle: i,
                });
            }
            principles.insert(&principle.id, i);
            if !groups.contains_key(principle.group.as_str()) {
                let known = if self.groups.is_empty() {
                    "none defined".to_string()
                } else {
                    let ids: Vec<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
                    ids.join(", ")
                };
                return Err(E::UnknownGroup {
                    index: i,
                    group: principle.group.clone(),
                    known,
                });
            }
            if principle.text.trim().is_empty() {
                return Err(E::EmptyText { index: i });
            }
            let chars = principle.text.chars().count();
            if chars > MAX_PRINCIPLE_CHARS {
                return Err(E::TextTooLong { index: i, chars });
            }
        }
        Ok(())
    }

    /// Pretty-printed, so an exported constitution is a readable starting point for edits.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Constitution always serializes")
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// Resolves a user's selection (`"udhr,sparrow-08"`, `"all"`) to indices into
    /// `principles`. Results keep constitution order whatever the selector's order, so a run
    /// does not depend on how the selection was typed; repeats collapse. A group with no
    /// principles selects nothing, which is not an error.
    pub fn select(&self, selector: &str) -> Result<Vec<usize>, ConstitutionError> {
        let mut chosen = vec![false; self.principles.len()];
        let mut named_any = false;
        for item in selector.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            named_any = true;
            if item == SELECT_ALL {
                chosen.fill(true);
            } else if let Some(i) = self.principles.iter().position(|p| p.id == item) {
                chosen[i] = true;
            } else if self.group(item).is_some() {
                for (i, p) in self.principles.iter().enumerate() {
                    if p.group == item {
                        chosen[i] = true;
                    }
                }
            } else {
                return Err(ConstitutionError::UnknownSelection {
                    id: item.to_string(),
                });
            }
        }
        if !named_any {
            return Err(ConstitutionError::EmptySelection);
        }
        Ok((0..chosen.len()).filter(|&i| chosen[i]).collect())
    }
}

/// Ids are what people type into a comma-separated selection, so they must survive it.
fn check_id(id: &str, path: impl Fn() -> String) -> Result<(), ConstitutionError> {
    if id.is_empty() {
        return Err(ConstitutionError::EmptyId { path: path() });
    }
    if id == SELECT_ALL || id.contains(',') || id.chars().any(char::is_whitespace) {
        return Err(ConstitutionError::InvalidId {
            path: path(),
            id: id.to_string(),
        });
    }
    Ok(())
}

fn json_error(text: &str, e: &serde_json::Error) -> ConstitutionError {
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    let missing_field = message.starts_with("missing field");
    let path = path_at(text, line, column, missing_field);
    if e.is_data() {
        ConstitutionError::WrongShape {
            line,
            column,
            message,
            path,
        }
    } else {
        ConstitutionError::InvalidJson {
            line,
            column,
            message,
            path,
        }
    }
}

enum Frame {
    Object {
        key: Option<String>,
        expect_key: bool,
    },
    Array {
        index: usize,
    },
}

fn render_path(frames: &[Frame]) -> String {
    let mut path = String::new();
    for frame in frames {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    path
}

/// Turns serde_json's line and column into a field path such as `principles[2].text`,
/// because "line 40" means little in a one-line-per-principle file and nothing at all to
/// someone who pasted JSON into a text box. serde_json reports positions, not paths, so this
/// re-scans the text up to the error.
///
/// serde_json puts a "missing field" error just past the object's closing brace, where the
/// scan has already left the object; for those the path is that of the object just closed.
fn path_at(text: &str, line: usize, column: usize, missing_field: bool) -> Option<String> {
    if line == 0 {
        return None;
    }
    let bytes = text.as_bytes();
    let line_start = if line == 1 {
        0
    } else {
        bytes
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'\n')
            .nth(line - 2)
            .map(|(i, _)| i + 1)?
    };
    let offset = (line_start + column).min(bytes.len());

    let mut frames: Vec<Frame> = Vec::new();
    let mut last_closed_object: Option<String> = None;
    let mut i = 0;
    while i < offset {
        match bytes[i] {
            b'{' => frames.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => frames.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                let was_object = matches!(frames.pop(), Some(Frame::Object { .. }));
                if was_object {
                    last_closed_object = Some(render_path(&frames));
                }
            }
            b',' => match frames.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key, expect_key }) => {
                    *key = None;
                    *expect_key = true;
                }
                None => {}
            },
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object { key, expect_key }) = frames.last_mut() {
                    if *expect_key {
                        let raw = text.get(start..(i + 1).min(bytes.len())).unwrap_or("");
                        *key = Some(
                            serde_json::from_str::<String>(raw)
                                .unwrap_or_else(|_| raw.trim_matches('"').to_string()),
                        );
                        *expect_key = false;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let path = if missing_field {
        last_closed_object.unwrap_or_default()
    } else {
        render_path(&frames)
    };
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(principles: &str) -> String {
        format!(
            r#"{{"schema": 1, "name": "t", "groups": [{{"id": "g", "name": "G"}}], "principles": [{principles}]}}"#
        )
    }

    fn shape_path(text: &str) -> Option<String> {
        match Constitution::from_json(text) {
            Err(ConstitutionError::WrongShape { path, .. })
            | Err(ConstitutionError::InvalidJson { path, .. }) => path,
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn minimal_constitution_parses() {
        let c = Constitution::from_json(&tiny(r#"{"id": "a", "group": "g", "text": "Be kind."}"#))
            .unwrap();
        assert_eq!(c.principles[0].text, "Be kind.");
        assert_eq!(c.groups[0].source, "");
        assert_eq!(c.source, None);
    }

    #[test]
    fn display_text_appends_articles_only_when_present() {
        let mut p = Principle {
            id: "a".into(),
            group: "g".into(),
            text: "Be fair.".into(),
            articles: None,
            note: None,
        };
        assert_eq!(p.display_text(), "Be fair.");
        p.articles = Some("4 & 5".into());
        assert_eq!(p.display_text(), "Be fair. (4 & 5)");
    }

    #[test]
    fn paths_point_at_the_offending_field() {
        let p = r#"{"id": "a", "group": "g", "text": "x"}"#;
        let wrong_type = tiny(&format!(r#"{p}, {{"id": "b", "group": "g", "text": 5}}"#));
        assert_eq!(
            shape_path(&wrong_type).as_deref(),
            Some("principles[1].text")
        );
        let unknown = tiny(&format!(r#"{p}, {{"id": "b", "group": "g", "txet": "x"}}"#));
        assert_eq!(shape_path(&unknown).as_deref(), Some("principles[1].txet"));
        let missing = tiny(&format!(r#"{p}, {{"id": "b", "group": "g"}}, {p}"#));
        assert_eq!(shape_path(&missing).as_deref(), Some("principles[1]"));
        let missing_last = tiny(&format!(r#"{p}, {{"id": "b", "group": "g"}}"#));
        assert_eq!(shape_path(&missing_last).as_deref(), Some("principles[1]"));
        let not_object = tiny("5");
        assert_eq!(shape_path(&not_object).as_deref(), Some("principles[0]"));
        let escaped_key = tiny(r#"{"id": "a", "group": "g", "text": "x", "n\"x": 1}"#);
        assert_eq!(
            shape_path(&escaped_key).as_deref(),
            Some("principles[0].n\"x")
        );
        let root_missing = r#"{"schema": 1, "name": "t", "groups": []}"#;
        assert_eq!(shape_path(root_missing), None);
        let groups_not_array = r#"{"schema": 1, "name": "t", "groups": {}, "principles": []}"#;
        assert_eq!(shape_path(groups_not_array).as_deref(), Some("groups"));
    }

    #[test]
    fn paths_survive_pretty_printed_input() {
        let text = "{\n  \"schema\": 1,\n  \"name\": \"t\",\n  \"groups\": [\n    {\"id\": \"g\", \"name\": \"G\"}\n  ],\n  \"principles\": [\n    {\"id\": \"a\", \"group\": \"g\", \"text\": \"x\"},\n    {\"id\": \"b\", \"group\": \"g\"}\n  ]\n}\n";
        let err = Constitution::from_json(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 9, column 29: missing field `text` (principles[1])"
        );
    }

    #[test]
    fn newer_schema_is_reported_before_unknown_fields() {
        let text = r#"{"schema": 2, "name": "t", "weights": [], "groups": [], "principles": []}"#;
        assert_eq!(
            Constitution::from_json(text),
            Err(ConstitutionError::UnsupportedSchema { found: 2 })
        );
    }

    #[test]
    fn select_keeps_constitution_order_and_drops_repeats() {
        let c = Constitution::from_json(&tiny(
            r#"{"id": "a", "group": "g", "text": "x"}, {"id": "b", "group": "g", "text": "y"}"#,
        ))
        .unwrap();
        assert_eq!(c.select("b, a,b").unwrap(), vec![0, 1]);
        assert_eq!(c.select("g").unwrap(), vec![0, 1]);
        assert_eq!(c.select(" all ").unwrap(), vec![0, 1]);
        assert_eq!(c.select("b,").unwrap(), vec![1]);
        assert_eq!(c.select(" , "), Err(ConstitutionError::EmptySelection));
        assert_eq!(
            c.select("a,zz"),
            Err(ConstitutionError::UnknownSelection { id: "zz".into() })
        );
    }

    #[test]
    fn whitespace_only_text_counts_as_empty() {
        let err = Constitution::from_json(&tiny(r#"{"id": "a", "group": "g", "text": " \n\t"}"#))
            .unwrap_err();
        assert_eq!(err, ConstitutionError::EmptyText { index: 0 });
    }

    #[test]
    fn text_limit_counts_characters_not_bytes() {
        let text = "é".repeat(MAX_PRINCIPLE_CHARS);
        let ok = tiny(&format!(r#"{{"id": "a", "group": "g", "text": "{text}"}}"#));
        assert!(Constitution::from_json(&ok).is_ok());
    }

    #[test]
    fn default_is_valid_and_cached() {
        let a = Constitution::default_2023();
        assert_eq!(a, Constitution::default_2023());
        assert_eq!(a.principles.len(), 58);
    }
}
