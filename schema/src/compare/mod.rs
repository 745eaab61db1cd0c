//! Backwards compatibility between two versions of a schema.
//!
//! A new schema is compatible with an old one when every client written against the
//! old one keeps working with a server of the new one: nothing is removed, no field or
//! header changes type, a request never needs more than it did, and a response never
//! holds a union tag or a `null` the old client does not know; nor does a function the
//! old client called without credentials come to require them. Allowing `null` where
//! only requests go (an argument `"integer"` becoming `"integer?"`) is compatible, and
//! so is no longer sending it where only responses go.
//!
//! A field's `!` is part of its key on the wire (`{"includeInternal!": true}`), so `a`
//! becoming `a!` removes the field `a` (and adds an optional `a!`).
//!
//! Headers (`headers.*`) are compared by name, wherever a definition declares them: one
//! may move between definitions. Every header is optional, so adding one is compatible.
//! Removing one is not, although the protocol accepts headers it does not declare: the
//! server would ignore what old clients send, and old clients would wait in vain for
//! what the server no longer answers.
//!
//! ```
//! use telepact_schema::{Schema, compare};
//!
//! let old = Schema::from_text(r#"[{"fn.add": {"x": "integer"}, "->": [{"Ok_": {}}]}]"#).unwrap();
//! let new = Schema::from_text(r#"[{"fn.add": {"x": "number"}, "->": [{"Ok_": {}}]}]"#).unwrap();
//! let found = compare(&old, &new);
//! assert_eq!(
//!     found[0].to_string(),
//!     "Field 'x' in struct 'fn.add' has changed type from 'integer' to 'number'"
//! );
//! ```

mod locate;
mod nulls;
mod paths;
mod written;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::Location;
use crate::model::{ErrorsDef, Field, HeadersDef, Schema, Tag, TypeExpr, TypeName, UnionDef};
use nulls::{NullChange, null_change};
use paths::TypePaths;
use written::{python_text, written_type};

pub use locate::SchemaFiles;

/// One backwards-incompatible difference between an old and a new schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// The schema path of the definition concerned, e.g. `["struct.Item"]`,
    /// `["union.Shape", "Circle"]` for a union tag or `["fn.add", "->", "Ok_"]` for a
    /// function's result.
    pub owner: Vec<String>,
    /// What changed.
    pub kind: IncompatibilityKind,
}

/// What made a schema change incompatible.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncompatibilityKind {
    /// The definition no longer exists.
    TypeRemoved,
    /// A field (argument, struct field or tag field) no longer exists.
    FieldRemoved {
        /// The field's key in the old schema.
        field: String,
    },
    /// A field's type expression is written differently.
    FieldTypeChanged {
        /// The field's key in the old schema.
        field: String,
        /// The old type expression, e.g. `["boolean"]`.
        old: serde_json::Value,
        /// The new type expression.
        new: serde_json::Value,
    },
    /// A required field was added where a function's arguments reach it: old clients do
    /// not send it.
    RequiredFieldAdded {
        /// The new field's key.
        field: String,
    },
    /// A union lost a tag.
    TagRemoved {
        /// The removed tag.
        tag: String,
    },
    /// A union reachable from a function's result (its `Ok_` payload or an error's) or
    /// from a response header gained a tag: old clients cannot read it.
    ResultTagAdded {
        /// The new tag.
        tag: String,
    },
    /// A function callable without credentials now requires them (the new schema
    /// declares `union.Auth_`, or the function lost its `$authenticated: false`): old
    /// clients that sent none are refused.
    AuthenticationRequired,
    /// A request or response header no longer exists. The owner is the `headers.*`
    /// definition that declared it, with `->` for a response header.
    HeaderRemoved {
        /// The header's name, e.g. `@limit`.
        header: String,
    },
    /// A header's type expression is written differently. The owner is the `headers.*`
    /// definition that declares it in the new schema, with `->` for a response header.
    HeaderTypeChanged {
        /// The header's name.
        header: String,
        /// The old type expression.
        old: serde_json::Value,
        /// The new type expression.
        new: serde_json::Value,
    },
}

