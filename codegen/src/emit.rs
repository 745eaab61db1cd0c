//! Assembles the generated file and formats it with prettyplease.

use std::path::Path;

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::Attribute;
use syn::parse::Parser;
use telepact_schema::Schema;

use crate::builder::write_split;
use crate::depth::{self, BoxedFields};
use crate::docs::{changes_direction, doc_attrs};
use crate::error::{Error, did_you_mean};
use crate::externs::Externs;
use crate::names::{ident, snake_name};
use crate::pieces::{Module, Piece};
use crate::plan::{Item, ItemId, Plan, Shape};
use crate::snippet;
use crate::split::split_file;
use crate::types::field_serde;
use crate::user_attributes;

/// Options resolved into tokens and parsed attributes, shared by the emitters.
pub(crate) struct Options {
    pub runtime: TokenStream,
    /// The runtime's path as doc links write it (`::telepact`): it resolves wherever the
    /// code does, and readers can follow it, unlike the hidden `rt` alias.
    pub runtime_doc_path: String,
    /// (selector, attributes); a selector `.` matches every item.
    pub type_attributes: Vec<(String, Vec<Attribute>)>,
    /// (`item key.field`, attributes), from `field_attribute`.
    pub field_attributes: Vec<(String, Vec<Attribute>)>,
    /// Attributes on the `Handler` trait and on the `Client` struct.
    pub handler_attributes: TokenStream,
    pub client_attributes: TokenStream,
    /// Schema types mapped to existing Rust types, from `extern_path`.
    pub externs: Externs,
    pub server: bool,
    pub client: bool,
    /// Emit the standard definitions' types (for the runtime's `typed::standard`)
    /// instead of the user's.
    pub standard_only: bool,
}

