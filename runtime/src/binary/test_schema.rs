//! Hand-built schema models for tests (also included by the integration tests).

#![allow(dead_code)]

use indexmap::IndexMap;
use telepact_schema::__unchecked;
use telepact_schema::{
    Field, FunctionDef, FunctionId, Schema, StructDef, StructId, Tag, TypeExpr, TypeKind, TypeName,
    UnionDef, UnionId,
};

pub(crate) fn ty(kind: TypeKind) -> TypeExpr {
    TypeExpr {
        kind,
        nullable: false,
    }
}

pub(crate) fn array(kind: TypeKind) -> TypeKind {
    TypeKind::Array(Box::new(ty(kind)))
}

pub(crate) fn object(kind: TypeKind) -> TypeKind {
    TypeKind::Object(Box::new(ty(kind)))
}

pub(crate) fn fields(list: Vec<(&str, TypeKind)>) -> IndexMap<String, Field> {
    list.into_iter()
        .map(|(key, kind)| {
            let field = Field {
                key: key.to_string(),
                name: key.trim_end_matches('!').to_string(),
                optional: key.ends_with('!'),
                ty: ty(kind),
            };
            (key.to_string(), field)
        })
        .collect()
}

fn tag(name: &str, payload: IndexMap<String, Field>) -> Tag {
    Tag {
        name: name.to_string(),
        doc: None,
        fields: payload,
        from_errors: None,
    }
}

/// Builds a [`Schema`] definition by definition.
pub(crate) struct SchemaBuilder {
    schema: Schema,
}

impl Default for SchemaBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaBuilder {
    pub(crate) fn new() -> Self {
        SchemaBuilder {
            schema: __unchecked::empty(),
        }
    }

    /// The standard functions every server has: `fn.ping_` and `fn.api_`.
    pub(crate) fn with_standard_functions() -> Self {
        let mut builder = Self::new();
        builder.function("fn.ping_", fields(vec![]), fields(vec![]));
        builder.function(
            "fn.api_",
            fields(vec![
                ("includeInternal!", TypeKind::Boolean),
                ("includeExamples!", TypeKind::Boolean),
            ]),
            fields(vec![("api", array(object(TypeKind::Any)))]),
        );
        builder
    }

    pub(crate) fn add_struct(
        &mut self,
        name: &str,
        struct_fields: IndexMap<String, Field>,
    ) -> StructId {
        let (structs, _, _, names) = __unchecked::definitions_mut(&mut self.schema);
        let id = StructId(structs.len() as u32);
        structs.push(StructDef {
            name: name.to_string(),
            doc: None,
            fields: struct_fields,
        });
        names.insert(name.to_string(), TypeName::Struct(id));
        id
    }

    /// Declares a struct now and gives it fields later (for recursive types).
    pub(crate) fn set_struct_fields(
        &mut self,
        id: StructId,
        struct_fields: IndexMap<String, Field>,
    ) {
        let (structs, _, _, _) = __unchecked::definitions_mut(&mut self.schema);
        structs[id.0 as usize].fields = struct_fields;
    }

    pub(crate) fn add_union(
        &mut self,
        name: &str,
        tags: Vec<(&str, IndexMap<String, Field>)>,
    ) -> UnionId {
        let (_, unions, _, names) = __unchecked::definitions_mut(&mut self.schema);
        let id = UnionId(unions.len() as u32);
        unions.push(UnionDef {
            name: name.to_string(),
            doc: None,
            tags: tags
                .into_iter()
                .map(|(tag_name, payload)| (tag_name.to_string(), tag(tag_name, payload)))
                .collect(),
        });
        names.insert(name.to_string(), TypeName::Union(id));
        id
    }

    /// A function whose result has `Ok_` with `ok` fields plus the standard error tags.
    pub(crate) fn function(
        &mut self,
        name: &str,
        args: IndexMap<String, Field>,
        ok: IndexMap<String, Field>,
    ) -> FunctionId {
        let (_, _, functions, names) = __unchecked::definitions_mut(&mut self.schema);
        let id = FunctionId(functions.len() as u32);
        let mut tags = IndexMap::new();
        tags.insert("Ok_".to_string(), tag("Ok_", ok));
        let unknown = tag("ErrorUnknown_", fields(vec![("caseId!", TypeKind::String)]));
        tags.insert(unknown.name.clone(), unknown);
        functions.push(FunctionDef {
            name: name.to_string(),
            doc: None,
            args,
            result: UnionDef {
                name: format!("{name}.->"),
                doc: None,
                tags,
            },
            internal: name.ends_with('_'),
            unauthenticated: false,
            errors_regex: "^errors\\..*$".to_string(),
        });
        names.insert(name.to_string(), TypeName::Function(id));
        id
    }

    pub(crate) fn build(self) -> Schema {
        self.schema
    }
}

/// The model of the conformance schema `schemas/binary` (plus the standard functions).
pub(crate) fn binary_conformance_schema() -> Schema {
    let mut builder = SchemaBuilder::with_standard_functions();
    let data = builder.add_struct(
        "struct.Data",
        fields(vec![("id", TypeKind::Integer), ("name", TypeKind::String)]),
    );
    builder.function(
        "fn.example",
        fields(vec![]),
        fields(vec![("data", array(TypeKind::Struct(data)))]),
    );
    builder.build()
}

/// The checksum the conformance vectors give for `schemas/binary`.
pub(crate) const BINARY_CONFORMANCE_CHECKSUM: i32 = 1059755324;
