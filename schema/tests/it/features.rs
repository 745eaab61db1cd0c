//! One small schema per language feature, asserting the loaded model.

use telepact_schema::{Schema, TypeExpr, TypeKind, TypeName};

fn load(text: &str) -> Schema {
    Schema::from_text(text).unwrap_or_else(|error| panic!("schema should load:\n{error}"))
}

fn reasons(text: &str) -> Vec<String> {
    match Schema::from_text(text) {
        Ok(_) => panic!("schema should be rejected"),
        Err(error) => error
            .failures()
            .expect("invalid schema, not an I/O error")
            .iter()
            .map(|f| f.reason.clone())
            .collect(),
    }
}

fn plain(kind: TypeKind) -> TypeExpr {
    TypeExpr {
        kind,
        nullable: false,
    }
}

#[test]
fn struct_fields_with_every_basic_type() {
    let schema = load(
        r#"[{"struct.Basics": {
            "flag": "boolean", "count": "integer", "ratio": "number", "label": "string",
            "blob": "bytes", "anything": "any", "maybe": "integer?", "later!": "string",
            "list": ["string"], "byName": {"string": "number?"}}}]"#,
    );
    let Some(TypeName::Struct(id)) = schema.names().get("struct.Basics") else {
        panic!("struct.Basics is a struct");
    };
    let fields = &schema.struct_def(*id).fields;
    assert_eq!(fields["flag"].ty, plain(TypeKind::Boolean));
    assert_eq!(fields["count"].ty, plain(TypeKind::Integer));
    assert_eq!(fields["ratio"].ty, plain(TypeKind::Number));
    assert_eq!(fields["label"].ty, plain(TypeKind::String));
    assert_eq!(fields["blob"].ty, plain(TypeKind::Bytes));
    assert_eq!(fields["anything"].ty, plain(TypeKind::Any));
    assert_eq!(
        fields["maybe"].ty,
        TypeExpr {
            kind: TypeKind::Integer,
            nullable: true
        }
    );
    let later = &fields["later!"];
    assert!(later.optional);
    assert_eq!(
        (later.key.as_str(), later.name.as_str()),
        ("later!", "later")
    );
    assert!(!fields["flag"].optional);
    assert_eq!(
        fields["list"].ty,
        plain(TypeKind::Array(Box::new(plain(TypeKind::String))))
    );
    let number_or_null = TypeExpr {
        kind: TypeKind::Number,
        nullable: true,
    };
    assert_eq!(
        fields["byName"].ty,
        plain(TypeKind::Object(Box::new(number_or_null)))
    );
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        keys[..3],
        ["flag", "count", "ratio"],
        "declaration order is kept"
    );
}

#[test]
fn unions_keep_tags_and_their_docstrings() {
    let schema = load(
        r#"[{"///": ["A shape.", "Two lines."], "union.Shape": [
            {"///": " A circle. ", "Circle": {"radius": "number"}},
            {"///": ["A square,", "of some side."], "Square": {"side": "number"}},
            {"Point": {}}]}]"#,
    );
    let Some(TypeName::Union(id)) = schema.names().get("union.Shape") else {
        panic!("union.Shape is a union");
    };
    let shape = schema.union_def(*id);
    assert_eq!(shape.doc.as_deref(), Some("A shape.\nTwo lines."));
    let tags: Vec<&str> = shape.tags.keys().map(String::as_str).collect();
    assert_eq!(tags, ["Circle", "Square", "Point"]);
    assert_eq!(shape.tags["Circle"].doc.as_deref(), Some(" A circle. "));
    assert_eq!(
        shape.tags["Square"].doc.as_deref(),
        Some("A square,\nof some side.")
    );
    assert_eq!(shape.tags["Point"].doc, None);
    assert!(shape.tags["Circle"].fields.contains_key("radius"));
}