impl Options {
    pub(crate) fn new(
        runtime: &str,
        type_attributes: &[(String, String)],
        server: bool,
        client: bool,
    ) -> Result<Self, Error> {
        let path = parse_runtime_path(runtime)?;
        let type_attributes = type_attributes
            .iter()
            .map(|(selector, attribute)| {
                Ok((
                    selector.clone(),
                    parse_attributes("type_attribute", selector, attribute)?,
                ))
            })
            .collect::<Result<_, Error>>()?;
        Ok(Options {
            runtime_doc_path: doc_path(&path),
            runtime: quote! { #path },
            type_attributes,
            field_attributes: Vec::new(),
            handler_attributes: TokenStream::new(),
            client_attributes: TokenStream::new(),
            externs: Externs::new(),
            server,
            client,
            standard_only: false,
        })
    }

    /// The extra attributes for the field `wire` (as the schema spells it, `due!`) of the
    /// item with schema key `key`: selected as `key.wire`, with or without the `!`.
    pub(crate) fn field_attributes_for(&self, key: &str, wire: &str) -> Vec<&Attribute> {
        self.field_attributes
            .iter()
            .filter(|(path, _)| selects_field(path, key, wire))
            .flat_map(|(_, attributes)| attributes)
            .collect()
    }

    /// The extra attributes for the item with schema key `key`: `.` selects every item,
    /// `fn.x` selects `fn.x` and everything under it (`fn.x.->`, `fn.x.->.Ok_`).
    pub(crate) fn attributes_for(&self, key: &str) -> Vec<&Attribute> {
        self.type_attributes
            .iter()
            .filter(|(selector, _)| selects_item(selector, key))
            .flat_map(|(_, attributes)| attributes)
            .collect()
    }

    /// Refuses a `type_attribute` or `field_attribute` that selects nothing generated
    /// (a misspelt key, a type mapped by `extern_path`, a standard type the runtime
    /// defines), which would otherwise leave its attribute out without a word, then one
    /// the generated code cannot take ([`Self::check_attributes`]).
    fn check_options(&self, plan: &Plan) -> Result<(), Error> {
        let generated = |item: &&Item| item.external.is_none() && !item.standard;
        for (selector, _) in &self.type_attributes {
            if !plan
                .items
                .iter()
                .filter(generated)
                .any(|item| selects_item(selector, &item.key))
            {
                let reason = match plan
                    .items
                    .iter()
                    .find(|item| selects_item(selector, &item.key))
                {
                    Some(item) if item.external.is_some() => {
                        format!(
                            "`{selector}` is mapped by extern_path: nothing is generated for it"
                        )
                    }
                    Some(_) => format!("`{selector}` is a standard type, defined by the runtime"),
                    None => {
                        let keys = plan.items.iter().filter(generated).map(|i| i.key.as_str());
                        let suggestion = did_you_mean(selector, keys);
                        format!("the schema defines no `{selector}`{suggestion}")
                    }
                };
                return Err(invalid_option("type_attribute", selector, reason));
            }
        }
        for (path, _) in &self.field_attributes {
            let found = plan
                .items
                .iter()
                .filter(generated)
                .any(|item| match &item.shape {
                    Shape::Struct(fields) => fields
                        .iter()
                        .any(|field| selects_field(path, &item.key, &field.wire)),
                    Shape::Enum(_) => false,
                });
            if !found {
                let paths = generated_field_paths(plan);
                let suggestion = did_you_mean(path, paths.iter().map(String::as_str));
                let reason = format!("no generated type has the field `{path}`{suggestion}");
                return Err(invalid_option("field_attribute", path, reason));
            }
        }
        self.check_attributes(plan)
    }

    /// Refuses attributes the generated code cannot take: a derive of a trait the type
    /// cannot have, a `#[serde(..)]` key that says otherwise than the generated one.
    fn check_attributes(&self, plan: &Plan) -> Result<(), Error> {
        let generated = plan
            .items
            .iter()
            .filter(|item| item.external.is_none() && !item.standard);
        for item in generated {
            // Only the type a selector names: for those it takes in besides, a derive
            // the type cannot have is left out.
            for (selector, attributes) in &self.type_attributes {
                if selects_item(selector, &item.key) {
                    user_attributes::check_type_wire(item, attributes)
                        .map_err(|reason| invalid_option("type_attribute", selector, reason))?;
                }
                if *selector == item.key {
                    user_attributes::check_type_attributes(item, attributes)
                        .map_err(|reason| invalid_option("type_attribute", selector, reason))?;
                }
            }
            let Shape::Struct(fields) = &item.shape else {
                continue;
            };
            for field in fields {
                let attributes = self.field_attributes_for(&item.key, &field.wire);
                if attributes.is_empty() {
                    continue;
                }
                let generated = field_serde(field);
                user_attributes::check_field_attributes(&field.wire, &generated, &attributes)
                    .map_err(|reason| {
                        let path = format!("{}.{}", item.key, field.wire);
                        invalid_option("field_attribute", &path, reason)
                    })?;
            }
        }
        Ok(())
    }
}

/// The `field_attribute` path of every field of a generated type (`struct.Shift.start`).
fn generated_field_paths(plan: &Plan) -> Vec<String> {
    let generated = plan
        .items
        .iter()
        .filter(|item| item.external.is_none() && !item.standard);
    generated
        .flat_map(|item| match &item.shape {
            Shape::Struct(fields) => fields
                .iter()
                .map(|field| format!("{}.{}", item.key, field.wire))
                .collect(),
            Shape::Enum(_) => Vec::new(),
        })
        .collect()
}

/// Whether a `type_attribute` selector selects the item with schema key `key`: `.`
/// selects every item, `fn.x` selects `fn.x` and everything under it (`fn.x.->`).
fn selects_item(selector: &str, key: &str) -> bool {
    selector == "."
        || key == selector
        || key
            .strip_prefix(selector)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// Whether a `field_attribute` path selects the field `wire` (as the schema spells it,
/// `due!`) of the item with schema key `key`: `key.wire`, with or without the `!`.
fn selects_field(path: &str, key: &str, wire: &str) -> bool {
    path.strip_prefix(key)
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|field| field.trim_end_matches('!') == wire.trim_end_matches('!'))
}

fn invalid_option(option: &str, selector: &str, reason: String) -> Error {
    Error::InvalidOption {
        option: format!("{option}({selector:?}, ..)"),
        reason,
    }
}

/// `path` as Rust source writes it (`::telepact`, `crate::rt`), without the spaces its
/// tokens print with. It has no generic arguments ([`parse_runtime_path`]).
fn doc_path(path: &syn::Path) -> String {
    let leading = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    format!("{leading}{}", segments.join("::"))
}

/// Parses the runtime path: a path of plain segments (`::telepact`, `crate::rt`), since
/// the generated code appends `::typed::__codegen` to it.
fn parse_runtime_path(runtime: &str) -> Result<syn::Path, Error> {
    let invalid = |reason: String| Error::InvalidOption {
        option: format!("runtime_path({})", snippet::quoted(runtime)),
        reason,
    };
    snippet::check_bounds(runtime).map_err(invalid)?;
    let path: syn::Path = syn::parse_str(runtime).map_err(|e| invalid(e.to_string()))?;
    if path
        .segments
        .iter()
        .any(|segment| !segment.arguments.is_none())
    {
        return Err(invalid(
            "expected the path of the runtime crate, such as `::telepact`, \
             without generic arguments"
                .into(),
        ));
    }
    Ok(path)
}

/// Parses `attribute`, given to the builder option `option` for `selector`.
pub(crate) fn parse_attributes(
    option: &str,
    selector: &str,
    attribute: &str,
) -> Result<Vec<Attribute>, Error> {
    let invalid = |reason: String| Error::InvalidOption {
        option: format!("{option}({selector:?}, {})", snippet::quoted(attribute)),
        reason,
    };
    snippet::check_bounds(attribute).map_err(invalid)?;
    let attributes = Attribute::parse_outer
        .parse_str(attribute)
        .map_err(|e| invalid(e.to_string()))?;
    if attributes.is_empty() {
        return Err(invalid(
            "expected attributes such as `#[derive(PartialOrd)]`".into(),
        ));
    }
    Ok(attributes)
}

/// Shared state of the emitters.
pub(crate) struct Emitter<'a> {
    pub plan: &'a Plan,
    pub options: &'a Options,
    /// Fields whose item is held through `rt::Boxed`, so deep schemas compile.
    pub boxed_fields: BoxedFields,
}

