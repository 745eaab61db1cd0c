//! Emits the serde types: a struct per struct, argument list, tag payload and header set;
//! an enum per union and function result; the `FunctionInput` impls.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Meta, parse_quote};
use telepact_schema::{TypeExpr, TypeKind};

use crate::docs::doc_attrs;
use crate::emit::Emitter;
use crate::names::ident;
use crate::plan::{FieldPlan, Item, ItemId, Shape, VariantPlan};
use crate::serde_impls::serde_impls;
use crate::user_attributes;

impl Emitter<'_> {
    /// The user's types, then the headers; or, for the runtime, only the standard
    /// definitions' types: a chunk per type, with its impls.
    pub(crate) fn types(&self) -> impl Iterator<Item = TokenStream> + '_ {
        let headers = [self.plan.request_headers, self.plan.response_headers];
        // Mapped types are the user's own.
        let all = (0..self.plan.items.len()).filter(|&id| self.plan.items[id].external.is_none());
        let order: Vec<ItemId> = if self.options.standard_only {
            all.filter(|&id| self.plan.items[id].standard).collect()
        } else {
            all.filter(|&id| !self.plan.items[id].standard && !headers.contains(&id))
                .chain(headers)
                .collect()
        };
        order.into_iter().map(|id| {
            let item = self.item(id);
            let input_impl = self.function_input_impl(id);
            let schema_type_impl = self.schema_type_impl(id);
            quote! { #item #input_impl #schema_type_impl }
        })
    }

    /// `impl SchemaType` when `id` is a `struct.*` or `union.*` definition's type (not a
    /// tag's payload, `union.X.Tag`), so its values can be drawn at random.
    fn schema_type_impl(&self, id: ItemId) -> Option<TokenStream> {
        let item = &self.plan.items[id];
        let name = ["struct.", "union."]
            .iter()
            .find_map(|prefix| item.key.strip_prefix(prefix))?;
        if name.contains('.') {
            return None;
        }
        let ident = self.item_ident(id);
        let key = &item.key;
        Some(quote! {
            impl rt::SchemaType for #ident {
                const SCHEMA_KEY: &'static str = #key;
            }
        })
    }

    /// `impl FunctionInput` when `id` is a function's argument struct.
    fn function_input_impl(&self, id: ItemId) -> Option<TokenStream> {
        let function = self.plan.functions.iter().find(|f| f.input == id)?;
        let input = self.item_ident(function.input);
        let output = self.item_ident(function.output);
        let name = &function.wire;
        let tags = match &self.plan.items[function.output].shape {
            Shape::Enum(variants) => variants.iter().map(|v| v.wire.as_str()).collect(),
            Shape::Struct(_) => Vec::new(),
        };
        Some(quote! {
            impl rt::FunctionInput for #input {
                const NAME: &'static str = #name;
                const RESULT_TAGS: &'static [&'static str] = &[#(#tags),*];
                type Output = #output;
            }
        })
    }

    fn item(&self, id: ItemId) -> TokenStream {
        let item = &self.plan.items[id];
        let doc = doc_attrs(item.doc.as_deref());
        let serde = self.derives_serde(item);
        let derives = self.derives(item, serde);
        let debug = self.redacted_debug(item);
        let extra = user_attributes::type_attributes(&self.options.attributes_for(&item.key));
        let name = ident(&item.name);
        let body = match &item.shape {
            Shape::Struct(fields) => {
                let fields = fields.iter().enumerate().map(|(index, f)| {
                    let wrapped = self.boxed_fields.contains(&(id, index));
                    self.field(&item.key, f, wrapped, serde)
                });
                quote! { pub struct #name { #(#fields)* } }
            }
            Shape::Enum(variants) => {
                let variants = variants.iter().map(|v| self.variant(v, serde));
                quote! { pub enum #name { #(#variants)* } }
            }
        };
        let serde_crate = serde.then(|| quote! { #[serde(crate = "rt::serde")] });
        let serde_impls = (!serde).then(|| serde_impls(item));
        quote! {
            #doc
            #derives
            #serde_crate
            #(#extra)*
            #body
            #debug
            #serde_impls
        }
    }

    /// A `Debug` that names the type but shows no field, for the payloads of
    /// `union.Auth_`: they hold credentials, which must not reach logs through `{:?}`.
    fn redacted_debug(&self, item: &Item) -> Option<TokenStream> {
        if !holds_credentials(item) {
            return None;
        }
        let name = ident(&item.name);
        let text = &item.name;
        Some(quote! {
            impl rt::fmt::Debug for #name {
                fn fmt(&self, f: &mut rt::fmt::Formatter<'_>) -> rt::fmt::Result {
                    f.debug_struct(#text).finish_non_exhaustive()
                }
            }
        })
    }

    /// The derives of `item`; with `serde`, serde's too (see [`Self::derives_serde`]).
    fn derives(&self, item: &Item, serde: bool) -> TokenStream {
        let eq = item.derive_eq.then(|| quote! { Eq, });
        let hash = item.derive_hash.then(|| quote! { Hash, });
        let default = item.derive_default.then(|| quote! { Default, });
        let debug = (!holds_credentials(item)).then(|| quote! { Debug, });
        let serde = serde.then(|| quote! { rt::Serialize, rt::Deserialize });
        quote! {
            #[derive(#debug Clone, PartialEq, #eq #hash #default #serde)]
        }
    }

    /// A struct field; `wrapped` holds its item through `rt::Boxed`; `serde`: the struct
    /// derives its serde impls, which read the field's `#[serde(..)]` attribute.
    fn field(&self, key: &str, field: &FieldPlan, wrapped: bool, serde: bool) -> TokenStream {
        let doc = doc_attrs(field.doc.as_deref());
        // Only a struct that derives serde reads them (a user's `#[serde(..)]` makes it).
        let serde_args = if serde {
            field_serde(field)
        } else {
            Vec::new()
        };
        let extra = user_attributes::field_attributes(
            &serde_args,
            &self.options.field_attributes_for(key, &field.wire),
        );
        let name = ident(&field.name);
        let mut ty = self.held_type(&field.ty, field.boxed, wrapped);
        if field.optional {
            ty = quote! { Option<#ty> };
        }
        let serde_attr = (!serde_args.is_empty()).then(|| quote! { #[serde(#(#serde_args),*)] });
        quote! {
            #doc
            #serde_attr
            #(#extra)*
            pub #name: #ty,
        }
    }

    fn variant(&self, variant: &VariantPlan, serde: bool) -> TokenStream {
        let doc = doc_attrs(variant.doc.as_deref());
        let name = ident(&variant.name);
        let payload = self.item_path(variant.payload);
        let wire = &variant.wire;
        let rename =
            (serde && variant.wire != unraw(&name)).then(|| quote! { #[serde(rename = #wire)] });
        quote! {
            #doc
            #rename
            #name(#payload),
        }
    }

    /// The Rust type of a value of `ty` (without the field's optionality).
    pub(crate) fn value_type(&self, ty: &TypeExpr, boxed: bool) -> TokenStream {
        self.held_type(ty, boxed, false)
    }

    /// [`value_type`](Self::value_type), with the item `ty` refers to (inside arrays and
    /// maps too) held through `rt::Boxed` when `wrapped`.
    fn held_type(&self, ty: &TypeExpr, boxed: bool, wrapped: bool) -> TokenStream {
        let mut base = match &ty.kind {
            TypeKind::Boolean => quote! { bool },
            TypeKind::Integer => quote! { i64 },
            TypeKind::Number => quote! { f64 },
            TypeKind::String => quote! { String },
            TypeKind::Bytes => quote! { rt::Bytes },
            // Mock extensions only appear in mock schemas, which are not generated.
            TypeKind::Any | TypeKind::MockCall | TypeKind::MockStub => quote! { rt::Value },
            TypeKind::Select => quote! { rt::Select },
            TypeKind::Array(inner) => {
                let inner = self.held_type(inner, false, wrapped);
                quote! { Vec<#inner> }
            }
            TypeKind::Object(inner) => {
                let inner = self.held_type(inner, false, wrapped);
                quote! { rt::IndexMap<String, #inner> }
            }
            TypeKind::Struct(id) => self.item_path(self.plan.struct_item(*id)),
            TypeKind::Union(id) => self.item_path(self.plan.union_item(*id)),
            TypeKind::FunctionLink(id) => {
                let input = self.item_path(self.plan.input_item(*id));
                quote! { rt::Call<#input> }
            }
        };
        let item = matches!(
            ty.kind,
            TypeKind::Struct(_) | TypeKind::Union(_) | TypeKind::FunctionLink(_)
        );
        if wrapped && item {
            // `Boxed` is a pointer too, so it also breaks a cycle `boxed` would.
            base = quote! { rt::Boxed<#base> };
        } else if boxed {
            base = quote! { Box<#base> };
        }
        // `any` already holds `null`; any other nullable type is an `Option`.
        if ty.nullable && ty.kind != TypeKind::Any {
            base = quote! { Option<#base> };
        }
        base
    }
}

/// The `#[serde(..)]` keys a field needs when its struct derives serde: its wire name,
/// for an optional field absent as `None` (and a present `null` as `Some`), and for a
/// required nullable one no `None` when absent.
pub(crate) fn field_serde(field: &FieldPlan) -> Vec<Meta> {
    let mut args = Vec::new();
    if field.wire != unraw(&ident(&field.name)) {
        let wire = &field.wire;
        args.push(parse_quote! { rename = #wire });
    }
    if field.optional {
        args.push(parse_quote! { default });
        args.push(parse_quote! { skip_serializing_if = "Option::is_none" });
        // Without this, a present `null` would read as "absent", where the field's
        // type may refuse it.
        args.push(parse_quote! { deserialize_with = "rt::deserialize_present" });
    } else if field.ty.nullable && field.ty.kind != TypeKind::Any {
        // A required `Option`, which the derive would read as `None` when missing:
        // with a reader of its own it is a missing field, as the validator has it.
        args.push(parse_quote! { deserialize_with = "rt::Deserialize::deserialize" });
    }
    args
}

/// The union whose payloads are the `@auth_` header's credentials.
const CREDENTIALS_UNION: &str = "union.Auth_";

/// Whether `item` is a payload of [`CREDENTIALS_UNION`].
fn holds_credentials(item: &Item) -> bool {
    matches!(item.shape, Shape::Struct(_))
        && item
            .key
            .strip_prefix(CREDENTIALS_UNION)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The name serde derives for an identifier (`r#type` → `type`).
fn unraw(ident: &proc_macro2::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
}
