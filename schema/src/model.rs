//! The schema model: what a loaded Telepact schema means.
//!
//! One model serves the code generator and the runtime validator. Definitions live in
//! arenas (`structs`, `unions`, `functions`) and refer to each other by typed ids, so a
//! validator walks the graph without hashing names and recursive types need no `Rc`.

use std::sync::OnceLock;

use indexmap::IndexMap;
use serde_json::Value;

/// Index of a [`StructDef`] in [`Schema::structs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StructId(pub u32);

/// Index of a [`UnionDef`] in [`Schema::unions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnionId(pub u32);

/// Index of a [`FunctionDef`] in [`Schema::functions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FunctionId(pub u32);

/// A loaded, validated schema: the user's definitions plus the standard ones.
///
/// Its definitions refer to each other by index, so it is read through accessors and
/// made only by the loader ([`Schema::from_text`], [`Schema::from_dir`], ...): a schema
/// cannot be edited into one whose ids point nowhere.
///
/// ```compile_fail
/// let mut schema = telepact_schema::Schema::from_text("[]").unwrap();
/// schema.structs.clear(); // the definitions are read-only
/// ```
///
/// # Example
///
/// ```
/// use telepact_schema::Schema;
///
/// let schema = Schema::from_text(
///     "
/// - fn.greet:
///     name: string
///   ->:
///     - Ok_:
///         greeting: string
/// ",
/// )?;
/// let (_, greet) = schema.function_by_name("fn.greet").expect("declared above");
/// assert!(greet.args.contains_key("name"));
/// // The standard definitions come with every schema.
/// assert!(schema.function_by_name("fn.ping_").is_some());
/// # Ok::<(), telepact_schema::LoadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Schema {
    /// See [`Schema::original`].
    pub(crate) original: Vec<Value>,
    /// See [`Schema::full`].
    pub(crate) full: FullListing,
    /// See [`Schema::structs`].
    pub(crate) structs: Vec<StructDef>,
    /// See [`Schema::unions`].
    pub(crate) unions: Vec<UnionDef>,
    /// See [`Schema::functions`].
    pub(crate) functions: Vec<FunctionDef>,
    /// See [`Schema::errors`].
    pub(crate) errors: Vec<ErrorsDef>,
    /// See [`Schema::headers`].
    pub(crate) headers: Vec<HeadersDef>,
    /// See [`Schema::infos`].
    pub(crate) infos: Vec<InfoDef>,
    /// See [`Schema::request_headers`].
    pub(crate) request_headers: IndexMap<String, Field>,
    /// See [`Schema::response_headers`].
    pub(crate) response_headers: IndexMap<String, Field>,
    /// See [`Schema::names`].
    pub(crate) names: IndexMap<String, TypeName>,
}

/// [`Schema::full`]: the standard definitions, each with its place among the user's,
/// and the whole listing put together the first time it is asked for. Most schemas
/// never need it (only `fn.api_` with `includeInternal!` does), and a copy of every
/// user definition's JSON made at load took as much memory as the model itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct FullListing {
    /// The definitions `original` leaves out, with their indexes in the full listing,
    /// in that order.
    standard: Vec<(usize, Value)>,
    built: OnceLock<Vec<Value>>,
}

impl FullListing {
    pub(crate) fn new(standard: Vec<(usize, Value)>) -> Self {
        FullListing {
            standard,
            built: OnceLock::new(),
        }
    }

    fn get(&self, original: &[Value]) -> &[Value] {
        self.built.get_or_init(|| {
            let mut full = Vec::with_capacity(original.len() + self.standard.len());
            let mut user = original.iter();
            for (position, definition) in &self.standard {
                full.extend(
                    user.by_ref()
                        .take(position.saturating_sub(full.len()))
                        .cloned(),
                );
                full.push(definition.clone());
            }
            full.extend(user.cloned());
            full
        })
    }

    /// Whether the full listing has been put together (for tests).
    #[cfg(test)]
    pub(crate) fn is_built(&self) -> bool {
        self.built.get().is_some()
    }
}

/// What a schema key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeName {
    /// A `struct.*` definition.
    Struct(StructId),
    /// A `union.*` definition.
    Union(UnionId),
    /// A `fn.*` definition.
    Function(FunctionId),
    /// The `_ext.Select_` extension.
    Select,
    /// The `_ext.Call_` extension (mock schemas only).
    MockCall,
    /// The `_ext.Stub_` extension (mock schemas only).
    MockStub,
}

/// A `struct.*` definition.
#[derive(Debug, Clone)]
pub struct StructDef {
    /// Schema key, e.g. `struct.ExStruct`.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
    /// Fields by wire key (the key as written, `!` included), in declaration order.
    pub fields: IndexMap<String, Field>,
}

