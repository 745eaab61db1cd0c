//! The feature schema's generated types compile without warnings, and their JSON is
//! exactly the Telepact wire form: sample wire JSON of every type deserialises into the
//! generated type and serialises back to the same JSON.

#![deny(warnings)]

/// The generated modules keep out of the opt-in lint groups a user's crate may turn on
/// (`cargo clippy` of this test, in CI, fails on a warning).
#[warn(clippy::pedantic, clippy::nursery, unused_qualifications)]
mod linted {
    include!("../generated/features.rs");

    include!("../generated/collisions.rs");
}

use features::*;
use linted::{collisions, features};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use telepact::typed::standard::*;

/// Reads `wire` as a `T` and checks it writes back unchanged.
fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(wire: Value) -> T {
    let typed: T = match serde_json::from_value(wire.clone()) {
        Ok(typed) => typed,
        Err(error) => panic!(
            "{} does not read {wire}: {error}",
            std::any::type_name::<T>()
        ),
    };
    let back = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        back,
        wire,
        "{} changed the JSON",
        std::any::type_name::<T>()
    );
    typed
}

fn scalars_full() -> Value {
    json!({
        "flag": true, "count": -7, "ratio": 0.5, "label": "a", "blob": "AAEC", "anything": {"k": [1, null]},
        "maybeFlag": null, "maybeCount": 3, "maybeRatio": null, "maybeLabel": "b", "maybeBlob": "/w==",
        "maybeAnything": null, "optFlag!": false, "optAnything!": null, "optMaybeLabel!": null,
        "optMaybeBlob!": "AA=="
    })
}

#[test]
fn scalars_keep_absent_null_and_values_apart() {
    let full: Scalars = round_trip(scalars_full());
    assert_eq!(full.blob, telepact::typed::Bytes(vec![0, 1, 2]));
    assert_eq!(full.opt_anything, Some(Value::Null));
    assert_eq!(full.opt_maybe_label, Some(None));
    assert_eq!(
        full.opt_maybe_blob,
        Some(Some(telepact::typed::Bytes(vec![0])))
    );

    let mut sparse = scalars_full();
    for key in [
        "optFlag!",
        "optAnything!",
        "optMaybeLabel!",
        "optMaybeBlob!",
    ] {
        sparse.as_object_mut().unwrap().remove(key);
    }
    let sparse: Scalars = round_trip(sparse);
    assert_eq!(sparse.opt_anything, None);
    assert_eq!(sparse.opt_maybe_label, None);
}

/// An optional field whose type is not nullable may be absent but never `null`, as the
/// validator has it (`NullDisallowed`): such a `null` is refused, not read as absent.
#[test]
fn null_in_an_optional_field_that_is_not_nullable_is_refused() {
    let mut scalars = scalars_full();
    scalars["optFlag!"] = Value::Null;
    let error = serde_json::from_value::<Scalars>(scalars).expect_err("null is no boolean");
    assert!(error.to_string().contains("expected a boolean"), "{error}");
    let mut tree = json!({"label": "n", "children": [], "next": null});
    tree["shape!"] = Value::Null;
    assert!(serde_json::from_value::<Node>(tree).is_err());
    let mut collections = json!({
        "list": [], "nullableItems": [], "map": {}, "nullableValues": {}, "grid": [],
        "index": {}, "tables": [], "optMap!": null
    });
    assert!(serde_json::from_value::<Collections>(collections.clone()).is_err());
    collections["optMap!"] = json!({});
    round_trip::<Collections>(collections);
}

