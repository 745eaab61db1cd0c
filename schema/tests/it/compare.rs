//! The backwards-compatibility check against the protocol's `compare.json` vectors, and
//! the rules the vectors leave out.

use crate::common;

use serde_json::Value;
use telepact_schema::{IncompatibilityKind, Schema, compare, pseudo_json_text};

fn load(definitions: &Value) -> Schema {
    Schema::from_text(&pseudo_json_text(definitions)).expect("the case's schema loads")
}

fn lines(old: &str, new: &str) -> Vec<String> {
    let old = Schema::from_text(old).unwrap();
    let new = Schema::from_text(new).unwrap();
    compare(&old, &new).iter().map(|c| c.to_string()).collect()
}

#[test]
fn every_compare_case_passes() {
    let Some(dir) = common::conformance_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("compare.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let found = compare(&load(&case["old"]), &load(&case["new"]));
        let mut output: Vec<String> = if found.is_empty() {
            vec!["Schemas are backwards compatible.".into()]
        } else {
            vec!["Backwards incompatible change(s) found:".into()]
        };
        output.extend(found.iter().map(|change| format!("- {change}")));
        let exit_code = i64::from(!found.is_empty());
        let expected: Vec<String> = serde_json::from_value(case["output"].clone()).unwrap();
        if output != expected || Some(exit_code) != case["exit_code"].as_i64() {
            failures.push(format!("{}: {output:?} != {expected:?}", case["name"]));
        }
    }
    telepact_test_support::record_vectors(
        "compare.json",
        "library",
        cases.len(),
        cases.len() - failures.len(),
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_fields_bang_is_part_of_its_key() {
    // `{"a!": 1}` and `{"a": 1}` are different fields on the wire: old clients' `a!`
    // is refused where `a` is declared, and a server's `r` is not the `r!` they read.
    let old = r#"[{"fn.f": {"a!": "boolean"}, "->": [{"Ok_": {"r!": "boolean"}}]}]"#;
    let new = r#"[{"fn.f": {"a": "boolean"}, "->": [{"Ok_": {"r": "boolean"}}]}]"#;
    assert_eq!(
        lines(old, new),
        [
            "Field 'a!' has been removed from struct 'fn.f'",
            "New required field 'a' has been added to struct 'fn.f' on argument path",
            "Field 'r!' has been removed from struct 'fn.f.->.Ok_'",
        ]
    );
    assert_eq!(
        lines(new, old),
        [
            "Field 'a' has been removed from struct 'fn.f'",
            "Field 'r' has been removed from struct 'fn.f.->.Ok_'",
        ]
    );
}

#[test]
fn types_reached_only_through_results_may_gain_required_fields() {
    let old = r#"[{"struct.S": {"a": "boolean"}},
        {"fn.f": {}, "->": [{"Ok_": {"s": ["struct.S?"]}}]}]"#;
    let new = r#"[{"struct.S": {"a": "boolean", "b": "integer"}},
        {"fn.f": {}, "->": [{"Ok_": {"s": ["struct.S?"]}}]}]"#;
    assert!(lines(old, new).is_empty());
}

#[test]
fn nullability_and_recursion_are_followed() {
    let old = r#"[{"struct.Node": {"next!": "struct.Node?", "v": "integer"}},
        {"fn.f": {"n": "struct.Node"}, "->": [{"Ok_": {}}]}]"#;
    let new = r#"[{"struct.Node": {"next!": "struct.Node", "v": "integer", "w": "string"}},
        {"fn.f": {"n": "struct.Node"}, "->": [{"Ok_": {}}]}]"#;
    assert_eq!(
        lines(old, new),
        [
            "Field 'next!' in struct 'struct.Node' has changed type from 'struct.Node?' to 'struct.Node'",
            "New required field 'w' has been added to struct 'struct.Node' on argument path",
        ]
    );
}

#[test]
fn a_removed_error_tag_is_reported_on_the_functions_result() {
    let old = r#"[{"errors.Mine": [{"ErrorMine": {}}]}, {"fn.f": {}, "->": [{"Ok_": {}}]}]"#;
    let new = r#"[{"fn.f": {}, "->": [{"Ok_": {}}]}]"#;
    assert_eq!(
        lines(old, new),
        ["Tag 'ErrorMine' has been removed from union 'fn.f.->'"]
    );
}

