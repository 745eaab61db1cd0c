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

/// The named types reachable from some fields (recursive types are visited once).
struct Reach<'a> {
    schema: &'a Schema,
    seen: HashSet<String>,
}

impl<'a> Reach<'a> {
    fn new(schema: &'a Schema) -> Self {
        Reach {
            schema,
            seen: HashSet::new(),
        }
    }

    fn fields(&mut self, fields: &IndexMap<String, Field>) {
        for field in fields.values() {
            self.ty(&field.ty);
        }
    }

    fn ty(&mut self, ty: &TypeExpr) {
        let schema = self.schema;
        match &ty.kind {
            TypeKind::Array(item) | TypeKind::Object(item) => self.ty(item),
            TypeKind::Struct(id) => {
                let def = schema.struct_def(*id);
                if self.seen.insert(def.name.clone()) {
                    self.fields(&def.fields);
                }
            }
            TypeKind::Union(id) => {
                let def = schema.union_def(*id);
                if self.seen.insert(def.name.clone()) {
                    for tag in def.tags.values() {
                        self.fields(&tag.fields);
                    }
                }
            }
            TypeKind::FunctionLink(id) => {
                let def = schema.function(*id);
                if self.seen.insert(def.name.clone()) {
                    self.fields(&def.args);
                }
            }
            TypeKind::Boolean
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
