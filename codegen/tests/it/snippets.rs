//! Rust snippets given as options (attributes, extern paths, the runtime path): deep
//! nesting and what is not Rust are refused with an error naming the option, never a
//! stack overflow. These tests run on the test harness's 2 MiB thread stack, in debug.

use telepact_codegen::{Builder, Error};
use telepact_schema::Schema;

const POINT: &str = r#"[
    {"struct.Point": {"x": "integer"}},
    {"fn.locate": {}, "->": [{"Ok_": {"point": "struct.Point"}}]}
]"#;

/// `depth` levels of `open` around `inner`, closed by `close`.
fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

fn generate(builder: Builder) -> Result<String, Error> {
    builder.generate(&Schema::from_text(POINT).unwrap(), "test")
}

/// The message of the `InvalidOption` error `builder` fails with.
fn refusal(builder: Builder) -> String {
    match generate(builder) {
        Err(error @ Error::InvalidOption { .. }) => error.to_string(),
        other => panic!("expected an invalid option, got {other:?}"),
    }
}

fn assert_refused_as_too_deep(builder: Builder, option: &str) {
    let message = refusal(builder);
    assert!(
        message.starts_with(&format!("invalid option {option}")),
        "{message}"
    );
    assert!(
        message.ends_with("it nests `(`, `[`, `{` and `<` deeper than 32 levels"),
        "{message}"
    );
    assert!(
        message.len() < 300,
        "the snippet is quoted short: {message}"
    );
}

#[test]
fn attributes_nested_thousands_deep_are_refused_not_a_stack_overflow() {
    let parens = format!("#[doc = {}]", nested("(", "1", ")", 3_000));
    let brackets = format!("#[doc = {}]", nested("[", "1", "]", 3_000));
    let configure = telepact_codegen::configure;
    for attribute in [parens, brackets] {
        let quoted = format!("{:?}", &attribute[..10]);
        let quoted = quoted.trim_end_matches('"');
        assert_refused_as_too_deep(
            configure().type_attribute("struct.Point", &attribute),
            &format!("type_attribute(\"struct.Point\", {quoted}"),
        );
        assert_refused_as_too_deep(
            configure().field_attribute("struct.Point.x", &attribute),
            &format!("field_attribute(\"struct.Point.x\", {quoted}"),
        );
        assert_refused_as_too_deep(
            configure().handler_attribute(&attribute),
            &format!("handler_attribute(\"Handler\", {quoted}"),
        );
        assert_refused_as_too_deep(
            configure().client_attribute(&attribute),
            &format!("client_attribute(\"Client\", {quoted}"),
        );
    }
}

#[test]
fn an_extern_path_nested_thousands_deep_is_refused_not_a_stack_overflow() {
    let path = format!("::a::{}", nested("B<", "i64", ">", 3_000));
    assert_refused_as_too_deep(
        telepact_codegen::configure().extern_path("struct.Point", path),
        "extern_path(\"struct.Point\", \"::a::B<B<",
    );
}

#[test]
fn a_runtime_path_nested_thousands_deep_is_refused_not_a_stack_overflow() {
    let path = format!("::a::{}", nested("B<", "i64", ">", 3_000));
    assert_refused_as_too_deep(
        telepact_codegen::configure().runtime_path(path),
        "runtime_path(\"::a::B<B<",
    );
}

#[test]
fn snippets_nested_within_the_limit_generate() {
    let attribute = format!("#[doc = {}]", nested("(", "\"deep\"", ")", 30));
    let path = format!("::a::{}", nested("B<", "i64", ">", 30));
    let code = generate(telepact_codegen::configure().extern_path("struct.Point", &path));
    let code = code.unwrap();
    assert_eq!(code.matches("B<").count(), 30, "the path is used");
    let code = generate(
        telepact_codegen::configure()
            .type_attribute("struct.Point", &attribute)
            .field_attribute("struct.Point.x", &attribute)
            .handler_attribute(&attribute)
            .client_attribute(&attribute),
    )
    .unwrap();
    assert!(code.contains(&nested("(", "\"deep\"", ")", 30)), "{code}");
}

#[test]
fn a_runtime_path_with_generic_arguments_is_refused_as_the_runtime_path() {
    for path in ["::telepact::<>", "::telepact<T>", "telepact::typed::<u8>"] {
        let message = refusal(telepact_codegen::configure().runtime_path(path));
        assert_eq!(
            message,
            format!(
                "invalid option runtime_path({path:?}): expected the path of the runtime \
                 crate, such as `::telepact`, without generic arguments"
            )
        );
    }
    let code = generate(telepact_codegen::configure().runtime_path("crate::rt")).unwrap();
    assert!(
        code.contains("use crate::rt::typed::__codegen as rt;"),
        "{code}"
    );
}

#[test]
fn chains_of_prefix_operators_thousands_long_are_refused_not_a_stack_overflow() {
    let attribute = format!("#[doc = {}1]", "|| ".repeat(3_000));
    let message = refusal(telepact_codegen::configure().type_attribute("struct.Point", attribute));
    assert!(
        message.ends_with("it is longer than 200 tokens"),
        "{message}"
    );
    let path = format!("::a::B<{}i64>", "& ".repeat(3_000));
    let message = refusal(telepact_codegen::configure().extern_path("struct.Point", path));
    assert!(
        message.ends_with("it is longer than 200 tokens"),
        "{message}"
    );
}

/// A schema's name (a directory's, `telepact codegen --module`'s) with a line break in
/// it stays inside the comments that show it, however it continues.
#[test]
fn a_line_break_in_the_schema_name_starts_no_code() {
    let name = "x\ncompile_error!(\"injected\");\n//";
    let code = telepact_codegen::configure()
        .generate(&Schema::from_text(POINT).unwrap(), name)
        .unwrap();
    let first = code.lines().next().unwrap();
    assert!(first.ends_with(r#"schema `x\ncompile_error!(\"injected\");\n//`. Do not edit."#));
    // No macro call among the items, at any depth of modules.
    let file = syn::parse_file(&code).unwrap();
    let mut items: Vec<&syn::Item> = file.items.iter().collect();
    while let Some(item) = items.pop() {
        assert!(!matches!(item, syn::Item::Macro(_)), "{code}");
        if let syn::Item::Mod(syn::ItemMod {
            content: Some((_, inner)),
            ..
        }) = item
        {
            items.extend(inner);
        }
    }
}