/// An otherwise empty directory holding `text` as `api.telepact.yaml`.
fn schema_dir(name: &str, text: &str) -> std::path::PathBuf {
    let dir =
        telepact_test_support::scratch_dir(env!("CARGO_TARGET_TMPDIR"), format!("compare/{name}"));
    std::fs::write(dir.join("api.telepact.yaml"), text).unwrap();
    dir
}

#[test]
fn incompatibilities_are_located_in_the_new_schema_files() {
    let new_text = "- union.U:\n    - A:\n        x: boolean\n        y: integer\n- fn.f:\n    u: union.U\n  ->:\n    - Ok_: {}\n";
    let dir = schema_dir("types", new_text);
    let old = Schema::from_text(
        r#"[{"union.U": [{"A": {"x": "boolean", "y": "boolean"}}]}, {"fn.f": {"u": "union.U"}, "->": [{"Ok_": {}}]}]"#,
    )
    .unwrap();
    let new = Schema::from_dir(&dir).unwrap();
    let found = compare(&old, &new);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path(), ["union.U", "A", "y"]);
    assert!(matches!(
        found[0].kind,
        IncompatibilityKind::FieldTypeChanged { .. }
    ));
    let (file, location) = found[0].locate_in_dir(&dir).unwrap();
    assert_eq!(file, dir.join("api.telepact.yaml"));
    assert_eq!((location.row, location.col), (4, 9));
    let _ = std::fs::remove_dir_all(&dir);
}

const PAGED: &str = r#"{"fn.list": {}, "->": [{"Ok_": {}}]}"#;

/// A schema of `fn.list` and the given `headers.*` definitions.
fn with_headers(definitions: &str) -> String {
    format!("[{PAGED}, {definitions}]")
}

#[test]
fn headers_are_compared_by_name_wherever_they_are_declared() {
    let old = with_headers(
        r#"{"headers.Paging": {"@limit": "integer", "@cursor": "string"}, "->": {"@next": "string"}}"#,
    );
    let changed =
        with_headers(r#"{"headers.Paging": {"@limit": "string"}, "->": {"@next": "integer?"}}"#);
    assert_eq!(
        lines(&old, &changed),
        [
            "Header '@limit' in 'headers.Paging' has changed type from 'integer' to 'string'",
            "Header '@cursor' has been removed from 'headers.Paging'",
            "Header '@next' in 'headers.Paging.->' has changed type from 'string' to 'integer?'",
        ]
    );
    let moved_and_added = with_headers(
        r#"{"headers.Limit": {"@limit": "integer"}, "->": {}},
        {"headers.Paging": {"@cursor": "string", "@order": "string"}, "->": {"@next": "string", "@total": "integer"}}"#,
    );
    assert!(lines(&old, &moved_and_added).is_empty());
    assert_eq!(
        lines(&moved_and_added, &old),
        [
            "Header '@order' has been removed from 'headers.Paging'",
            "Header '@total' has been removed from 'headers.Paging.->'",
        ]
    );
}

#[test]
fn types_a_header_reaches_are_on_its_path() {
    let old = r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
        {"union.Page": [{"More": {}}]},
        {"headers.Paging": {}, "->": {"@page": "union.Page"}},
        {"fn.f": {}, "->": [{"Ok_": {}}]}]"#;
    // Credentials gain a tag (fine: old clients never send it) and a required field
    // (old clients do not send it); the response header's union gains a tag.
    let new = r#"[{"union.Auth_": [{"Token": {"token": "string", "device": "string"}}, {"Key": {}}]},
        {"union.Page": [{"More": {}}, {"Last": {}}]},
        {"headers.Paging": {}, "->": {"@page": "union.Page"}},
        {"fn.f": {}, "->": [{"Ok_": {}}]}]"#;
    assert_eq!(
        lines(old, new),
        [
            "New required field 'device' has been added to struct 'union.Auth_.Token' on argument path",
            "New tag 'Last' has been added to union 'union.Page' on result path",
        ]
    );
}

