//! `fn.api_` with `includeExamples!`: every definition gets a deterministic example
//! payload. The generator is a seeded xorshift over 32-bit integers with the protocol's
//! word list, walked in sorted key order, so every implementation produces the same
//! examples for the same schema. Generation keeps within [`GenerationLimits`], so
//! recursive types end and the answer stays small.

use serde_json::{Map, Value};
use telepact_schema::{Field, Schema, TypeExpr, TypeKind, TypeName};

use crate::budget::{Budget, Composite, Endings, GenerationLimits, Room};
use crate::validate::possible_select;

const WORDS: [&str; 24] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi",
    "psi", "omega",
];

/// Every array and object in an example has this many entries (none once the budget
/// is tight).
const COLLECTION_LENGTH: usize = 2;

/// The deterministic generator, restarted for every definition.
struct Random {
    seed: i32,
}

impl Random {
    fn new() -> Self {
        Random { seed: 1 }
    }

    fn next_int(&mut self) -> i64 {
        let mut x = self.seed;
        x ^= x.wrapping_shl(16);
        x ^= x >> 11;
        x ^= x.wrapping_shl(5);
        self.seed = if x == 0 { 1 } else { x };
        i64::from(self.seed & 0x7fff_ffff)
    }

    /// `0` for a zero ceiling, without advancing.
    fn below(&mut self, ceiling: usize) -> usize {
        if ceiling == 0 {
            return 0;
        }
        (self.next_int() as usize) % ceiling
    }

    fn boolean(&mut self) -> bool {
        self.below(31) > 15
    }

    fn double(&mut self) -> f64 {
        (self.next_int() & 0x7fff_ffff) as f64 / f64::from(0x7fff_ffff)
    }

    fn word(&mut self) -> &'static str {
        WORDS[self.below(WORDS.len())]
    }

    fn bytes_base64(&mut self) -> String {
        let bytes = (self.next_int() as i32).to_be_bytes();
        base64_encode(&bytes)
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Generates example values of schema types.
struct Generator<'a> {
    schema: &'a Schema,
    endings: &'a Endings,
    random: Random,
    budget: Budget,
    /// The function whose possible selects an `_ext.Select_` example draws from.
    scope: &'a str,
}