#[test]
fn functions_have_arguments_results_and_merged_errors() {
    let schema = load(
        r#"[{"///": "Adds.", "fn.add": {"x": "integer", "y!": "integer"},
             "->": [{"Ok_": {"sum": "integer"}}, {"Overflow": {}}]},
            {"errors.Math": [{"///": "Division by zero.", "DivideByZero": {}}]}]"#,
    );
    let (_, add) = schema.function_by_name("fn.add").expect("fn.add");
    assert_eq!(add.doc.as_deref(), Some("Adds."));
    assert!(!add.args["x"].optional && add.args["y!"].optional);
    assert_eq!(add.result.name, "fn.add.->");
    let tags: Vec<&str> = add.result.tags.keys().map(String::as_str).collect();
    assert_eq!(tags[..3], ["Ok_", "Overflow", "DivideByZero"]);
    let merged = &add.result.tags["DivideByZero"];
    assert_eq!(merged.from_errors.as_deref(), Some("errors.Math"));
    assert_eq!(merged.doc.as_deref(), Some("Division by zero."));
    assert_eq!(
        add.result.tags["ErrorUnknown_"].from_errors.as_deref(),
        Some("errors.Validation_")
    );
    assert_eq!(add.result.tags["Ok_"].from_errors, None);
    assert_eq!(add.errors_regex, r"^errors\..*$");

    let (_, ping) = schema.function_by_name("fn.ping_").expect("fn.ping_");
    assert!(ping.internal);
    assert!(!ping.result.tags.contains_key("DivideByZero"));
    assert!(ping.result.tags.contains_key("ErrorInvalidRequestBody_"));
    let error_names: Vec<&str> = schema.errors().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(error_names, ["errors.Math", "errors.Validation_"]);
}

#[test]
fn errors_regex_selects_error_sets() {
    let schema = load(
        r#"[{"$internal": true, "fn.narrow": {}, "->": [{"Ok_": {}}], "_errors": "^errors\\.A$"},
            {"errors.A": [{"ErrorA": {}}]}, {"errors.B": [{"ErrorB": {}}]}]"#,
    );
    let (_, narrow) = schema.function_by_name("fn.narrow").expect("fn.narrow");
    assert!(narrow.internal);
    assert!(narrow.result.tags.contains_key("ErrorA"));
    assert!(!narrow.result.tags.contains_key("ErrorB"));
    assert!(!narrow.result.tags.contains_key("ErrorUnknown_"));
}

#[test]
fn error_tags_may_not_repeat_result_tags() {
    let text = r#"[{"fn.f": {}, "->": [{"Ok_": {}}, {"Oops": {}}]}, {"errors.E": [{"Oops": {}}]}]"#;
    assert_eq!(reasons(text), ["PathCollision"]);
}

/// Each collision as `here <- there` (the later path, then the earlier one it repeats).
fn collisions(text: &str) -> Vec<String> {
    let Err(error) = Schema::from_text(text) else {
        panic!("schema should be rejected");
    };
    let failures = error.failures().expect("invalid schema, not an I/O error");
    failures
        .iter()
        .map(|failure| {
            assert_eq!(failure.reason, "PathCollision");
            let path = |path: &serde_json::Value| serde_json::to_string(path).unwrap_or_default();
            let here = path(&serde_json::Value::from(failure.path.clone()));
            format!("{here} <- {}", path(&failure.data["path"]))
        })
        .collect()
}

#[test]
fn a_header_declared_three_times_collides_with_each_earlier_declaration() {
    let text = r#"[
        {"headers.A": {"@x": "string", "@y": "string"}, "->": {"@r": "string"}},
        {"headers.B": {"@y": "string", "@x": "string"}, "->": {}},
        {"headers.C": {"@x": "string"}, "->": {"@r": "string"}}]"#;
    assert_eq!(
        collisions(text),
        [
            r#"[1,"headers.B","@x"] <- [0,"headers.A","@x"]"#,
            r#"[1,"headers.B","@y"] <- [0,"headers.A","@y"]"#,
            r#"[2,"headers.C","@x"] <- [0,"headers.A","@x"]"#,
            r#"[2,"->","@r"] <- [0,"->","@r"]"#,
            r#"[2,"headers.C","@x"] <- [1,"headers.B","@x"]"#,
        ]
    );
}

