//! The compatibility check against the validator: when `compare` finds nothing, every
//! request an old client can send validates against the new schema, and every answer a
//! new server can give validates against the old one (the fields old clients do not know
//! aside: they ignore those).
//!
//! The schemas are small and random: an argument-only `struct.In`, a result-only
//! `struct.Out`, a `struct.Both` and a `union.U` either may reach, a request header `@h`
//! and a response header `@r`, and a new version made by a few random edits of the old.
//! Header values go through servers, as headers are checked: the new schema's for what
//! old clients send, the old schema's for what the new server answers.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
use telepact::schema::{Field, Schema, TypeExpr, TypeKind, TypeName, compare};
use telepact::{FunctionRouter, HandlerError, Headers, Message, Server, ValueValidator};

/// Field types; `struct.In` and `struct.Out` draw from all, `struct.Both` and the tags
/// of `union.U` from the first `SIMPLE` (no type reaches itself).
const TYPES: [&str; 11] = [
    r#""integer""#,
    r#""integer?""#,
    r#""string""#,
    r#""boolean""#,
    r#"["integer"]"#,
    r#"["integer?"]"#,
    r#"{"string": "integer"}"#,
    r#""struct.Both""#,
    r#""struct.Both?""#,
    r#""union.U""#,
    r#""union.U?""#,
];
const SIMPLE: usize = 7;
/// The other end of each type's `?`, where it has one.
const NULLABLE_TWIN: [Option<usize>; 11] = [
    Some(1),
    Some(0),
    None,
    None,
    Some(5),
    Some(4),
    None,
    Some(8),
    Some(7),
    Some(10),
    Some(9),
];
const FIELDS: [&str; 4] = ["a", "b", "c", "d"];
const TAGS: [&str; 3] = ["A", "B", "C"];

/// A field slot: absent, or present with `!` or not and a type (an index of `TYPES`).
type Slot = Option<(bool, usize)>;

#[derive(Debug, Clone)]
struct Model {
    /// `struct.In`, `struct.Out`, `struct.Both`: one slot per name of `FIELDS`.
    structs: [[Slot; 4]; 3],
    /// `union.U`: per tag of `TAGS`, absent or present with one slot `x`.
    tags: [Option<Slot>; 3],
    /// The request header `@h` and the response header `@r` (their `!` unused).
    headers: [Slot; 2],
}

/// One edit of a model: what it touches (a struct or the union), which field or tag,
/// what it does, and the type it may set.
#[derive(Debug, Clone, Copy)]
struct Edit {
    target: usize,
    index: usize,
    action: usize,
    ty: usize,
}

fn slot(types: usize) -> impl Strategy<Value = Slot> {
    prop::option::of((any::<bool>(), 0..types))
}

fn model() -> impl Strategy<Value = Model> {
    let fields = |types| [slot(types), slot(types), slot(types), slot(types)];
    let tag = || prop::option::of(slot(SIMPLE));
    (
        fields(TYPES.len()),
        fields(TYPES.len()),
        fields(SIMPLE),
        (slot(SIMPLE), tag(), tag()),
        [slot(SIMPLE), slot(SIMPLE)],
    )
        .prop_map(
            |(input, output, both, (first, second, third), headers)| Model {
                structs: [input, output, both],
                // The union keeps its first tag, so it always has one.
                tags: [Some(first), second, third],
                headers,
            },
        )
}

fn edit() -> impl Strategy<Value = Edit> {
    (0..6usize, 0..4usize, 0..4usize, 0..TYPES.len()).prop_map(|(target, index, action, ty)| Edit {
        target,
        index,
        action,
        ty,
    })
}

impl Model {
    fn edited(&self, edits: &[Edit]) -> Model {
        let mut model = self.clone();
        for edit in edits {
            if edit.target < 3 {
                let types = if edit.target == 2 {
                    SIMPLE
                } else {
                    TYPES.len()
                };
                let field = &mut model.structs[edit.target][edit.index];
                *field = edit_slot(*field, edit, types);
            } else if edit.target > 3 {
                let header = &mut model.headers[edit.target - 4];
                *header = edit_slot(*header, edit, SIMPLE);
            } else {
                let index = edit.index % TAGS.len();
                let tag = &mut model.tags[index];
                *tag = match (edit.action, *tag) {
                    (0, Some(_)) if index > 0 => None,
                    (0, None) => Some(None),
                    (_, Some(field)) => Some(edit_slot(field, edit, SIMPLE)),
                    (_, tag) => tag,
                };
            }
        }
        model
    }

