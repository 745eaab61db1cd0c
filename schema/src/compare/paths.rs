//! Which types a request reaches (a function's arguments, the request headers), and
//! which a response reaches (a function's result, errors included, and the response
//! headers).

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::model::{Field, Schema, TypeExpr, TypeKind};

/// The names of the types on the argument path and on the result path of a schema.
pub(super) struct TypePaths {
    argument: HashSet<String>,
    result: HashSet<String>,
}

impl TypePaths {
    pub(super) fn of(schema: &Schema) -> TypePaths {
        let mut argument = Reach::new(schema);
        let mut result = Reach::new(schema);
        for function in &schema.functions {
            argument.fields(&function.args);
            // An error's payload is read by the same clients as `Ok_`'s.
            for tag in function.result.tags.values() {
                result.fields(&tag.fields);
            }
        }
        // A header goes with every call: `union.Auth_`'s structs are as much a request
        // as any function's arguments.
        for headers in &schema.headers {
            argument.fields(&headers.request);
            result.fields(&headers.response);
        }
        TypePaths {
            argument: argument.seen,
            result: result.seen,
        }
    }

    /// Whether a function's arguments or a request header reach the type named `name`.
    pub(super) fn is_argument(&self, name: &str) -> bool {
        self.argument.contains(name)
    }

    /// Whether a function's result (an `Ok_` payload or an error's) or a response
    /// header reaches the type named `name`.
    pub(super) fn is_result(&self, name: &str) -> bool {
        self.result.contains(name)
    }
}

/// The named types reachable from some fields (recursive types are visited once). The
/// walk keeps its own list of fields to visit: a chain of types as long as the schema
/// is would overflow the stack if followed by recursion.
struct Reach<'a> {
    schema: &'a Schema,
    seen: HashSet<String>,
    pending: Vec<&'a IndexMap<String, Field>>,
}

impl<'a> Reach<'a> {
    fn new(schema: &'a Schema) -> Self {
        Reach {
            schema,
            seen: HashSet::new(),
            pending: Vec::new(),
        }
    }

    fn fields(&mut self, fields: &'a IndexMap<String, Field>) {
        self.pending.push(fields);
        while let Some(fields) = self.pending.pop() {
            for field in fields.values() {
                self.ty(&field.ty);
            }
        }
    }

    /// Queues the fields of the type `ty` names, when it is seen for the first time.
    fn ty(&mut self, mut ty: &'a TypeExpr) {
        while let TypeKind::Array(item) | TypeKind::Object(item) = &ty.kind {
            ty = item;
        }
        let schema = self.schema;
        match &ty.kind {
            TypeKind::Struct(id) => {
                let def = schema.struct_def(*id);
                if self.seen.insert(def.name.clone()) {
                    self.pending.push(&def.fields);
                }
            }
            TypeKind::Union(id) => {
                let def = schema.union_def(*id);
                if self.seen.insert(def.name.clone()) {
                    self.pending
                        .extend(def.tags.values().map(|tag| &tag.fields));
                }
            }
            TypeKind::FunctionLink(id) => {
                let def = schema.function(*id);
                if self.seen.insert(def.name.clone()) {
                    self.pending.push(&def.args);
                }
            }
            TypeKind::Array(_)
            | TypeKind::Object(_)
            | TypeKind::Boolean
            | TypeKind::Integer
            | TypeKind::Number
            | TypeKind::String
            | TypeKind::Bytes
            | TypeKind::Any
            | TypeKind::Select
            | TypeKind::MockCall
            | TypeKind::MockStub => {}
        }
    }
}
