//! A typed body seen as values: converted once, on demand, and its tag read without
//! converting it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::{Value, json};

use super::*;

/// Counts how often a payload was serialized.
static PAYLOADS_WRITTEN: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Serialize for Counted {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PAYLOADS_WRITTEN.fetch_add(1, Ordering::SeqCst);
        let mut map = BTreeMap::new();
        map.insert("n", 1);
        map.serialize(serializer)
    }
}

#[derive(Serialize)]
enum Output {
    #[serde(rename = "Ok_")]
    Ok(Counted),
}

#[test]
fn a_typed_body_names_its_tag_without_being_converted() {
    let message = Message::typed(Headers::new(), Output::Ok(Counted));
    assert_eq!(message.target(), "Ok_");
    assert_eq!(PAYLOADS_WRITTEN.load(Ordering::SeqCst), 0);

    let copy = message.clone();
    assert_eq!(
        Value::Object(message.body().clone()),
        json!({"Ok_": {"n": 1}})
    );
    assert_eq!(
        message.payload(),
        Some(json!({"n": 1}).as_object().unwrap())
    );
    assert_eq!(
        copy.into_body(),
        *message.body(),
        "clones share the conversion"
    );
    assert_eq!(PAYLOADS_WRITTEN.load(Ordering::SeqCst), 1, "converted once");
}

#[test]
fn a_typed_map_names_its_first_key() {
    let message = Message::typed(Headers::new(), json!({"ErrorGone": {"why": "sold"}}));
    assert_eq!(message.target(), "ErrorGone");
    let (_, body, _) = message.into_parts();
    assert_eq!(Value::Object(body), json!({"ErrorGone": {"why": "sold"}}));
}

#[test]
fn a_changed_typed_body_stays_changed() {
    let mut message = Message::typed(Headers::new(), json!({"Ok_": {}}));
    message
        .body_mut()
        .insert("Ok_".to_string(), json!({"added": true}));
    assert_eq!(message.target(), "Ok_");
    assert!(matches!(message.body, Body::Values(_)), "now plain values");
    assert_eq!(
        Value::Object(message.into_body()),
        json!({"Ok_": {"added": true}})
    );
}

#[test]
fn a_body_that_is_not_an_object_reads_as_empty_and_says_why() {
    let mut message = Message::typed(Headers::new(), vec![1, 2]);
    assert_eq!(message.target(), "");
    assert!(message.body().is_empty());
    let error = message.convert_typed().expect_err("a list is not a body");
    assert!(error.contains("must serialize to an object"), "{error}");

    let mut tuple_keys = BTreeMap::new();
    tuple_keys.insert((1, 2), 3);
    let mut message = Message::typed(Headers::new(), tuple_keys);
    assert_eq!(message.target(), "");
    assert!(message.convert_typed().is_err());
}