impl Emitter<'_> {
    pub(crate) fn item_ident(&self, id: ItemId) -> Ident {
        ident(&self.plan.items[id].name)
    }

    /// How generated code names an item: a mapped type by the path its user gave, the
    /// standard definitions' types in the runtime (`rt::standard`), the rest in the
    /// generated module.
    pub(crate) fn item_path(&self, id: ItemId) -> TokenStream {
        if let Some(path) = &self.plan.items[id].external {
            return path.clone();
        }
        let name = self.item_ident(id);
        if self.plan.items[id].standard && !self.options.standard_only {
            quote! { rt::standard::#name }
        } else {
            quote! { #name }
        }
    }

    /// The import every generated module starts with: the runtime's codegen glue as
    /// `rt`, which no schema name can shadow (type names are capitalised).
    fn glue_import(&self) -> TokenStream {
        let runtime = &self.options.runtime;
        quote! { use #runtime::typed::__codegen as rt; }
    }
}

/// Lints the generated module is exempt from: an application uses only part of it
/// (`dead_code` in a binary), schema docstrings are optional and written as Markdown
/// of their own (lists and quotes continued without indentation), payload sizes differ
/// by schema design, tags often share a prefix, nested collections are the schema's
/// types, and a module may be named after one of its own. The opt-in groups a crate may
/// turn on (`clippy::pedantic`, `clippy::nursery`, `unused_qualifications`) judge code
/// its authors write, not the schema's shape (`Option<Option<T>>` for an optional
/// nullable field). The docs hold no Rust: code rustdoc would still read as Rust (indented
/// in a quote, and hidden from doctests) is the API's, and need not parse as Rust.
const MODULE_ALLOWS: &str = "dead_code, missing_docs, unreachable_pub, unused_qualifications, \
    clippy::large_enum_variant, clippy::enum_variant_names, clippy::type_complexity, \
    clippy::module_inception, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, \
    clippy::pedantic, clippy::nursery, rustdoc::invalid_rust_codeblocks";

/// The source of the runtime's `typed::standard` module: the standard definitions'
/// types (`fn.ping_`, `fn.api_`, the validation and auth errors, ...), once for every
/// schema. The runtime keeps a copy, which a test compares with this: `standard.rs`
/// written into `dir`, its items one file per type in `standard.parts/`, as
/// [`Builder::compile_dir`](crate::Builder::compile_dir) writes a schema's module. A
/// file is rewritten only when its content changes.
///
/// # Errors
///
/// [`Error::Io`] when a file or directory under `dir` cannot be written. The standard
/// definitions are fixed: generating them fails only on a bug in the generator
/// ([`Error::NameCollisions`], [`Error::Unparsable`]).
pub fn compile_standard(dir: impl AsRef<Path>) -> Result<(), Error> {
    let output = split_file(standard_module()?, "standard.parts");
    write_split(dir.as_ref(), "standard", &output)
}

/// The runtime's `typed::standard` module, before it is split.
fn standard_module() -> Result<Generated, Error> {
    // Declaring `union.Auth_` brings in the auth definitions too.
    let schema = Schema::from_text(r#"[{"union.Auth_": [{"Token": {"token": "string"}}]}]"#)?;
    let mut options = Options::new("crate", &[], false, false)?;
    options.standard_only = true;
    let plan = Plan::build(&schema, &options.externs)?;
    let emitter = Emitter {
        plan: &plan,
        options: &options,
        boxed_fields: BoxedFields::new(),
    };
    let glue = emitter.glue_import();
    let module = Module {
        header: String::new(),
        pieces: vec![Piece::item(glue), Piece::items(emitter.types())],
    };
    let file = module.into_syntax()?.file;
    let header = format!(
        "\
//! The protocol's standard definitions, typed: the arguments and results of `fn.ping_`
//! and `fn.api_`, the errors every function may answer with and the auth errors. Code
//! generated for a schema refers to these rather than defining its own.
//!
//! @generated by telepact-codegen from the standard definitions; a test of
//! telepact-codegen keeps this file current.

// The protocol documents these types; their fields carry no docs of their own.
#![allow({MODULE_ALLOWS})]

"
    );
    Ok(Generated { header, file })
}

/// The generated Rust for `schema`, one module named after `source` (the schema
/// directory's name) holding the schema it came from, given to `into` to be formatted
/// or split as it is made.
pub(crate) fn generate<T>(
    schema: &Schema,
    options: &Options,
    source: &str,
    into: impl FnOnce(Module<'_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let plan = Plan::build(schema, &options.externs)?;
    options.check_options(&plan)?;
    let emitter = Emitter {
        plan: &plan,
        options,
        boxed_fields: depth::boxed_fields(&plan),
    };
    let module = ident(&snake_name(source));
    let docs = doc_attrs(Some(&module_docs(schema, source)));
    let allows: TokenStream = MODULE_ALLOWS
        .parse()
        .map_err(|_| Error::Unparsable("the module's lint list".into()))?;
    let glue = emitter.glue_import();
    let embedded = embedded_schema(schema, source)?;
    let mut pieces = vec![
        Piece::item(embedded),
        Piece::items(emitter.types()),
        Piece::items(std::iter::once_with(|| emitter.request_headers_impl())),
    ];
    if options.server {
        pieces.push(Piece::Items(emitter.server()));
    }
    if options.client {
        pieces.push(Piece::Items(emitter.client()));
        pieces.push(emitter.select(schema));
    }
    // The name is the caller's (a directory's, a `--module` flag's): a line break in it
    // must not end the comment and start code.
    let shown = source.escape_debug();
    // A committed file (`telepact codegen --out src/generated.rs`) is left as written by
    // `cargo fmt`, so that `codegen --check` still finds it current.
    into(Module {
        header: format!(
            "// @generated by telepact-codegen from the Telepact schema `{shown}`. Do not edit.\n\n"
        ),
        pieces: vec![Piece::Module {
            outer: quote! { #docs #[rustfmt::skip] pub mod #module },
            inner: quote! { #![allow(#allows)] #glue },
            pieces,
        }],
    })
}

/// The generated module before formatting, with the header comment of its file.
pub(crate) struct Generated {
    pub header: String,
    pub file: syn::File,
}

/// Formats items as a file's content, a blank line between items.
pub(crate) fn format_items(items: Vec<syn::Item>) -> String {
    space_items(&prettyplease::unparse(&file_of(items)))
}

/// A file of `items` alone.
pub(crate) fn file_of(items: Vec<syn::Item>) -> syn::File {
    syn::File {
        shebang: None,
        frontmatter: None,
        attrs: Vec::new(),
        items,
    }
}

/// The module's docs: the schema's `info.*` docstrings, or a line saying where it
/// comes from.
fn module_docs(schema: &Schema, source: &str) -> String {
    let infos: Vec<&str> = schema
        .infos()
        .iter()
        .filter_map(|info| info.doc.as_deref())
        .collect();
    if infos.is_empty() {
        let shown = source.escape_debug();
        // A committed file (`telepact codegen --out src/generated.rs`) is left as written by
        // `cargo fmt`, so that `codegen --check` still finds it current.
        format!(" Types, handler trait and client of the Telepact schema `{shown}`.")
    } else {
        infos.join("\n\n")
    }
}

/// The schema's own definitions as JSON, and `schema()` to load them: the module serves
/// exactly the schema its types were generated from, whatever the working directory.
fn embedded_schema(schema: &Schema, source: &str) -> Result<TokenStream, Error> {
    let definitions: Vec<String> = schema
        .original()
        .iter()
        .map(|definition| indent(&format!("{definition:#}")))
        .collect();
    let json = escape_hidden_characters(&format!("[\n{}\n]", definitions.join(",\n")));
    let hashes = "#".repeat(longest_hash_run(&json) + 1);
    let literal: syn::LitStr = syn::parse_str(&format!("r{hashes}\"{json}\"{hashes}"))
        .map_err(|e| Error::Unparsable(e.to_string()))?;
    Ok(quote! {
        /// The schema this module was generated from: its definitions as JSON.
        pub const SCHEMA_JSON: &str = #literal;

        /// The schema this module was generated from, loaded on the first call and shared
        /// after: serve it with these types.
        pub fn schema() -> rt::Arc<rt::Schema> {
            static SCHEMA: rt::OnceLock<rt::Arc<rt::Schema>> = rt::OnceLock::new();
            let schema = SCHEMA.get_or_init(|| rt::Arc::new(rt::embedded_schema(#source, SCHEMA_JSON)));
            rt::Arc::clone(schema)
        }
    })
}

/// `json` with the characters rustc and clippy refuse in a string literal (those that
/// change the direction of text, and clippy's invisible ones) as JSON escapes: they can
/// stand only inside JSON strings, where `\uXXXX` means the same.
fn escape_hidden_characters(json: &str) -> String {
    let hidden = |c: char| changes_direction(c) || matches!(c, '\u{AD}' | '\u{200B}' | '\u{2060}');
    if !json.contains(hidden) {
        return json.to_string();
    }
    json.chars()
        .map(|c| match c {
            c if hidden(c) => format!("\\u{:04X}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The longest run of `#` following a `"` in `text`, so a raw string can hold it.
fn longest_hash_run(text: &str) -> usize {
    text.split('"')
        .skip(1)
        .map(|rest| rest.len() - rest.trim_start_matches('#').len())
        .max()
        .unwrap_or(0)
}

/// Puts a blank line between the items of a module, and between the methods of a trait
/// or an impl, which prettyplease writes without one.
pub(crate) fn space_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let mut previous: Option<&str> = None;
    for line in code.lines() {
        let after_inner_attributes =
            previous.is_some_and(|p| p.trim() == ")]") && line.trim_start().starts_with("use ");
        if after_inner_attributes || previous.is_some_and(|p| ends_item(p) && starts_item(p, line))
        {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = Some(line);
    }
    out
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A line that closes an item: `}`, `pub struct X {}`, `type X = Y;`.
fn ends_item(line: &str) -> bool {
    let trimmed = line.trim();
    !trimmed.starts_with("//") && (trimmed.ends_with('}') || trimmed.ends_with(';'))
}

/// A line opening an item at the indentation of the line before it, a module's or a
/// trait's or impl's level (never a statement in a function body), or the item after
/// the embedded schema, whose raw string ends at the start of a line.
fn starts_item(previous: &str, line: &str) -> bool {
    const OPENERS: &[&str] = &[
        "///", "#[", "pub ", "impl", "fn ", "async fn", "const ", "type ", "use ", "mod ",
    ];
    let trimmed = line.trim_start();
    let level = indentation(line);
    (level == indentation(previous) || previous.ends_with("\"#;"))
        && level <= 8
        && OPENERS.iter().any(|opener| trimmed.starts_with(opener))
}
