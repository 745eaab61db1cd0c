//! The generation plan: every Rust item to emit, named, with its fields and variants,
//! built from the schema model before any tokens are written.

use std::collections::HashSet;

use indexmap::IndexMap;
use proc_macro2::TokenStream;
use telepact_schema::{Field, FunctionDef, Schema, Tag, TypeExpr, UnionDef};

use crate::error::{Error, NameCollision, did_you_mean};
use crate::externs::{ExternType, Externs};
use crate::names::{NameRegistry, joined_type_name, snake_name, strip_prefix, type_name};
use crate::recursion;

/// Index of an [`Item`] in [`Plan::items`].
pub(crate) type ItemId = usize;

/// Everything the emitters need: items in output order and lookups from schema ids.
#[derive(Debug)]
pub(crate) struct Plan {
    pub items: Vec<Item>,
    pub functions: Vec<FunctionPlan>,
    pub request_headers: ItemId,
    pub response_headers: ItemId,
    struct_items: Vec<ItemId>,
    union_items: Vec<ItemId>,
    input_items: Vec<ItemId>,
}

/// One generated struct or enum.
#[derive(Debug)]
pub(crate) struct Item {
    /// Where the item comes from (`struct.X`, `union.X.Tag`, `fn.x.->`); type attributes
    /// select items by it.
    pub key: String,
    pub name: String,
    pub doc: Option<String>,
    pub shape: Shape,
    pub derive_default: bool,
    /// No `number` inside, so `Eq` holds.
    pub derive_eq: bool,
    /// `Eq`, and no map or selection inside, so `Hash` can be derived.
    pub derive_hash: bool,
    /// Comes from the standard definitions rather than the user's schema.
    pub standard: bool,
    /// The existing Rust type the user maps this schema type to
    /// ([`Builder::extern_path`](crate::Builder::extern_path)): the item is not emitted,
    /// its shape is empty and its derives are the traits the user declared.
    pub external: Option<TokenStream>,
}

#[derive(Debug)]
pub(crate) enum Shape {
    Struct(Vec<FieldPlan>),
    Enum(Vec<VariantPlan>),
}

#[derive(Debug)]
pub(crate) struct FieldPlan {
    /// The JSON key, exactly as on the wire (`optional!`, `@auth_`).
    pub wire: String,
    pub name: String,
    pub ty: TypeExpr,
    pub optional: bool,
    /// The field holds a type that contains this item again, so it must be boxed.
    pub boxed: bool,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct VariantPlan {
    /// The tag, exactly as on the wire (`Ok_`).
    pub wire: String,
    pub name: String,
    pub payload: ItemId,
    pub doc: Option<String>,
}

#[derive(Debug)]
pub(crate) struct FunctionPlan {
    /// The function's schema key (`fn.myShift`).
    pub wire: String,
    pub method: String,
    pub input: ItemId,
    pub output: ItemId,
    /// A standard function (`fn.ping_`, `fn.api_`), typed in the runtime.
    pub standard: bool,
    pub doc: Option<String>,
}

impl Plan {
    pub(crate) fn build(schema: &Schema, externs: &Externs) -> Result<Plan, Error> {
        let mut builder = PlanBuilder::new(schema, externs);
        builder.check_externs()?;
        builder.reserve_named_types();
        builder.add_structs();
        builder.add_unions();
        builder.add_errors();
        builder.add_functions();
        let (request_headers, response_headers) = builder.add_headers();
        if !builder.collisions.is_empty() {
            return Err(Error::NameCollisions(builder.collisions));
        }
        let mut plan = Plan {
            items: builder.items,
            functions: builder.functions,
            request_headers,
            response_headers,
            struct_items: builder.struct_items,
            union_items: builder.union_items,
            input_items: builder.input_items,
        };
        recursion::mark_boxed_fields(&mut plan);
        recursion::mark_default_structs(&mut plan);
        recursion::mark_eq_and_hash(&mut plan);
        Ok(plan)
    }

    pub(crate) fn struct_item(&self, id: telepact_schema::StructId) -> ItemId {
        self.struct_items[id.0 as usize]
    }

    pub(crate) fn union_item(&self, id: telepact_schema::UnionId) -> ItemId {
        self.union_items[id.0 as usize]
    }