#[test]
fn an_error_tag_declared_three_times_collides_with_each_earlier_declaration() {
    let text = r#"[
        {"errors.A": [{"Gone": {}}, {"Late": {}}]},
        {"errors.B": [{"Late": {}}, {"Gone": {"why": "string"}}]},
        {"errors.C": [{"Gone": {}}]}]"#;
    assert_eq!(
        collisions(text),
        [
            r#"[1,"errors.B",1,"Gone"] <- [0,"errors.A",0,"Gone"]"#,
            r#"[1,"errors.B",0,"Late"] <- [0,"errors.A",1,"Late"]"#,
            r#"[2,"errors.C",0,"Gone"] <- [0,"errors.A",0,"Gone"]"#,
            r#"[2,"errors.C",0,"Gone"] <- [1,"errors.B",1,"Gone"]"#,
        ]
    );
}

#[test]
fn headers_are_optional_and_collected_per_direction() {
    let schema = load(
        r#"[{"///": "Tracing.", "headers.Trace": {"@traceId": "string"}, "->": {"@spanId": "string?"}}]"#,
    );
    let trace = schema
        .headers()
        .iter()
        .find(|h| h.name == "headers.Trace")
        .expect("headers.Trace");
    assert_eq!(trace.doc.as_deref(), Some("Tracing."));
    assert!(trace.request["@traceId"].optional);
    assert!(schema.request_headers()["@traceId"].optional);
    assert!(schema.response_headers()["@spanId"].ty.nullable);
    assert!(schema.request_headers().contains_key("@id_"));
    assert!(!schema.request_headers().contains_key("@spanId"));
}

#[test]
fn function_links_and_select_are_types() {
    let schema = load(
        r#"[{"fn.target": {"a": "integer"}, "->": [{"Ok_": {}}]},
            {"struct.Links": {"call": "fn.target", "pick!": "_ext.Select_"}}]"#,
    );
    let Some(TypeName::Struct(id)) = schema.names().get("struct.Links") else {
        panic!("struct.Links is a struct");
    };
    let fields = &schema.struct_def(*id).fields;
    let (target, _) = schema.function_by_name("fn.target").expect("fn.target");
    assert_eq!(fields["call"].ty, plain(TypeKind::FunctionLink(target)));
    assert_eq!(fields["pick!"].ty, plain(TypeKind::Select));
}

#[test]
fn internal_and_unauthenticated_markers() {
    let schema = load(
        r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
            {"$internal": true, "fn.hidden": {}, "->": [{"Ok_": {}}]},
            {"$authenticated": false, "fn.open": {}, "->": [{"Ok_": {}}]},
            {"fn.guarded": {}, "->": [{"Ok_": {}}]}]"#,
    );
    let function = |name: &str| schema.function_by_name(name).expect(name).1;
    assert!(function("fn.hidden").internal);
    assert!(!schema.requires_auth(function("fn.hidden")));
    assert!(function("fn.open").unauthenticated);
    assert!(!schema.requires_auth(function("fn.open")));
    assert!(schema.requires_auth(function("fn.guarded")));
    assert!(
        function("fn.guarded")
            .result
            .tags
            .contains_key("ErrorUnauthenticated_")
    );
}