/// A `union.*` definition, or a function's `->` result.
#[derive(Debug, Clone)]
pub struct UnionDef {
    /// Schema key, e.g. `union.ExUnion`; `fn.x.->` for a function result.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
    /// Tags in declaration order (for a result: the declared tags, then the tags merged in
    /// from `errors.*`).
    pub tags: IndexMap<String, Tag>,
}

/// One tag of a union: a name and a struct-like payload.
#[derive(Debug, Clone)]
pub struct Tag {
    /// The tag as written, e.g. `Ok_`, `Password`, `ErrorUnknown_`.
    pub name: String,
    /// The tag's own `///` docstring.
    pub doc: Option<String>,
    /// Payload fields by wire key.
    pub fields: IndexMap<String, Field>,
    /// `Some("errors.Validation_")` when the tag was merged in from an `errors.*` definition.
    pub from_errors: Option<String>,
}

/// A `fn.*` definition.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// Schema key, e.g. `fn.myShift`.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
    /// The argument struct's fields by wire key.
    pub args: IndexMap<String, Field>,
    /// The `->` result union with the `errors.*` tags this function accepts merged in.
    pub result: UnionDef,
    /// Internal: the name ends in `_` or the definition says `$internal: true`.
    pub internal: bool,
    /// The definition says `$authenticated: false` (it stays public even when
    /// `union.Auth_` exists).
    pub unauthenticated: bool,
    /// Regex over `errors.*` keys naming the error sets merged into `result`.
    pub errors_regex: String,
}

/// An `errors.*` definition: tags merged into function results.
#[derive(Debug, Clone)]
pub struct ErrorsDef {
    /// Schema key, e.g. `errors.Validation_`.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
    /// Tags in declaration order.
    pub tags: IndexMap<String, Tag>,
}

/// A `headers.*` definition.
#[derive(Debug, Clone)]
pub struct HeadersDef {
    /// Schema key, e.g. `headers.Id_`.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
    /// Request headers by header name (`@auth_`); all optional.
    pub request: IndexMap<String, Field>,
    /// Response headers by header name; all optional.
    pub response: IndexMap<String, Field>,
}

/// An `info.*` definition.
#[derive(Debug, Clone)]
pub struct InfoDef {
    /// Schema key, e.g. `info.Example`.
    pub name: String,
    /// The `///` docstring (lines of a list joined with `\n`).
    pub doc: Option<String>,
}

/// A struct field, union tag field, function argument or header.
#[derive(Debug, Clone)]
pub struct Field {
    /// The key on the wire, as written (`optional!`, `@id_`).
    pub key: String,
    /// The key without the trailing `!`.
    pub name: String,
    /// The key ends in `!` (or the field is a header).
    pub optional: bool,
    /// The field's type.
    pub ty: TypeExpr,
}

/// A type expression: a type and whether `null` is allowed (`?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    /// The type.
    pub kind: TypeKind,
    /// Written with a trailing `?`: `null` is allowed.
    pub nullable: bool,
}

/// The type part of a [`TypeExpr`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeKind {
    /// `boolean`
    Boolean,
    /// `integer`
    Integer,
    /// `number`
    Number,
    /// `string`
    String,
    /// `bytes`: base64 text in JSON, a byte string in MessagePack.
    Bytes,
    /// `any`
    Any,
    /// `["T"]`
    Array(Box<TypeExpr>),
    /// `{"string": "T"}`
    Object(Box<TypeExpr>),
    /// `struct.X`
    Struct(StructId),
    /// `union.X`
    Union(UnionId),
    /// `fn.x` used as a type: a value `{"fn.x": {..arguments..}}`.
    FunctionLink(FunctionId),
    /// `_ext.Select_`: a `@select_` selection object.
    Select,
    /// `_ext.Call_`: `{"fn.x": {..arguments..}}` naming any non-internal function, whose
    /// required arguments may be left out (a mock's recorded or expected call).
    MockCall,
    /// `_ext.Stub_`: `{"fn.x": {..arguments..}, "->": {..result..}}`, required fields
    /// optional on both sides (a mock's stub).
    MockStub,
}

impl Schema {
    /// The user's definitions as written (docstrings included), `info.*` first, then by
    /// schema key. This is what `fn.api_` returns without `includeInternal!` (which, as
    /// the protocol shows it, includes the auth definitions when `union.Auth_` exists).
    pub fn original(&self) -> &[Value] {
        &self.original
    }

