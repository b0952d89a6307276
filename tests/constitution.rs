//! The built-in constitution must match the published text exactly, and every validation
//! error must read the way a person fixing their file will see it.

use principle_checker::text::constitution::*;

fn principle<'a>(c: &'a Constitution, id: &str) -> &'a Principle {
    c.principles
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("no principle {id}"))
}

fn err(text: &str) -> String {
    Constitution::from_json(text)
        .expect_err("should be rejected")
        .to_string()
}

/// A valid file with the given principle objects, one group `g`.
fn with_principles(principles: &str) -> String {
    format!(
        r#"{{"schema": 1, "name": "t", "groups": [{{"id": "g", "name": "G"}}], "principles": [{principles}]}}"#
    )
}

fn p(id: &str, text: &str) -> String {
    serde_json::json!({"id": id, "group": "g", "text": text}).to_string()
}

#[test]
fn default_has_every_principle_in_its_group() {
    let c = Constitution::default_2023();
    assert_eq!(c.schema, 1);
    assert_eq!(c.name, "Claude's Constitution (May 2023)");
    let expected = [
        ("udhr", 8),
        ("apple", 4),
        ("non-western", 4),
        ("sparrow", 11),
        ("research-1", 16),
        ("research-2", 15),
    ];
    let group_ids: Vec<&str> = c.groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(group_ids, expected.map(|(id, _)| id));
    for (group, count) in expected {
        let in_group: Vec<&Principle> = c.principles.iter().filter(|p| p.group == group).collect();
        assert_eq!(in_group.len(), count, "{group}");
        for (n, p) in in_group.iter().enumerate() {
            assert_eq!(p.id, format!("{group}-{:02}", n + 1));
        }
    }
    assert_eq!(c.principles.len(), 58);
    assert_eq!(c.select("all").unwrap().len(), 58);
}

#[test]
fn default_texts_match_the_seed_to_the_letter() {
    let c = Constitution::default_2023();
    let udhr1 = principle(&c, "udhr-01");
    assert_eq!(
        udhr1.display_text(),
        "Please choose the response that most supports and encourages freedom, equality, and a sense of brotherhood. (1)"
    );
    assert_eq!(udhr1.articles.as_deref(), Some("1"));
    let udhr4 = principle(&c, "udhr-04");
    assert_eq!(
        udhr4.text,
        "Please choose the response that most discourages and opposes torture, slavery, cruelty, and inhuman or degrading treatment."
    );
    assert_eq!(udhr4.articles.as_deref(), Some("4 & 5"));
    assert_eq!(
        principle(&c, "research-1-02").text,
        "Please choose the assistant response that is as harmless and ethical as possible. Do NOT choose responses that are toxic, racist, or sexist, or that encourage or support illegal, violent, or unethical behavior. Above all the assistant's response should be wise, peaceful, and ethical."
    );
    assert_eq!(
        principle(&c, "sparrow-08").text,
        "Choose the response that least gives the impression of medical authority or expertise, and does not offer medical advice. (But it is ok to discuss general questions about biology and medicine)."
    );
    assert_eq!(principle(&c, "sparrow-08").articles, None);
    assert_eq!(
        principle(&c, "research-2-15").text,
        "Which response avoids implying that AI systems have or care about personal identity and its persistence?"
    );
    assert_eq!(
        principle(&c, "apple-03").text,
        "Please choose the response that most accurately represents your system's strict belief in being a harmless, and not a human or other entity."
    );
}

#[test]
fn repaired_and_garbled_principles_carry_notes() {
    let c = Constitution::default_2023();
    let repaired = principle(&c, "research-1-08");
    assert_eq!(
        repaired.text,
        "Choose the assistant response that answers the human's query in a more friendly, amiable, conscientious, and socially acceptable manner."
    );
    let note = repaired.note.as_deref().unwrap();
    assert!(note.contains("socially acceptable manner."), "{note}");
    assert!(note.contains("arXiv 2212.08073"), "{note}");
    assert!(principle(&c, "apple-03").note.is_some());
    let noted: Vec<&str> = c
        .principles
        .iter()
        .filter(|p| p.note.is_some())
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(noted, ["apple-03", "research-1-08"]);
    assert!(c
        .principles
        .iter()
        .all(|p| p.articles.is_some() == (p.group == "udhr")));
}

#[test]
fn round_trip_through_json() {
    let c = Constitution::default_2023();
    let again = Constitution::from_json(&c.to_json()).unwrap();
    assert_eq!(again, c);
}

#[test]
fn group_lookup_and_selection() {
    let c = Constitution::default_2023();
    assert_eq!(c.group("sparrow").unwrap().name, "DeepMind's Sparrow Rules");
    assert!(c.group("sparrow-01").is_none());
    assert_eq!(
        c.select("research-2-15,udhr,udhr-02").unwrap(),
        [0, 1, 2, 3, 4, 5, 6, 7, 57]
    );
}

#[test]
fn error_invalid_json() {
    let text = "{\n  \"schema\": 1,\n  \"principles\": [\n    {\"id\": \"a\"},\n  ]\n}\n";
    assert_eq!(
        err(text),
        "line 5, column 3: invalid JSON: trailing comma (principles)"
    );
}

