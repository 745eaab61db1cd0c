//! The generated types and the runtime validator agree, for every type of the feature
//! schema (its structs and unions, the standard ones included, and every function's
//! arguments and result): wire values drawn from the schema model are valid, deserialise
//! into the generated type, serialise back to the same JSON, and that JSON is valid. So
//! are the values the runtime's own generator draws, and every function's answers read
//! through a typed client, in JSON and in binary, as the same call answers untyped.
//!
//! "The same JSON" is the conformance vectors' equality: `1` equals `1.0` (a `number`
//! field is an `f64`, so an integer literal comes back as a float). Integer literals in
//! `number` fields are drawn within ±2^53, where `f64` holds them exactly.

include!("../generated/features.rs");

use crate::common;

use std::sync::OnceLock;

use features::*;
use indexmap::IndexMap;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use telepact::ValueValidator;
use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
use telepact::typed::standard::*;
use telepact_schema::{Field, Schema, Tag, TypeExpr, TypeKind, TypeName};
use telepact_test_support::json_eq;

/// Cases per type; about forty types are checked.
const CASES_PER_TYPE: u32 = 48;
/// Levels of nesting in which optional fields, array items and map entries appear.
const DEPTH: u32 = 3;
/// `f64` holds every integer up to this magnitude exactly.
const EXACT_INTEGER: i64 = 1 << 53;

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::from_dir(common::features_dir()).unwrap())
}

fn validator() -> &'static ValueValidator {
    static VALIDATOR: OnceLock<ValueValidator> = OnceLock::new();
    VALIDATOR.get_or_init(|| ValueValidator::new(schema().clone()))
}

/// Reads `wire` as a `T` and writes it back, as values and as the server writes a typed
/// answer (checked as it is written: `None` when the checked writer leaves it alone).
fn through<T: Serialize + DeserializeOwned>(
    name: &str,
    wire: &Value,
) -> Result<(Value, Option<Vec<u8>>), String> {
    let typed: T =
        serde_json::from_value(wire.clone()).map_err(|e| format!("does not read: {e}"))?;
    let back = serde_json::to_value(&typed).map_err(|e| format!("does not write: {e}"))?;
    let written = validator().write(name, &typed).map_err(|e| e.to_string())?;
    Ok((back, written))
}

/// Every schema type name with its generated Rust type, as a round trip through it.
macro_rules! generated_types {
    ($($name:literal => $ty:ty,)*) => {
        const TYPE_NAMES: &[&str] = &[$($name),*];

        fn through_generated(
            name: &str,
            wire: &Value,
        ) -> Result<(Value, Option<Vec<u8>>), String> {
            match name {
                $($name => through::<$ty>(name, wire),)*
                _ => Err(format!("no generated type is registered for {name}")),
            }
        }
    };
}

generated_types! {
    "struct.Collections" => Collections,
    "struct.Envelope" => Envelope,
    "struct.Extra" => Extra,
    "struct.Keywords" => Keywords,
    "struct.Links" => Links,
    "struct.Node" => Node,
    "struct.Point" => Point,
    "struct.Scalars" => Scalars,
    "struct.ValidationFailure_" => ValidationFailure,
    "union.Auth_" => Auth,
    "union.Shape" => Shape,
    "union.ParseFailure_" => ParseFailure,
    "union.Type_" => Type,
    "union.ValidationFailureReason_" => ValidationFailureReason,
    "fn.debug_" => DebugInput,
    "fn.debug_.->" => DebugOutput,
    "fn.echo" => EchoInput,
    "fn.echo.->" => EchoOutput,
    "fn.getPoint" => GetPointInput,
    "fn.getPoint.->" => GetPointOutput,
    "fn.paginate" => PaginateInput,
    "fn.paginate.->" => PaginateOutput,
    "fn.status" => StatusInput,
    "fn.status.->" => StatusOutput,
    "fn.api_" => ApiInput,
    "fn.api_.->" => ApiOutput,
    "fn.ping_" => PingInput,
    "fn.ping_.->" => PingOutput,
}