#[test]
fn a_changed_header_is_located_where_the_new_schema_declares_it() {
    let new_text = "- fn.list: {}\n  ->:\n    - Ok_: {}\n- headers.Paging:\n    \"@limit\": string\n  ->:\n    \"@next\": integer\n";
    let dir = schema_dir("headers", new_text);
    let old = Schema::from_text(&with_headers(
        r#"{"headers.Paging": {"@limit": "integer"}, "->": {"@next": "string"}}"#,
    ))
    .unwrap();
    let new = Schema::from_dir(&dir).unwrap();
    let found = compare(&old, &new);
    let paths: Vec<_> = found.iter().map(|change| change.path()).collect();
    assert_eq!(
        paths,
        [
            vec!["headers.Paging", "@limit"],
            vec!["headers.Paging", "->", "@next"]
        ]
    );
    let located: Vec<_> = found
        .iter()
        .map(|change| {
            let (file, at) = change.locate_in_dir(&dir).unwrap();
            assert_eq!(file, dir.join("api.telepact.yaml"));
            (at.row, at.col)
        })
        .collect();
    assert_eq!(located, [(5, 5), (7, 5)]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_read_once_locate_every_change_in_the_file_that_defines_it_first() {
    let dir = schema_dir(
        "files",
        "- struct.Item:\n    name: integer\n- fn.get: {}\n  ->:\n    - Ok_:\n        item: struct.Item\n",
    );
    // A second file defining `struct.Item` again comes later by name: the first wins.
    std::fs::write(
        dir.join("zz.telepact.yaml"),
        "- struct.Item:\n    name: string\n- struct.Extra: {}\n",
    )
    .unwrap();
    let old = Schema::from_text(
        r#"[{"struct.Item": {"name": "string"}}, {"struct.Gone": {}},
            {"fn.get": {}, "->": [{"Ok_": {"item": "struct.Item"}}]}]"#,
    )
    .unwrap();
    let new = Schema::from_text(
        r#"[{"struct.Item": {"name": "integer"}}, {"fn.get": {}, "->": [{"Ok_": {"item": "struct.Item"}}]}]"#,
    )
    .unwrap();
    let found = compare(&old, &new);
    let files = telepact_schema::SchemaFiles::read(&dir);
    let located: Vec<_> = found
        .iter()
        .map(|change| {
            let at = change.locate_in(&files);
            assert_eq!(at, change.locate_in_dir(&dir), "{change}");
            at.map(|(file, at)| (file, at.row, at.col))
        })
        .collect();
    let api = dir.join("api.telepact.yaml");
    assert_eq!(located, [None, Some((api, 2, 5))]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn null_may_be_allowed_where_only_requests_go_and_dropped_where_only_responses_go() {
    let schema = |argument: &str, result: &str, shared: &str, error: &str| {
        format!(
            r#"[{{"struct.Both": {{"v": "{shared}"}}}},
            {{"errors.Mine": [{{"ErrorMine": {{"why": "{error}"}}}}]}},
            {{"headers.Trace": {{"@trace": "{argument}"}}, "->": {{"@spent": "{result}"}}}},
            {{"fn.f": {{"a": ["{argument}"], "b": "struct.Both"}},
              "->": [{{"Ok_": {{"r": {{"string": "{result}"}}, "b": "struct.Both"}}}}]}}]"#
        )
    };
    let old = schema("integer", "integer?", "integer", "string");
    let fine = schema("integer?", "integer", "integer", "string");
    assert!(lines(&old, &fine).is_empty(), "{:?}", lines(&old, &fine));
    let broken = schema("integer", "integer?", "integer?", "string?");
    assert_eq!(
        lines(&old, &broken),
        [
            "Field 'v' in struct 'struct.Both' has changed type from 'integer' to 'integer?'",
            "Field 'why' in struct 'errors.Mine.ErrorMine' has changed type from 'string' to 'string?'",
        ]
    );
    assert_eq!(
        lines(&fine, &old),
        [
            "Field 'a' in struct 'fn.f' has changed type from '['integer?']' to '['integer']'",
            "Field 'r' in struct 'fn.f.->.Ok_' has changed type from '{'string': 'integer'}' to '{'string': 'integer?'}'",
            "Header '@trace' in 'headers.Trace' has changed type from 'integer?' to 'integer'",
            "Header '@spent' in 'headers.Trace.->' has changed type from 'integer' to 'integer?'",
        ]
    );
}

#[test]
fn unions_an_error_carries_may_not_gain_tags() {
    let old = r#"[{"union.Why": [{"Busy": {}}]},
        {"errors.Mine": [{"ErrorMine": {"why": "union.Why"}}]},
        {"fn.f": {}, "->": [{"Ok_": {}}]}]"#;
    let new = old.replace(r#"[{"Busy": {}}]"#, r#"[{"Busy": {}}, {"Closed": {}}]"#);
    assert_eq!(
        lines(old, &new),
        ["New tag 'Closed' has been added to union 'union.Why' on result path"]
    );
}

#[test]
fn a_function_that_comes_to_require_credentials_is_incompatible() {
    let open = r#"[{"fn.menu": {}, "->": [{"Ok_": {}}]}, {"fn.order": {}, "->": [{"Ok_": {}}]}]"#;
    let with_auth = r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
        {"fn.menu": {}, "$authenticated": false, "->": [{"Ok_": {}}]},
        {"fn.order": {}, "->": [{"Ok_": {}}]}]"#;
    assert_eq!(
        lines(open, with_auth),
        ["Function 'fn.order' now requires authentication"]
    );
    let all_private = with_auth.replace(r#""$authenticated": false, "#, "");
    assert_eq!(
        lines(with_auth, &all_private),
        ["Function 'fn.menu' now requires authentication"]
    );
    assert!(lines(&all_private, with_auth).is_empty());
}

#[test]
fn an_error_payload_change_is_reported_once_where_its_set_is_written() {
    let old = Schema::from_text(
        r#"[{"errors.Mine": [{"ErrorBusy": {"retry": "integer"}}]},
        {"fn.f": {}, "->": [{"Ok_": {}}]}, {"fn.g": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .unwrap();
    // The set is renamed as well: its name never reaches the wire.
    let new_text = "- fn.f: {}\n  ->:\n    - Ok_: {}\n- fn.g: {}\n  ->:\n    - Ok_: {}\n- errors.Common:\n    - ErrorBusy:\n        retry: string\n";
    let dir = schema_dir("errors", new_text);
    let found = compare(&old, &Schema::from_dir(&dir).unwrap());
    let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "Field 'retry' in struct 'errors.Common.ErrorBusy' has changed type from 'integer' to 'string'"
        ]
    );
    let (_, at) = found[0].locate_in_dir(&dir).unwrap();
    assert_eq!((at.row, at.col), (9, 9));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_error_a_result_declares_itself_is_compared_there_though_a_set_has_its_name() {
    // An internal function may leave out the sets (`_errors`) and declare a tag of the
    // same name itself: what it answers changed, whatever the set still says.
    let old = r#"[{"errors.A": [{"ErrorX": {"a": "integer"}}]},
        {"fn.f_": {}, "->": [{"Ok_": {}}], "_errors": "^errors\\.A$"}]"#;
    let new = r#"[{"errors.A": [{"ErrorX": {"a": "integer"}}]},
        {"fn.f_": {}, "->": [{"Ok_": {}}, {"ErrorX": {"a": "string"}}], "_errors": "^errors\\.Validation_$"}]"#;
    assert_eq!(
        lines(old, new),
        ["Field 'a' in struct 'fn.f_.->.ErrorX' has changed type from 'integer' to 'string'"]
    );
}

#[test]
fn a_long_chain_of_types_is_followed_without_overflowing_the_stack() {
    // `struct.S0` holds `struct.S1`, which holds `struct.S2`, ... 50,000 deep, and the
    // last gains a required field: it is on the argument path through the whole chain.
    let chain = |last: &str| {
        let mut definitions: Vec<String> = (0..50_000)
            .map(|i| format!(r#"{{"struct.S{i}": {{"n": "struct.S{}"}}}}"#, i + 1))
            .collect();
        definitions.push(format!(r#"{{"struct.S50000": {{{last}}}}}"#));
        definitions.push(r#"{"fn.f": {"s": "struct.S0"}, "->": [{"Ok_": {}}]}"#.to_string());
        format!("[{}]", definitions.join(","))
    };
    assert_eq!(
        lines(&chain(""), &chain(r#""x": "integer""#)),
        ["New required field 'x' has been added to struct 'struct.S50000' on argument path"]
    );
}
