//! Emits the `Serialize` and `Deserialize` impls of generated types as a few lines each
//! over the runtime's helpers, rather than `#[derive]`: serde's derive expands every
//! type into visitors and a field enum, and for a large schema that expansion was most
//! of the time `cargo check` spent on the generated module after an edit. The impls
//! read and write what the derive would (see the runtime's `typed::serde_glue`).
//!
//! A type given a `#[serde(..)]` attribute through the builder keeps the derive, which
//! is the only thing that reads such attributes.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{ToTokens, quote};
use syn::Attribute;

use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::{FieldPlan, Item, Shape, VariantPlan};

impl Emitter<'_> {
    /// Whether `item` derives its serde impls: only when the builder gave it, or one of
    /// its fields, a `#[serde(..)]` attribute.
    pub(crate) fn derives_serde(&self, item: &Item) -> bool {
        let fields = match &item.shape {
            Shape::Struct(fields) => fields.as_slice(),
            Shape::Enum(_) => &[],
        };
        self.options
            .attributes_for(&item.key)
            .into_iter()
            .chain(
                fields
                    .iter()
                    .flat_map(|f| self.options.field_attributes_for(&item.key, &f.wire)),
            )
            .any(names_serde)
    }
}

/// The serde impls of `item`, for an item that does not derive them.
pub(crate) fn serde_impls(item: &Item) -> TokenStream {
    let name = ident(&item.name);
    match &item.shape {
        Shape::Struct(fields) => struct_impls(&name, &item.name, fields),
        Shape::Enum(variants) => union_impls(&name, &item.name, variants),
    }
}

/// Whether `attribute` is a `#[serde(..)]`.
fn names_serde(attribute: &Attribute) -> bool {
    attribute.path().is_ident("serde")
}

fn struct_impls(name: &Ident, rust_name: &str, fields: &[FieldPlan]) -> TokenStream {
    let idents: Vec<Ident> = fields.iter().map(|f| ident(&f.name)).collect();
    let write = write_fields(rust_name, fields, &idents);
    let read = read_fields(fields, &idents);
    let wires = fields.iter().map(|f| &f.wire);
    let field_index = index_of("field_index", "key", fields.iter().map(|f| f.wire.as_str()));
    quote! {
        impl rt::Serialize for #name {
            fn serialize<S: rt::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                #write
            }
        }

        impl<'de> rt::Deserialize<'de> for #name {
            fn deserialize<D: rt::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                rt::deserialize_struct(deserializer)
            }
        }

        impl rt::DeserializeStruct for #name {
            const NAME: &'static str = #rust_name;
            const FIELDS: &'static [&'static str] = &[#(#wires),*];

            #field_index

            fn read_fields<'de, A: rt::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                #read
            }
        }
    }
}