fn expect_valid(name: &str, what: &str, value: &Value) -> Result<(), TestCaseError> {
    let failures = validator()
        .validate(name, value)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        failures.is_empty(),
        "{what} {value} is not a valid {name}: {failures:?}"
    );
    Ok(())
}

/// The property, for one type and one wire value of it.
fn check(name: &str, wire: &Value) -> Result<(), TestCaseError> {
    expect_valid(name, "the drawn value", wire)?;
    let (back, written) = through_generated(name, wire)
        .map_err(|e| TestCaseError::fail(format!("{name}: {wire} {e}")))?;
    prop_assert!(
        json_eq(&back, wire, false),
        "{name}: {wire} came back as {back}"
    );
    expect_valid(name, "the serialised value", &back)?;
    // A typed answer is written directly, checked as it goes, to the same bytes; only
    // an `_ext.Select_` value is left to validation (the writer does not check one).
    let as_values = serde_json::to_vec(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
    match written {
        Some(bytes) => prop_assert_eq!(bytes, as_values, "{}: {} written otherwise", name, wire),
        None => prop_assert!(
            reaches_select(name),
            "{name}: {wire} was not written directly"
        ),
    }
    Ok(())
}

/// Whether a value of the type named `name` can hold an `_ext.Select_` value.
fn reaches_select(name: &str) -> bool {
    let schema = schema();
    let mut seen = std::collections::HashSet::new();
    let fields: Vec<&Field> = match schema.names().get(name.trim_end_matches(".->")) {
        Some(TypeName::Struct(id)) => schema.struct_def(*id).fields.values().collect(),
        Some(TypeName::Union(id)) => tag_fields(&schema.union_def(*id).tags),
        Some(TypeName::Function(id)) if name.ends_with(".->") => {
            tag_fields(&schema.function(*id).result.tags)
        }
        Some(TypeName::Function(id)) => schema.function(*id).args.values().collect(),
        _ => return true,
    };
    fields
        .iter()
        .any(|field| type_reaches_select(&field.ty, &mut seen))
}

fn tag_fields(tags: &IndexMap<String, Tag>) -> Vec<&Field> {
    tags.values().flat_map(|tag| tag.fields.values()).collect()
}

fn type_reaches_select(ty: &TypeExpr, seen: &mut std::collections::HashSet<String>) -> bool {
    let schema = schema();
    let (key, fields) = match &ty.kind {
        TypeKind::Select => return true,
        TypeKind::Array(inner) | TypeKind::Object(inner) => {
            return type_reaches_select(inner, seen);
        }
        TypeKind::Struct(id) => (
            format!("s{}", id.0),
            schema.struct_def(*id).fields.values().collect(),
        ),
        TypeKind::Union(id) => (
            format!("u{}", id.0),
            tag_fields(&schema.union_def(*id).tags),
        ),
        TypeKind::FunctionLink(id) => (
            format!("f{}", id.0),
            schema.function(*id).args.values().collect::<Vec<_>>(),
        ),
        _ => return false,
    };
    seen.insert(key) && fields.iter().any(|f| type_reaches_select(&f.ty, seen))
}

#[test]
fn every_schema_type_has_a_generated_type_in_this_test() {
    let schema = schema();
    let mut names: Vec<String> = Vec::new();
    for (name, kind) in schema.names() {
        match kind {
            TypeName::Struct(_) | TypeName::Union(_) => names.push(name.clone()),
            TypeName::Function(_) => names.extend([name.clone(), format!("{name}.->")]),
            TypeName::Select | TypeName::MockCall | TypeName::MockStub => {}
        }
    }
    names.sort();
    let mut registered: Vec<String> = TYPE_NAMES.iter().map(|n| n.to_string()).collect();
    registered.sort();
    assert_eq!(names, registered);
}

#[test]
fn generated_types_and_the_validator_agree_on_every_type() {
    for &name in TYPE_NAMES {
        let strategy = type_name_wire(name);
        let mut runner = TestRunner::new(Config {
            cases: CASES_PER_TYPE,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(error) = runner.run(&strategy, |wire| check(name, &wire)) {
            panic!("{name}: {error}");
        }
    }
}

/// The typed values with no wire form: they serialise to `null` where the schema does
/// not allow it, so the validator rejects them (a typed call carrying one comes back as
/// `ErrorInvalidRequestBody_` rather than sending some other value).
#[test]
fn non_finite_numbers_and_null_any_values_are_rejected() {
    // serde_json writes NaN and the infinities as `null`.
    let point = serde_json::to_value(Point {
        x: f64::NAN,
        y: f64::INFINITY,
    })
    .unwrap();
    assert_eq!(point, json!({"x": null, "y": null}));
    assert_eq!(
        validator().validate("struct.Point", &point).unwrap().len(),
        2
    );
    // `any` is `Value`, which can hold `null`; only `any?` allows it.
    let mut scalars: Scalars = serde_json::from_value(json!({
        "flag": true, "count": 1, "ratio": 0.5, "label": "", "blob": "", "anything": 1,
        "maybeFlag": null, "maybeCount": null, "maybeRatio": null, "maybeLabel": null,
        "maybeBlob": null, "maybeAnything": null
    }))
    .unwrap();
    let valid = serde_json::to_value(&scalars).unwrap();
    assert!(
        validator()
            .validate("struct.Scalars", &valid)
            .unwrap()
            .is_empty()
    );
    scalars.anything = Value::Null;
    let invalid = serde_json::to_value(&scalars).unwrap();
    assert_eq!(
        validator()
            .validate("struct.Scalars", &invalid)
            .unwrap()
            .len(),
        1
    );
}

// ---- wire values drawn from the schema model ----

fn type_name_wire(name: &str) -> BoxedStrategy<Value> {
    let schema = schema();
    let (base, result) = match name.strip_suffix(".->") {
        Some(base) => (base, true),
        None => (name, false),
    };
    match (schema.names()[base], result) {
        (TypeName::Struct(id), _) => fields_wire(&schema.struct_def(id).fields, DEPTH),
        (TypeName::Union(id), _) => tags_wire(&schema.union_def(id).tags, DEPTH),
        (TypeName::Function(id), false) => fields_wire(&schema.function(id).args, DEPTH),
        (TypeName::Function(id), true) => tags_wire(&schema.function(id).result.tags, DEPTH),
        (TypeName::Select | TypeName::MockCall | TypeName::MockStub, _) => select_wire(),
    }
}

/// A value of `ty`; below `depth` 0 collections are empty and nullable values `null`.
fn wire(ty: &TypeExpr, depth: u32) -> BoxedStrategy<Value> {
    match (ty.nullable, depth) {
        (false, _) => non_null_wire(&ty.kind, depth),
        (true, 0) => Just(Value::Null).boxed(),
        (true, _) => {
            prop_oneof![1 => Just(Value::Null), 3 => non_null_wire(&ty.kind, depth)].boxed()
        }
    }
}

fn non_null_wire(kind: &TypeKind, depth: u32) -> BoxedStrategy<Value> {
    let schema = schema();
    let inner = depth.saturating_sub(1);
    match kind {
        TypeKind::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        TypeKind::Integer => any::<i64>().prop_map(Value::from).boxed(),
        TypeKind::Number => number_wire(),
        TypeKind::String => ".{0,6}".prop_map(Value::from).boxed(),
        TypeKind::Bytes => bytes_wire(),
        TypeKind::Any => any_wire()
            .prop_filter("`any` without `?` is not null", |v| !v.is_null())
            .boxed(),
        TypeKind::Array(_) | TypeKind::Object(_) if depth == 0 => empty_collection(kind),
        TypeKind::Array(item) => prop::collection::vec(wire(item, inner), 0..4)
            .prop_map(Value::from)
            .boxed(),
        TypeKind::Object(item) => prop::collection::vec((key_wire(), wire(item, inner)), 0..4)
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
            .boxed(),
        TypeKind::Struct(id) => fields_wire(&schema.struct_def(*id).fields, inner),
        TypeKind::Union(id) => tags_wire(&schema.union_def(*id).tags, inner),
        TypeKind::FunctionLink(id) => {
            let function = schema.function(*id);
            let name = function.name.clone();
            fields_wire(&function.args, inner)
                .prop_map(move |args| json!({ name.clone(): args }))
                .boxed()
        }
        TypeKind::Select | TypeKind::MockCall | TypeKind::MockStub => select_wire(),
    }
}

fn empty_collection(kind: &TypeKind) -> BoxedStrategy<Value> {
    match kind {
        TypeKind::Array(_) => Just(json!([])).boxed(),
        _ => Just(json!({})).boxed(),
    }
}

/// An object of `fields`, in any key order; optional fields come and go while `depth`
/// lasts.
fn fields_wire(fields: &IndexMap<String, Field>, depth: u32) -> BoxedStrategy<Value> {
    let entries: Vec<BoxedStrategy<Option<(String, Value)>>> = fields
        .values()
        .filter(|field| !field.optional || depth > 0)
        .map(|field| {
            let key = field.key.clone();
            let value = wire(&field.ty, depth).prop_map(move |v| (key.clone(), v));
            if field.optional {
                prop::option::of(value).boxed()
            } else {
                value.prop_map(Some).boxed()
            }
        })
        .collect();
    entries
        .prop_map(|entries| entries.into_iter().flatten().collect::<Vec<_>>())
        .prop_shuffle()
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()))
        .boxed()
}

/// `{tag: payload}`; once `depth` is spent, only the tags with the fewest required
/// fields, so recursion through unions ends.
fn tags_wire(tags: &IndexMap<String, Tag>, depth: u32) -> BoxedStrategy<Value> {
    let required = |tag: &Tag| tag.fields.values().filter(|f| !f.optional).count();
    let fewest = tags.values().map(required).min().unwrap_or(0);
    let choices: Vec<BoxedStrategy<Value>> = tags
        .values()
        .filter(|tag| depth > 0 || required(tag) == fewest)
        .map(|tag| {
            let name = tag.name.clone();
            fields_wire(&tag.fields, depth)
                .prop_map(move |payload| json!({ name.clone(): payload }))
                .boxed()
        })
        .collect();
    proptest::strategy::Union::new(choices).boxed()
}

fn number_wire() -> BoxedStrategy<Value> {
    let float = prop::num::f64::POSITIVE
        | prop::num::f64::NEGATIVE
        | prop::num::f64::NORMAL
        | prop::num::f64::SUBNORMAL
        | prop::num::f64::ZERO;
    prop_oneof![
        float.prop_map(Value::from),
        (-EXACT_INTEGER..=EXACT_INTEGER).prop_map(Value::from),
    ]
    .boxed()
}

fn bytes_wire() -> BoxedStrategy<Value> {
    prop::collection::vec(any::<u8>(), 0..8)
        .prop_map(|bytes| serde_json::to_value(telepact::typed::Bytes(bytes)).unwrap())
        .boxed()
}

fn key_wire() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z]{1,4}", ".{0,3}"]
}

