//! What the schema says about a position in a body, as far as encoding cares: only
//! `bytes` positions are treated differently (they travel as MessagePack binary).

use indexmap::IndexMap;
use telepact_schema::{Field, Schema, Tag, TypeKind};

/// The declared shape of a value being encoded.
#[derive(Clone, Copy)]
pub(crate) enum Shape<'a> {
    /// Nothing known (no schema, `any`, or a key the schema does not declare).
    Unknown,
    /// A value of this type.
    Type(&'a TypeKind),
    /// An object whose keys are these fields (arguments, a tag's payload).
    Fields(&'a IndexMap<String, Field>),
    /// An object of one key, a tag of these.
    Tags(&'a IndexMap<String, Tag>),
}

impl<'a> Shape<'a> {
    /// Whether a string here is base64 that should travel as raw bytes.
    pub(crate) fn is_bytes(self) -> bool {
        matches!(self, Shape::Type(TypeKind::Bytes))
    }

    /// The shape of an array's elements.
    pub(crate) fn element(self) -> Shape<'a> {
        match self {
            Shape::Type(TypeKind::Array(element)) => Shape::Type(&element.kind),
            _ => Shape::Unknown,
        }
    }

    /// The shape of the value under `key` of an object.
    pub(crate) fn entry(self, schema: Option<&'a Schema>, key: &str) -> Shape<'a> {
        let Some(schema) = schema else {
            return Shape::Unknown;
        };
        match self {
            Shape::Unknown => Shape::Unknown,
            Shape::Fields(fields) => field_shape(fields, key),
            Shape::Tags(tags) => tags
                .get(key)
                .map_or(Shape::Unknown, |tag| Shape::Fields(&tag.fields)),
            Shape::Type(kind) => match kind {
                TypeKind::Object(value) => Shape::Type(&value.kind),
                TypeKind::Struct(id) => field_shape(&schema.struct_def(*id).fields, key),
                TypeKind::Union(id) => {
                    Shape::Tags(&schema.union_def(*id).tags).entry(Some(schema), key)
                }
                TypeKind::FunctionLink(id) => {
                    let function = schema.function(*id);
                    if function.name == key {
                        Shape::Fields(&function.args)
                    } else {
                        Shape::Unknown
                    }
                }
                _ => Shape::Unknown,
            },
        }
    }
}

fn field_shape<'a>(fields: &'a IndexMap<String, Field>, key: &str) -> Shape<'a> {
    fields
        .get(key)
        .map_or(Shape::Unknown, |field| Shape::Type(&field.ty.kind))
}

/// Whether a value with these fields can hold `bytes` anywhere inside. When it cannot,
/// encoding skips the schema walk altogether.
pub(crate) fn fields_reach_bytes(schema: &Schema, fields: &IndexMap<String, Field>) -> bool {
    let mut search = BytesSearch {
        schema,
        seen: std::collections::HashSet::new(),
    };
    search.fields(fields)
}

struct BytesSearch<'a> {
    schema: &'a Schema,
    // Definitions already searched, by kind and index: recursion must end.
    seen: std::collections::HashSet<(u8, u32)>,
}

impl BytesSearch<'_> {
    fn fields(&mut self, fields: &IndexMap<String, Field>) -> bool {
        fields.values().any(|field| self.kind(&field.ty.kind))
    }

    fn kind(&mut self, kind: &TypeKind) -> bool {
        let schema = self.schema;
        match kind {
            TypeKind::Bytes => true,
            TypeKind::Array(element) | TypeKind::Object(element) => self.kind(&element.kind),
            TypeKind::Struct(id) => {
                self.seen.insert((0, id.0)) && self.fields(&schema.struct_def(*id).fields)
            }
            TypeKind::Union(id) => {
                self.seen.insert((1, id.0))
                    && schema
                        .union_def(*id)
                        .tags
                        .values()
                        .any(|tag| self.fields(&tag.fields))
            }
            TypeKind::FunctionLink(id) => {
                self.seen.insert((2, id.0)) && self.fields(&schema.function(*id).args)
            }
            TypeKind::Boolean
            | TypeKind::Integer
            | TypeKind::Number
            | TypeKind::String
            | TypeKind::Any
            | TypeKind::Select
            | TypeKind::MockCall
            | TypeKind::MockStub => false,
        }
    }
}
