//! Which names of a schema get a field id.
//!
//! Every function contributes its name and the keys reachable from its arguments and
//! from its `Ok_` result (error tags never travel in binary, so they get no id). Keys
//! are reached through struct fields, union tags and their fields, arrays, objects and
//! function links; `any`, `_ext.Select_` and the primitive types add nothing.

use std::collections::{BTreeSet, HashSet};

use indexmap::IndexMap;
use telepact_schema::{Field, FunctionId, Schema, StructId, TypeExpr, TypeKind, UnionId};

/// The encodable names of `schema`, sorted.
pub(crate) fn encoded_field_names(schema: &Schema) -> BTreeSet<String> {
    let mut collector = KeyCollector {
        schema,
        names: BTreeSet::new(),
        seen_structs: HashSet::new(),
        seen_unions: HashSet::new(),
        seen_functions: HashSet::new(),
    };
    for function in schema.functions() {
        collector.names.insert(function.name.clone());
        collector.add_fields(&function.args);
        if let Some(ok) = function.result.tags.get("Ok_") {
            collector.names.insert(ok.name.clone());
            collector.add_fields(&ok.fields);
        }
    }
    collector.names
}

struct KeyCollector<'a> {
    schema: &'a Schema,
    names: BTreeSet<String>,
    // Each definition is walked once: the result is a set, and recursion must end.
    seen_structs: HashSet<StructId>,
    seen_unions: HashSet<UnionId>,
    seen_functions: HashSet<FunctionId>,
}

impl KeyCollector<'_> {
    fn add_fields(&mut self, fields: &IndexMap<String, Field>) {
        for (key, field) in fields {
            self.names.insert(key.clone());
            self.add_type(&field.ty);
        }
    }

    fn add_type(&mut self, ty: &TypeExpr) {
        let schema = self.schema;
        match &ty.kind {
            TypeKind::Array(element) | TypeKind::Object(element) => self.add_type(element),
            TypeKind::Struct(id) => {
                if self.seen_structs.insert(*id) {
                    self.add_fields(&schema.struct_def(*id).fields);
                }
            }
            TypeKind::Union(id) => {
                if self.seen_unions.insert(*id) {
                    for tag in schema.union_def(*id).tags.values() {
                        self.names.insert(tag.name.clone());
                        self.add_fields(&tag.fields);
                    }
                }
            }
            TypeKind::FunctionLink(id) => {
                if self.seen_functions.insert(*id) {
                    let function = schema.function(*id);
                    self.names.insert(function.name.clone());
                    self.add_fields(&function.args);
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
