//! Which types a value can hold: the walk behind `@select_` (what a selection may name)
//! and the generated selection enums.

use std::collections::BTreeSet;

use crate::model::{Field, FunctionId, Schema, StructId, TypeExpr, TypeKind, UnionId};

/// The structs and unions reached from some fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReachableTypes {
    /// Every struct reached.
    pub structs: BTreeSet<StructId>,
    /// Every union reached.
    pub unions: BTreeSet<UnionId>,
}

impl Schema {
    /// The structs and unions a value of `fields` can hold: through lists and maps, the
    /// fields of the structs and of every tag of the unions reached, and the tags a
    /// linked function's result declares itself (not those merged in from `errors.*`).
    pub fn types_reachable_from<'a>(
        &self,
        fields: impl IntoIterator<Item = &'a Field>,
    ) -> ReachableTypes {
        let mut walk = Walk {
            schema: self,
            found: ReachableTypes::default(),
            results: BTreeSet::new(),
        };
        for field in fields {
            walk.visit(&field.ty);
        }
        walk.found
    }
}

struct Walk<'s> {
    schema: &'s Schema,
    found: ReachableTypes,
    results: BTreeSet<FunctionId>,
}

impl Walk<'_> {
    fn visit(&mut self, ty: &TypeExpr) {
        match &ty.kind {
            TypeKind::Array(inner) | TypeKind::Object(inner) => self.visit(inner),
            TypeKind::Struct(id) if self.found.structs.insert(*id) => {
                for field in self.schema.struct_def(*id).fields.values() {
                    self.visit(&field.ty);
                }
            }
            TypeKind::Union(id) if self.found.unions.insert(*id) => {
                let tags = &self.schema.union_def(*id).tags;
                for field in tags.values().flat_map(|tag| tag.fields.values()) {
                    self.visit(&field.ty);
                }
            }
            TypeKind::FunctionLink(id) if self.results.insert(*id) => {
                let tags = &self.schema.function(*id).result.tags;
                let declared = tags.values().filter(|tag| tag.from_errors.is_none());
                for field in declared.flat_map(|tag| tag.fields.values()) {
                    self.visit(&field.ty);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Schema;

    fn names(schema: &Schema, function: &str) -> Vec<String> {
        let (_, def) = schema.function_by_name(function).unwrap();
        let reached = schema.types_reachable_from(def.result.tags["Ok_"].fields.values());
        let structs = reached
            .structs
            .iter()
            .map(|id| &schema.struct_def(*id).name);
        let unions = reached.unions.iter().map(|id| &schema.union_def(*id).name);
        structs.chain(unions).cloned().collect()
    }

    #[test]
    fn follows_collections_unions_and_linked_results_but_not_their_merged_errors() {
        let schema = Schema::from_text(
            r#"[
                {"struct.Leaf": {"n": "integer"}},
                {"struct.Unused": {}},
                {"struct.Oops": {}},
                {"union.Shape": [{"Tree": {"leaves": ["struct.Leaf"]}}]},
                {"errors.Mine": [{"ErrorOops": {"oops": "struct.Oops"}}]},
                {"fn.other": {}, "->": [{"Ok_": {"shape": "union.Shape"}}]},
                {"fn.top": {}, "->": [{"Ok_": {"next": {"string": "fn.other"}}}]}
            ]"#,
        )
        .unwrap();
        assert_eq!(names(&schema, "fn.top"), ["struct.Leaf", "union.Shape"]);
    }
}
