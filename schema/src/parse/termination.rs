//! Recursive types must be constructible: a type terminates when some value of it
//! needs no further value of a non-terminating type (optional fields, nullable types,
//! arrays and maps can always be left empty).

use indexmap::IndexMap;

use crate::model::{Field, FunctionDef, StructDef, TypeExpr, TypeKind, UnionDef};

/// Which definitions terminate, by arena index.
#[derive(Debug)]
pub(crate) struct Termination {
    pub(crate) structs: Vec<bool>,
    pub(crate) unions: Vec<bool>,
    pub(crate) args: Vec<bool>,
    pub(crate) results: Vec<bool>,
}

impl Termination {
    fn type_terminates(&self, ty: &TypeExpr) -> bool {
        if ty.nullable {
            return true;
        }
        match &ty.kind {
            TypeKind::Struct(id) => self.structs[id.0 as usize],
            TypeKind::Union(id) => self.unions[id.0 as usize],
            TypeKind::FunctionLink(id) => self.args[id.0 as usize],
            _ => true,
        }
    }

    fn fields_terminate(&self, fields: &IndexMap<String, Field>) -> bool {
        fields
            .values()
            .all(|field| field.optional || self.type_terminates(&field.ty))
    }

    fn union_terminates(&self, union: &UnionDef) -> bool {
        union
            .tags
            .values()
            .any(|tag| self.fields_terminate(&tag.fields))
    }
}

/// Marks terminating definitions until nothing changes (a least fixed point).
pub(crate) fn find_termination(
    structs: &[StructDef],
    unions: &[UnionDef],
    functions: &[FunctionDef],
) -> Termination {
    let mut t = Termination {
        structs: vec![false; structs.len()],
        unions: vec![false; unions.len()],
        args: vec![false; functions.len()],
        results: vec![false; functions.len()],
    };
    let mut changed = true;
    while changed {
        changed = false;
        for (i, def) in structs.iter().enumerate() {
            if !t.structs[i] && t.fields_terminate(&def.fields) {
                t.structs[i] = true;
                changed = true;
            }
        }
        for (i, def) in unions.iter().enumerate() {
            if !t.unions[i] && t.union_terminates(def) {
                t.unions[i] = true;
                changed = true;
            }
        }
        for (i, def) in functions.iter().enumerate() {
            if !t.args[i] && t.fields_terminate(&def.args) {
                t.args[i] = true;
                changed = true;
            }
            if !t.results[i] && t.union_terminates(&def.result) {
                t.results[i] = true;
                changed = true;
            }
        }
    }
    t
}
