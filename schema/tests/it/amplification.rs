//! Small texts that would cost the loader or the renderer far more than their size:
//! long keys above many nodes, aliases of long strings, many failures in one text,
//! error sets copied into many functions.

use std::path::Path;

use serde_json::{Value, json};
use telepact_schema::{Location, Schema, SchemaFailure};

/// The failures of loading `documents`.
fn failures(documents: &[(&str, &str)]) -> Vec<SchemaFailure> {
    let error = Schema::from_documents(documents.iter().copied()).expect_err("invalid");
    error.failures().expect("invalid, not unreadable").0.clone()
}

fn at(row: usize, col: usize) -> Location {
    Location { row, col }
}

#[test]
fn failures_under_long_keys_are_located() {
    // Each of the 10k elements lies under the 50 KB key.
    let long = "k".repeat(50_000);
    let items = vec!["1"; 10_000].join(",");
    let text = format!(
        "[\n  {{\"struct.A\": {{\"{long}\": [{items}]}}}},\n  {{\"struct.B\": {{\"x\": \"integr\"}}}}\n]\n"
    );
    for name in ["a.telepact.json", "a.telepact.yaml"] {
        let found = failures(&[(name, text.as_str())]);
        let places: Vec<(Value, Location)> = found
            .iter()
            .map(|failure| (Value::Array(failure.path.clone()), failure.location))
            .collect();
        assert_eq!(
            places,
            [
                (json!([0, "struct.A", long]), at(2, 17)),
                (json!([1, "struct.B", "x"]), at(3, 17)),
            ],
            "{name}"
        );
    }
}

#[test]
fn aliases_of_a_long_string_are_refused_as_past_the_expansion_budget() {
    // 120 KB of text that would expand to 500 MB (`never_panics` checks the reason).
    let long = "x".repeat(100_000);
    let aliases = vec!["*s"; 5_000].join(", ");
    let yaml = format!("- a: &s \"{long}\"\n  b: [{aliases}]\n");
    let error = Schema::from_documents([("bomb.telepact.yaml", yaml.as_str())]).expect_err("bomb");
    let shown = error.render(false);
    let why = "`bomb.telepact.yaml` has no JSON form: more than";
    assert!(shown.contains(why), "{shown}");
    assert!(
        shown.contains("bytes of values once aliases expand"),
        "{shown}"
    );
}

/// `functions` plain functions beside `sets` error sets of one tag each, as YAML.
fn functions_and_error_sets(functions: usize, sets: usize) -> String {
    let functions = (0..functions).map(|i| format!("- fn.call{i}: {{}}\n  ->: [Ok_: {{}}]\n"));
    let sets = (0..sets).map(|i| format!("- errors.Set{i}: [Error{i}: {{why: string}}]\n"));
    functions.chain(sets).collect()
}

#[test]
fn error_sets_copied_into_functions_past_the_limit_are_refused_before_the_copies() {
    // Every function's result would take every set's tag and the 6 standard ones, and
    // `fn.ping_` and `fn.api_` the standard ones: 1,006,012 copies from 84 KB of text.
    let text = functions_and_error_sets(1_000, 1_000);
    let found = failures(&[("api.telepact.yaml", text.as_str())]);
    assert_eq!(found.len(), 1, "{found:?}");
    let failure = &found[0];
    assert_eq!(failure.reason, "ErrorTagsPastLimit");
    assert_eq!(
        failure.document, "api.telepact.yaml",
        "at the schema's own set"
    );
    assert_eq!(
        Value::Array(failure.path.clone()),
        json!([1_000, "errors.Set0"])
    );
    assert_eq!(failure.data["copies"], json!(1_006_012));
    assert_eq!(failure.data["limit"], json!(250_000 + text.len() / 4));

    // Within the limit every function takes every set.
    let schema = Schema::from_text(&functions_and_error_sets(200, 200)).expect("loads");
    assert_eq!(schema.functions().len(), 200 + 2, "and fn.ping_, fn.api_");
    let call = schema
        .functions()
        .iter()
        .find(|f| f.name == "fn.call7")
        .expect("fn.call7");
    assert_eq!(
        call.result.tags.len(),
        1 + 200 + 6,
        "Ok_, the sets' tags, the standard ones"
    );
}