impl Incompatibility {
    /// The schema path of the change in the new schema: the owner, then the field or
    /// tag concerned when the new schema has it.
    pub fn path(&self) -> Vec<String> {
        let mut path = self.owner.clone();
        match &self.kind {
            IncompatibilityKind::FieldTypeChanged { field, .. }
            | IncompatibilityKind::RequiredFieldAdded { field } => path.push(field.clone()),
            IncompatibilityKind::ResultTagAdded { tag } => path.push(tag.clone()),
            IncompatibilityKind::HeaderTypeChanged { header, .. } => path.push(header.clone()),
            IncompatibilityKind::TypeRemoved
            | IncompatibilityKind::FieldRemoved { .. }
            | IncompatibilityKind::TagRemoved { .. }
            | IncompatibilityKind::AuthenticationRequired
            | IncompatibilityKind::HeaderRemoved { .. } => {}
        }
        path
    }

    /// Where the new schema in `dir` writes [`path`](Self::path) (as much of it as
    /// the files hold): the file defining the owner and the 1-based row and column.
    /// `None` when no file defines it (the type was removed). Reads the directory's
    /// files; to locate several changes, read them once with [`SchemaFiles::read`] and
    /// call [`locate_in`](Self::locate_in).
    pub fn locate_in_dir(&self, dir: &Path) -> Option<(PathBuf, Location)> {
        self.locate_in(&SchemaFiles::read(dir))
    }

    /// Where `files` write [`path`](Self::path), as [`locate_in_dir`](Self::locate_in_dir)
    /// finds it.
    pub fn locate_in(&self, files: &SchemaFiles) -> Option<(PathBuf, Location)> {
        files.locate(&self.path())
    }

    fn owner_name(&self) -> String {
        self.owner.join(".")
    }
}

/// The wording of the protocol's command line tool.
impl fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owner = self.owner_name();
        match &self.kind {
            IncompatibilityKind::TypeRemoved => write!(f, "Type '{owner}' has been removed"),
            IncompatibilityKind::FieldRemoved { field } => {
                write!(f, "Field '{field}' has been removed from struct '{owner}'")
            }
            IncompatibilityKind::FieldTypeChanged { field, old, new } => write!(
                f,
                "Field '{field}' in struct '{owner}' has changed type from '{}' to '{}'",
                python_text(old),
                python_text(new)
            ),
            IncompatibilityKind::RequiredFieldAdded { field } => write!(
                f,
                "New required field '{field}' has been added to struct '{owner}' on argument path"
            ),
            IncompatibilityKind::TagRemoved { tag } => {
                write!(f, "Tag '{tag}' has been removed from union '{owner}'")
            }
            IncompatibilityKind::ResultTagAdded { tag } => write!(
                f,
                "New tag '{tag}' has been added to union '{owner}' on result path"
            ),
            IncompatibilityKind::AuthenticationRequired => {
                write!(f, "Function '{owner}' now requires authentication")
            }
            IncompatibilityKind::HeaderRemoved { header } => {
                write!(f, "Header '{header}' has been removed from '{owner}'")
            }
            IncompatibilityKind::HeaderTypeChanged { header, old, new } => write!(
                f,
                "Header '{header}' in '{owner}' has changed type from '{}' to '{}'",
                python_text(old),
                python_text(new)
            ),
        }
    }
}

/// Every way `new` breaks clients written against `old`, in the old schema's
/// definition order, then its `errors.*` sets, then its request and its response
/// headers (empty when `new` is backwards compatible).
///
/// A type is on the argument path when a function's arguments or a request header
/// reach it, and on the result path when a function's result (an `Ok_` payload or an
/// error's) or a response header reaches it (in the old schema). Field and header
/// types are compared as written, so `struct.A` renamed to `struct.B` is a change; a
/// change only in where `null` is allowed breaks clients only in the direction they
/// meet it: allowed on the result path, or disallowed on the argument path.
pub fn compare(old: &Schema, new: &Schema) -> Vec<Incompatibility> {
    let paths = TypePaths::of(old);
    let mut check = Check {
        old,
        new,
        new_error_tags: error_tags(new),
        found: Vec::new(),
    };
    for (name, meaning) in &old.names {
        let new_meaning = new.names.get(name).copied();
        match (*meaning, new_meaning) {
            // The extensions are the protocol's, the same in every schema.
            (TypeName::Select | TypeName::MockCall | TypeName::MockStub, _) => {}
            (_, None) => check.report(vec![name.clone()], IncompatibilityKind::TypeRemoved),
            (TypeName::Struct(old_id), Some(TypeName::Struct(new_id))) => check.fields(
                vec![name.clone()],
                &old.struct_def(old_id).fields,
                &new.struct_def(new_id).fields,
                Sides::of(&paths, name),
            ),
            (TypeName::Union(old_id), Some(TypeName::Union(new_id))) => check.union(
                vec![name.clone()],
                old.union_def(old_id),
                new.union_def(new_id),
                Sides::of(&paths, name),
            ),
            (TypeName::Function(old_id), Some(TypeName::Function(new_id))) => {
                let (old_fn, new_fn) = (old.function(old_id), new.function(new_id));
                if !old.requires_auth(old_fn) && new.requires_auth(new_fn) {
                    let kind = IncompatibilityKind::AuthenticationRequired;
                    check.report(vec![name.clone()], kind);
                }
                // Arguments are a request, and a response too where a result links
                // the function (`"fn.f"` as a type).
                let arguments = Sides {
                    request: true,
                    response: paths.is_result(name),
                };
                check.fields(vec![name.clone()], &old_fn.args, &new_fn.args, arguments);
                let result = vec![name.clone(), "->".to_string()];
                check.function_result(result, &old_fn.result, &new_fn.result);
            }
            // Schema keys carry their kind, so a name keeps its kind across versions.
            (_, Some(_)) => {}
        }
    }
    check.errors();
    check.headers(HeaderSide::Request);
    check.headers(HeaderSide::Response);
    check.found
}