#[test]
fn recursion_must_terminate() {
    load(r#"[{"struct.List": {"next!": "struct.List"}}]"#);
    load(r#"[{"struct.List": {"next": "struct.List?"}}]"#);
    load(r#"[{"struct.Tree": {"children": ["struct.Tree"]}}]"#);
    load(r#"[{"union.Nat": [{"Zero": {}}, {"Succ": {"of": "union.Nat"}}]}]"#);
    assert_eq!(
        reasons(r#"[{"struct.Loop": {"next": "struct.Loop"}}]"#),
        ["RecursiveTypeUnterminated"]
    );
    assert_eq!(
        reasons(r#"[{"struct.A": {"b": "struct.B"}}, {"struct.B": {"a": "struct.A"}}]"#),
        ["RecursiveTypeUnterminated", "RecursiveTypeUnterminated"]
    );
    assert_eq!(
        reasons(r#"[{"fn.f": {"self": "fn.f"}, "->": [{"Ok_": {}}]}]"#),
        ["RecursiveTypeUnterminated"]
    );
}

#[test]
fn info_comes_first_then_definitions_by_key() {
    let schema = load(
        r#"[{"struct.Z": {}}, {"///": "About.", "info.Api": {}}, {"fn.a": {}, "->": [{"Ok_": {}}]}]"#,
    );
    let keys: Vec<&str> = schema
        .original()
        .iter()
        .filter_map(|d| {
            d.as_object()?
                .keys()
                .find(|k| k.contains('.'))
                .map(String::as_str)
        })
        .collect();
    assert_eq!(keys, ["info.Api", "fn.a", "struct.Z"]);
    assert_eq!(schema.infos()[0].doc.as_deref(), Some("About."));
    assert!(schema.full().len() > schema.original().len());
}

/// The full listing holds the user's definitions and the standard ones, `info.*` first
/// and then by key, each user definition as `original` lists it.
#[test]
fn full_listing_interleaves_standard_definitions_by_key() {
    let schema = Schema::from_text(
        r#"[{"struct.Zed": {}}, {"info.Api": {}}, {"fn.aaa": {}, "->": [{"Ok_": {}}]},
            {"union.Mid": [{"One": {}}]}, {"headers.Zz": {"@z": "string"}, "->": {}}]"#,
    )
    .expect("loads");
    let key = |definition: &serde_json::Value| -> String {
        let mut keys = definition.as_object().expect("object").keys();
        keys.find(|k| k.contains('.')).cloned().expect("schema key")
    };
    let full: Vec<String> = schema.full().iter().map(key).collect();
    let mut expected = full.clone();
    expected.sort_by_key(|k| (!k.starts_with("info."), k.clone()));
    assert_eq!(full, expected);
    let users: Vec<&serde_json::Value> = schema
        .full()
        .iter()
        .filter(|d| schema.original().contains(d))
        .collect();
    assert_eq!(users, schema.original().iter().collect::<Vec<_>>());
    assert_eq!(schema.original().len(), 5);
    assert!(
        full.contains(&"fn.ping_".to_string()) && full.contains(&"errors.Validation_".to_string())
    );
}

#[test]
fn every_failure_of_a_stage_is_reported() {
    let text = r#"[{"struct.A": {"x": "nope"}}, {"struct.B": {"Bad": "string"}}, {"union.C": []}]"#;
    assert_eq!(
        reasons(text),
        [
            "StringRegexMatchFailed",
            "KeyRegexMatchFailed",
            "EmptyArrayDisallowed"
        ]
    );
}

#[test]
fn a_function_naming_a_failed_definition_still_has_its_result_checked() {
    // `_ext.A` fails on its own; the argument naming it adds nothing to that, and the
    // result's own faults are reported in the same round, as the reference reports them.
    let text = r#"[{"_ext.A": {}}, {"fn.f": {"x": "_ext.A"}, "->": [{"Bad": {}}]}]"#;
    assert_eq!(
        reasons(text),
        [
            "TypeExtensionImplementationMissing",
            "RequiredObjectKeyMissing"
        ]
    );
}

#[test]
fn a_document_named_like_the_standard_definitions_is_refused() {
    // Its failures would be shown in the standard definitions' text, under their names.
    let text = r#"[{"struct.A": {"x": "bad"}}]"#;
    for name in ["internal_", "auth_", "mock_"] {
        let error = Schema::from_documents([(name, text)]).expect_err("refused");
        let failures = error.failures().expect("invalid, not an I/O error");
        let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
        assert_eq!(reasons, ["DocumentNameReserved"], "{name}");
        assert!(!error.to_string().contains("fn.ping_"), "{error}");
    }
}

#[test]
fn yaml_and_json_mean_the_same() {
    let yaml = r#"
- ///: |
    Multi-line
    docstring.
  struct.Thing:
    flag: boolean
    "count!": "integer?"
    tags: ["string"]
    byName: {"string": any}
- fn.get:
    id: string
  ->:
    - Ok_:
        thing: struct.Thing
"#;
    let json = r#"[
  {"///": "Multi-line\ndocstring.\n",
   "struct.Thing": {"flag": "boolean", "count!": "integer?", "tags": ["string"], "byName": {"string": "any"}}},
  {"fn.get": {"id": "string"}, "->": [{"Ok_": {"thing": "struct.Thing"}}]}
]"#;
    let from_yaml = Schema::from_documents([("a.telepact.yaml", yaml)]).expect("yaml loads");
    let from_json = Schema::from_documents([("a.telepact.json", json)]).expect("json loads");
    assert_eq!(from_yaml.full(), from_json.full());
    assert_eq!(from_yaml.original().len(), 2);
}

#[test]
fn yaml_failures_point_at_yaml_positions() {
    let yaml = "- struct.Thing:\n    flag: boolean\n    bad: nope\n";
    let error = Schema::from_documents([("t.telepact.yaml", yaml)]).expect_err("rejected");
    let failure = &error.failures().expect("invalid").0[0];
    assert_eq!((failure.location.row, failure.location.col), (3, 5));
    assert_eq!(
        failure.to_string(),
        "t.telepact.yaml:3:5: field `bad` of `struct.Thing` has an unknown type"
    );
    assert_eq!(
        error.to_string(),
        "\
error: field `bad` of `struct.Thing` has an unknown type `nope`
 --> t.telepact.yaml:3:10
  |
3 |     bad: nope
  |          ^^^^ not a type
  |
  = help: a type is one of `boolean`, `integer`, `number`, `string`, `any`, `bytes`, or a `struct.`, `union.` or `fn.` name defined in the schema

error: the schema has 1 error"
    );
    assert_eq!(
        failure.to_json()["reason"]["StringRegexMatchFailed"]["regex"]
            .as_str()
            .map(|r| r.starts_with("^(boolean")),
        Some(true)
    );
}

#[test]
fn yaml_that_is_not_json_compatible_is_invalid() {
    for text in [
        "- a: .inf\n",
        "- 2001-12-14\n",
        "- {1: a}\n",
        "- a: 1\n  a: 2\n",
        "a: b\n",
    ] {
        let error = Schema::from_documents([("t.telepact.yaml", text)]).expect_err(text);
        let reasons: Vec<&str> = error
            .failures()
            .expect("invalid")
            .iter()
            .map(|f| f.reason.as_str())
            .collect();
        assert_eq!(reasons, ["JsonInvalid"], "{text}");
    }
}

#[test]
fn yaml_without_a_json_form_says_which_value_and_where() {
    for (text, first_lines) in [
        (
            "- struct.A:\n    x: 2001-01-01\n",
            "error: `t.telepact.yaml` has no JSON form: `2001-01-01` has no JSON value (quote dates, `.inf` and `.nan`)\n --> t.telepact.yaml:2:8",
        ),
        (
            "- struct.A:\n    x: string\n    x: integer\n",
            "error: `t.telepact.yaml` has no JSON form: the key `x` appears twice in one object\n --> t.telepact.yaml:3:5",
        ),
        (
            "- struct.A: {}\n---\n- struct.B: {}\n",
            "error: `t.telepact.yaml` has no JSON form: several documents in one file\n --> t.telepact.yaml:2:1",
        ),
    ] {
        let error = Schema::from_documents([("t.telepact.yaml", text)]).expect_err(text);
        let shown = error.to_string();
        assert!(shown.starts_with(first_lines), "{shown}");
    }
}

/// JSON parsers keep the last of a repeated key, which would drop a field without a
/// word; a JSON document is refused for it as a YAML one is, at the key repeated.
#[test]
fn json_that_repeats_a_key_is_refused_where_it_repeats() {
    let text = "[{\"struct.A\": {\"x\": \"string\",\n  \"x\": \"integer\"}}]";
    for name in ["t.telepact.json", "auto_"] {
        let error = Schema::from_documents([(name, text)]).expect_err(name);
        let shown = error.to_string();
        let first_lines = format!(
            "error: `{name}` is not valid JSON: the key `x` appears twice in one object\n --> {name}:2:3"
        );
        assert!(shown.starts_with(&first_lines), "{shown}");
    }
    let error = Schema::from_text(text).expect_err("repeated key");
    assert!(
        error.to_string().contains("the key `x` appears twice"),
        "{error}"
    );
}
