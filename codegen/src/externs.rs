//! Schema types mapped to existing Rust types ([`Builder::extern_path`]): the options
//! parsed, then checked against the schema by the planner.
//!
//! [`Builder::extern_path`]: crate::Builder::extern_path

use indexmap::IndexMap;
use proc_macro2::TokenStream;
use quote::quote;

use crate::error::Error;
use crate::snippet;

/// A schema type the generated code takes from elsewhere instead of defining it.
#[derive(Debug, Clone)]
pub(crate) struct ExternType {
    /// The option as given (`extern_path("struct.Money", "::shop::Money")`), for errors.
    pub option: String,
    /// The Rust type, as the generated code writes it.
    pub path: TokenStream,
    /// The traits beyond the required ones that the type declares (`extern_traits`),
    /// so the types holding it may derive them too.
    pub traits: DeclaredTraits,
}

/// The standard traits whose derive depends on the types a generated type holds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DeclaredTraits {
    pub eq: bool,
    pub hash: bool,
    pub default: bool,
}

/// Schema name (`struct.Money`) → the Rust type it maps to, in the order given.
pub(crate) type Externs = IndexMap<String, ExternType>;

/// The traits `extern_traits` accepts.
const DECLARABLE_TRAITS: &str = "`Eq`, `Hash` and `Default`";

/// Parses the builder's `extern_path` and `extern_traits` options: every Rust path a
/// type, every schema name mapped once, every declared trait a known one for a mapped
/// name. Whether the names exist in the schema is the planner's check.
pub(crate) fn parse(
    paths: &[(String, String)],
    traits: &[(String, Vec<String>)],
) -> Result<Externs, Error> {
    let mut externs = Externs::new();
    for (name, rust) in paths {
        let option = format!("extern_path({name:?}, {})", snippet::quoted(rust));
        let invalid = |reason: String| Error::InvalidOption {
            option: option.clone(),
            reason,
        };
        snippet::check_bounds(rust).map_err(invalid)?;
        let path: syn::TypePath = syn::parse_str(rust)
            .map_err(|e| invalid(format!("`{rust}` is not a Rust type path: {e}")))?;
        if externs.contains_key(name) {
            return Err(invalid(format!("`{name}` is mapped twice")));
        }
        let extern_type = ExternType {
            option: option.clone(),
            path: quote! { #path },
            traits: DeclaredTraits::default(),
        };
        externs.insert(name.clone(), extern_type);
    }
    for (name, names) in traits {
        let invalid = |reason: String| Error::InvalidOption {
            option: format!("extern_traits({name:?}, {names:?})"),
            reason,
        };
        let extern_type = match externs.get_mut(name) {
            Some(extern_type) => extern_type,
            None => return Err(invalid(unmapped(name, &externs))),
        };
        for trait_name in names {
            let declared = &mut extern_type.traits;
            match trait_name.trim() {
                "Eq" => declared.eq = true,
                "Hash" => declared.hash = true,
                "Default" => declared.default = true,
                other => {
                    return Err(invalid(format!(
                        "`{other}` is not one of {DECLARABLE_TRAITS}"
                    )));
                }
            }
        }
    }
    Ok(externs)
}

/// Why `extern_traits` cannot name `name`, pointing at a mapped name it looks like:
/// a misspelt `extern_path` name would otherwise be reported here, at the option
/// that spelt it right, before the schema is looked at.
fn unmapped(name: &str, externs: &Externs) -> String {
    let mapped = externs.keys().map(String::as_str);
    match telepact_schema::nearest(name, mapped) {
        Some(near) => format!(
            "`{name}` is not mapped with extern_path, which maps `{near}`: one of the two \
             names is misspelt"
        ),
        None => format!("`{name}` is not mapped with extern_path"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.into(), value.into())
    }

    #[test]
    fn paths_and_traits_parse() {
        let externs = parse(
            &[pair("struct.Money", "::shop::Money<i64>")],
            &[("struct.Money".into(), vec!["Eq".into(), "Default".into()])],
        )
        .unwrap();
        let money = &externs["struct.Money"];
        assert_eq!(money.path.to_string(), ":: shop :: Money < i64 >");
        assert!(money.traits.eq && money.traits.default && !money.traits.hash);
    }

    #[test]
    fn misconfigurations_name_their_option() {
        let message = |paths: &[(String, String)], traits: &[(String, Vec<String>)]| {
            parse(paths, traits).unwrap_err().to_string()
        };
        assert_eq!(
            message(&[pair("struct.Money", "not a path")], &[]),
            "invalid option extern_path(\"struct.Money\", \"not a path\"): \
             `not a path` is not a Rust type path: unexpected token"
        );
        let twice = [
            pair("union.Shape", "a::Shape"),
            pair("union.Shape", "b::Shape"),
        ];
        assert_eq!(
            message(&twice, &[]),
            "invalid option extern_path(\"union.Shape\", \"b::Shape\"): \
             `union.Shape` is mapped twice"
        );
        assert_eq!(
            message(&[], &[("struct.Money".into(), vec!["Eq".into()])]),
            "invalid option extern_traits(\"struct.Money\", [\"Eq\"]): \
             `struct.Money` is not mapped with extern_path"
        );
        assert_eq!(
            message(
                &[pair("struct.Mony", "shop::Money")],
                &[("struct.Money".into(), vec!["Eq".into()])]
            ),
            "invalid option extern_traits(\"struct.Money\", [\"Eq\"]): \
             `struct.Money` is not mapped with extern_path, which maps `struct.Mony`: \
             one of the two names is misspelt"
        );
        assert_eq!(
            message(
                &[pair("struct.Money", "shop::Money")],
                &[("struct.Money".into(), vec!["Ord".into()])]
            ),
            "invalid option extern_traits(\"struct.Money\", [\"Ord\"]): \
             `Ord` is not one of `Eq`, `Hash` and `Default`"
        );
    }
}