/// A schema of one function, `fn.f`, whose `Ok_` holds an integer `n`, compiled.
fn compiled_f() -> (crate::validate::Compiled, telepact_schema::FunctionId) {
    let schema =
        telepact_schema::Schema::from_text(r#"[{"fn.f": {}, "->": [{"Ok_": {"n": "integer"}}]}]"#)
            .expect("the schema loads");
    let compiled = crate::validate::Compiled::new(&schema);
    let f = compiled.function_id("fn.f").expect("fn.f");
    (compiled, f)
}

#[test]
fn a_written_body_is_dropped_when_the_body_may_change() {
    let (compiled, f) = compiled_f();
    let result = &compiled.function(f).result;

    let mut values = Message::from_body(Headers::new(), Map::new());
    values.body_mut().insert("Ok_".to_string(), json!({"n": 1}));
    assert!(
        !values.write_checked(&compiled, result),
        "values are validated as they are"
    );

    let mut message = Message::typed(Headers::new(), json!({"Ok_": {"n": 1}}));
    assert!(message.write_checked(&compiled, result));
    assert_eq!(
        message
            .clone()
            .take_written(crate::codec::Encoding::Json)
            .as_deref(),
        Some(&br#"{"Ok_":{"n":1}}"#[..])
    );
    message
        .body_mut()
        .insert("Ok_".to_string(), json!({"n": "one"}));
    assert_eq!(
        message.clone().take_written(crate::codec::Encoding::Json),
        None,
        "changed after it was written"
    );
    assert!(!message.write_checked(&compiled, result), "values now");

    let mut typed = Message::typed(Headers::new(), json!({"Ok_": {"n": 2}}));
    assert!(typed.write_checked(&compiled, result));
    assert_eq!(
        typed.take_written(crate::codec::Encoding::Json).as_deref(),
        Some(&br#"{"Ok_":{"n":2}}"#[..])
    );
    // Taken once; the body stays typed, its tag known.
    assert_eq!(typed.take_written(crate::codec::Encoding::Json), None);
    assert_eq!(typed.target(), "Ok_");
    assert_eq!(typed.body().get("Ok_"), Some(&json!({"n": 2})));
}

/// The tag the writer read is kept on the body, whether or not a clone shares it.
#[test]
fn a_written_body_keeps_the_tag_it_was_written_under() {
    let (compiled, f) = compiled_f();
    let result = &compiled.function(f).result;

    let mut alone = Message::typed(Headers::new(), json!({"Ok_": {"n": 1}}));
    assert!(alone.write_checked(&compiled, result));
    assert_eq!(alone.target(), "Ok_");
    assert!(alone.take_written(crate::codec::Encoding::Json).is_some());
    assert_eq!(alone.target(), "Ok_", "kept once the bytes are taken");

    let mut shared = Message::typed(Headers::new(), json!({"Ok_": {"n": 1}}));
    let clone = shared.clone();
    assert!(shared.write_checked(&compiled, result));
    assert_eq!(shared.target(), "Ok_");
    assert_eq!(clone.target(), "Ok_", "the clone shares the tag");
    assert!(shared.take_written(crate::codec::Encoding::Json).is_some());
    assert_eq!(shared.target(), "Ok_");
}

/// An input whose own serialization differs from the request it was read from: keys
/// in another order, a whole number written as a float.
#[derive(Serialize)]
struct Reordered {
    z: f64,
    a: bool,
}

/// A request read typed shows its own payload as values, in JSON and in MessagePack,
/// not its input's serialization; the input is still taken as it was read.
#[test]
fn a_checked_call_shows_the_request_s_own_values() {
    let input = || Reordered { z: 1.0, a: true };
    let encoding = BinaryEncoding::from_names(["a".to_string()]);
    let mut pack = Vec::new();
    // {"a": true, "z": 1} with "a" as its id.
    pack.extend([0x82, 0x00, 0xc3, 0xa1, b'z', 0x01]);
    let payloads = [
        Payload::Json(bytes::Bytes::from_static(br#"{"a": true, "z": 1}"#)),
        Payload::Pack(pack.into(), Arc::new(encoding)),
    ];
    for payload in payloads {
        let function = telepact_schema::FunctionId(7);
        let call = CheckedCall::new("fn.x", input()).read_from(payload, function);
        let mut message = Message::checked_call(Headers::new(), call);
        assert!(message.body_checked());
        assert_eq!(message.checked_function(), Some(function));
        let seen = serde_json::to_string(message.body()).expect("JSON");
        assert_eq!(seen, r#"{"fn.x":{"a":true,"z":1}}"#);
        let (tag, taken) = message.take_input::<Reordered>().expect("the input");
        assert_eq!((tag, taken.z, taken.a), ("fn.x", 1.0, true));
        // The input taken, the body is no longer the one read.
        assert_eq!(message.checked_function(), None);
    }
    let unkept = Message::checked_call(Headers::new(), CheckedCall::new("fn.x", input()));
    assert_eq!(unkept.checked_function(), None);
    let seen = serde_json::to_string(unkept.body()).expect("JSON");
    assert_eq!(seen, r#"{"fn.x":{"z":1.0,"a":true}}"#);
}