    pub(crate) fn input_item(&self, id: telepact_schema::FunctionId) -> ItemId {
        self.input_items[id.0 as usize]
    }
}

struct PlanBuilder<'s> {
    schema: &'s Schema,
    externs: &'s Externs,
    /// Names of the user's types.
    types: NameRegistry,
    /// Names of the standard definitions' types, which live in the runtime's
    /// `typed::standard` module and so never collide with the user's.
    standard_types: NameRegistry,
    methods: NameRegistry,
    items: Vec<Item>,
    functions: Vec<FunctionPlan>,
    struct_items: Vec<ItemId>,
    union_items: Vec<ItemId>,
    input_items: Vec<ItemId>,
    /// `(errors key, tag)` → the shared payload item of that error tag.
    error_payloads: IndexMap<(String, String), ItemId>,
    /// Schema keys the user's documents define (the rest are standard definitions).
    user_keys: HashSet<String>,
    /// Every name asked for twice; planning goes on past one to report them all.
    collisions: Vec<NameCollision>,
}

impl<'s> PlanBuilder<'s> {
    fn new(schema: &'s Schema, externs: &'s Externs) -> Self {
        PlanBuilder {
            schema,
            externs,
            types: NameRegistry::for_types(),
            standard_types: NameRegistry::default(),
            methods: NameRegistry::for_methods(),
            items: Vec::new(),
            functions: Vec::new(),
            struct_items: Vec::new(),
            union_items: Vec::new(),
            input_items: Vec::new(),
            error_payloads: IndexMap::new(),
            user_keys: user_definition_keys(schema),
            collisions: Vec::new(),
        }
    }

    /// Every mapped name is one of the user's `struct.*` or `union.*` definitions: the
    /// standard ones are the runtime's, and the generated code needs its own function
    /// arguments, results, errors and headers.
    fn check_externs(&self) -> Result<(), Error> {
        for (name, extern_type) in self.externs {
            let invalid = |reason: String| Error::InvalidOption {
                option: extern_type.option.clone(),
                reason,
            };
            if !name.starts_with("struct.") && !name.starts_with("union.") {
                return Err(invalid(format!(
                    "only `struct.*` and `union.*` types can be mapped, not `{name}`"
                )));
            }
            let structs = self.schema.structs().iter().map(|s| s.name.as_str());
            let defined: Vec<&str> = structs
                .chain(self.schema.unions().iter().map(|u| u.name.as_str()))
                .collect();
            if !defined.contains(&name.as_str()) {
                let mappable = defined.into_iter().filter(|key| !self.is_standard(key));
                let suggestion = did_you_mean(name, mappable);
                return Err(invalid(format!(
                    "the schema defines no `{name}`{suggestion}"
                )));
            }
            if self.is_standard(name) {
                return Err(invalid(format!(
                    "`{name}` is a standard definition, typed in `telepact::typed::standard`"
                )));
            }
        }
        Ok(())
    }

    /// Claims the names of `struct.*` and `union.*` first, so that when a derived name
    /// (a tag payload) collides with one, the derived one is reported.
    fn reserve_named_types(&mut self) {
        let structs = self.schema.structs().iter().map(|s| &s.name);
        let unions = self.schema.unions().iter().map(|u| &u.name);
        for key in structs.chain(unions) {
            self.claim_type(type_name(strip_prefix(key)), key);
        }
    }

    /// Whether the item with key `key` comes from the standard definitions rather than
    /// the user's schema. Request and response headers (`headers`, `headers.->`) are
    /// the user's: they gather the user's header definitions with the standard ones.
    fn is_standard(&self, key: &str) -> bool {
        !matches!(key, "headers" | "headers.->")
            && !definition_keys(key).any(|definition| self.user_keys.contains(definition))
    }

    /// Claims a type name in the user's namespace or the standard one, by `key`.
    fn claim_type(&mut self, name: String, key: &str) -> String {
        let claim = if self.is_standard(key) {
            self.standard_types.claim(name, key)
        } else {
            self.types.claim(name, key)
        };
        settle(claim, &mut self.collisions)
    }

