//! How a refused schema's failures are shown to a person: the line, a caret under the
//! place, a suggestion, in file order, coloured only when asked.

use telepact_schema::Schema;

/// The rendered form of a YAML schema's failures.
fn rendered(yaml: &str) -> String {
    let error = Schema::from_documents([("orchard.telepact.yaml", yaml)]).expect_err("rejected");
    error.to_string()
}

#[test]
fn rendered_failures_show_the_line_a_caret_and_a_suggestion_in_file_order() {
    let yaml = "\
- struct.Tree:
    id: \"integr\"
    height: numbr?
- fn.plant:
    tree: struct.Tre
  ->:
    - Ok_: {}
";
    let expected = "\
error: field `id` of `struct.Tree` has an unknown type `integr`
 --> orchard.telepact.yaml:2:9
  |
2 |     id: \"integr\"
  |         ^^^^^^^^ not a type
  |
  = help: did you mean `integer`?

error: field `height` of `struct.Tree` has an unknown type `numbr?`
 --> orchard.telepact.yaml:3:13
  |
3 |     height: numbr?
  |             ^^^^^^ not a type
  |
  = help: did you mean `number?`?

error: argument `tree` of `fn.plant` refers to `struct.Tre`, which is not defined
 --> orchard.telepact.yaml:5:11
  |
5 |     tree: struct.Tre
  |           ^^^^^^^^^^ not defined
  |
  = help: did you mean `struct.Tree`?

error: the schema has 3 errors";
    assert_eq!(rendered(yaml), expected);
}

#[test]
fn a_list_or_object_type_written_in_a_string_is_shown_written_as_a_collection() {
    let json = r#"[{"struct.Tree": {"rings": "[integer]", "notes": "{string: string}"}}]"#;
    let shown = Schema::from_text(json)
        .expect_err("types in strings")
        .to_string();
    assert!(
        shown.contains(
            "help: a list type is a list holding its element's type, not a string: `[\"integer\"]` in JSON, `[integer]` in YAML"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("help: an object type is an object from `string` to its values' type"),
        "{shown}"
    );
}

#[test]
fn rendered_failures_are_coloured_only_when_asked() {
    let error = Schema::from_text("[{\"struct.Tree\": {\"id\": \"integr\"}}]").expect_err("typo");
    assert!(error.render(true).contains("\u{1b}["));
    assert!(!error.render(false).contains('\u{1b}'));
    assert_eq!(error.render(false), error.to_string());
}

#[test]
fn a_function_without_its_result_is_rendered_with_what_to_add() {
    let yaml = "\
- fn.plant:
    tree: string
- fn.water:
    tree: string
  =>:
    - Ok_: {}
";
    let expected = "\
error: function `fn.plant` has no result `->`
 --> orchard.telepact.yaml:1:3
  |
1 | - fn.plant:
  |   ^^^^^^^^ `->` expected
  |
  = help: a function lists its result after `->`, such as `->: [{Ok_: {}}]`

error: `fn.water` has an unexpected key `=>`
 --> orchard.telepact.yaml:5:3
  |
5 |   =>:
  |   ^^ not allowed here
  |
  = help: did you mean `->`?

error: the schema has 2 errors";
    assert_eq!(rendered(yaml), expected);
}

#[test]
fn a_syntax_error_points_where_the_parser_stopped() {
    let json = r#"[{"struct.A": {"x": "string"} {"struct.B": {}}]"#;
    let error = Schema::from_documents([("a.telepact.json", json)]).expect_err("not JSON");
    let expected = "\
error: `a.telepact.json` is not valid JSON: expected `,` or `}`
 --> a.telepact.json:1:31
  |
1 | [{\"struct.A\": {\"x\": \"string\"} {\"struct.B\": {}}]
  |                               ^
  |
  = help: fix the syntax here; a schema document is a list of definitions

error: the schema has 1 error";
    assert_eq!(error.to_string(), expected);
}

#[test]
fn redefining_a_standard_definition_points_at_the_schemas_own() {
    let yaml = "- struct.A: {}\n- fn.ping_: {}\n  ->:\n    - Ok_: {}\n";
    let shown = rendered(yaml);
    let expected_start = "\
error: `fn.ping_` is a standard definition; a schema cannot define it again
 --> orchard.telepact.yaml:2:3
  |
2 | - fn.ping_: {}
  |   ^^^^^^^^ defined again here
  |
 ::: internal_:";
    assert!(shown.starts_with(expected_start), "{shown}");
    assert!(shown.contains("the standard definition\n"), "{shown}");
}
