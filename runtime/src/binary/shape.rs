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

/// Which definitions can hold `bytes` somewhere inside, worked out once for the whole
/// schema: when an answer cannot, encoding skips the schema walk altogether. Found by
/// following references backwards from the definitions that hold `bytes` themselves,
/// in time linear in the schema (a search per function went over every type its result
/// reaches: functions × types in all).
#[derive(Debug)]
pub(crate) struct BytesReach {
    /// Per definition, as [`Numbering`] counts them.
    holds: Vec<bool>,
    numbering: Numbering,
}

/// Definitions counted in one sequence: structs, then unions, then functions'
/// arguments (a field of type `fn.x` holds a call, `{"fn.x": {arguments}}`).
#[derive(Debug, Clone, Copy)]
struct Numbering {
    unions_from: usize,
    functions_from: usize,
}

impl Numbering {
    /// The definition a type (past its lists and maps) refers to.
    fn of(self, kind: &TypeKind) -> Option<usize> {
        match innermost(kind) {
            TypeKind::Struct(id) => Some(id.0 as usize),
            TypeKind::Union(id) => Some(self.unions_from + id.0 as usize),
            TypeKind::FunctionLink(id) => Some(self.functions_from + id.0 as usize),
            _ => None,
        }
    }
}

impl BytesReach {
    pub(crate) fn new(schema: &Schema) -> Self {
        let unions_from = schema.structs().len();
        let functions_from = unions_from + schema.unions().len();
        let numbering = Numbering {
            unions_from,
            functions_from,
        };
        let structs = schema
            .structs()
            .iter()
            .map(|s| field_kinds(s.fields.values()));
        let unions = schema
            .unions()
            .iter()
            .map(|u| field_kinds(u.tags.values().flat_map(|tag| tag.fields.values())));
        let functions = schema
            .functions()
            .iter()
            .map(|f| field_kinds(f.args.values()));
        let count = functions_from + schema.functions().len();
        let mut holds = Vec::with_capacity(count);
        let mut referrers: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (definition, kinds) in structs.chain(unions).chain(functions).enumerate() {
            holds.push(kinds.iter().any(|kind| matches!(kind, TypeKind::Bytes)));
            for target in kinds.iter().filter_map(|kind| numbering.of(kind)) {
                referrers[target].push(definition);
            }
        }
        let mut pending: Vec<usize> = (0..count).filter(|&d| holds[d]).collect();
        while let Some(definition) = pending.pop() {
            for &referrer in &referrers[definition] {
                if !holds[referrer] {
                    holds[referrer] = true;
                    pending.push(referrer);
                }
            }
        }
        BytesReach { holds, numbering }
    }

    /// Whether a value with these fields can hold `bytes` anywhere inside.
    pub(crate) fn fields<'f>(&self, fields: impl IntoIterator<Item = &'f Field>) -> bool {
        fields.into_iter().any(|field| {
            let kind = innermost(&field.ty.kind);
            matches!(kind, TypeKind::Bytes)
                || self
                    .numbering
                    .of(kind)
                    .is_some_and(|definition| self.holds.get(definition) == Some(&true))
        })
    }
}

/// The kinds of `fields`' types, past any lists and maps around them.
fn field_kinds<'f>(fields: impl Iterator<Item = &'f Field>) -> Vec<&'f TypeKind> {
    fields.map(|field| innermost(&field.ty.kind)).collect()
}

/// `kind` without the lists and maps around it.
fn innermost(mut kind: &TypeKind) -> &TypeKind {
    while let TypeKind::Array(inner) | TypeKind::Object(inner) = kind {
        kind = &inner.kind;
    }
    kind
}