    fn add_structs(&mut self) {
        for def in self.schema.structs() {
            let name = type_name(strip_prefix(&def.name));
            let id = match self.externs.get(&def.name) {
                Some(extern_type) => self.push_extern(&def.name, name, extern_type),
                None => {
                    let fields = plan_fields(
                        &def.fields,
                        None,
                        Owner::Definition(&def.name),
                        &mut self.collisions,
                    );
                    self.push(&def.name, name, def.doc.clone(), Shape::Struct(fields))
                }
            };
            self.struct_items.push(id);
        }
    }

    fn add_unions(&mut self) {
        for def in self.schema.unions() {
            let name = type_name(strip_prefix(&def.name));
            let id = match self.externs.get(&def.name) {
                // No enum and no tag payloads.
                Some(extern_type) => self.push_extern(&def.name, name, extern_type),
                None => self.add_union(def, name.clone(), def.name.clone(), &name),
            };
            self.union_items.push(id);
        }
    }

    /// Adds a union's enum (already named) and one payload struct per tag.
    fn add_union(
        &mut self,
        def: &UnionDef,
        name: String,
        key: String,
        payload_prefix: &str,
    ) -> ItemId {
        let enum_id = self.push(&key, name, def.doc.clone(), Shape::Enum(Vec::new()));
        let mut variants = Vec::new();
        let mut variant_names = NameRegistry::default();
        for tag in def.tags.values() {
            let tag_key = format!("{key}.{}", tag.name);
            let payload = match self.shared_error_payload(tag) {
                Some(payload) => payload,
                None => {
                    let payload_name = self.claim_type(
                        joined_type_name(payload_prefix, &type_name(&tag.name)),
                        &tag_key,
                    );
                    let fields = plan_fields(
                        &tag.fields,
                        None,
                        Owner::Definition(&tag_key),
                        &mut self.collisions,
                    );
                    let doc = tag
                        .doc
                        .clone()
                        .or_else(|| Some(payload_doc(&key, &tag.name)));
                    self.push(&tag_key, payload_name, doc, Shape::Struct(fields))
                }
            };
            let is_success = key.ends_with(".->") && tag.name == SUCCESS_TAG;
            let doc = tag
                .doc
                .clone()
                .or_else(|| is_success.then(|| " The function succeeded.".to_string()));
            let mut claim = variant_names.claim(type_name(&tag.name), &tag_key);
            if tag
                .from_errors
                .as_ref()
                .is_some_and(|e| self.is_standard(e))
            {
                // A standard error's tag: the user's is the one to rename and to locate.
                claim = claim.map_err(NameCollision::swapped);
            }
            variants.push(VariantPlan {
                wire: tag.name.clone(),
                name: settle(claim, &mut self.collisions),
                payload,
                doc,
            });
        }
        self.items[enum_id].shape = Shape::Enum(variants);
        enum_id
    }

    fn shared_error_payload(&self, tag: &Tag) -> Option<ItemId> {
        let errors = tag.from_errors.as_ref()?;
        self.error_payloads
            .get(&(errors.clone(), tag.name.clone()))
            .copied()
    }

    /// Error tags are merged into many results; each gets one payload struct, named
    /// after the tag (`ErrorUnknown`).
    fn add_errors(&mut self) {
        for def in self.schema.errors() {
            for tag in def.tags.values() {
                let key = format!("{}.{}", def.name, tag.name);
                let name = self.claim_type(type_name(&tag.name), &key);
                let fields = plan_fields(
                    &tag.fields,
                    None,
                    Owner::Definition(&key),
                    &mut self.collisions,
                );
                let doc = tag
                    .doc
                    .clone()
                    .or_else(|| Some(format!(" The `{}` error of `{}`.", tag.name, def.name)));
                let id = self.push(&key, name, doc, Shape::Struct(fields));
                self.error_payloads
                    .insert((def.name.clone(), tag.name.clone()), id);
            }
        }
    }

    fn add_functions(&mut self) {
        for def in self.schema.functions() {
            let plan = self.add_function(def);
            self.input_items.push(plan.input);
            self.functions.push(plan);
        }
    }

