//! What the generated code repeats for each function: a big API (a thousand functions,
//! each answering two dozen error tags) generates every function's result union, so
//! whatever a union's impls spell out per tag is multiplied by both.

use telepact_schema::Schema;

/// A schema of `functions` functions that all answer the two tags of `errors.Shared`.
fn schema_text(functions: usize) -> String {
    let mut text = String::from(
        r#"[{"errors.Shared": [{"ErrorBusy": {"retryIn": "integer"}}, {"ErrorGone": {}}]}"#,
    );
    for index in 0..functions {
        text.push_str(&format!(
            r#", {{"fn.call{index}": {{"a": "string"}}, "->": [{{"Ok_": {{"b": "integer"}}}}]}}"#
        ));
    }
    text.push(']');
    text
}

fn generate(functions: usize) -> String {
    let schema = Schema::from_text(&schema_text(functions)).unwrap();
    telepact_codegen::configure()
        .generate(&schema, "api")
        .unwrap()
}

#[test]
fn a_union_reads_its_tag_through_the_shared_search_not_a_match_of_its_own() {
    let code = generate(3);
    assert!(code.contains("pub enum Call2Output"));
    assert!(
        code.contains("ErrorBusy(ErrorBusy)"),
        "the public variants stay"
    );
    assert!(
        !code.contains("fn tag_index"),
        "no union generates its tag `match`"
    );
    assert!(!code.contains(r#""ErrorBusy" =>"#));
}

#[test]
fn each_function_adds_the_same_code_however_many_there_are() {
    // Names of two digits both times, so that each function's code is as long.
    let added = |from: usize, to: usize| generate(to).len() - generate(from).len();
    assert_eq!(
        added(10, 20),
        added(40, 50),
        "the listings (`register`, the handler trait, the client, the schema's JSON) grow \
         by a line or a method a function, and nothing grows with their number"
    );
}