impl Generator<'_> {
    fn value(&mut self, ty: &TypeExpr) -> Value {
        let room = self.budget.enter();
        let value = match room {
            Room::Exhausted => Value::Null,
            Room::Tight if ty.nullable => Value::Null,
            Room::Generous if ty.nullable && self.random.boolean() => Value::Null,
            _ => self.kind(&ty.kind, room),
        };
        self.budget.leave();
        value
    }

    fn kind(&mut self, kind: &TypeKind, room: Room) -> Value {
        let length = if room == Room::Generous {
            COLLECTION_LENGTH
        } else {
            0
        };
        match kind {
            TypeKind::Boolean => Value::Bool(self.random.boolean()),
            TypeKind::Integer => Value::from(self.random.next_int()),
            TypeKind::Number => Value::from(self.random.double()),
            TypeKind::String => Value::from(self.random.word()),
            TypeKind::Bytes => Value::String(self.random.bytes_base64()),
            TypeKind::Any => self.any(),
            TypeKind::Array(inner) => {
                Value::Array((0..length).map(|_| self.value(inner)).collect())
            }
            TypeKind::Object(inner) => {
                let mut map = Map::new();
                for _ in 0..length {
                    let key = self.random.word().to_string();
                    let value = self.value(inner);
                    map.insert(key, value);
                }
                Value::Object(map)
            }
            TypeKind::Struct(id) => {
                let fields = &self.schema.struct_def(*id).fields;
                self.within(Composite::Struct(*id), |g| g.fields(fields.values()))
            }
            TypeKind::Union(id) => {
                let union = self.schema.union_def(*id);
                let tags = union.tags.values().map(|t| (t.name.as_str(), &t.fields));
                self.within(Composite::Union(*id), |g| g.union(tags))
            }
            TypeKind::FunctionLink(id) => {
                let function = self.schema.function(*id);
                let tags = [(function.name.as_str(), &function.args)].into_iter();
                self.within(Composite::Function(*id), |g| g.union(tags))
            }
            TypeKind::Select => self.select(),
        }
    }

    /// Generates the payload of a definition that may recur.
    fn within(&mut self, composite: Composite, generate: impl FnOnce(&mut Self) -> Value) -> Value {
        self.budget.enter_composite(composite);
        let value = generate(self);
        self.budget.leave_composite();
        value
    }

    fn any(&mut self) -> Value {
        match self.random.below(3) {
            0 => Value::Bool(self.random.boolean()),
            1 => Value::from(self.random.next_int()),
            _ => Value::from(self.random.word()),
        }
    }

    /// A struct with every field (required ones only once the budget is tight), in key
    /// order.
    fn fields<'f>(&mut self, fields: impl Iterator<Item = &'f Field>) -> Value {
        let generous = self.budget.room() == Room::Generous;
        let mut sorted: Vec<&Field> = fields.filter(|f| generous || !f.optional).collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        let mut map = Map::new();
        for field in sorted {
            let value = self.value(&field.ty);
            map.insert(field.key.clone(), value);
        }
        Value::Object(map)
    }

    /// One tag, drawn from the tags in name order; once the budget is tight, the first
    /// tag whose required fields end soonest.
    fn union<'f>(
        &mut self,
        tags: impl Iterator<Item = (&'f str, &'f indexmap::IndexMap<String, Field>)>,
    ) -> Value {
        let mut sorted: Vec<_> = tags.collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let index = if self.budget.room() == Room::Generous {
            self.random.below(sorted.len())
        } else {
            let endings = self.endings;
            (0..sorted.len())
                .min_by_key(|i| endings.fields(sorted[*i].1))
                .unwrap_or(0)
        };
        let Some((tag, fields)) = sorted.get(index) else {
            return Value::Object(Map::new());
        };
        let payload = self.fields(fields.values());
        let mut map = Map::new();
        map.insert(tag.to_string(), payload);
        Value::Object(map)
    }

    fn select(&mut self) -> Value {
        let possible = self
            .schema
            .function_by_name(self.scope)
            .map(|(_, function)| possible_select(self.schema, &function.result));
        match possible {
            Some(possible) => self.sub_select(&possible),
            None => Value::Object(Map::new()),
        }
    }

    fn sub_select(&mut self, possible: &Value) -> Value {
        match possible {
            Value::Array(names) => {
                let mut chosen: Vec<&Value> =
                    names.iter().filter(|_| self.random.boolean()).collect();
                chosen.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                Value::Array(chosen.into_iter().cloned().collect())
            }
            Value::Object(sections) => {
                let mut keys: Vec<&String> = sections.keys().collect();
                keys.sort();
                let mut chosen = Map::new();
                for key in keys {
                    if !self.random.boolean() {
                        continue;
                    }
                    let section = self.sub_select(&sections[key.as_str()]);
                    if section.as_object().is_some_and(Map::is_empty) {
                        continue;
                    }
                    chosen.insert(key.clone(), section);
                }
                Value::Object(chosen)
            }
            _ => Value::Null,
        }
    }

    /// An example of a type as written in a definition (`"string?"`, `["T"]`,
    /// `{"string": "T"}`), for `errors.*` entries.
    fn written(&mut self, expression: &Value) -> Value {
        match expression {
            Value::String(text) => {
                let (name, nullable) = match text.strip_suffix('?') {
                    Some(name) => (name, true),
                    None => (text.as_str(), false),
                };
                if nullable && (self.budget.room() != Room::Generous || self.random.boolean()) {
                    return Value::Null;
                }
                self.named(name)
            }
            Value::Array(items) => match items.first() {
                Some(inner) => Value::Array(
                    (0..self.written_length())
                        .map(|_| self.written(inner))
                        .collect(),
                ),
                None => Value::Array(Vec::new()),
            },
            Value::Object(map) if map.len() == 1 && map.contains_key("string") => {
                let mut out = Map::new();
                for _ in 0..self.written_length() {
                    let key = self.random.word().to_string();
                    let value = self.written(&map["string"]);
                    out.insert(key, value);
                }
                Value::Object(out)
            }
            _ => Value::Null,
        }
    }

    fn written_length(&self) -> usize {
        if self.budget.room() == Room::Generous {
            COLLECTION_LENGTH
        } else {
            0
        }
    }

    fn named(&mut self, name: &str) -> Value {
        let kind = match name {
            "boolean" => TypeKind::Boolean,
            "integer" => TypeKind::Integer,
            "number" => TypeKind::Number,
            "string" => TypeKind::String,
            "any" => TypeKind::Any,
            "bytes" => TypeKind::Bytes,
            _ => match self.schema.names.get(name) {
                Some(TypeName::Struct(id)) => TypeKind::Struct(*id),
                Some(TypeName::Union(id)) => TypeKind::Union(*id),
                Some(TypeName::Function(id)) => TypeKind::FunctionLink(*id),
                Some(TypeName::Select) => TypeKind::Select,
                None => return Value::Null,
            },
        };
        self.value(&TypeExpr {
            kind,
            nullable: false,
        })
    }

    /// An `errors.*` example: one of its written tags, with every field.
    fn written_union(&mut self, tags: &[Value]) -> Value {
        let mut entries: Vec<(&String, &Map<String, Value>)> = tags
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|tag| {
                tag.iter()
                    .find(|(k, _)| k.as_str() != "///")
                    .and_then(|(k, v)| v.as_object().map(|fields| (k, fields)))
            })
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let index = self.random.below(entries.len());
        let Some((tag, fields)) = entries.get(index) else {
            return Value::Object(Map::new());
        };
        let mut names: Vec<&String> = fields.keys().collect();
        names.sort();
        let mut payload = Map::new();
        for name in names {
            let value = self.written(&fields[name.as_str()]);
            payload.insert(name.clone(), value);
        }
        let mut map = Map::new();
        map.insert((*tag).clone(), Value::Object(payload));
        Value::Object(map)
    }
}