    fn add_function(&mut self, def: &FunctionDef) -> FunctionPlan {
        let base = type_name(strip_prefix(&def.name));
        let input_name = self.claim_type(joined_type_name(&base, "Input"), &def.name);
        let fields = plan_fields(
            &def.args,
            None,
            Owner::Definition(&def.name),
            &mut self.collisions,
        );
        // The function's docstring goes on the handler and client methods.
        let input_doc = Some(format!(" The arguments of `{}`.", def.name));
        let input = self.push(&def.name, input_name, input_doc, Shape::Struct(fields));
        let output_key = format!("{}.->", def.name);
        let output_name = self.claim_type(joined_type_name(&base, "Output"), &output_key);
        let output = self.add_union(&def.result, output_name, output_key, &base);
        if self.items[output].doc.is_none() {
            self.items[output].doc = Some(format!(" The result of `{}`.", def.name));
        }
        let standard = self.is_standard(&def.name);
        let method = snake_name(strip_prefix(&def.name));
        // Standard functions get no method of their own on the generated client.
        let method = if standard {
            method
        } else {
            // The client's `x_with` sends headers of the call's own.
            let with = self.methods.claim(format!("{method}_with"), &def.name);
            settle(with, &mut self.collisions);
            let claim = self.methods.claim(method, &def.name);
            settle(claim, &mut self.collisions)
        };
        FunctionPlan {
            wire: def.name.clone(),
            method,
            input,
            output,
            standard,
            doc: def.doc.clone(),
        }
    }

    fn add_headers(&mut self) -> (ItemId, ItemId) {
        let request_docs = self.header_docs(|h| &h.request);
        let response_docs = self.header_docs(|h| &h.response);
        let request_owners = self.header_owners(|h| &h.request, "");
        let response_owners = self.header_owners(|h| &h.response, ".->");
        let request = plan_fields(
            self.schema.request_headers(),
            Some(&request_docs),
            Owner::Headers(&request_owners),
            &mut self.collisions,
        );
        let response = plan_fields(
            self.schema.response_headers(),
            Some(&response_docs),
            Owner::Headers(&response_owners),
            &mut self.collisions,
        );
        let request_doc =
            Some(" The request headers this schema declares, typed; all optional.".to_string());
        let response_doc =
            Some(" The response headers this schema declares, typed; all optional.".to_string());
        let request = self.push(
            "headers",
            "RequestHeaders".into(),
            request_doc,
            Shape::Struct(request),
        );
        let response = self.push(
            "headers.->",
            "ResponseHeaders".into(),
            response_doc,
            Shape::Struct(response),
        );
        (request, response)
    }

    /// Header name → the schema path of the `headers.*` definition declaring it on this
    /// side (`headers.Trace_`, or `headers.Trace_.->` with `side_suffix` `.->`), which is
    /// where a collision of its Rust name is reported.
    fn header_owners(
        &self,
        side: impl Fn(&telepact_schema::HeadersDef) -> &IndexMap<String, Field>,
        side_suffix: &str,
    ) -> IndexMap<String, String> {
        let mut owners = IndexMap::new();
        for def in self.schema.headers() {
            for name in side(def).keys() {
                owners
                    .entry(name.clone())
                    .or_insert_with(|| format!("{}{side_suffix}", def.name));
            }
        }
        owners
    }

    /// Header name → its docs: the docstring of the `headers.*` definition declaring it
    /// on the definition's first header, a pointer to that one on the others.
    fn header_docs(
        &self,
        side: impl Fn(&telepact_schema::HeadersDef) -> &IndexMap<String, Field>,
    ) -> IndexMap<String, String> {
        let mut docs = IndexMap::new();
        for def in self.schema.headers() {
            let Some(doc) = &def.doc else { continue };
            let mut names = side(def).keys();
            let Some(first) = names.next() else { continue };
            docs.insert(first.clone(), doc.clone());
            for name in names {
                let pointer = format!(" Declared with `{first}` by `{}`; see there.", def.name);
                docs.insert(name.clone(), pointer);
            }
        }
        docs
    }

    fn push(&mut self, key: &str, name: String, doc: Option<String>, shape: Shape) -> ItemId {
        let standard = self.is_standard(key);
        self.items.push(Item {
            key: key.into(),
            name,
            doc,
            shape,
            derive_default: false,
            derive_eq: true,
            derive_hash: true,
            standard,
            external: None,
        });
        self.items.len() - 1
    }