fn any_wire() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        number_wire(),
        ".{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::vec((key_wire(), inner), 0..3)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Selections valid wherever `_ext.Select_` appears in the feature schema.
fn select_wire() -> BoxedStrategy<Value> {
    prop_oneof![Just(json!({})), Just(json!({"->": {"Ok_": []}}))].boxed()
}

// ---- values from the runtime's random generator ----

/// Seeds drawn per type, and per function and encoding through a typed client.
const SEEDS: i64 = 24;

/// A value of the type `name` (of [`TYPE_NAMES`]) as the runtime's generator draws it
/// for `seed`; `None` for a function's result, which no type expression names.
fn drawn(name: &str, seed: i64) -> Option<Value> {
    let kind = match schema().names().get(name)? {
        TypeName::Struct(id) => TypeKind::Struct(*id),
        TypeName::Union(id) => TypeKind::Union(*id),
        TypeName::Function(id) => TypeKind::FunctionLink(*id),
        TypeName::Select | TypeName::MockCall | TypeName::MockStub => return None,
    };
    let ty = TypeExpr {
        kind,
        nullable: false,
    };
    let prepared = PreparedSchema::new(schema());
    let mut random = RandomGenerator::new(0, 3);
    random.set_seed(seed);
    let value = random.generate_from(&prepared, &ty, &GenerateOptions::default());
    // A function is drawn as a call, `{"fn.x": arguments}`.
    match value {
        Value::Object(mut call) if name.starts_with("fn.") => call.remove(name),
        value => Some(value),
    }
}

