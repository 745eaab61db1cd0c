//! The feature schema's generated types compile without warnings, and their JSON is
//! exactly the Telepact wire form: sample wire JSON of every type deserialises into the
//! generated type and serialises back to the same JSON. Beside it: the names the
//! generator gives (`names`), random values drawn as the types (`random`), and typed
//! calls of the mock (`calls`).

#![deny(warnings)]

/// The generated modules keep out of the opt-in lints a user's crate may turn on: the
/// groups and rustc's allowed-by-default ones (`cargo clippy` of this test, in CI,
/// fails on a warning).
#[warn(
    clippy::pedantic,
    clippy::nursery,
    unused_qualifications,
    unused_results,
    let_underscore_drop,
    missing_copy_implementations,
    trivial_casts,
    trivial_numeric_casts,
    unused_lifetimes,
    single_use_lifetimes,
    elided_lifetimes_in_paths
)]
mod linted {
    include!("../../generated/features.rs");

    include!("../../generated/collisions.rs");
}

mod calls;
mod names;
mod random;

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