#[test]
fn a_schema_sharing_definitions_through_aliases_loads() {
    let yaml = "\
- struct.Point: &point
    x: number
    y: number
- struct.Pixel: *point
- fn.move:
    from: &ref struct.Point
    to: *ref
  ->: &ok
    - Ok_: *point
- fn.copy:
    from: *ref
  ->: *ok
";
    let schema =
        Schema::from_documents([("a.telepact.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    // Definitions are ordered by key.
    let definition = |key: &str| {
        let found = schema.original().iter().find(|d| d.get(key).is_some());
        found.cloned().unwrap_or_else(|| panic!("{key}"))
    };
    let point = json!({"x": "number", "y": "number"});
    assert_eq!(definition("struct.Pixel")["struct.Pixel"], point);
    assert_eq!(definition("fn.copy")["->"], json!([{"Ok_": point}]));
    assert_eq!(definition("fn.copy")["fn.copy"]["from"], "struct.Point");
}

#[test]
fn the_first_hundred_of_many_failures_show_their_own_lines() {
    let yaml: String = (0..2_000).map(|i| format!("- x{i}: 1\n")).collect();
    let error = Schema::from_documents([("a.telepact.yaml", yaml.as_str())]).expect_err("keys");
    let shown = error.render(false);
    for i in [0, 1, 50, 99] {
        let row = i + 1;
        assert!(shown.contains(&format!("a.telepact.yaml:{row}:3\n")), "{i}");
        assert!(shown.contains(&format!("\n{row} | - x{i}: 1\n")), "{i}");
    }
    assert!(!shown.contains("a.telepact.yaml:101:3\n"));
    assert_eq!(shown.matches("\nerror: ").count(), 100);
    assert!(shown.ends_with("the schema has 2000 errors; the first 100 are shown"));
    assert_eq!(
        error.failures().map(|failures| failures.0.len()),
        Some(2_000)
    );
}

#[test]
fn failures_on_one_long_line_render_in_proportion() {
    // A minified document: every failure is on its one line.
    let definitions: Vec<String> = (0..5_000)
        .map(|i| format!("{{\"struct.S{i}\":{{\"f\":\"integr\"}}}}"))
        .collect();
    let json = format!("[{}]", definitions.join(","));
    let error = Schema::from_documents([("a.telepact.json", json.as_str())]).expect_err("types");
    let shown = error.render(false);
    assert!(shown.contains("did you mean `integer`?"));
    assert!(shown.ends_with("the schema has 5000 errors; the first 100 are shown"));
    // Each excerpt shows a part of the line, not all of it.
    assert!(shown.len() < 100 * 1_000, "{} bytes", shown.len());
}

/// A name of a megabyte is shown by its first 80 characters, in a message of one short
/// line, wherever it is quoted.
#[test]
fn a_megabyte_name_is_shown_cut_short() {
    let long = "a".repeat(1 << 20);
    let schemas = [
        format!("[{{\"struct.S\": {{\"f\": \"{long}\"}}}}]"),
        format!("[{{\"struct.S\": {{\"{long}\": \"integr\"}}}}]"),
        format!("[{{\"struct.{long}\": {{\"f\": \"integr\"}}}}]"),
    ];
    for json in schemas {
        let error = Schema::from_documents([("a.telepact.json", json.as_str())]).expect_err("bad");
        let shown = error.render(false);
        let first = shown.lines().next().unwrap_or_default();
        assert!(first.len() < 300, "{}", &first[..300]);
        assert!(first.contains("aaaa…`"), "{first}");
        assert!(shown.len() < 10_000, "{} bytes", shown.len());
    }
}

/// Sets of documents with failures on many lines: blank lines, CRLF line ends,
/// multi-byte characters, collisions far apart and across files, syntax errors at a
/// text's end.
fn many_failures() -> Vec<Vec<(&'static str, String)>> {
    let mut yaml = String::from("# Many failures in one document.\n");
    for i in 0..120 {
        let kind = if i % 4 == 0 { "strng" } else { "string" };
        yaml.push_str(&format!(
            "- struct.S{i}:\n    f{i}: {kind}\n    ok: integer\n"
        ));
        if i % 9 == 0 {
            yaml.push('\n');
        }
    }
    yaml.push_str("- fn.f:\n    x: intger\n  ->:\n    - Ok_: {y: struct.Nope}\n");
    let definitions: Vec<String> = (0..40)
        .map(|i| {
            let kind = if i % 3 == 0 { "integr" } else { "string" };
            format!("  {{\"struct.J{i}\": {{\"é{i}\": \"{kind}\"}}}}")
        })
        .collect();
    let json = format!("[\r\n{}\r\n]", definitions.join(",\r\n"));
    let mut collisions = String::from("- struct.A:\n    id: integer\n");
    for i in 0..120 {
        collisions.push_str(&format!("- struct.S{i}:\n    f: string\n"));
    }
    collisions.push_str("- struct.A:\n    id: integer\n- struct.S7: {}\n");
    vec![
        vec![("many.telepact.yaml", yaml), ("more.telepact.json", json)],
        vec![
            ("many.telepact.yaml", collisions),
            (
                "more.telepact.json",
                "[\n  {\"struct.S100\": {}}\n]\n".to_string(),
            ),
        ],
        vec![(
            "keys.telepact.yaml",
            "- struct.D: {a: integer, a!: string}\n\n- notADefinition: 1\n".to_string(),
        )],
        vec![(
            "broken.telepact.yaml",
            "- struct.B:\n    x: [integer\n".to_string(),
        )],
        vec![(
            "broken.telepact.json",
            "[\r\n  {\"struct.C\": {}},\r\n".to_string(),
        )],
    ]
}

/// Rendered failures are compared with `tests/golden/many_failures.txt`
/// (rewritten with `UPDATE_GOLDEN=1`).
#[test]
fn many_failures_render_as_the_golden_file() {
    let mut rendered = String::new();
    for (set, documents) in many_failures().iter().enumerate() {
        let documents = documents.iter().map(|(name, text)| (*name, text.as_str()));
        let error = Schema::from_documents(documents).expect_err("invalid");
        rendered.push_str(&format!("=== set {set} ===\n{}\n\n", error.render(false)));
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/many_failures.txt");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &rendered).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&golden).expect("golden file");
    assert!(expected == rendered, "rendered:\n{rendered}");
}

/// `count` definitions of one header `@a` (`h`), or of one error tag `ErrorX` (`e`).
fn repeated_declarations(kind: char, count: usize) -> String {
    let definitions: Vec<String> = (0..count)
        .map(|i| match kind {
            'h' => format!(r#"{{"headers.H{i}": {{"@a": "integer"}}, "->": {{}}}}"#),
            _ => format!(r#"{{"errors.E{i}": [{{"ErrorX": {{}}}}]}}"#),
        })
        .collect();
    format!("[{}]", definitions.join(","))
}

#[test]
fn a_name_declared_hundreds_of_times_is_reported_once_for_each_repeat() {
    for kind in ['h', 'e'] {
        // A few repeats are reported as the reference reports them: each against
        // every earlier declaration.
        let few = failures(&[("a.telepact.json", &repeated_declarations(kind, 3))]);
        let pairs: Vec<(Value, Value)> = few
            .iter()
            .map(|failure| {
                let there = &failure.data["path"];
                (failure.path[0].clone(), there[0].clone())
            })
            .collect();
        assert_eq!(
            pairs,
            [
                (json!(1), json!(0)),
                (json!(2), json!(0)),
                (json!(2), json!(1))
            ]
        );
        // n of them made n²/2 failures (1,000, 47 KB, took 50 s and 3.7 GB to load
        // and list): past a bound each repeat is reported once, against the first.
        let many = failures(&[("a.telepact.json", &repeated_declarations(kind, 500))]);
        assert_eq!(many.len(), 499, "{kind}");
        assert!(
            many.iter()
                .all(|failure| failure.data["path"][0] == json!(0)),
            "{kind}"
        );
    }
}
