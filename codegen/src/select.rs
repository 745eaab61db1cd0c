//! Emits typed `@select_` field names: `pub mod select` with an enum of field names for
//! each function's `Ok_` result (an `rt::ResultField` tied to the function) and for each
//! struct and union tag a result can hold (an `rt::SelectField`), so a selection naming
//! a field the schema lacks does not compile. The code grows with the number of types,
//! not with functions times types: which types a function reaches is left to the server,
//! which refuses a selection naming one it does not.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::quote;
use telepact_schema::Schema;

use crate::emit::Emitter;
use crate::names::{ident, type_name};
use crate::pieces::Piece;
use crate::plan::{ItemId, Shape};

/// The result tag whose fields `->` selects.
const SUCCESS_TAG: &str = "Ok_";

/// What a selection may name of one type's fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    /// The `Ok_` result of the function at this index of the plan's functions.
    Result { function: usize },
    /// `struct.X`.
    Struct(String),
    /// One tag of `union.X`.
    Tag { union: String, tag: String },
}

impl Emitter<'_> {
    /// The `select` module, an enum made at a time.
    pub(crate) fn select(&self, schema: &Schema) -> Piece<'_> {
        let sections = self.selectable(schema);
        // The runtime by its path: a link through `rt` would print the alias, and an
        // explicit link target is left as a broken URL where the runtime's docs are not
        // built (`cargo doc --no-deps`).
        let selection = format!(
            " ([`{}::typed::Selection`]): an enum per type whose fields a function",
            self.options.runtime_doc_path
        );
        let outer = quote! {
            /// Field names for typed `@select_` selections
            #[doc = #selection]
            /// can select, named after the type, with a variant per field.
            pub mod select
        };
        if sections.is_empty() {
            return Piece::item(quote! { #outer {} });
        }
        let enums = sections
            .into_iter()
            .map(|(item, section)| self.field_enum(item, &section));
        Piece::Module {
            outer,
            inner: quote! { use super::rt; },
            pieces: vec![Piece::items(enums)],
        }
    }

    /// Every type with fields that some function's result can select, as the protocol
    /// reaches them: the `Ok_` results, then every struct and union their fields lead
    /// to, through collections and other functions' results.
    fn selectable(&self, schema: &Schema) -> BTreeSet<(ItemId, Section)> {
        let mut found = BTreeSet::new();
        let mut ok_fields = Vec::new();
        let functions = self.plan.functions.iter().zip(schema.functions());
        for (index, (function, def)) in functions.enumerate() {
            if function.standard {
                continue;
            }
            if let Some(ok) = self.tag_payload(function.output, SUCCESS_TAG) {
                found.insert((ok, Section::Result { function: index }));
            }
            if let Some(tag) = def.result.tags.get(SUCCESS_TAG) {
                ok_fields.extend(tag.fields.values());
            }
        }
        let reached = schema.types_reachable_from(ok_fields);
        for id in reached.structs {
            let name = &schema.struct_def(id).name;
            let item = self.plan.struct_item(id);
            found.insert((item, Section::Struct(name.clone())));
        }
        for id in reached.unions {
            let def = schema.union_def(id);
            let item = self.plan.union_item(id);
            for tag in def.tags.keys() {
                if let Some(payload) = self.tag_payload(item, tag) {
                    let section = Section::Tag {
                        union: def.name.clone(),
                        tag: tag.clone(),
                    };
                    found.insert((payload, section));
                }
            }
        }
        // A type without fields has nothing to select; the standard ones live in the
        // runtime.
        found.retain(|(item, _)| {
            let item = &self.plan.items[*item];
            !item.standard && matches!(&item.shape, Shape::Struct(fields) if !fields.is_empty())
        });
        found
    }

    /// The payload item of tag `tag` of the enum item `item`.
    fn tag_payload(&self, item: ItemId, tag: &str) -> Option<ItemId> {
        let Shape::Enum(variants) = &self.plan.items[item].shape else {
            return None;
        };
        variants.iter().find(|v| v.wire == tag).map(|v| v.payload)
    }

    fn field_enum(&self, item: ItemId, section: &Section) -> TokenStream {
        let Shape::Struct(fields) = &self.plan.items[item].shape else {
            return TokenStream::new();
        };
        let name = self.item_ident(item);
        let mut taken = BTreeSet::new();
        let variants: Vec<_> = fields
            .iter()
            .map(|field| {
                let mut variant = type_name(&field.name);
                while !taken.insert(variant.clone()) {
                    variant.push('_');
                }
                ident(&variant)
            })
            .collect();
        let wires = fields.iter().map(|field| &field.wire);
        let (doc, trait_path, associated) = match section {
            Section::Result { function } => {
                let function = &self.plan.functions[*function];
                let input = self.item_ident(function.input);
                let wire = &function.wire;
                (
                    format!(" The fields of [`super::{name}`], the result of `{wire}`."),
                    quote! { rt::ResultField },
                    quote! { type Function = super::#input; },
                )
            }
            Section::Struct(key) => (
                format!(" The fields of [`super::{name}`] (`{key}`)."),
                quote! { rt::SelectField },
                quote! { const SECTION: rt::Section = rt::Section::Struct(#key); },
            ),
            Section::Tag { union, tag } => (
                format!(" The fields of [`super::{name}`] (`{union}.{tag}`)."),
                quote! { rt::SelectField },
                quote! {
                    const SECTION: rt::Section = rt::Section::Tag { union: #union, tag: #tag };
                },
            ),
        };
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum #name {
                #(#variants,)*
            }

            impl #trait_path for #name {
                #associated

                fn wire(self) -> &'static str {
                    match self {
                        #(Self::#variants => #wires,)*
                    }
                }
            }
        }
    }
}
