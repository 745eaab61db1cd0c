//! Emits the request headers' helpers: a `with_*` builder method per header, and the
//! merge the typed client uses to apply its default headers.

use proc_macro2::TokenStream;
use quote::quote;
use telepact_schema::TypeKind;

use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::{FieldPlan, Shape};

impl Emitter<'_> {
    pub(crate) fn request_headers_impl(&self) -> TokenStream {
        let id = self.plan.request_headers;
        let Shape::Struct(fields) = &self.plan.items[id].shape else {
            return TokenStream::new();
        };
        let name = self.item_ident(id);
        let builders = fields.iter().map(|f| self.header_builder(f));
        let merged = fields.iter().map(merged_field);
        quote! {
            impl #name {
                #(#builders)*

                /// These headers, with each one they leave unset taken from `defaults`.
                #[must_use]
                pub fn or_defaults(self, defaults: &Self) -> Self {
                    Self { #(#merged)* }
                }
            }
        }
    }

    fn header_builder(&self, field: &FieldPlan) -> TokenStream {
        let name = ident(&field.name);
        let method = ident(&format!("with_{}", field.name));
        let ty = self.value_type(&field.ty, field.boxed);
        let value = if field.optional {
            quote! { Some(value) }
        } else {
            quote! { value }
        };
        let doc = format!(" Sets `{}`.", field.wire);
        quote! {
            #[doc = #doc]
            #[must_use]
            pub fn #method(mut self, value: #ty) -> Self {
                self.#name = #value;
                self
            }
        }
    }
}

fn merged_field(field: &FieldPlan) -> TokenStream {
    let name = ident(&field.name);
    match (field.optional, is_copy(field)) {
        (false, _) => quote! { #name: self.#name, },
        (true, true) => quote! { #name: self.#name.or(defaults.#name), },
        (true, false) => quote! { #name: self.#name.or_else(|| defaults.#name.clone()), },
    }
}

/// Whether the field's Rust type is `Copy` (so cloning it would trip clippy).
fn is_copy(field: &FieldPlan) -> bool {
    !field.boxed
        && matches!(
            field.ty.kind,
            TypeKind::Boolean | TypeKind::Integer | TypeKind::Number
        )
}