    /// `original` plus the standard definitions (and the auth ones when `union.Auth_`
    /// exists), in the same order. This is what `fn.api_` returns with `includeInternal!`.
    pub fn full(&self) -> &[Value] {
        self.full.get(&self.original)
    }

    /// Every `struct.*` definition.
    pub fn structs(&self) -> &[StructDef] {
        &self.structs
    }

    /// Every `union.*` definition.
    pub fn unions(&self) -> &[UnionDef] {
        &self.unions
    }

    /// Every `fn.*` definition, standard ones (`fn.ping_`, `fn.api_`) included.
    pub fn functions(&self) -> &[FunctionDef] {
        &self.functions
    }

    /// Every `errors.*` definition, standard ones included, in schema-key order.
    pub fn errors(&self) -> &[ErrorsDef] {
        &self.errors
    }

    /// Every `headers.*` definition, standard ones included, in schema-key order.
    pub fn headers(&self) -> &[HeadersDef] {
        &self.headers
    }

    /// `info.*` definitions (name and docstring).
    pub fn infos(&self) -> &[InfoDef] {
        &self.infos
    }

    /// Request headers from all `headers.*` definitions, by header name (`@id_`).
    /// Every header is optional.
    pub fn request_headers(&self) -> &IndexMap<String, Field> {
        &self.request_headers
    }

    /// Response headers from all `headers.*` definitions (the `->` side), by header name.
    pub fn response_headers(&self) -> &IndexMap<String, Field> {
        &self.response_headers
    }

    /// Schema key (`struct.X`, `union.X`, `fn.x`, `_ext.Select_`, and in a mock schema
    /// `_ext.Call_` and `_ext.Stub_`) → what it names.
    pub fn names(&self) -> &IndexMap<String, TypeName> {
        &self.names
    }

    /// The struct with id `id` (ids come from this schema).
    ///
    /// # Panics
    ///
    /// When `id` is past this schema's `structs`: an id from another schema.
    pub fn struct_def(&self, id: StructId) -> &StructDef {
        &self.structs[id.0 as usize]
    }

    /// The union with id `id` (ids come from this schema).
    ///
    /// # Panics
    ///
    /// When `id` is past this schema's `unions`: an id from another schema.
    pub fn union_def(&self, id: UnionId) -> &UnionDef {
        &self.unions[id.0 as usize]
    }

    /// The function with id `id` (ids come from this schema).
    ///
    /// # Panics
    ///
    /// When `id` is past this schema's `functions`: an id from another schema.
    pub fn function(&self, id: FunctionId) -> &FunctionDef {
        &self.functions[id.0 as usize]
    }

    /// Looks up a function by schema key (`fn.myShift`).
    pub fn function_by_name(&self, name: &str) -> Option<(FunctionId, &FunctionDef)> {
        match self.names.get(name)? {
            TypeName::Function(id) => Some((*id, self.function(*id))),
            _ => None,
        }
    }

    /// Whether the schema declares `union.Auth_`, which makes non-internal functions
    /// require authentication.
    pub fn has_auth(&self) -> bool {
        self.names.contains_key("union.Auth_")
    }

    /// Whether calling `function` requires authentication: the schema has `union.Auth_`
    /// and the function is neither internal nor marked `$authenticated: false`.
    pub fn requires_auth(&self, function: &FunctionDef) -> bool {
        self.has_auth() && !function.internal && !function.unauthenticated
    }
}

/// A schema built definition by definition, without the loader's checks, for the
/// workspace's own tests and benchmarks of code that walks the model. Not part of the
/// API: a schema built this way may hold ids that point nowhere.
#[doc(hidden)]
pub mod __unchecked {
    use indexmap::IndexMap;

    use super::{FullListing, FunctionDef, Schema, StructDef, TypeName, UnionDef};

    /// A schema with no definitions at all, not even the standard ones.
    pub fn empty() -> Schema {
        Schema {
            original: Vec::new(),
            full: FullListing::default(),
            structs: Vec::new(),
            unions: Vec::new(),
            functions: Vec::new(),
            errors: Vec::new(),
            headers: Vec::new(),
            infos: Vec::new(),
            request_headers: IndexMap::new(),
            response_headers: IndexMap::new(),
            names: IndexMap::new(),
        }
    }

    /// The definitions a test adds to, and the names that find them.
    pub fn definitions_mut(
        schema: &mut Schema,
    ) -> (
        &mut Vec<StructDef>,
        &mut Vec<UnionDef>,
        &mut Vec<FunctionDef>,
        &mut IndexMap<String, TypeName>,
    ) {
        (
            &mut schema.structs,
            &mut schema.unions,
            &mut schema.functions,
            &mut schema.names,
        )
    }
}