/// The definitions with example payloads added, each example within `limits`.
pub(crate) fn with_examples(
    schema: &Schema,
    definitions: &[Value],
    limits: GenerationLimits,
) -> Vec<Value> {
    let scope = default_scope(schema);
    let endings = Endings::new(schema);
    definitions
        .iter()
        .map(|definition| match definition {
            Value::Object(map) => {
                let generator = Generator {
                    schema,
                    endings: &endings,
                    random: Random::new(),
                    budget: Budget::new(limits),
                    scope: &scope,
                };
                Value::Object(add_examples(generator, map))
            }
            other => other.clone(),
        })
        .collect()
}

/// The first non-internal function by name (or the first function): the scope of
/// `_ext.Select_` examples outside function definitions.
fn default_scope(schema: &Schema) -> String {
    let mut public: Vec<&str> = schema
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .filter(|name| !name.ends_with('_'))
        .collect();
    public.sort();
    let mut all: Vec<&str> = schema.functions.iter().map(|f| f.name.as_str()).collect();
    all.sort();
    public
        .first()
        .or(all.first())
        .map_or_else(|| "fn.ping_".to_string(), |name| name.to_string())
}

fn schema_key(definition: &Map<String, Value>) -> Option<&str> {
    definition
        .keys()
        .map(String::as_str)
        .find(|k| !matches!(*k, "///" | "->" | "_errors") && !k.starts_with('$'))
}

fn add_examples<'a>(
    mut generator: Generator<'a>,
    definition: &'a Map<String, Value>,
) -> Map<String, Value> {
    let schema = generator.schema;
    let mut out = definition.clone();
    let Some(key) = schema_key(definition) else {
        return out;
    };
    if key.starts_with("info.") {
        out.insert("example".to_string(), Value::Object(Map::new()));
    } else if let Some((_, function)) = schema.function_by_name(key) {
        generator.scope = key;
        let input = generator.union([(function.name.as_str(), &function.args)].into_iter());
        let output = generator.union(
            function
                .result
                .tags
                .values()
                .map(|t| (t.name.as_str(), &t.fields)),
        );
        out.insert("inputExample".to_string(), input);
        out.insert("outputExample".to_string(), output);
    } else if key.starts_with("headers.") {
        let input = header_example(&mut generator, definition.get(key), &schema.request_headers);
        let output = header_example(
            &mut generator,
            definition.get("->"),
            &schema.response_headers,
        );
        out.insert("inputExample".to_string(), input);
        out.insert("outputExample".to_string(), output);
    } else if key.starts_with("errors.") {
        let tags = definition
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        out.insert("example".to_string(), generator.written_union(tags));
    } else {
        out.insert("example".to_string(), generator.named(key));
    }
    out
}

fn header_example(
    generator: &mut Generator<'_>,
    written: Option<&Value>,
    declared: &indexmap::IndexMap<String, Field>,
) -> Value {
    let mut names: Vec<&String> = written
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    names.sort();
    let mut example = Map::new();
    for name in names {
        if let Some(field) = declared.get(name.as_str()) {
            let value = generator.value(&field.ty);
            example.insert(name.clone(), value);
        }
    }
    Value::Object(example)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_a_fixed_xorshift_sequence() {
        let mut random = Random::new();
        let first: Vec<i64> = (0..3).map(|_| random.next_int()).collect();
        assert_eq!(first, vec![2163713, 3178529, 35766321]);
    }

    #[test]
    fn base64_pads_short_chunks() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"a"), "YQ==");
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_encode(b"abc"), "YWJj");
    }
}