/// A required field whose type is nullable must be there, `null` or not, as the
/// validator has it (`RequiredObjectKeyMissing`): left out, it is refused, not read as
/// `null`.
#[test]
fn a_required_nullable_field_left_out_is_refused() {
    for key in [
        "maybeFlag",
        "maybeCount",
        "maybeRatio",
        "maybeLabel",
        "maybeBlob",
    ] {
        let mut scalars = scalars_full();
        scalars.as_object_mut().unwrap().remove(key);
        let error = serde_json::from_value::<Scalars>(scalars).expect_err(key);
        assert_eq!(error.to_string(), format!("missing field `{key}`"));
    }
    let tree = json!({"label": "n", "children": []});
    let error = serde_json::from_value::<Node>(tree).expect_err("`next` is required");
    assert_eq!(error.to_string(), "missing field `next`");
}

#[test]
fn collections_and_nested_collections() {
    round_trip::<Collections>(json!({
        "list": [1, 2], "nullableItems": ["a", null], "map": {"z": 1.5, "a": 2.5},
        "nullableValues": {"x": null, "y": true}, "grid": [[1], []], "index": {"k": ["v"]},
        "tables": [{"a": null}], "optMap!": {"p": {"x": 1.0, "y": 2.0}}
    }));
}

#[test]
fn json_values_compare_and_hash() {
    let envelope = || -> Envelope {
        round_trip(json!({"kind": "k", "payload": {"a": [1, 2.5, null]}, "parts": [null, "x"]}))
    };
    let mut seen = std::collections::HashSet::new();
    assert!(seen.insert(envelope()));
    assert!(!seen.insert(envelope()));
    let mut other = envelope();
    other.payload = json!({"a": [1, 2.5]});
    assert!(seen.insert(other));
}

