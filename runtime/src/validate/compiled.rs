//! The schema, reshaped once per server for fast validation: every struct, union and
//! function gets a field table that finds a key without hashing when it is small.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use foldhash::fast::RandomState;
use indexmap::IndexMap;
use serde_json::Value;
use telepact_schema::{Field, FunctionId, Schema, Tag, TypeExpr};

use super::nesting::Depths;
use super::possible_select::possible_select;
use crate::binary::{BinaryEncoding, BytesReach};

/// Tables with more entries than this are looked up through a hash map.
const LINEAR_LOOKUP_MAX: usize = 12;

/// Finds an entry's index by key: a linear scan for small tables, a hash map otherwise.
#[derive(Debug)]
struct KeyIndex {
    hashed: Option<HashMap<String, usize>>,
}

impl KeyIndex {
    fn new<'a>(keys: impl ExactSizeIterator<Item = &'a String>) -> Self {
        if keys.len() <= LINEAR_LOOKUP_MAX {
            return KeyIndex { hashed: None };
        }
        let hashed = keys.enumerate().map(|(i, k)| (k.clone(), i)).collect();
        KeyIndex {
            hashed: Some(hashed),
        }
    }

    fn find<'a>(&self, key: &str, mut keys: impl Iterator<Item = &'a str>) -> Option<usize> {
        match &self.hashed {
            Some(map) => map.get(key).copied(),
            None => keys.position(|k| k == key),
        }
    }
}

/// The fields of a struct, a union tag or a function's arguments.
#[derive(Debug)]
pub(crate) struct FieldSet {
    pub(crate) fields: Vec<Field>,
    /// Each field's id in the schema's binary encoding (see [`Compiled::binary_checksum`]).
    pub(crate) ids: Vec<Option<u32>>,
    /// Each field's key as a JSON object writes it: quoted, escaped, and the colon after.
    pub(crate) json_keys: Vec<String>,
    index: KeyIndex,
    /// How many fields are required; lets validation skip the missing-field scan
    /// when every present key matched a required one.
    pub(crate) required: usize,
}

impl FieldSet {
    pub(crate) fn new(fields: &IndexMap<String, Field>, encoding: &BinaryEncoding) -> Self {
        let fields: Vec<Field> = fields.values().cloned().collect();
        let ids = fields.iter().map(|f| encoding.id(&f.key)).collect();
        let json_keys = fields.iter().map(|f| json_key(&f.key)).collect();
        let index = KeyIndex::new(fields.iter().map(|f| &f.key));
        let required = fields.iter().filter(|f| !f.optional).count();
        FieldSet {
            fields,
            ids,
            json_keys,
            index,
            required,
        }
    }

    pub(crate) fn find(&self, key: &str) -> Option<&Field> {
        self.find_from(key, 0).map(|(_, field)| field)
    }

    /// Like [`find`](Self::find), trying the field at `expected` first, with its index.
    /// Messages mostly list their keys in the schema's order, so a caller that expects
    /// the field after the one it found last compares one key instead of scanning or
    /// hashing.
    #[inline]
    pub(crate) fn find_from(&self, key: &str, expected: usize) -> Option<(usize, &Field)> {
        match self.fields.get(expected) {
            Some(field) if field.key == key => Some((expected, field)),
            _ => self.find_anywhere(key),
        }
    }

    #[cold]
    fn find_anywhere(&self, key: &str) -> Option<(usize, &Field)> {
        let i = self
            .index
            .find(key, self.fields.iter().map(|f| f.key.as_str()))?;
        self.fields.get(i).map(|field| (i, field))
    }
}

/// `"key":`, as `serde_json` writes a key of an object.
fn json_key(key: &str) -> String {
    let mut rendered = Value::from(key).to_string();
    rendered.push(':');
    rendered
}

/// One union tag.
#[derive(Debug)]
pub(crate) struct TagEntry {
    pub(crate) name: String,
    /// Shared by every function result that takes the tag from the same `errors.*`
    /// set (see [`ErrorTags`]).
    pub(crate) fields: Arc<FieldSet>,
}

/// The compiled fields of each `errors.*` tag, made once and shared by the results
/// that take it. Every public function's result takes every matching set's tags (the
/// standard ones at least), so compiling them for each function grew the validator by
/// functions × error tags.
#[derive(Default)]
struct ErrorTags<'s> {
    compiled: HashMap<(&'s str, &'s str), Arc<FieldSet>>,
}

impl<'s> ErrorTags<'s> {
    fn fields(&mut self, tag: &'s Tag, encoding: &BinaryEncoding) -> Arc<FieldSet> {
        let Some(set) = tag.from_errors.as_deref() else {
            return Arc::new(FieldSet::new(&tag.fields, encoding));
        };
        let compiled = self
            .compiled
            .entry((set, tag.name.as_str()))
            .or_insert_with(|| Arc::new(FieldSet::new(&tag.fields, encoding)));
        Arc::clone(compiled)
    }
}

