//! Properties of the binary layer over generated values: what a client encodes, the
//! server decodes unchanged (packed or not), and no input bytes make decoding panic.

use crate::binary_support;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use telepact::Message;
use telepact::binary::{ServerBinary, encode_request};

use binary_support::test_schema::binary_conformance_schema;

/// Keys with ids in the conformance encoding, and some without.
const KEYS: [&str; 8] = ["id", "name", "data", "Ok_", "api", "free", "other!", "x"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12f64).prop_map(|float| json!(float)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..5).prop_map(
                |entries| Value::Object(
                    entries
                        .into_iter()
                        .map(|(key, value)| (key.to_string(), value))
                        .collect()
                )
            ),
        ]
    })
}

/// Lists of objects sharing keys: the shape packing turns into tables.
fn table() -> impl Strategy<Value = Value> {
    let row = prop::collection::vec((prop::sample::select(&KEYS[..4]), json_value()), 0..4)
        .prop_map(|entries| {
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key.to_string(), value))
                    .collect(),
            )
        });
    prop::collection::vec(row, 1..6).prop_map(Value::Array)
}

fn request(server: &ServerBinary, payload: Value, packed: bool) -> Message {
    let mut headers = Map::new();
    headers.insert("@bin_".into(), json!([server.checksum()]));
    headers.insert("@pac_".into(), Value::Bool(packed));
    let mut body = Map::new();
    body.insert("fn.example".into(), json!({"data": payload}));
    Message::from_body(headers.into(), body)
}

proptest! {
    #[test]
    fn what_a_client_encodes_the_server_decodes(payload in prop_oneof![json_value(), table()], packed in any::<bool>()) {
        let server = ServerBinary::new(binary_conformance_schema());
        let sent = request(&server, payload, packed);
        let bytes = encode_request(&sent, server.encoding(), packed).expect("writes to a Vec");
        let received = server.decode_request(&bytes).expect("decodes");
        prop_assert_eq!(received.to_json(), sent.to_json());
    }

    #[test]
    fn no_bytes_make_decoding_panic(tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let server = ServerBinary::new(binary_conformance_schema());
        let mut bytes = vec![0x92];
        bytes.extend(tail);
        let _ = server.decode_request(&bytes);
    }
}