/// The tags `schema`'s `errors.*` sets declare, each with the first set declaring it:
/// where the old sets' tags are looked up by name (the sets' names never reach the wire).
fn error_tags(schema: &Schema) -> HashMap<&str, (&ErrorsDef, &Tag)> {
    let mut tags = HashMap::new();
    for set in &schema.errors {
        for (name, tag) in &set.tags {
            tags.entry(name.as_str()).or_insert((set, tag));
        }
    }
    tags
}

/// Where the values of a definition travel: in requests (old clients write them), in
/// responses (old clients read them), or both.
#[derive(Clone, Copy)]
struct Sides {
    request: bool,
    response: bool,
}

impl Sides {
    const REQUEST: Sides = Sides {
        request: true,
        response: false,
    };
    const RESPONSE: Sides = Sides {
        request: false,
        response: true,
    };

    /// Where the old schema's type named `name` travels.
    fn of(paths: &TypePaths, name: &str) -> Sides {
        Sides {
            request: paths.is_argument(name),
            response: paths.is_result(name),
        }
    }
}

/// Which of a `headers.*` definition's two sets of headers.
#[derive(Clone, Copy)]
enum HeaderSide {
    Request,
    Response,
}

impl HeaderSide {
    fn of(self, definition: &HeadersDef) -> &IndexMap<String, Field> {
        match self {
            HeaderSide::Request => &definition.request,
            HeaderSide::Response => &definition.response,
        }
    }

    fn sides(self) -> Sides {
        match self {
            HeaderSide::Request => Sides::REQUEST,
            HeaderSide::Response => Sides::RESPONSE,
        }
    }

    /// The schema path of `definition`'s headers on this side.
    fn owner(self, definition: &HeadersDef) -> Vec<String> {
        match self {
            HeaderSide::Request => vec![definition.name.clone()],
            HeaderSide::Response => vec![definition.name.clone(), "->".to_string()],
        }
    }
}

struct Check<'a> {
    old: &'a Schema,
    new: &'a Schema,
    /// The tags of the new schema's `errors.*` sets.
    new_error_tags: HashMap<&'a str, (&'a ErrorsDef, &'a Tag)>,
    found: Vec<Incompatibility>,
}