/// The tags of a union or of a function result.
#[derive(Debug)]
pub(crate) struct TagSet {
    /// The key a `@select_` object uses for this union (`union.X`, or `->` for a result).
    pub(crate) select_key: String,
    pub(crate) tags: Vec<TagEntry>,
    index: KeyIndex,
}

impl TagSet {
    fn new<'s>(
        select_key: String,
        tags: &'s IndexMap<String, Tag>,
        encoding: &BinaryEncoding,
        error_tags: &mut ErrorTags<'s>,
    ) -> Self {
        let tags: Vec<TagEntry> = tags
            .values()
            .map(|t| TagEntry {
                name: t.name.clone(),
                fields: error_tags.fields(t, encoding),
            })
            .collect();
        let index = KeyIndex::new(tags.iter().map(|t| &t.name));
        TagSet {
            select_key,
            tags,
            index,
        }
    }

    pub(crate) fn find(&self, tag: &str) -> Option<&TagEntry> {
        self.tags.get(self.position(tag)?)
    }

    /// Where `tag` stands among the tags.
    pub(crate) fn position(&self, tag: &str) -> Option<usize> {
        self.index
            .find(tag, self.tags.iter().map(|t| t.name.as_str()))
    }
}

/// A struct definition: its select key (`struct.X`) and fields.
#[derive(Debug)]
pub(crate) struct StructEntry {
    pub(crate) name: String,
    pub(crate) fields: FieldSet,
}

/// A function: arguments, result, and what the server needs to know to call it.
#[derive(Debug)]
pub(crate) struct FunctionEntry {
    pub(crate) name: String,
    pub(crate) args: FieldSet,
    pub(crate) result: TagSet,
    pub(crate) requires_auth: bool,
    /// What a `@select_` header may select for this function (`_ext.Select_`), worked
    /// out when a request first selects from it ([`Compiled::possible_select`]).
    possible_select: OnceLock<Value>,
    /// Whether some answer of this function can carry `bytes`: only then does a JSON
    /// answer need its `@base64_` header worked out.
    pub(crate) result_holds_bytes: bool,
    /// Bit `i` set when answers with the result tag at position `i` can nest deeper than
    /// a message may (through `any`, recursive types or a long chain of them): only such
    /// answers, when given as values, are measured before they are sent.
    deep_result_tags: u64,
    /// The bit of `Ok_` in `deep_result_tags` (set too when there is no such tag).
    deep_ok: bool,
}

impl FunctionEntry {
    /// Whether an answer tagged `tag` can nest deeper than a message may; a tag the
    /// schema does not name (sent unvalidated, under `@unsafe_`) can.
    #[inline]
    pub(crate) fn answer_can_nest_too_deep(&self, tag: &str) -> bool {
        // Most answers are `Ok_`: known without looking the tag up.
        if tag == "Ok_" {
            return self.deep_ok;
        }
        tag_bit(self.deep_result_tags, self.result.position(tag))
    }
}

/// The bit of the tag at `position` in `bits`: set for a tag the schema does not name
/// and past the 64th.
fn tag_bit(bits: u64, position: Option<usize>) -> bool {
    position.is_none_or(|i| i >= 64 || bits >> i & 1 == 1)
}

/// Header name → type, for one direction (looked up for every header of every message).
#[derive(Debug, Default)]
pub(crate) struct HeaderSet {
    types: HashMap<String, TypeExpr, RandomState>,
}

impl HeaderSet {
    fn new(fields: &IndexMap<String, Field>) -> Self {
        let types = fields
            .iter()
            .map(|(k, f)| (k.clone(), f.ty.clone()))
            .collect();
        HeaderSet { types }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&TypeExpr> {
        self.types.get(name)
    }
}

/// The whole schema, compiled for validation.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) structs: Vec<StructEntry>,
    pub(crate) unions: Vec<TagSet>,
    pub(crate) functions: Vec<FunctionEntry>,
    /// Function name → id, looked up by the request's target on every call. Callers
    /// never add names, so a fast seeded hash suffices.
    pub(crate) function_ids: HashMap<String, FunctionId, RandomState>,
    pub(crate) request_headers: HeaderSet,
    pub(crate) response_headers: HeaderSet,
    /// The checksum of the binary encoding the field ids come from: the one every
    /// implementation derives from this schema. A reader or writer given another
    /// encoding looks names up in it instead.
    pub(crate) binary_checksum: i32,
    /// The schema itself, for what is worked out only when a request needs it.
    schema: Arc<Schema>,
}

impl Compiled {
    /// Compiles a copy of `schema` (for tests: the library keeps the schema it is given).
    #[cfg(test)]
    pub(crate) fn new(schema: &Schema) -> Self {
        Self::shared(&Arc::new(schema.clone()))
    }