/// Every value the runtime's generator draws of a struct, a union or a function's
/// arguments that the validator accepts reads as its generated type and writes back
/// equal, as values and as the server writes it.
#[test]
fn values_the_runtime_draws_round_trip_through_the_generated_types() {
    let mut checked = 0;
    for &name in TYPE_NAMES {
        for seed in 0..SEEDS {
            let Some(wire) = drawn(name, seed) else {
                continue;
            };
            if !validator().validate(name, &wire).unwrap().is_empty() {
                continue;
            }
            if let Err(error) = check(name, &wire) {
                panic!("{name}, seed {seed}: {error}");
            }
            checked += 1;
        }
    }
    assert!(
        checked > 20 * SEEDS,
        "only {checked} drawn values were valid"
    );
}

/// Every answer of every function, from the mock's own generator (`Ok_`) or a stub
/// of a drawn result (any tag, errors too), reads through a typed client, in JSON and
/// in binary, as the value the same call answers untyped; the validator accepts it.
#[tokio::test]
async fn answers_read_through_a_typed_client_as_they_came_in_json_and_binary() {
    let mock = Mock::new().unwrap();
    for binary in [false, true] {
        let options = telepact::client::ClientOptions::default().binary(binary);
        let client = mock.client_with_options(options);
        let mut tags = std::collections::BTreeSet::new();
        for seed in 0..SEEDS {
            tags.insert(answers_agree::<EchoInput>(&mock, &client, seed).await);
            tags.insert(answers_agree::<GetPointInput>(&mock, &client, seed).await);
            tags.insert(answers_agree::<PaginateInput>(&mock, &client, seed).await);
            tags.insert(answers_agree::<StatusInput>(&mock, &client, seed).await);
        }
        assert!(tags.len() > 2, "binary {binary}: only {tags:?} answered");
    }
}

