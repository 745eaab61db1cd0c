//! Rust names for schema names: type names in UpperCamelCase, fields and methods in
//! snake_case, keywords escaped, and a registry that refuses two items with one name.

use std::collections::HashMap;

use heck::ToSnakeCase;
use proc_macro2::{Ident, Span};

use crate::error::NameCollision;

/// Names the generated code defines itself; a schema type may not take them.
pub(crate) const RESERVED_TYPE_NAMES: &[&str] = &[
    "Handler",
    "Client",
    "Mock",
    "Context",
    "RequestHeaders",
    "ResponseHeaders",
    // Prelude names the generated code uses unqualified.
    "Box",
    "Option",
    "Result",
    "Send",
    "String",
    "Sync",
    "Vec",
];

/// Methods of the generated `Client` besides the functions'; no function may take them.
pub(crate) const RESERVED_METHOD_NAMES: &[&str] = &[
    "new",
    "inner",
    "with_headers",
    "call",
    "call_with",
    "call_raw",
    "call_selected",
    "call_selected_with",
];

/// `ExStruct` from `struct.ExStruct`, `Auth` from `Auth_`, `MyShift` from `myShift`:
/// trailing `_` dropped, each part between `_`s capitalised. A letter Rust names do not
/// take (a schema name may hold any Unicode letter) separates parts as `_` does.
pub(crate) fn type_name(schema_name: &str) -> String {
    let name: String = schema_name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(capitalise)
        .collect();
    let name = sanitise(&name, 'X');
    if name == "Self" { "Self_".into() } else { name }
}

/// A type name made of a [`type_name`] and a suffix: `MyShiftInput`, `AuthPassword`.
/// The `_` that keeps `Self_` from being the keyword goes: `Self_Input` is not
/// UpperCamelCase, and users' builds would warn of it.
pub(crate) fn joined_type_name(base: &str, suffix: &str) -> String {
    format!("{}{suffix}", base.trim_end_matches('_'))
}

/// `employee_id` from `employeeId`, `auth` from `@auth_`. A run of letters Rust names do
/// not take (a function's name may hold any Unicode letter) is one `_`, as rustc warns
/// of `a__b`.
pub(crate) fn snake_name(schema_name: &str) -> String {
    let snake = sanitise(&schema_name.trim_start_matches('@').to_snake_case(), 'x');
    let mut out = String::with_capacity(snake.len());
    for c in snake.chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

/// The name without its kind prefix: `myShift` from `fn.myShift`.
pub(crate) fn strip_prefix(key: &str) -> &str {
    key.split_once('.').map_or(key, |(_, rest)| rest)
}

/// An identifier token for a name made by [`type_name`] or [`snake_name`]; keywords
/// become raw identifiers (`r#type`), or get a `_` suffix where Rust has no raw form.
pub(crate) fn ident(name: &str) -> Ident {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => {
            Ident::new(&format!("{name}_"), Span::call_site())
        }
        _ if is_keyword(name) => Ident::new_raw(name, Span::call_site()),
        _ => Ident::new(name, Span::call_site()),
    }
}

fn capitalise(part: &str) -> String {
    let mut chars = part.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Keeps `[A-Za-z0-9_]`, and makes the result a valid identifier (never empty, never
/// starting with a digit: `first` goes before one, in the case of the names made),
/// so building an [`Ident`] cannot fail.
fn sanitise(name: &str, first: char) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out == "_" {
        out.insert(0, first);
    }
    out
}

fn is_keyword(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern",
        "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "static", "struct", "trait", "true", "try", "type",
        "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
        "override", "priv", "typeof", "unsized", "virtual", "yield",
    ];
    KEYWORDS.contains(&name)
}

/// Hands out names within one namespace and reports the second claimant of a name.
#[derive(Debug, Default)]
pub(crate) struct NameRegistry {
    owners: HashMap<String, String>,
}

impl NameRegistry {
    /// A registry in which the generated code's own item names are taken.
    pub(crate) fn for_types() -> Self {
        let mut registry = Self::default();
        for name in RESERVED_TYPE_NAMES {
            registry
                .owners
                .insert((*name).into(), "the generated code".into());
        }
        registry
    }

    /// A registry in which the generated client's own method names are taken.
    pub(crate) fn for_methods() -> Self {
        let mut registry = Self::default();
        for name in RESERVED_METHOD_NAMES {
            registry
                .owners
                .insert((*name).into(), "the generated client".into());
        }
        registry
    }

