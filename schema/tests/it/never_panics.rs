//! The loader answers every input with a schema or failures, and renders the failures,
//! without ever panicking.

use proptest::prelude::*;
use serde_json::{Map, Value};
use telepact_schema::{LoadError, Schema};

/// Keys and strings that steer generated values into the loader's deeper checks.
const WORDS: &[&str] = &[
    "struct.A",
    "struct.B",
    "union.U",
    "fn.f",
    "fn.g_",
    "errors.E",
    "headers.H",
    "info.I",
    "_ext.Select_",
    "_ext.X",
    "->",
    "///",
    "_errors",
    "$internal",
    "Ok_",
    "Tag",
    "field",
    "field!",
    "@head",
    "string",
    "string?",
    "integer",
    "boolean",
    "any",
    "bytes",
    "number",
    "struct.A?",
    "union.U",
    "fn.f",
    "_ext.Select_",
    "^errors\\..*$",
    "(",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-zA-Z_.!@?>-]{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn schema_value() -> impl Strategy<Value = Value> {
    prop::collection::vec(json_value(), 0..6).prop_map(Value::Array)
}

fn load_every_way(text: &str) {
    render(Schema::from_text(text));
    render(Schema::from_documents([("a.telepact.yaml", text)]));
    render(Schema::from_documents([
        ("a.telepact.json", text),
        ("b", "[]"),
    ]));
}

/// Renders every failure, in colour and not, and each on its own line.
fn render(result: Result<Schema, LoadError>) {
    if let Err(error) = result {
        let plain = error.render(false);
        assert!(
            plain.ends_with("error") || plain.ends_with("errors"),
            "{plain}"
        );
        let _ = error.render(true);
        for failure in error.failures().into_iter().flatten() {
            let _ = failure.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(text in "\\PC{0,200}") {
        load_every_way(&text);
    }

    #[test]
    fn yaml_like_text(text in "[-:\\[\\]{}#&*!|>'\" \n\ta-z.@?]{0,120}") {
        load_every_way(&text);
    }

    #[test]
    fn arbitrary_schema_values(value in schema_value()) {
        let compact = value.to_string();
        load_every_way(&compact);
        let pretty = serde_json::to_string_pretty(&value).unwrap_or(compact);
        load_every_way(&pretty);
    }
}

/// The failure reasons each way of loading `text` answers (`None` when it loads).
fn reasons_every_way(text: &str) -> Vec<Option<Vec<String>>> {
    let reasons = |loaded: Result<Schema, telepact_schema::LoadError>| {
        let error = loaded.err()?;
        let failures = error
            .failures()
            .expect("an invalid schema, not an I/O error");
        Some(failures.iter().map(|f| f.reason.clone()).collect())
    };
    vec![
        reasons(Schema::from_text(text)),
        reasons(Schema::from_documents([("a.telepact.yaml", text)])),
        reasons(Schema::from_documents([
            ("a.telepact.json", text),
            ("b", "[]"),
        ])),
    ]
}

#[test]
fn deeply_nested_input_is_refused_not_overflowed() {
    let depth = 100_000;
    let json = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let refused = Some(vec!["JsonInvalid".to_string()]);
    assert_eq!(reasons_every_way(&json), vec![refused.clone(); 3]);
    let yaml = "- ".repeat(2000) + "x";
    assert_eq!(reasons_every_way(&yaml), vec![refused; 3]);
}

/// The reasons a YAML bomb is refused with.
fn bomb_reasons(yaml: &str) -> Vec<String> {
    let error = Schema::from_documents([("bomb.telepact.yaml", yaml)]).expect_err("refused");
    let failures = error.failures().expect("invalid");
    failures.iter().map(|f| f.reason.clone()).collect()
}

#[test]
fn alias_bombs_are_refused() {
    let mut yaml = String::from("- a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        yaml.push_str(&format!(
            "- a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    assert_eq!(bomb_reasons(&yaml), ["JsonInvalid"]);
}

#[test]
fn aliases_of_a_long_string_are_refused() {
    // 120 KB of text that would expand to 500 MB.
    let long = "x".repeat(100_000);
    let aliases = vec!["*s"; 5_000].join(", ");
    let yaml = format!("- a: &s \"{long}\"\n  b: [{aliases}]\n");
    assert_eq!(bomb_reasons(&yaml), ["JsonInvalid"]);
}

#[test]
fn aliases_nest_no_deeper_than_written_values_may() {
    // Each anchor wraps the previous alias in 200 more lists: 15 of them nest 3,000
    // deep, which the type parser's recursion would not survive. The comment gives the
    // expansion budget room, so only the depth can refuse it.
    let mut yaml = format!("# {}\n- struct.A:\n", "-".repeat(200_000));
    let (open, close) = ("[".repeat(200), "]".repeat(200));
    yaml.push_str(&format!("    a0: &a0 {open}integer{close}\n"));
    for i in 1..15 {
        let prev = i - 1;
        yaml.push_str(&format!("    a{i}: &a{i} {open}*a{prev}{close}\n"));
    }
    assert_eq!(bomb_reasons(&yaml), ["JsonInvalid"]);
    let error = Schema::from_documents([("deep.telepact.yaml", yaml)]).expect_err("refused");
    assert!(error.to_string().contains("nesting deeper than"), "{error}");
}

#[test]
fn merge_keys_bring_in_the_keys_of_anchored_objects() {
    // As the reference's YAML reader merges: a key written here wins over a merged
    // one, an earlier object of the list over a later one; merged keys come first.
    let yaml = "- struct.A: &a\n    x: string\n    y: string\n- struct.B: &b\n    y: integer\n    z: integer\n- struct.C:\n    w: boolean\n    <<: [*a, *b]\n    x: boolean\n";
    let schema =
        Schema::from_documents([("a.telepact.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        schema.original()[2]["struct.C"],
        serde_json::json!({"x": "boolean", "y": "string", "z": "integer", "w": "boolean"})
    );
    let fields: Vec<&String> = schema.original()[2]["struct.C"]
        .as_object()
        .map(|fields| fields.keys().collect())
        .unwrap_or_default();
    assert_eq!(fields, ["x", "y", "z", "w"]);
    let not_objects = "- struct.A:\n    <<: [x]\n";
    assert_eq!(bomb_reasons(not_objects), ["JsonInvalid"]);
}

#[test]
fn aliases_expand_to_their_anchored_value() {
    let yaml = "- struct.A: &fields\n    x: string\n- struct.B: *fields\n";
    let schema =
        Schema::from_documents([("a.telepact.yaml", yaml)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        schema.original()[0]["struct.A"],
        schema.original()[1]["struct.B"]
    );
}
