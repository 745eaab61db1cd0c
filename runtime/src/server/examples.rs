//! `fn.api_` with `includeExamples!`: every definition gets a deterministic example
//! payload, drawn from a [`RandomGenerator`] restarted for each definition (collections
//! of two), so every implementation produces the same examples for the same schema.

use indexmap::IndexMap;
use serde_json::{Map, Value};
use telepact_schema::{Field, Schema, TypeExpr, TypeKind, TypeName};

use crate::budget::{GenerationLimits, ceiling};
use crate::random::{GenerateOptions, Generator, PreparedSchema, RandomGenerator};

/// Every array and object in an example has this many entries.
const COLLECTION_LENGTH: u32 = 2;

/// Every field, optional ones included, within `limits`.
fn options(limits: GenerationLimits) -> GenerateOptions {
    GenerateOptions {
        include_optional_fields: true,
        randomize_optional_fields: false,
        always_include_required_fields: true,
        limits,
    }
}

/// What every example of one answer is generated with.
struct Context<'a> {
    prepared: PreparedSchema<'a>,
    options: GenerateOptions,
}

/// The definitions with example payloads added, all of them together within `limits`:
/// once the answer holds `limits.max_values` values, later examples are tight, and once
/// it holds the generation's [`ceiling`], later definitions get none (a wide struct in
/// every function's result made a 221 KB schema's answer 127 MB).
pub(crate) fn with_examples(
    schema: &Schema,
    definitions: &[Value],
    limits: GenerationLimits,
) -> Vec<Value> {
    let mut context = Context {
        prepared: PreparedSchema::new(schema),
        options: options(limits),
    };
    let mut generated = 0;
    definitions
        .iter()
        .map(|definition| match definition {
            Value::Object(map) if generated >= ceiling(limits) => Value::Object(map.clone()),
            Value::Object(map) => {
                context.options.limits.max_values = limits.max_values.saturating_sub(generated);
                let (with_example, values) = add_examples(&context, map);
                generated += values;
                Value::Object(with_example)
            }
            other => other.clone(),
        })
        .collect()
}

fn schema_key(definition: &Map<String, Value>) -> Option<&str> {
    definition
        .keys()
        .map(String::as_str)
        .find(|k| !matches!(*k, "///" | "->" | "_errors") && !k.starts_with('$'))
}

/// The definition with its examples, and how many values they took.
fn add_examples(
    context: &Context<'_>,
    definition: &Map<String, Value>,
) -> (Map<String, Value>, usize) {
    let Context { prepared, options } = context;
    let (schema, depths) = (prepared.schema(), &prepared.depths);
    let mut out = definition.clone();
    let Some(key) = schema_key(definition) else {
        return (out, 0);
    };
    if key.starts_with("info.") {
        out.insert("example".to_string(), Value::Object(Map::new()));
        return (out, 0);
    }
    let mut random = RandomGenerator::new(COLLECTION_LENGTH, COLLECTION_LENGTH);
    if let Some((id, function)) = schema.function_by_name(key) {
        let mut generator = Generator::new(schema, depths, &mut random, *options, key);
        let input = generator.call(function, None);
        let output = generator.result(id, None);
        out.insert("inputExample".to_string(), input);
        out.insert("outputExample".to_string(), output);
        return (out, generator.values_generated());
    }
    let mut generator = Generator::new(schema, depths, &mut random, *options, &prepared.scope);
    if key.starts_with("headers.") {
        let input = header_example(
            &mut generator,
            definition.get(key),
            schema.request_headers(),
        );
        let output = header_example(
            &mut generator,
            definition.get("->"),
            schema.response_headers(),
        );
        out.insert("inputExample".to_string(), input);
        out.insert("outputExample".to_string(), output);
    } else if key.starts_with("errors.") {
        let tags = definition
            .get(key)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut written = Written {
            generator: &mut generator,
            schema,
        };
        out.insert("example".to_string(), written.union(tags));
    } else {
        let example = match named(schema, key) {
            Some(kind) => generator.value(&plain(kind), None),
            None => Value::Null,
        };
        out.insert("example".to_string(), example);
    }
    (out, generator.values_generated())
}

fn header_example(
    generator: &mut Generator<'_>,
    written: Option<&Value>,
    declared: &IndexMap<String, Field>,
) -> Value {
    let mut names: Vec<&String> = written
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    names.sort();
    let mut example = Map::new();
    for name in names {
        if let Some(field) = declared.get(name.as_str()) {
            let value = generator.value(&field.ty, None);
            example.insert(name.clone(), value);
        }
    }
    Value::Object(example)
}

fn plain(kind: TypeKind) -> TypeExpr {
    TypeExpr {
        kind,
        nullable: false,
    }
}

/// The type a schema key or primitive name stands for.
fn named(schema: &Schema, name: &str) -> Option<TypeKind> {
    Some(match name {
        "boolean" => TypeKind::Boolean,
        "integer" => TypeKind::Integer,
        "number" => TypeKind::Number,
        "string" => TypeKind::String,
        "any" => TypeKind::Any,
        "bytes" => TypeKind::Bytes,
        _ => match schema.names().get(name)? {
            TypeName::Struct(id) => TypeKind::Struct(*id),
            TypeName::Union(id) => TypeKind::Union(*id),
            TypeName::Function(id) => TypeKind::FunctionLink(*id),
            TypeName::Select => TypeKind::Select,
            TypeName::MockCall => TypeKind::MockCall,
            TypeName::MockStub => TypeKind::MockStub,
        },
    })
}

/// Examples of types as written in an `errors.*` definition (its tags are merged
/// into results, so it has no type of its own).
struct Written<'g, 'a> {
    generator: &'g mut Generator<'a>,
    schema: &'a Schema,
}

impl Written<'_, '_> {
    /// An example of a type as written (`"string?"`, `["T"]`, `{"string": "T"}`).
    fn value(&mut self, expression: &Value) -> Value {
        match expression {
            Value::String(text) => {
                let (name, nullable) = match text.strip_suffix('?') {
                    Some(name) => (name, true),
                    None => (text.as_str(), false),
                };
                let Some(kind) = named(self.schema, name) else {
                    return Value::Null;
                };
                let ty = TypeExpr { kind, nullable };
                self.generator.value(&ty, None)
            }
            Value::Array(items) => match items.first() {
                Some(inner) => {
                    let length = self.generator.collection_length();
                    Value::Array((0..length).map(|_| self.value(inner)).collect())
                }
                None => Value::Array(Vec::new()),
            },
            Value::Object(map) if map.len() == 1 && map.contains_key("string") => {
                let length = self.generator.collection_length();
                let mut out = Map::new();
                for _ in 0..length {
                    let key = self.generator.random_string().to_string();
                    let value = self.value(&map["string"]);
                    out.insert(key, value);
                }
                Value::Object(out)
            }
            _ => Value::Null,
        }
    }

    /// An `errors.*` example: one of its written tags, with every field.
    fn union(&mut self, tags: &[Value]) -> Value {
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
        let index = self.generator.random_index(entries.len());
        let Some((tag, fields)) = entries.get(index) else {
            return Value::Object(Map::new());
        };
        let mut names: Vec<&String> = fields.keys().collect();
        names.sort();
        let mut payload = Map::new();
        for name in names {
            let value = self.value(&fields[name.as_str()]);
            payload.insert(name.clone(), value);
        }
        let mut map = Map::new();
        map.insert((*tag).clone(), Value::Object(payload));
        Value::Object(map)
    }
}