impl Check<'_> {
    /// The old and new type expressions as written, when the change from `old` (of the
    /// old schema) to `new` breaks an old client where the values travel `sides`: any
    /// change does, but one of where `null` is allowed, which breaks only the clients
    /// that meet it.
    fn breaking_type_change(
        &self,
        old: &TypeExpr,
        new: &TypeExpr,
        sides: Sides,
    ) -> Option<(serde_json::Value, serde_json::Value)> {
        let breaks = match null_change(self.old, old, self.new, new) {
            Some(NullChange::Unchanged) => false,
            Some(NullChange::Allowed) => sides.response,
            Some(NullChange::Disallowed) => sides.request,
            // Another type altogether, or `null` allowed in one place and not another.
            None | Some(NullChange::Both) => true,
        };
        let written = (written_type(self.old, old), written_type(self.new, new));
        breaks.then_some(written)
    }

    /// Compares a function's result. It may gain tags (new errors), and the tags it
    /// takes from `errors.*` sets in both schemas are compared once, with their sets
    /// ([`errors`](Self::errors)): here only their removal from the result counts.
    fn function_result(&mut self, owner: Vec<String>, old: &UnionDef, new: &UnionDef) {
        for (tag_name, old_tag) in &old.tags {
            match new.tags.get(tag_name) {
                None => {
                    let tag = tag_name.clone();
                    self.report(owner.clone(), IncompatibilityKind::TagRemoved { tag });
                }
                // A tag the result declares itself (an internal function's `_errors`
                // may leave out a set holding the same name) is compared here.
                Some(new_tag) if old_tag.from_errors.is_some() && new_tag.from_errors.is_some() => {
                }
                Some(new_tag) => self.tag(&owner, old_tag, new_tag, Sides::RESPONSE),
            }
        }
    }

    /// Compares the payloads of the `errors.*` sets' tags by tag name, whichever set
    /// holds them (the sets' names never reach the wire), each once rather than in every
    /// function's result, and located where the new schema writes them.
    fn errors(&mut self) {
        for old_set in &self.old.errors {
            for (tag_name, old_tag) in &old_set.tags {
                // A removed error is reported with each result that loses it.
                let found = self.new_error_tags.get(tag_name.as_str()).copied();
                if let Some((new_set, new_tag)) = found {
                    self.tag(
                        std::slice::from_ref(&new_set.name),
                        old_tag,
                        new_tag,
                        Sides::RESPONSE,
                    );
                }
            }
        }
    }

    /// Compares one side's headers by name, whichever definition declares them.
    fn headers(&mut self, side: HeaderSide) {
        // Each header of the new schema with the first definition declaring it.
        let mut new_headers = HashMap::new();
        for definition in &self.new.headers {
            for (header, field) in side.of(definition) {
                new_headers
                    .entry(header.as_str())
                    .or_insert((definition, field));
            }
        }
        for old_definition in &self.old.headers {
            for (header, old_field) in side.of(old_definition) {
                let Some(&(new_definition, new_field)) = new_headers.get(header.as_str()) else {
                    let header = header.clone();
                    let owner = side.owner(old_definition);
                    self.report(owner, IncompatibilityKind::HeaderRemoved { header });
                    continue;
                };
                let change = self.breaking_type_change(&old_field.ty, &new_field.ty, side.sides());
                if let Some((old, new)) = change {
                    let header = header.clone();
                    let kind = IncompatibilityKind::HeaderTypeChanged { header, old, new };
                    self.report(side.owner(new_definition), kind);
                }
            }
        }
    }

    fn report(&mut self, owner: Vec<String>, kind: IncompatibilityKind) {
        self.found.push(Incompatibility { owner, kind });
    }

    /// Compares a union's tags; where responses reach the union, a new tag is one old
    /// clients cannot read.
    fn union(&mut self, owner: Vec<String>, old: &UnionDef, new: &UnionDef, sides: Sides) {
        for (tag_name, old_tag) in &old.tags {
            match new.tags.get(tag_name) {
                None => self.report(
                    owner.clone(),
                    IncompatibilityKind::TagRemoved {
                        tag: tag_name.clone(),
                    },
                ),
                Some(new_tag) => self.tag(&owner, old_tag, new_tag, sides),
            }
        }
        if sides.response {
            for tag_name in new.tags.keys().filter(|tag| !old.tags.contains_key(*tag)) {
                self.report(
                    owner.clone(),
                    IncompatibilityKind::ResultTagAdded {
                        tag: tag_name.clone(),
                    },
                );
            }
        }
    }

    fn tag(&mut self, union: &[String], old: &Tag, new: &Tag, sides: Sides) {
        let mut owner = union.to_vec();
        owner.push(old.name.clone());
        self.fields(owner, &old.fields, &new.fields, sides);
    }

    /// Compares fields by their keys on the wire, `!` included.
    fn fields(
        &mut self,
        owner: Vec<String>,
        old: &IndexMap<String, Field>,
        new: &IndexMap<String, Field>,
        sides: Sides,
    ) {
        for old_field in old.values() {
            let Some(new_field) = new.get(&old_field.key) else {
                let field = old_field.key.clone();
                self.report(owner.clone(), IncompatibilityKind::FieldRemoved { field });
                continue;
            };
            if let Some((old, new)) = self.breaking_type_change(&old_field.ty, &new_field.ty, sides)
            {
                let field = old_field.key.clone();
                let kind = IncompatibilityKind::FieldTypeChanged { field, old, new };
                self.report(owner.clone(), kind);
            }
        }
        if sides.request {
            let added = new
                .values()
                .filter(|field| !field.optional && !old.contains_key(&field.key));
            for field in added {
                let field = field.key.clone();
                self.report(
                    owner.clone(),
                    IncompatibilityKind::RequiredFieldAdded { field },
                );
            }
        }
    }
}