    /// Compiles `schema`, keeping it for what is worked out only when a request needs it.
    pub(crate) fn shared(schema: &Arc<Schema>) -> Self {
        let encoding = BinaryEncoding::new(schema);
        let bytes = BytesReach::new(schema);
        let depths = Depths::new(schema);
        let mut error_tags = ErrorTags::default();
        let structs = schema
            .structs()
            .iter()
            .map(|s| StructEntry {
                name: s.name.clone(),
                fields: FieldSet::new(&s.fields, &encoding),
            })
            .collect();
        let unions = schema
            .unions()
            .iter()
            .map(|u| TagSet::new(u.name.clone(), &u.tags, &encoding, &mut error_tags))
            .collect();
        let functions = schema
            .functions()
            .iter()
            .enumerate()
            .map(|(index, f)| {
                let deep_result_tags = depths.result_tags_past_limit(schema, index);
                let ok = f.result.tags.get_index_of("Ok_");
                FunctionEntry {
                    name: f.name.clone(),
                    args: FieldSet::new(&f.args, &encoding),
                    result: TagSet::new(
                        "->".to_string(),
                        &f.result.tags,
                        &encoding,
                        &mut error_tags,
                    ),
                    requires_auth: schema.requires_auth(f),
                    possible_select: OnceLock::new(),
                    result_holds_bytes: bytes
                        .fields(f.result.tags.values().flat_map(|tag| tag.fields.values())),
                    deep_result_tags,
                    deep_ok: tag_bit(deep_result_tags, ok),
                }
            })
            .collect();
        let function_ids = schema
            .functions()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), FunctionId(i as u32)))
            .collect();
        Compiled {
            structs,
            unions,
            functions,
            function_ids,
            request_headers: HeaderSet::new(schema.request_headers()),
            response_headers: HeaderSet::new(schema.response_headers()),
            binary_checksum: encoding.checksum(),
            schema: Arc::clone(schema),
        }
    }

    /// What a `@select_` header may select for function `id`. Worked out the first time
    /// and kept: the list is as long as the types the result reaches, so lists made for
    /// every function at start grew with functions × types (3,000 functions reaching
    /// 3,000 structs, a 354 KB schema, took a mock server 3.4 GB before it served).
    pub(crate) fn possible_select(&self, id: FunctionId) -> &Value {
        let function = &self.functions[id.0 as usize];
        function.possible_select.get_or_init(|| {
            possible_select(&self.schema, &self.schema.functions()[id.0 as usize].result)
        })
    }

    pub(crate) fn function(&self, id: FunctionId) -> &FunctionEntry {
        &self.functions[id.0 as usize]
    }

    pub(crate) fn function_id(&self, name: &str) -> Option<FunctionId> {
        self.function_ids.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use telepact_schema::TypeKind;

    use super::*;

    fn fields(count: usize) -> FieldSet {
        let fields = (0..count)
            .map(|i| {
                let key = format!("f{i}");
                let field = Field {
                    key: key.clone(),
                    name: key.clone(),
                    optional: false,
                    ty: TypeExpr {
                        kind: TypeKind::Integer,
                        nullable: false,
                    },
                };
                (key, field)
            })
            .collect();
        FieldSet::new(&fields, &BinaryEncoding::from_names(Vec::new()))
    }

    /// The expected position is only a first guess: a wrong or out-of-range one still
    /// finds the field, by scan in a small table and by hash in a large one.
    #[test]
    fn a_field_is_found_wherever_it_was_expected() {
        for count in [3, LINEAR_LOOKUP_MAX + 5] {
            let set = fields(count);
            for i in 0..count {
                let key = format!("f{i}");
                for expected in [i, 0, count - 1, count, usize::MAX] {
                    let (index, field) = set.find_from(&key, expected).expect("found");
                    assert_eq!((index, field.key.as_str()), (i, key.as_str()));
                }
                assert_eq!(set.find(&key).map(|f| f.key.as_str()), Some(key.as_str()));
            }
            assert!(set.find_from("missing", 0).is_none());
            assert!(set.find_from("missing", count).is_none());
        }
    }

    /// Every function's result takes the standard error tags and the schema's own
    /// `errors.*` tags: each is compiled once, however many functions take it, so the
    /// validator grows with functions plus error tags, not their product.
    #[test]
    fn error_tags_are_compiled_once_for_all_functions() {
        let functions = 50;
        let mut definitions: Vec<Value> = (0..functions)
            .map(|i| serde_json::json!({format!("fn.f{i}"): {}, "->": [{"Ok_": {}}]}))
            .collect();
        definitions.push(serde_json::json!({"errors.Own": [{"ErrorOwn": {"why": "string"}}]}));
        let schema = Schema::from_text(&Value::Array(definitions).to_string()).expect("loads");
        let compiled = Compiled::new(&schema);
        let public: Vec<&FunctionEntry> = compiled
            .functions
            .iter()
            .filter(|f| f.name.starts_with("fn.f"))
            .collect();
        assert_eq!(public.len(), functions);
        for tag in ["ErrorOwn", "ErrorUnknown_", "ErrorInvalidRequestBody_"] {
            let first = public[0].result.find(tag).expect("merged");
            for function in &public {
                let entry = function.result.find(tag).expect("merged");
                assert!(Arc::ptr_eq(&entry.fields, &first.fields), "{tag}");
            }
        }
        // A function's own tags stay its own.
        let ok = |i: usize| &public[i].result.find("Ok_").expect("declared").fields;
        assert!(!Arc::ptr_eq(ok(0), ok(1)));
    }
}