/// The body of `serialize`: the fields set, in order, optional ones skipped when unset.
fn write_fields(rust_name: &str, fields: &[FieldPlan], idents: &[Ident]) -> TokenStream {
    if fields.is_empty() {
        return quote! { rt::write_struct(serializer, #rust_name, 0)?.end() };
    }
    // The number of fields written: those always there, and the optional ones set.
    let always = fields.iter().filter(|f| !f.optional).count();
    let counted = fields.iter().zip(idents).filter(|(f, _)| f.optional);
    let mut len: Vec<TokenStream> = counted
        .map(|(_, name)| quote! { usize::from(self.#name.is_some()) })
        .collect();
    if always > 0 {
        len.insert(0, Literal::usize_unsuffixed(always).into_token_stream());
    }
    let writes = fields.iter().zip(idents).map(|(f, name)| {
        let wire = &f.wire;
        if f.optional {
            quote! { fields.optional(#wire, &self.#name)?; }
        } else {
            quote! { fields.field(#wire, &self.#name)?; }
        }
    });
    quote! {
        let len = #(#len)+*;
        let mut fields = rt::write_struct(serializer, #rust_name, len)?;
        #(#writes)*
        fields.end()
    }
}

/// The body of `read_fields`: each key's value into its slot, then the struct.
fn read_fields(fields: &[FieldPlan], idents: &[Ident]) -> TokenStream {
    let reads: Vec<TokenStream> = fields
        .iter()
        .enumerate()
        .map(|(index, f)| {
            let slot = syn::Index::from(index);
            let wire = &f.wire;
            let read = if f.optional {
                // Present is `Some`: a `null` reads as the type reads it (refused unless
                // nullable), never as absent.
                quote! { rt::read_present }
            } else {
                quote! { rt::read_field }
            };
            quote! { #read(&mut map, &mut read.#slot, #wire)? }
        })
        .collect();
    let builds = fields
        .iter()
        .zip(idents)
        .enumerate()
        .map(|(index, (f, name))| {
            let slot = syn::Index::from(index);
            let wire = &f.wire;
            if f.optional {
                quote! { #name: read.#slot.flatten(), }
            } else {
                quote! { #name: rt::required(read.#slot, #wire)?, }
            }
        });
    let read_loop = match reads.split_last() {
        // Past every key, none of which is a field: a loop, as in the other arms, so no
        // result goes unused (`unused_results`).
        None => quote! { while Self::next_field(&mut map)?.is_some() {} },
        Some((only, [])) => quote! {
            let mut read = (None,);
            while Self::next_field(&mut map)?.is_some() {
                #only;
            }
        },
        Some((last, others)) => {
            let slots = fields.iter().map(|_| quote! { None, });
            // `next_field` answers only with indexes into `FIELDS`: past the others,
            // the last.
            let indexes = (0..others.len()).map(Literal::usize_unsuffixed);
            quote! {
                let mut read = (#(#slots)*);
                while let Some(index) = Self::next_field(&mut map)? {
                    match index {
                        #(#indexes => #others,)*
                        _ => #last,
                    }
                }
            }
        }
    };
    quote! {
        #read_loop
        Ok(Self { #(#builds)* })
    }
}

fn union_impls(name: &Ident, rust_name: &str, variants: &[VariantPlan]) -> TokenStream {
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.name)).collect();
    let writes = variants
        .iter()
        .zip(&idents)
        .enumerate()
        .map(|(index, (v, variant))| {
            let index = Literal::u32_unsuffixed(u32::try_from(index).unwrap_or(u32::MAX));
            let wire = &v.wire;
            quote! {
                Self::#variant(payload) => {
                    serializer.serialize_newtype_variant(#rust_name, #index, #wire, payload)
                }
            }
        });
    let reads = idents.iter().enumerate().map(|(index, variant)| {
        let index = Literal::usize_unsuffixed(index);
        quote! { #index => rt::VariantAccess::newtype_variant(payload).map(Self::#variant), }
    });
    let tags = variants.iter().map(|v| &v.wire);
    // A union without tags has no values: `match *self {}` proves it.
    let matched = if variants.is_empty() {
        quote! { *self }
    } else {
        quote! { self }
    };
    quote! {
        impl rt::Serialize for #name {
            fn serialize<S: rt::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match #matched {
                    #(#writes)*
                }
            }
        }

        impl<'de> rt::Deserialize<'de> for #name {
            fn deserialize<D: rt::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                rt::deserialize_union(deserializer)
            }
        }

        impl rt::DeserializeUnion for #name {
            const NAME: &'static str = #rust_name;
            const TAGS: &'static [&'static str] = &[#(#tags),*];

            fn read_payload<'de, A: rt::VariantAccess<'de>>(
                index: usize,
                payload: A,
            ) -> Result<Self, A::Error> {
                match index {
                    #(#reads)*
                    _ => Err(rt::unknown_tag(index, Self::TAGS)),
                }
            }
        }
    }
}

/// `fn field_index(key: &str)`: the index of each of `names`, as a `match`. (A union's
/// `tag_index` is the trait's search of its `TAGS`.)
fn index_of<'a>(
    function: &str,
    argument: &str,
    names: impl Iterator<Item = &'a str>,
) -> TokenStream {
    let function = quote::format_ident!("{function}");
    let arms: Vec<TokenStream> = names
        .enumerate()
        .map(|(index, name)| {
            let index = Literal::usize_unsuffixed(index);
            quote! { #name => Some(#index), }
        })
        .collect();
    if arms.is_empty() {
        let unused = quote::format_ident!("_{argument}");
        return quote! {
            fn #function(#unused: &str) -> Option<usize> {
                None
            }
        };
    }
    let argument = quote::format_ident!("{argument}");
    quote! {
        fn #function(#argument: &str) -> Option<usize> {
            match #argument {
                #(#arms)*
                _ => None,
            }
        }
    }
}