    /// An item for a mapped type: no fields or variants of its own, and the derives of
    /// the types holding it decided by what the user declared it implements.
    fn push_extern(&mut self, key: &str, name: String, extern_type: &ExternType) -> ItemId {
        let id = self.push(key, name, None, Shape::Struct(Vec::new()));
        let traits = extern_type.traits;
        let item = &mut self.items[id];
        item.external = Some(extern_type.path.clone());
        item.derive_eq = traits.eq;
        item.derive_hash = traits.eq && traits.hash;
        item.derive_default = traits.default;
        id
    }
}

/// The docs of a tag payload the schema leaves undocumented; `owner` is `union.X` or
/// `fn.x.->`.
fn payload_doc(owner: &str, tag: &str) -> String {
    match owner.strip_suffix(".->") {
        Some(function) => format!(" The `{tag}` result of `{function}`."),
        None => format!(" The `{tag}` case of `{owner}`."),
    }
}

/// The result tag of a call that succeeded.
const SUCCESS_TAG: &str = "Ok_";

const DEFINITION_PREFIXES: &[&str] = &[
    "struct.", "union.", "fn.", "errors.", "headers.", "info.", "_ext.",
];

/// Standard definitions that the schema's `original` lists beside the user's when it
/// declares `union.Auth_` (as `fn.api_` shows them).
const STANDARD_AUTH_KEYS: &[&str] = &["errors.Auth_", "headers.Auth_"];

fn user_definition_keys(schema: &Schema) -> HashSet<String> {
    schema
        .original()
        .iter()
        .filter_map(|definition| definition.as_object())
        .flat_map(|definition| definition.keys())
        .filter(|key| DEFINITION_PREFIXES.iter().any(|p| key.starts_with(p)))
        .filter(|key| !STANDARD_AUTH_KEYS.contains(&key.as_str()))
        .cloned()
        .collect()
}

/// The keys an item key may belong to, each ending at one of its dots, and the key
/// itself: `fn.x` (with `fn` and `fn.x.->`) for `fn.x.->.Ok_`. Any of them may be the
/// definition, as an `errors.*` name may itself hold dots: the tag `ErrorClosed` of
/// `errors.Shop.Bakery` is `errors.Shop.Bakery.ErrorClosed`.
fn definition_keys(item_key: &str) -> impl Iterator<Item = &str> {
    let prefixes = item_key.match_indices('.').map(|(at, _)| &item_key[..at]);
    prefixes.chain(std::iter::once(item_key))
}

/// What declares a list of fields, for the schema path of each (`struct.X.id`,
/// `headers.Trace_.->.@traceId`) that a collision reports and locates.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// A struct, a tag's payload or a function's arguments, by its schema path.
    Definition(&'a str),
    /// The headers of one side, gathered from every `headers.*` definition: header name
    /// → the path of the definition declaring it.
    Headers(&'a IndexMap<String, String>),
}

impl Owner<'_> {
    fn path_of(self, key: &str) -> String {
        match self {
            Owner::Definition(owner) => format!("{owner}.{key}"),
            Owner::Headers(owners) => match owners.get(key) {
                Some(owner) => format!("{owner}.{key}"),
                None => format!("header `{key}`"),
            },
        }
    }
}

/// The name a claim got, or on a collision the name asked for, the collision kept in
/// `collisions`: planning goes on, to report every collision in one error.
fn settle(claim: Result<String, NameCollision>, collisions: &mut Vec<NameCollision>) -> String {
    claim.unwrap_or_else(|collision| {
        let name = collision.name.clone();
        collisions.push(collision);
        name
    })
}

/// Plans a field list, keeping the collisions of its fields' names in `collisions`;
/// `docs` gives per-field docstrings (headers).
fn plan_fields(
    fields: &IndexMap<String, Field>,
    docs: Option<&IndexMap<String, String>>,
    owner: Owner<'_>,
    collisions: &mut Vec<NameCollision>,
) -> Vec<FieldPlan> {
    let mut names = NameRegistry::default();
    fields
        .values()
        .map(|field| {
            let path = owner.path_of(&field.key);
            FieldPlan {
                wire: field.key.clone(),
                name: settle(names.claim(snake_name(&field.name), &path), collisions),
                ty: field.ty.clone(),
                optional: field.optional,
                boxed: false,
                doc: docs.and_then(|d| d.get(&field.key)).cloned(),
            }
        })
        .collect()
}