#[test]
fn map_keys_keep_their_order() {
    let typed: Collections = round_trip(json!({
        "list": [], "nullableItems": [], "map": {"z": 1.5, "a": 2.5, "m": 0.5},
        "nullableValues": {}, "grid": [], "index": {}, "tables": []
    }));
    assert_eq!(typed.map.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
}

#[test]
fn recursive_structs_and_unions() {
    let tree: Node = round_trip(json!({
        "label": "root",
        "children": [{"label": "leaf", "children": [], "next": null}],
        "parent!": null,
        "next": {"label": "sibling", "children": [], "next": null, "shape!": {"Empty": {}}},
        "shape!": {"Tagged": {"node": {"label": "in shape", "children": [], "next": null}}}
    }));
    assert_eq!(tree.parent, Some(None));
    round_trip::<Shape>(
        json!({"Nested": {"inner": {"Circle": {"center": {"x": 0.0, "y": 1.0}, "radius": 2.0}}}}),
    );
}

#[test]
fn rust_keywords_and_renamed_fields() {
    let typed: Keywords = round_trip(json!({
        "type": "t", "self": true, "match!": 3, "camelCaseName": "c", "aF": false, "with_underscore": true
    }));
    assert_eq!(typed.r#type, "t");
    assert!(typed.self_);
    assert_eq!(typed.camel_case_name, "c");
}

#[test]
fn function_links_and_selections() {
    let typed: Links = round_trip(json!({
        "call": {"fn.getPoint": {"id": 1}},
        "maybeCall": null,
        "calls": [{"fn.getPoint": {"id": 2}}],
        "selection!": {"->": {"Ok_": ["point"]}, "struct.Point": ["x"]}
    }));
    assert_eq!(typed.call, telepact::typed::Call(GetPointInput { id: 1 }));
    let wrong_function = json!({"call": {"fn.echo": {}}, "maybeCall": null, "calls": []});
    assert!(serde_json::from_value::<Links>(wrong_function).is_err());
}

#[test]
fn unions_are_externally_tagged_with_object_payloads() {
    assert_eq!(
        round_trip::<Shape>(json!({"Empty": {}})),
        Shape::Empty(ShapeEmpty {})
    );
    round_trip::<Auth>(json!({"Token": {"token": "t"}}));
    round_trip::<Auth>(json!({"Password": {"username": "u", "password": "p"}}));
    assert!(serde_json::from_value::<Shape>(json!("Empty")).is_err());
}

#[test]
fn function_inputs_and_results_with_merged_errors() {
    round_trip::<GetPointInput>(json!({"id": 4}));
    assert_eq!(
        round_trip::<GetPointOutput>(json!({"Ok_": {"point": {"x": 1.0, "y": 2.0}}})),
        GetPointOutput::Ok(GetPointOk {
            point: Point { x: 1.0, y: 2.0 }
        })
    );
    round_trip::<GetPointOutput>(json!({"NotFound": {}}));
    round_trip::<GetPointOutput>(json!({"ErrorQuotaExceeded": {"retryAfter!": 3}}));
    round_trip::<GetPointOutput>(json!({"ErrorUnknown_": {"caseId": "c1"}}));
    round_trip::<GetPointOutput>(json!({"ErrorUnauthenticated_": {"message!": "no"}}));
    round_trip::<GetPointOutput>(json!({"ErrorUnauthorized_": {}}));
    round_trip::<GetPointOutput>(json!({"ErrorInvalidRequestBody_": {"cases": [
        {"path": ["id"], "reason": {"TypeUnexpected": {"expected": {"Integer": {}}, "actual": {"String": {}}}}}
    ]}}));
    round_trip::<GetPointOutput>(json!({"ErrorParseFailure_": {"reasons": [{"JsonInvalid": {}}]}}));
    round_trip::<PaginateInput>(json!({"cursor!": null}));
    round_trip::<PaginateInput>(json!({}));
    round_trip::<PaginateOutput>(
        json!({"Ok_": {"items": [1], "next!": {"fn.paginate": {"cursor!": "c"}}}}),
    );
    round_trip::<StatusOutput>(json!({"Ok_": {"healthy": true}}));
    round_trip::<DebugInput>(json!({"verbose!": true}));
    round_trip::<DebugOutput>(json!({"Ok_": {"state": {"a": 1}}}));
    round_trip::<PingOutput>(json!({"Ok_": {}}));
    round_trip::<ApiInput>(json!({"includeInternal!": true}));
    round_trip::<ApiOutput>(json!({"Ok_": {"api": [{"info.Features": {}}]}}));
    round_trip::<Extra>(json!({"note": "n", "bytesByName!": {"a": "AQ=="}}));
}

#[test]
fn the_echo_function_carries_everything() {
    let everything = json!({
        "scalars": scalars_full(),
        "keywords!": {"type": "t", "self": false, "camelCaseName": "c", "aF": true, "with_underscore": false},
        "shape": {"Empty": {}}
    });
    round_trip::<EchoInput>(everything.clone());
    round_trip::<EchoOutput>(json!({"Ok_": everything}));
}

#[test]
fn headers_are_typed_and_optional() {
    let typed: RequestHeaders = round_trip(json!({
        "@traceId": "t-1", "@in": true, "@auth_": {"Token": {"token": "x"}}, "@id_": null,
        "@select_": {"->": {"Ok_": []}}, "@time_": 5000, "@unsafe_": true, "@bin_": [1], "@pac_": false
    }));
    assert_eq!(typed.id, Some(Value::Null));
    assert_eq!(typed.r#in, Some(true));
    round_trip::<RequestHeaders>(json!({}));
    let response: ResponseHeaders =
        round_trip(json!({"@servedBy": null, "@warn_": ["w"], "@enc_": {"a": 1}}));
    assert_eq!(response.served_by, Some(None));
}

#[test]
fn function_inputs_name_their_function() {
    use telepact::typed::FunctionInput;
    assert_eq!(GetPointInput::NAME, "fn.getPoint");
    assert_eq!(DebugInput::NAME, "fn.debug_");
}

/// Values drawn at random read as the generated types, and are exactly what an untyped
/// draw of the same seed makes; a function's argument and result are drawn typed too.
#[test]
fn random_values_draw_as_the_generated_types() {
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator};
    use telepact::typed::Call;

    let schema = features::schema();
    let prepared = PreparedSchema::new(&schema);
    let options = GenerateOptions::default();
    let seeded = |seed| {
        let mut random = RandomGenerator::new(0, 3);
        random.set_seed(seed);
        random
    };
    let mut tags = std::collections::BTreeSet::new();
    for seed in 0..100 {
        drawn_as::<Scalars>(&prepared, seed);
        drawn_as::<Envelope>(&prepared, seed);
        drawn_as::<Collections>(&prepared, seed);
        drawn_as::<Point>(&prepared, seed);
        drawn_as::<Node>(&prepared, seed);
        drawn_as::<Shape>(&prepared, seed);
        drawn_as::<Keywords>(&prepared, seed);
        drawn_as::<Links>(&prepared, seed);
        drawn_as::<Auth>(&prepared, seed);
        let input: EchoInput = seeded(seed).generate_input(&prepared, &options).unwrap();
        let call = telepact::schema::TypeExpr {
            kind: telepact::schema::TypeKind::FunctionLink(
                schema.function_by_name("fn.echo").unwrap().0,
            ),
            nullable: false,
        };
        let untyped = seeded(seed).generate_from(&prepared, &call, &options);
        assert_eq!(
            serde_json::to_value(Call(input)).unwrap(),
            untyped,
            "seed {seed}"
        );
        let output = seeded(seed).generate_output::<GetPointInput>(&prepared, &options);
        let output = serde_json::to_value(output.unwrap()).unwrap();
        tags.extend(output.as_object().unwrap().keys().cloned());
    }
    assert!(tags.contains("Ok_") && tags.len() > 2, "{tags:?}");
}

fn drawn_as<T: telepact::typed::SchemaType + Serialize>(
    prepared: &telepact::random::PreparedSchema<'_>,
    seed: i64,
) {
    use telepact::random::{GenerateOptions, RandomGenerator};
    use telepact::schema::{TypeExpr, TypeKind, TypeName};

    let options = GenerateOptions::default();
    let mut random = RandomGenerator::new(0, 3);
    random.set_seed(seed);
    let typed: T = random
        .generate_as(prepared, &options)
        .unwrap_or_else(|error| panic!("{} with seed {seed}: {error}", T::SCHEMA_KEY));
    let kind = match prepared.schema().names()[T::SCHEMA_KEY] {
        TypeName::Struct(id) => TypeKind::Struct(id),
        TypeName::Union(id) => TypeKind::Union(id),
        _ => unreachable!("a struct or union"),
    };
    random.set_seed(seed);
    let untyped = random.generate_from(
        prepared,
        &TypeExpr {
            kind,
            nullable: false,
        },
        &options,
    );
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        untyped,
        "{} with seed {seed}",
        T::SCHEMA_KEY
    );
}

/// A type of another schema is not drawn from this one.
#[test]
fn a_type_the_schema_lacks_is_not_drawn() {
    use telepact::random::{GenerateOptions, PreparedSchema, RandomGenerator, TypedGenerateError};

    let schema = collisions::schema();
    let prepared = PreparedSchema::new(&schema);
    let drawn =
        RandomGenerator::new(0, 3).generate_as::<Point>(&prepared, &GenerateOptions::default());
    assert!(
        matches!(drawn, Err(TypedGenerateError::NotInSchema("struct.Point"))),
        "{drawn:?}"
    );
}

/// Wire JSON for an optional field: absent, or present with a value from `value`.
fn optional(
    key: &'static str,
    value: BoxedStrategy<Value>,
) -> BoxedStrategy<Option<(&'static str, Value)>> {
    proptest::option::of(value.prop_map(move |v| (key, v))).boxed()
}

fn nullable(value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop_oneof![Just(Value::Null), value].boxed()
}

fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

fn bytes_json() -> BoxedStrategy<Value> {
    prop::collection::vec(any::<u8>(), 0..8)
        .prop_map(|bytes| serde_json::to_value(telepact::typed::Bytes(bytes)).unwrap())
        .boxed()
}

fn finite() -> BoxedStrategy<Value> {
    (-1.0e9..1.0e9f64).prop_map(Value::from).boxed()
}

fn scalars_json() -> impl Strategy<Value = Value> {
    let required = (
        any::<bool>(),
        any::<i64>(),
        finite(),
        ".{0,8}",
        bytes_json(),
        any_json(),
        (
            nullable(any::<bool>().prop_map(Value::from).boxed()),
            nullable(any::<i64>().prop_map(Value::from).boxed()),
        ),
        (
            nullable(finite()),
            nullable(".{0,4}".prop_map(Value::from).boxed()),
            nullable(bytes_json()),
            any_json(),
        ),
    );
    let optionals = (
        optional("optFlag!", any::<bool>().prop_map(Value::from).boxed()),
        optional("optAnything!", any_json()),
        optional(
            "optMaybeLabel!",
            nullable(".{0,4}".prop_map(Value::from).boxed()),
        ),
        optional("optMaybeBlob!", nullable(bytes_json())),
    );
    (required, optionals).prop_map(|((flag, count, ratio, label, blob, anything, (mf, mc), (mr, ml, mb, ma)), (o1, o2, o3, o4))| {
        let mut object = json!({
            "flag": flag, "count": count, "ratio": ratio, "label": label, "blob": blob, "anything": anything,
            "maybeFlag": mf, "maybeCount": mc, "maybeRatio": mr, "maybeLabel": ml, "maybeBlob": mb, "maybeAnything": ma
        });
        for (key, value) in [o1, o2, o3, o4].into_iter().flatten() {
            object.as_object_mut().unwrap().insert(key.into(), value);
        }
        object
    })
}

fn point_json() -> BoxedStrategy<Value> {
    (finite(), finite())
        .prop_map(|(x, y)| json!({"x": x, "y": y}))
        .boxed()
}

/// Nodes and shapes, recursive through each other.
fn node_json() -> impl Strategy<Value = Value> {
    let leaf = "[a-z]{0,4}".prop_map(|label| json!({"label": label, "children": [], "next": null}));
    leaf.prop_recursive(4, 24, 3, |node| {
        let shape = prop_oneof![
            Just(json!({"Empty": {}})),
            (point_json(), finite()).prop_map(
                |(center, radius)| json!({"Circle": {"center": center, "radius": radius}})
            ),
            node.clone()
                .prop_map(|node| json!({"Tagged": {"node": node}})),
            Just(json!({"Nested": {"inner": {"Empty": {}}}})),
        ];
        (
            "[a-z]{0,4}",
            prop::collection::vec(node.clone(), 0..3),
            optional("parent!", nullable(node.clone().boxed())),
            nullable(node.boxed()),
            optional("shape!", shape.boxed()),
        )
            .prop_map(|(label, children, parent, next, shape)| {
                let mut object = json!({"label": label, "children": children, "next": next});
                for (key, value) in [parent, shape].into_iter().flatten() {
                    object.as_object_mut().unwrap().insert(key.into(), value);
                }
                object
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_scalars_wire_value_round_trips(wire in scalars_json()) {
        round_trip::<Scalars>(wire);
    }

    #[test]
    fn any_tree_wire_value_round_trips(wire in node_json()) {
        round_trip::<Node>(wire);
    }

    #[test]
    fn any_collections_wire_value_round_trips(
        list in prop::collection::vec(any::<i64>(), 0..4),
        items in prop::collection::vec(nullable(".{0,3}".prop_map(Value::from).boxed()), 0..4),
        map in prop::collection::btree_map("[a-z]{1,3}", finite(), 0..4),
        points in proptest::option::of(prop::collection::btree_map("[a-z]{1,3}", point_json(), 0..3)),
    ) {
        let mut wire = json!({
            "list": list, "nullableItems": items, "map": map, "nullableValues": {"k": null},
            "grid": [list.clone()], "index": {}, "tables": []
        });
        if let Some(points) = points {
            wire.as_object_mut().unwrap().insert("optMap!".into(), json!(points));
        }
        round_trip::<Collections>(wire);
    }
}

/// A schema's own `struct.Type`, `union.ParseFailure` and `fn.ping` live beside the
/// standard `union.Type_`, `union.ParseFailure_` and `fn.ping_`, which the runtime types.
#[test]
fn names_of_standard_definitions_are_free_for_the_schema() {
    use collisions::{ParseFailure, ParseFailureGarbled, PingInput, PingOk, PingOutput, Type};
    round_trip::<PingInput>(json!({"message": "hi"}));
    assert_eq!(
        round_trip::<PingOutput>(
            json!({"Ok_": {"kind": {"name": "t"}, "failure!": {"Garbled": {"at": 3}}}})
        ),
        PingOutput::Ok(PingOk {
            kind: Type { name: "t".into() },
            failure: Some(ParseFailure::Garbled(ParseFailureGarbled { at: 3 })),
        })
    );
    round_trip::<PingOutput>(json!({"ErrorParseFailure_": {"reasons": [{"JsonInvalid": {}}]}}));
    round_trip::<telepact::typed::standard::PingOutput>(json!({"Ok_": {}}));
    assert_eq!(
        <PingInput as telepact::typed::FunctionInput>::NAME,
        "fn.ping"
    );
}

/// Types named like the prelude's `Some` and `Ok` (values, not types, in the generated
/// impls' `Some(..)` and `Ok(..)`) and fields named like the impls' locals read and write.
#[test]
fn prelude_value_names_and_local_names_do_not_clash() {
    use collisions::{Ok as Outcome, OkErr, OkNone, Some as Record};
    let record = round_trip::<Record>(json!({
        "map": 1, "read": "r", "index!": true, "len": 2, "fields!": null, "serializer": 3
    }));
    assert_eq!(record.fields, Some(None));
    assert_eq!(record.index, Some(true));
    round_trip::<Record>(json!({"map": 1, "read": "r", "len": 2, "serializer": 3}));
    assert_eq!(
        round_trip::<Outcome>(json!({"None": {"payload": 4}})),
        Outcome::None(OkNone { payload: 4 })
    );
    assert_eq!(
        round_trip::<Outcome>(json!({"Err": {}})),
        Outcome::Err(OkErr {})
    );
}

/// `Self` and `self` take a `_` where Rust needs one (`Self_`, `self_`), and the names
/// built on them stay UpperCamelCase (`SelfMatch`, `SelfInput`), so users' builds do
/// not warn of them.
#[test]
fn names_like_self_are_escaped_and_stay_camel_case() {
    use collisions::{Self_, SelfInput, SelfMatch, SelfOk, SelfOutput};
    assert_eq!(
        round_trip::<SelfInput>(json!({"self": {"Match": {"crate": 1}}})),
        SelfInput {
            self_: Self_::Match(SelfMatch { crate_: 1 })
        }
    );
    assert_eq!(
        round_trip::<SelfOutput>(json!({"Ok_": {"matched": true}})),
        SelfOutput::Ok(SelfOk { matched: true })
    );
    round_trip::<Self_>(json!({"None": {}}));
}

/// An `errors.*` set whose name holds a dot is the schema's own, typed beside its other
/// types (not looked for among the standard ones), and a name with a letter beyond
/// ASCII keeps its ASCII letters.
#[test]
fn dotted_error_sets_and_names_beyond_ascii_are_typed() {
    use collisions::{CrMe, ErrorOvenCold, PingOutput};
    assert_eq!(
        round_trip::<PingOutput>(json!({"ErrorOvenCold": {"degrees": 40}})),
        PingOutput::ErrorOvenCold(ErrorOvenCold { degrees: 40 })
    );
    assert_eq!(
        round_trip::<CrMe>(json!({"sweet": true})),
        CrMe { sweet: true }
    );
}

fn node(label: &str, children: Vec<Node>, shape: Option<Shape>) -> Node {
    Node {
        label: label.into(),
        children,
        parent: None,
        next: None,
        shape: shape.map(Box::new),
    }
}

/// Scalars the schema accepts (`any` is not nullable).
fn scalars() -> Scalars {
    Scalars {
        anything: json!({}),
        ..Scalars::default()
    }
}

fn circle(radius: f64) -> Shape {
    Shape::Circle(ShapeCircle {
        center: Point { x: 1.0, y: 2.0 },
        radius,
    })
}

/// A typed selection trims the result, in the `Ok_` fields, a struct and a union's
/// tag wherever they appear, to what the same selection as a raw `@select_` leaves.
#[tokio::test]
async fn a_typed_selection_keeps_exactly_the_selected_fields() {
    let mock =
        Mock::with_options(telepact::mock::MockOptions::default().include_optional_fields(false))
            .unwrap();
    let input = EchoInput {
        scalars: scalars(),
        collections: None,
        keywords: None,
        tree: None,
        shape: circle(0.5),
        links: None,
    };
    let tree = node("root", vec![node("leaf", vec![], None)], Some(circle(2.0)));
    let output = EchoOk {
        scalars: scalars(),
        collections: None,
        keywords: None,
        tree: Some(tree),
        shape: circle(3.0),
        links: None,
    };
    mock.stub(input.clone(), EchoOutput::Ok(output))
        .await
        .unwrap();
    let selection = telepact::typed::Selection::<EchoInput>::new()
        .ok([select::EchoOk::Tree, select::EchoOk::Shape])
        .fields([select::Node::Label, select::Node::Children])
        .fields([select::Node::Shape])
        .fields([select::ShapeCircle::Radius]);
    let raw_select = json!({
        "->": {"Ok_": ["tree!", "shape"]},
        "struct.Node": ["label", "children", "shape!"],
        "union.Shape": {"Circle": ["radius"]}
    });
    assert_eq!(
        serde_json::to_value(selection.to_select()).unwrap(),
        raw_select
    );

    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let client = mock.client().with_headers(credentials);
    let selected = client
        .call_selected(input.clone(), &selection)
        .await
        .unwrap();
    assert_eq!(selected.tag, "Ok_");
    let expected = json!({
        "tree!": {
            "label": "root",
            "children": [{"label": "leaf", "children": []}],
            "shape!": {"Circle": {"radius": 2.0}}
        },
        "shape": {"Circle": {"radius": 3.0}}
    });
    assert_eq!(Value::Object(selected.payload.clone()), expected);
    assert_eq!(selected.ok(), Some(&selected.payload));

    let Value::Object(raw_select) = raw_select else {
        unreachable!()
    };
    let headers = RequestHeaders::default().with_select(telepact::typed::Select(raw_select));
    let raw = client.call_raw(input, headers).await.unwrap();
    assert_eq!(Value::Object(raw.into_body()), json!({"Ok_": expected}));
}

/// The enums name fields the schema has; whether a function's result can hold a struct
/// is the server's to check, as for a raw `@select_`.
#[tokio::test]
async fn a_struct_out_of_the_result_is_refused_by_the_server() {
    let mock = Mock::new().unwrap();
    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let selection = telepact::typed::Selection::<StatusInput>::new().fields([select::Point::X]);
    let selected = mock
        .client()
        .call_selected_with(StatusInput {}, &selection, credentials)
        .await
        .unwrap();
    assert_eq!(selected.tag, "ErrorInvalidRequestHeaders_");
    assert_eq!(
        Value::Object(selected.payload),
        json!({"cases": [{
            "path": ["@select_", "struct.Point"],
            "reason": {"ObjectKeyDisallowed": {}}
        }]})
    );
}

/// A stub or verification that leaves out a required argument, given as JSON: `id` is
/// required in `GetPointInput`, and `json!({})` matches every call.
#[tokio::test]
async fn stubs_and_verifications_may_match_part_of_an_argument_as_json() {
    use telepact::typed::{MockCallError, StubOptions, Times};

    let mock = Mock::new().unwrap();
    let credentials =
        RequestHeaders::default().with_auth(Auth::Token(AuthToken { token: "t".into() }));
    let ok = GetPointOutput::Ok(GetPointOk {
        point: Point { x: 1.0, y: 2.0 },
    });
    mock.stub_matching::<GetPointInput>(json!({}), ok.clone(), StubOptions::default())
        .await
        .unwrap();
    let client = mock.client();
    for id in [1, 2] {
        let answer = client
            .get_point_with(GetPointInput { id }, credentials.clone())
            .await
            .unwrap();
        assert_eq!(answer.output, telepact::typed::Reply::Known(ok.clone()));
    }
    mock.verify_matching::<GetPointInput>(json!({}), Times::exactly(2))
        .await
        .unwrap();
    mock.verify_matching::<GetPointInput>(json!({"id": 2}), Times::exactly(1))
        .await
        .unwrap();
    // An argument the schema refuses is the mock's refusal, not a silent stub.
    let refused = mock
        .stub_matching::<GetPointInput>(json!({"id": "two"}), ok, StubOptions::default())
        .await;
    assert!(
        matches!(refused, Err(MockCallError::Refused { .. })),
        "{refused:?}"
    );
}

/// A call whose input holds NaN or an infinity is refused before it is sent, naming
/// where, in JSON and in binary: `serde_json` would have sent `null`, which a nullable
/// field takes.
#[tokio::test]
async fn a_call_holding_nan_is_refused_before_it_is_sent() {
    use telepact::typed::CallError;

    let mock = Mock::new().unwrap();
    for binary in [false, true] {
        let options = telepact::client::ClientOptions::default().binary(binary);
        let client = mock.client_with_options(options);
        let input = |radius: f64, maybe_ratio: Option<f64>| EchoInput {
            scalars: Scalars {
                maybe_ratio,
                ..scalars()
            },
            collections: None,
            keywords: None,
            tree: None,
            shape: circle(radius),
            links: None,
        };
        let refused = client.echo(input(1.0, Some(f64::INFINITY))).await;
        let Err(CallError::Encode { function, reason }) = refused else {
            panic!("not refused: {refused:?}");
        };
        assert_eq!(function, "fn.echo");
        assert_eq!(
            reason,
            "inf at .fn.echo.scalars.maybeRatio: JSON has no such number (it would be sent as null)"
        );
        let refused = client.echo(input(f64::NAN, None)).await.unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("NaN at .fn.echo.shape.Circle.radius"),
            "{refused}"
        );
        client
            .echo(input(1.0, None))
            .await
            .expect("a finite call is sent");
    }
}

/// A stub holding NaN is refused, naming where: `serde_json` would have stubbed `null`.
#[tokio::test]
async fn a_stub_holding_nan_is_refused_naming_where() {
    use telepact::typed::MockCallError;

    let mock = Mock::new().unwrap();
    let nan = GetPointOutput::Ok(GetPointOk {
        point: Point {
            x: 1.0,
            y: f64::NAN,
        },
    });
    let refused = mock.stub(GetPointInput { id: 1 }, nan).await;
    let Err(MockCallError::Encode { function, reason }) = refused else {
        panic!("not refused: {refused:?}");
    };
    assert_eq!(function, "fn.getPoint");
    assert_eq!(
        reason,
        "NaN at .Ok_.point.y: JSON has no such number (it would be sent as null)"
    );
}