    /// Claims `name` for `owner` (a schema path, which locates the collision).
    pub(crate) fn claim(&mut self, name: String, owner: &str) -> Result<String, NameCollision> {
        if let Some(previous) = self.owners.get(&name) {
            return Err(NameCollision {
                name,
                first: previous.clone(),
                second: owner.into(),
                location: None,
            });
        }
        self.owners.insert(name.clone(), owner.into());
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_drop_trailing_underscores_and_join_parts() {
        assert_eq!(type_name("Ok_"), "Ok");
        assert_eq!(type_name("ValidationFailure_"), "ValidationFailure");
        assert_eq!(type_name("myShift"), "MyShift");
        assert_eq!(type_name("ping_"), "Ping");
        assert_eq!(type_name("HTTP_thing"), "HTTPThing");
        assert_eq!(type_name("Self"), "Self_");
        assert_eq!(type_name("_"), "X");
        assert_eq!(type_name("_7up"), "X7up");
        assert_eq!(snake_name("_7up"), "x7up");
        assert_eq!(type_name("crème_brûlée"), "CrMeBrLE");
        assert_eq!(joined_type_name("MyShift", "Input"), "MyShiftInput");
        assert_eq!(joined_type_name(&type_name("Self"), "Ok"), "SelfOk");
    }

    #[test]
    fn snake_names_follow_rust_conventions() {
        assert_eq!(snake_name("employeeId"), "employee_id");
        assert_eq!(snake_name("aF"), "a_f");
        assert_eq!(snake_name("@auth_"), "auth");
        assert_eq!(snake_name("field1"), "field1");
        assert_eq!(snake_name("arrNullBool"), "arr_null_bool");
        assert_eq!(snake_name("aééb"), "a_b");
        assert_eq!(snake_name("crèmeBrûlée"), "cr_me_br_l_e");
        assert_eq!(snake_name("é"), "x_");
    }

    /// rustc's `non_camel_case_types` rule.
    fn is_camel_case(name: &str) -> bool {
        let name = name.trim_matches('_');
        let chars: Vec<char> = name.chars().collect();
        name.is_empty()
            || (!chars[0].is_lowercase()
                && !name.contains("__")
                && !chars.windows(2).any(|pair| {
                    let has_case = |c: char| c.is_lowercase() || c.is_uppercase();
                    (has_case(pair[0]) && pair[1] == '_') || (has_case(pair[1]) && pair[0] == '_')
                }))
    }

    /// rustc's `non_snake_case` rule.
    fn is_snake_case(name: &str) -> bool {
        let mut after_underscore = false;
        name.trim_matches('_').chars().all(|c| {
            let fits = !(c.is_uppercase() || (c == '_' && after_underscore));
            after_underscore = c == '_';
            fits
        })
    }

    proptest::proptest! {
        /// Whatever a schema calls a type or field, the Rust names made of it are
        /// identifiers users' builds take without a naming warning.
        #[test]
        fn made_names_are_identifiers_rust_does_not_warn_of(
            name in "[a-zA-Z_\u{e0}-\u{ff}][a-zA-Z0-9_\u{e0}-\u{ff}]{0,12}",
            field in "[a-z][a-zA-Z0-9_\u{e0}-\u{ff}]{0,12}",
        ) {
            let ty = type_name(&name);
            proptest::prop_assert!(is_camel_case(&ty), "{name} -> {ty}");
            proptest::prop_assert!(is_camel_case(&joined_type_name(&ty, "Input")), "{ty}Input");
            let _ = ident(&ty);
            let snake = snake_name(&field);
            proptest::prop_assert!(is_snake_case(&snake), "{field} -> {snake}");
            let _ = ident(&snake);
        }
    }

    #[test]
    fn keywords_become_raw_or_suffixed_identifiers() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("in").to_string(), "r#in");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("value").to_string(), "value");
    }

    #[test]
    fn the_second_claim_of_a_name_fails() {
        let mut registry = NameRegistry::for_types();
        assert!(registry.claim("Foo".into(), "struct.Foo").is_ok());
        assert!(registry.claim("Foo".into(), "struct.Foo_").is_err());
        assert!(registry.claim("Client".into(), "struct.Client").is_err());
    }
}