    fn text(&self) -> String {
        let [input, output, both] = &self.structs;
        let tags: Vec<String> = TAGS
            .iter()
            .zip(&self.tags)
            .filter_map(|(name, tag)| {
                let field = tag.as_ref()?;
                Some(format!(
                    r#"{{"{name}": {}}}"#,
                    fields_text(&[*field], &["x"])
                ))
            })
            .collect();
        let header = |slot: Slot, name: &str| match slot {
            Some((_, ty)) => format!(r#"{{"{name}": {}}}"#, TYPES[ty]),
            None => "{}".to_string(),
        };
        format!(
            r#"[{{"struct.In": {}}}, {{"struct.Out": {}}}, {{"struct.Both": {}}},
            {{"union.U": [{}]}},
            {{"headers.H": {}, "->": {}}},
            {{"fn.f": {{"in": "struct.In"}}, "->": [{{"Ok_": {{"out": "struct.Out"}}}}]}}]"#,
            fields_text(input, &FIELDS),
            fields_text(output, &FIELDS),
            fields_text(both, &FIELDS),
            tags.join(", "),
            header(self.headers[0], "@h"),
            header(self.headers[1], "@r"),
        )
    }
}

/// Adds or removes the field, flips its `!`, sets its type, or flips its `?`.
fn edit_slot(field: Slot, edit: &Edit, types: usize) -> Slot {
    let ty = edit.ty % types;
    match (edit.action, field) {
        (0, Some(_)) => None,
        (0, None) => Some((edit.ty.is_multiple_of(2), ty)),
        (1, Some((optional, ty))) => Some((!optional, ty)),
        (2, Some((optional, _))) => Some((optional, ty)),
        (3, Some((optional, old))) => {
            let twin = NULLABLE_TWIN[old].filter(|twin| *twin < types);
            Some((optional, twin.unwrap_or(old)))
        }
        (_, field) => field,
    }
}