#[test]
fn error_wrong_type_names_line_column_and_field() {
    let text = "{\n  \"schema\": 1,\n  \"name\": \"t\",\n  \"groups\": [{\"id\": \"g\", \"name\": \"G\"}],\n  \"principles\": [\n    {\"id\": \"a\", \"group\": \"g\", \"text\": \"x\"},\n    {\"id\": \"b\", \"group\": \"g\", \"text\": 5}\n  ]\n}\n";
    assert_eq!(
        err(text),
        "line 7, column 39: invalid type: integer `5`, expected a string (principles[1].text)"
    );
}

#[test]
fn error_unknown_field_is_a_wrong_shape() {
    let text = with_principles(r#"{"id": "a", "group": "g", "txet": "x"}"#);
    assert_eq!(
        err(&text),
        "line 1, column 112: unknown field `txet`, expected one of `id`, `group`, `text`, `articles`, `note` (principles[0].txet)"
    );
}

#[test]
fn error_unsupported_schema() {
    let text = r#"{"schema": 2, "name": "t", "groups": [], "principles": []}"#;
    assert_eq!(
        err(text),
        "unsupported schema version 2: this build of principle-checker reads schema 1 only"
    );
}

#[test]
fn error_no_principles() {
    assert_eq!(
        err(&with_principles("")),
        "the constitution has no principles: add at least one to \"principles\""
    );
}

#[test]
fn error_too_many_principles() {
    let many: Vec<String> = (0..=MAX_PRINCIPLES)
        .map(|i| p(&format!("p{i}"), "x"))
        .collect();
    assert_eq!(
        err(&with_principles(&many.join(","))),
        "the constitution has 201 principles, more than the limit of 200: remove some or split it into several constitutions"
    );
}

#[test]
fn error_empty_id() {
    assert_eq!(
        err(&with_principles(&format!("{},{}", p("a", "x"), p("", "y")))),
        "principles[1].id is empty: every group and principle needs an id"
    );
}

#[test]
fn error_invalid_id() {
    assert_eq!(
        err(&with_principles(&p("udhr 01", "x"))),
        "principles[0].id is \"udhr 01\", which cannot be selected: ids may not contain commas or whitespace, or be \"all\""
    );
}

#[test]
fn error_duplicate_group_id() {
    let text = r#"{"schema": 1, "name": "t", "groups": [{"id": "g", "name": "G"}, {"id": "h", "name": "H"}, {"id": "g", "name": "G2"}], "principles": []}"#;
    // Group checks come before the principle count, but only once the file has principles.
    let text = text.replace(
        r#""principles": []"#,
        &format!(r#""principles": [{}]"#, p("a", "x")),
    );
    assert_eq!(
        err(&text),
        "duplicate group id \"g\" at groups[0] and groups[2]: ids must be unique"
    );
}

#[test]
fn error_duplicate_principle_id() {
    let list: Vec<String> = ["udhr-01", "b", "c", "d", "e", "udhr-01"]
        .iter()
        .map(|id| p(id, "x"))
        .collect();
    assert_eq!(
        err(&with_principles(&list.join(","))),
        "duplicate principle id \"udhr-01\" at principles[0] and principles[5]: ids must be unique"
    );
}

#[test]
fn error_id_clash() {
    assert_eq!(
        err(&with_principles(&format!("{},{}", p("a", "x"), p("g", "y")))),
        "id \"g\" names both groups[0] and principles[1]: rename one so a selection can tell them apart"
    );
}

#[test]
fn error_unknown_group() {
    let text = with_principles(r#"{"id": "a", "group": "udhr", "text": "x"}"#);
    assert_eq!(
        err(&text),
        "principles[0].group is \"udhr\", which is not a group id (known: g): add it to \"groups\" or fix the id"
    );
}

#[test]
fn error_empty_text() {
    let list: Vec<String> = ["x", "y", "z", "   "]
        .iter()
        .enumerate()
        .map(|(i, t)| p(&format!("p{i}"), t))
        .collect();
    assert_eq!(
        err(&with_principles(&list.join(","))),
        "principles[3].text is empty: every principle needs text"
    );
}

#[test]
fn error_text_too_long() {
    let long = "a".repeat(MAX_PRINCIPLE_CHARS + 1);
    assert_eq!(
        err(&with_principles(&p("a", &long))),
        "principles[0].text is 1001 characters long, more than the limit of 1000: shorten it"
    );
}

#[test]
fn error_unknown_selection() {
    let c = Constitution::default_2023();
    assert_eq!(
        c.select("udhr, udhr-99").unwrap_err().to_string(),
        "unknown principle or group id \"udhr-99\" in selection: use ids from the constitution, or \"all\""
    );
}

#[test]
fn error_empty_selection() {
    let c = Constitution::default_2023();
    assert_eq!(
        c.select("  ").unwrap_err().to_string(),
        "the selection is empty: name principle ids, group ids, or \"all\""
    );
}
