//! The user's type and field attributes beside those the generator writes, so that what
//! it is given compiles or is refused with the reason:
//! - a derive of a trait the generated type already has is left out (a second derive
//!   of it does not compile); the generator derives `Eq`, `Hash` and `Default` wherever
//!   the fields allow, so a derive of one the type lacks is refused for a type named by
//!   its own key, and left out for the others a selector takes in (`.`, or the types
//!   under `fn.x`);
//! - a `#[serde(..)]` key the generator already sets on a field is left out when it
//!   says the same, and refused when it says otherwise (serde takes each key once);
//! - a `#[serde(..)]` key that would write a field under another key or leave it out
//!   (`rename`, `flatten`, `skip`, ...), or a type's fields or tags in another form
//!   (`rename_all`, `tag`, `untagged`, ...), is refused: the schema fixes the wire form;
//!   so is a `default` that would read a required field left out as its default.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::Parse;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Path, Token};

use crate::plan::{Item, Shape};

/// The traits whose derive the generator decides: `Debug` (written out, redacted, for
/// credentials), `Clone`, `PartialEq` and serde's on every type, `Eq`, `Hash` and
/// `Default` wherever the fields allow.
const DECIDED: [&str; 8] = [
    "Debug",
    "Clone",
    "PartialEq",
    "Serialize",
    "Deserialize",
    "Eq",
    "Hash",
    "Default",
];

/// A field's `#[serde(..)]` keys that change the key it is written under, or whether
/// it is written at all.
const FIELD_WIRE_KEYS: [&str; 6] = [
    "rename",
    "flatten",
    "skip",
    "skip_serializing",
    "skip_deserializing",
    "skip_serializing_if",
];

/// A type's `#[serde(..)]` keys that change how its fields' keys or its union tags are
/// written.
const TYPE_WIRE_KEYS: [&str; 6] = [
    "rename_all",
    "rename_all_fields",
    "tag",
    "content",
    "untagged",
    "transparent",
];

/// Refuses `attributes` for `item`, when a selector takes the item in, if a
/// `#[serde(..)]` key changes how its fields or tags are written; the error is the
/// reason.
pub(crate) fn check_type_wire(item: &Item, attributes: &[Attribute]) -> Result<(), String> {
    let refused = attributes
        .iter()
        .flat_map(serde_keys)
        .find(|meta| meta_key(meta).is_some_and(|key| TYPE_WIRE_KEYS.contains(&key.as_str())));
    match refused {
        Some(meta) => Err(format!(
            "`#[serde({})]` would write `{}` (`{}`) in another form than the schema's",
            meta.to_token_stream(),
            item.key,
            item.name
        )),
        None => check_type_default(item, attributes),
    }
}

/// Refuses a `#[serde(default)]` on a struct with a required field: it would read the
/// field as its default when an answer leaves it out, which the validator refuses.
fn check_type_default(item: &Item, attributes: &[Attribute]) -> Result<(), String> {
    let Shape::Struct(fields) = &item.shape else {
        return Ok(());
    };
    if fields.iter().all(|field| field.optional) {
        return Ok(());
    }
    match attributes.iter().flat_map(serde_keys).find(is_default) {
        Some(meta) => Err(format!(
            "`#[serde({})]` would read `{}` (`{}`) with a required field missing",
            meta.to_token_stream(),
            item.key,
            item.name
        )),
        None => Ok(()),
    }
}

/// Whether `meta` is serde's `default` (or `default = "path"`).
fn is_default(meta: &Meta) -> bool {
    meta_key(meta).is_some_and(|key| key == "default")
}

/// Refuses `attributes` for `item` when they derive a trait it cannot have; the error
/// is the reason.
pub(crate) fn check_type_attributes(item: &Item, attributes: &[Attribute]) -> Result<(), String> {
    for attribute in attributes {
        for name in derived(attribute).iter().filter_map(last_segment) {
            if let Some(reason) = cannot_derive(item, &name) {
                return Err(format!(
                    "`{}` (`{}`) cannot derive `{name}`: {reason}",
                    item.key, item.name
                ));
            }
        }
    }
    Ok(())
}

/// `attributes` without the derives of traits whose derive the generator decides.
pub(crate) fn type_attributes(attributes: &[&Attribute]) -> Vec<TokenStream> {
    without(attributes, "derive", |path: &Path| {
        last_segment(path).is_none_or(|name| !DECIDED.contains(&name.as_str()))
    })
}