fn fields_text(slots: &[Slot], names: &[&str]) -> String {
    let fields: Vec<String> = slots
        .iter()
        .zip(names)
        .filter_map(|(field, name)| {
            let (optional, ty) = (*field)?;
            let bang = if optional { "!" } else { "" };
            Some(format!(r#""{name}{bang}": {}"#, TYPES[ty]))
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

fn struct_type(schema: &Schema, name: &str) -> TypeExpr {
    let Some(TypeName::Struct(id)) = schema.names().get(name) else {
        panic!("{name} is a struct of the schema");
    };
    TypeExpr {
        kind: TypeKind::Struct(*id),
        nullable: false,
    }
}

/// `value` (of `ty` in some newer schema) without the struct fields `schema` does not
/// declare, which an old client reading it skips.
fn known_to(schema: &Schema, ty: &TypeExpr, value: Value) -> Value {
    let walk = |ty: &TypeExpr, value| known_to(schema, ty, value);
    match (&ty.kind, value) {
        (TypeKind::Array(item), Value::Array(items)) => {
            Value::Array(items.into_iter().map(|value| walk(item, value)).collect())
        }
        (TypeKind::Object(item), Value::Object(entries)) => Value::Object(
            entries
                .into_iter()
                .map(|(key, value)| (key, walk(item, value)))
                .collect(),
        ),
        (TypeKind::Struct(id), Value::Object(entries)) => {
            let fields = &schema.struct_def(*id).fields;
            Value::Object(known_fields(schema, fields, entries))
        }
        (TypeKind::Union(id), Value::Object(entries)) => {
            let tags = &schema.union_def(*id).tags;
            let known = entries.into_iter().map(|(tag, payload)| {
                let payload = match (tags.get(&tag), payload) {
                    (Some(known), Value::Object(fields)) => {
                        Value::Object(known_fields(schema, &known.fields, fields))
                    }
                    (_, payload) => payload,
                };
                (tag, payload)
            });
            Value::Object(known.collect())
        }
        (_, value) => value,
    }
}

fn known_fields(
    schema: &Schema,
    fields: &indexmap::IndexMap<String, telepact::schema::Field>,
    entries: Map<String, Value>,
) -> Map<String, Value> {
    entries
        .into_iter()
        .filter_map(|(key, value)| {
            let field = fields.get(&key)?;
            Some((key, known_to(schema, &field.ty, value)))
        })
        .collect()
}

/// Values of `ty` in `schema`, with and without optional fields, nulls and the union's
/// tags as the generator draws them.
fn samples(schema: &Schema, ty: &TypeExpr) -> Vec<Value> {
    let options = GenerateOptions::default();
    let prepared = PreparedSchema::new(schema);
    (1..=24)
        .map(|seed| {
            let mut random = RandomGenerator::new(0, 2);
            random.set_seed(seed);
            random.generate_from(&prepared, ty, &options)
        })
        .collect()
}

/// The type of header `name` in one of `schema`'s header sets, when declared.
fn header_type(headers: &indexmap::IndexMap<String, Field>, name: &str) -> Option<TypeExpr> {
    headers.get(name).map(|header| header.ty.clone())
}

/// The result tag `server` answers `request` with.
fn answer_tag(server: &Server, request: &Value) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let response = runtime.block_on(server.process(request.to_string().as_bytes()));
    let answer: Value = serde_json::from_slice(&response.bytes).expect("a JSON answer");
    answer[1]
        .as_object()
        .and_then(|body| body.keys().next().cloned())
        .unwrap_or_default()
}

/// Whether the new schema takes every `@h` an old client sends.
fn request_headers_pass(old: &Schema, new: Schema) -> Result<(), String> {
    let Some(ty) = header_type(old.request_headers(), "@h") else {
        return Ok(());
    };
    let server = Server::builder(new, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("a server");
    for value in samples(old, &ty) {
        let request = json!([{"@h": value}, {"fn.ping_": {}}]);
        let tag = answer_tag(&server, &request);
        if tag != "Ok_" {
            return Err(format!("an old client's @h {value} gets {tag}"));
        }
    }
    Ok(())
}

/// Whether the old schema takes every `@r` the new server answers with.
fn response_headers_pass(old: Schema, new: &Schema) -> Result<(), String> {
    let Some(ty) = header_type(new.response_headers(), "@r") else {
        return Ok(());
    };
    let request_in = samples(&old, &struct_type(&old, "struct.In")).remove(0);
    let out = samples(&old, &struct_type(&old, "struct.Out")).remove(0);
    for value in samples(new, &ty) {
        let (out, answer_header) = (out.clone(), value.clone());
        let router = FunctionRouter::new().route("fn.f", move |_request: Message| {
            let (out, answer_header) = (out.clone(), answer_header.clone());
            async move {
                let headers: Headers = [("@r", answer_header)].into_iter().collect();
                let payload = Map::from_iter([("out".to_string(), out)]);
                Ok::<_, HandlerError>(Message::new(headers, "Ok_", payload))
            }
        });
        let server = Server::builder(old.clone(), router)
            .auth_required(false)
            .build()
            .expect("a server");
        let tag = answer_tag(&server, &json!([{}, {"fn.f": {"in": request_in}}]));
        if tag != "Ok_" {
            return Err(format!("the new server's @r {value} gets {tag}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_compare_calls_compatible_validates_both_ways(
        old in model(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let new = old.edited(&edits);
        let (old_text, new_text) = (old.text(), new.text());
        let old_schema = Schema::from_text(&old_text).expect("the old schema loads");
        let new_schema = Schema::from_text(&new_text).expect("the new schema loads");
        if !compare(&old_schema, &new_schema).is_empty() {
            return Ok(());
        }
        let (old_check, new_check) = (ValueValidator::new(old_schema.clone()), ValueValidator::new(new_schema.clone()));
        for request in samples(&old_schema, &struct_type(&old_schema, "struct.In")) {
            let failures = new_check.validate("struct.In", &request).expect("a known type");
            prop_assert!(
                failures.is_empty(),
                "an old client's {request} fails the new schema: {failures:?}\nold {old_text}\nnew {new_text}"
            );
        }
        let out = struct_type(&old_schema, "struct.Out");
        for answer in samples(&new_schema, &struct_type(&new_schema, "struct.Out")) {
            let read = known_to(&old_schema, &out, answer.clone());
            let failures = old_check.validate("struct.Out", &read).expect("a known type");
            prop_assert!(
                failures.is_empty(),
                "the new server's {answer} fails the old schema: {failures:?}\nold {old_text}\nnew {new_text}"
            );
        }
        let headers = request_headers_pass(&old_schema, new_schema.clone())
            .and_then(|()| response_headers_pass(old_schema, &new_schema));
        prop_assert!(headers.is_ok(), "{headers:?}\nold {old_text}\nnew {new_text}");
    }
}

#[test]
fn the_oracle_catches_what_compare_reports() {
    // Sanity of the property above: a change `compare` reports does fail the oracle.
    let old = Schema::from_text(
        r#"[{"fn.f": {"in": "struct.In"}, "->": [{"Ok_": {}}]}, {"struct.In": {"a": "integer"}}]"#,
    )
    .expect("loads");
    let new_text = r#"[{"fn.f": {"in": "struct.In"}, "->": [{"Ok_": {}}]}, {"struct.In": {"a": "integer", "b": "string"}}]"#;
    let new = Schema::from_text(new_text).expect("loads");
    assert!(!compare(&old, &new).is_empty());
    let request = json!({"a": 1});
    let failures = ValueValidator::new(new.clone())
        .validate("struct.In", &request)
        .expect("known");
    assert!(!failures.is_empty());
}