/// Calls `I`'s function typed and untyped with the same answer: the mock's generated
/// one for an even `seed`, a stub of a drawn result for an odd one. Returns the
/// answer's result tag.
async fn answers_agree<I: telepact::typed::FunctionInput + Clone + std::fmt::Debug>(
    mock: &Mock,
    client: &Client,
    seed: i64,
) -> String {
    let prepared = PreparedSchema::new(schema());
    let options = GenerateOptions::default();
    let mut random = RandomGenerator::new(0, 3);
    random.set_seed(seed);
    let input: I = random.generate_input(&prepared, &options).unwrap();
    mock.clear_stubs().await.unwrap();
    if seed % 2 == 1 {
        let output = random.generate_output::<I>(&prepared, &options).unwrap();
        // The mock refuses most stubs whose arguments hold an `_ext.Select_` drawn
        // for `fn.echo` (it reads the selection's fields as not `fn.echo`'s): the call
        // then gets a generated answer, compared all the same.
        let _refused = mock.stub(input.clone(), output).await.is_err();
    }
    mock.set_random_seed(seed).await.unwrap();
    let raw = client
        .call_raw(input.clone(), RequestHeaders::default())
        .await
        .unwrap();
    let body = Value::Object(raw.body().clone());
    let result = format!("{}.->", I::NAME);
    let failures = validator().validate(&result, &body).unwrap();
    assert!(failures.is_empty(), "{result} {body}: {failures:?}");
    mock.set_random_seed(seed).await.unwrap();
    let typed = match client.call(input.clone()).await {
        Ok(typed) => typed,
        Err(error) => panic!("{input:?} answered {body}: {error}"),
    };
    let telepact::typed::Reply::Known(output) = typed.output else {
        panic!("{result} {body} read as an unknown result");
    };
    let back = serde_json::to_value(&output).unwrap();
    assert!(
        json_eq(&back, &body, false),
        "{result}: {body} read as {back}"
    );
    let headers = serde_json::to_value(&typed.headers).unwrap();
    for (key, value) in headers.as_object().unwrap() {
        assert_eq!(Some(value), raw.headers.get(key), "{result}: header {key}");
    }
    raw.body().keys().next().cloned().unwrap_or_default()
}