/// Refuses `attributes` for the field `wire` (as the schema spells it) whose generated
/// `#[serde(..)]` keys are `generated` when one of theirs sets a key of those to
/// something else, or writes the field under another key or not at all; the error is
/// the reason.
pub(crate) fn check_field_attributes(
    wire: &str,
    generated: &[Meta],
    attributes: &[&Attribute],
) -> Result<(), String> {
    // Without a `rename` of its own, the field is written under its Rust name, which
    // is then the schema's.
    let written_as: Meta = syn::parse_quote! { rename = #wire };
    for meta in attributes
        .iter()
        .flat_map(|attribute| serde_keys(attribute))
    {
        let changes_wire =
            meta_key(&meta).is_some_and(|key| FIELD_WIRE_KEYS.contains(&key.as_str()));
        let says_the_same = generated
            .iter()
            .chain(std::iter::once(&written_as))
            .any(|ours| same(&meta, ours));
        if changes_wire && !says_the_same {
            return Err(format!(
                "`#[serde({})]` would not write the field as the schema's `{wire}`",
                meta.to_token_stream()
            ));
        }
        // Only an optional field is read as its default when missing.
        if is_default(&meta) && !generated.iter().any(is_default) {
            return Err(format!(
                "`#[serde({})]` would read the required field `{wire}` when it is missing",
                meta.to_token_stream()
            ));
        }
        let clash = generated
            .iter()
            .find(|ours| clashes(&meta, ours) && !same(&meta, ours));
        if let Some(ours) = clash {
            return Err(format!(
                "`#[serde({})]` clashes with `#[serde({})]`, which the generated field needs",
                meta.to_token_stream(),
                ours.to_token_stream()
            ));
        }
    }
    Ok(())
}

/// `attributes` for a field whose generated `#[serde(..)]` keys are `generated`,
/// without the keys that say what those do.
pub(crate) fn field_attributes(generated: &[Meta], attributes: &[&Attribute]) -> Vec<TokenStream> {
    without(attributes, "serde", |meta: &Meta| {
        !generated.iter().any(|ours| same(meta, ours))
    })
}

/// `attributes` with the arguments of each `#[name(..)]` that `keep` refuses left out,
/// and such an attribute left out once it has none.
fn without<T: Parse + ToTokens>(
    attributes: &[&Attribute],
    name: &str,
    keep: impl Fn(&T) -> bool,
) -> Vec<TokenStream> {
    let mut kept = Vec::new();
    for attribute in attributes {
        if !attribute.path().is_ident(name) {
            kept.push(attribute.to_token_stream());
            continue;
        }
        let arguments: Vec<T> = arguments(attribute, name)
            .into_iter()
            .filter(&keep)
            .collect();
        if !arguments.is_empty() {
            let path = attribute.path();
            kept.push(quote! { #[#path(#(#arguments),*)] });
        }
    }
    kept
}

/// Why `item` cannot have `name`, among the traits whose derive the generator decides.
fn cannot_derive(item: &Item, name: &str) -> Option<&'static str> {
    if has_derived(item, name) {
        return None;
    }
    match name {
        "Eq" => Some(
            "it holds a `number` (an `f64`, which has no `Eq`) or a mapped type declared \
             without `Eq`",
        ),
        "Hash" => Some(
            "it holds a `number`, a map or a selection, or a mapped type declared \
             without `Hash`; the generator derives `Hash` wherever it can",
        ),
        "Default" if matches!(item.shape, Shape::Enum(_)) => {
            Some("it is an enum (a union, or a function's result), which has no default tag")
        }
        "Default" => Some(
            "a required field holds a union, a function link or a type without a default; \
             the generator derives `Default` wherever it can",
        ),
        _ => None,
    }
}

fn has_derived(item: &Item, name: &str) -> bool {
    match name {
        "Eq" => item.derive_eq,
        "Hash" => item.derive_hash,
        "Default" => item.derive_default,
        _ => false,
    }
}

/// The traits a `#[derive(..)]` names; none for another attribute.
fn derived(attribute: &Attribute) -> Vec<Path> {
    arguments(attribute, "derive")
}

/// The keys of a `#[serde(..)]`; none for another attribute.
fn serde_keys(attribute: &Attribute) -> Vec<Meta> {
    arguments(attribute, "serde")
}

/// The comma-separated arguments of `#[name(..)]`; none for another attribute.
fn arguments<T: Parse>(attribute: &Attribute, name: &str) -> Vec<T> {
    if !attribute.path().is_ident(name) {
        return Vec::new();
    }
    attribute
        .parse_args_with(Punctuated::<T, Token![,]>::parse_terminated)
        .map(|items| items.into_iter().collect())
        .unwrap_or_default()
}

fn last_segment(path: &Path) -> Option<String> {
    path.segments
        .last()
        .map(|segment| segment.ident.to_string())
}

/// Whether serde would take `theirs` and `ours` as the same key twice.
fn clashes(theirs: &Meta, ours: &Meta) -> bool {
    let (Some(theirs), Some(ours)) = (meta_key(theirs), meta_key(ours)) else {
        return false;
    };
    let reads = |key: &str| matches!(key, "with" | "deserialize_with");
    theirs == ours || (reads(&theirs) && reads(&ours))
}

fn same(theirs: &Meta, ours: &Meta) -> bool {
    theirs.to_token_stream().to_string() == ours.to_token_stream().to_string()
}

fn meta_key(meta: &Meta) -> Option<String> {
    meta.path().get_ident().map(ToString::to_string)
}
