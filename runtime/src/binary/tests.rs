//! Tests of the server's half against hand-built schemas.

use rmpv::Value as Pack;
use serde_json::{Value, json};
use telepact_schema::TypeKind;

use super::test_schema::{
    BINARY_CONFORMANCE_CHECKSUM, SchemaBuilder, array, binary_conformance_schema, fields, object,
};
use super::*;
use crate::ParseFailure;
use crate::message::{Headers, Message};

fn message(value: Value) -> Message {
    let Value::Array(parts) = value else {
        panic!("a message is an array");
    };
    let [Value::Object(headers), Value::Object(body)] =
        <[Value; 2]>::try_from(parts).expect("two parts")
    else {
        panic!("a message is two objects");
    };
    Message::from_body(headers.into(), body)
}

fn msgpack(value: &Pack) -> Vec<u8> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).expect("writing to a Vec");
    bytes
}

fn read(bytes: &[u8]) -> Pack {
    rmpv::decode::read_value(&mut &bytes[..]).expect("valid MessagePack")
}

fn int_map(entries: Vec<(u64, Pack)>) -> Pack {
    Pack::Map(
        entries
            .into_iter()
            .map(|(key, value)| (Pack::from(key), value))
            .collect(),
    )
}

fn str_map(entries: Vec<(&str, Pack)>) -> Pack {
    Pack::Map(
        entries
            .into_iter()
            .map(|(key, value)| (Pack::from(key), value))
            .collect(),
    )
}

fn checksums(list: &[i64]) -> Pack {
    Pack::Array(list.iter().map(|checksum| Pack::from(*checksum)).collect())
}

const CHECKSUM: i64 = BINARY_CONFORMANCE_CHECKSUM as i64;

#[test]
fn the_binary_conformance_schema_gets_the_reference_table_and_checksum() {
    let encoding = BinaryEncoding::new(&binary_conformance_schema());
    let expected = [
        "Ok_",
        "api",
        "data",
        "fn.api_",
        "fn.example",
        "fn.ping_",
        "id",
        "includeExamples!",
        "includeInternal!",
        "name",
    ];
    assert_eq!(encoding.names(), expected.map(String::from));
    assert_eq!(encoding.checksum(), BINARY_CONFORMANCE_CHECKSUM);
}

#[test]
fn keys_are_traced_through_unions_links_and_recursion_but_not_errors() {
    let mut builder = SchemaBuilder::new();
    let node = builder.add_struct("struct.Node", fields(vec![]));
    builder.set_struct_fields(
        node,
        fields(vec![
            ("children!", array(TypeKind::Struct(node))),
            ("label", TypeKind::String),
        ]),
    );
    let shape = builder.add_union(
        "union.Shape",
        vec![
            ("Circle", fields(vec![("radius", TypeKind::Number)])),
            ("Dot", fields(vec![])),
        ],
    );
    let target = builder.function(
        "fn.target",
        fields(vec![("x", TypeKind::Integer)]),
        fields(vec![("y", TypeKind::Any)]),
    );
    builder.function(
        "fn.walk",
        fields(vec![
            ("root", TypeKind::Struct(node)),
            ("select", TypeKind::Select),
        ]),
        fields(vec![
            ("shapes", object(TypeKind::Union(shape))),
            ("next", TypeKind::FunctionLink(target)),
        ]),
    );
    let encoding = BinaryEncoding::new(&builder.build());
    let expected = [
        "Circle",
        "Dot",
        "Ok_",
        "children!",
        "fn.target",
        "fn.walk",
        "label",
        "next",
        "radius",
        "root",
        "select",
        "shapes",
        "x",
        "y",
    ];
    assert_eq!(encoding.names(), expected.map(String::from));
    // Error tags (ErrorUnknown_, caseId!) never get an id.
    assert_eq!(encoding.id("ErrorUnknown_"), None);
    assert_eq!(encoding.id("caseId!"), None);
}

fn server() -> ServerBinary {
    ServerBinary::new(binary_conformance_schema())
}

#[test]
fn a_request_with_the_current_checksum_decodes_to_names() {
    let server = server();
    let request = Pack::Array(vec![
        str_map(vec![
            ("@bin_", checksums(&[CHECKSUM])),
            ("@id_", Pack::from("x")),
        ]),
        int_map(vec![(5, int_map(vec![]))]),
    ]);
    let decoded = server.decode_request(&msgpack(&request)).expect("decodes");
    assert_eq!(
        decoded.to_json(),
        json!([{"@bin_": [CHECKSUM], "@id_": "x"}, {"fn.ping_": {}}])
    );
}

#[test]
fn stale_missing_or_empty_checksums_are_incompatible() {
    let server = server();
    for headers in [
        str_map(vec![("@bin_", checksums(&[0]))]),
        str_map(vec![("@bin_", checksums(&[]))]),
        str_map(vec![]),
        str_map(vec![("@bin_", checksums(&[0, CHECKSUM]))]),
    ] {
        let request = Pack::Array(vec![headers, int_map(vec![(5, int_map(vec![]))])]);
        assert_eq!(
            server
                .decode_request(&msgpack(&request))
                .map(|message| message.to_json()),
            Err(ParseFailure::IncompatibleBinaryEncoding)
        );
    }
}

#[test]
fn undecodable_requests_name_their_reason() {
    let server = server();
    let with_body = |body: Pack| {
        msgpack(&Pack::Array(vec![
            str_map(vec![("@bin_", checksums(&[CHECKSUM]))]),
            body,
        ]))
    };
    let failure = |bytes: &[u8]| server.decode_request(bytes).err();

    assert_eq!(
        failure(&with_body(int_map(vec![(255, int_map(vec![]))]))),
        Some(ParseFailure::BinaryDecodeFailure)
    );
    assert_eq!(
        failure(&with_body(int_map(vec![(5, Pack::Ext(3, vec![1]))]))),
        Some(ParseFailure::BinaryDecodeFailure)
    );
    assert_eq!(
        failure(&with_body(int_map(vec![]))),
        Some(ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject)
    );
    assert_eq!(
        failure(&with_body(int_map(vec![(5, Pack::from(1))]))),
        Some(ParseFailure::ExpectedJsonArrayOfAnObjectAndAnObjectOfOneObject)
    );
    assert_eq!(
        failure(&with_body(Pack::from(1))),
        Some(ParseFailure::ExpectedJsonArrayOfTwoObjects)
    );
    assert_eq!(
        failure(&[0x92, 0xc1]),
        Some(ParseFailure::ExpectedJsonArrayOfTwoObjects)
    );
    let mut trailing = with_body(int_map(vec![(5, int_map(vec![]))]));
    trailing.push(0);
    assert_eq!(
        failure(&trailing),
        Some(ParseFailure::ExpectedJsonArrayOfTwoObjects)
    );
    let int_header = msgpack(&Pack::Array(vec![
        int_map(vec![(1, Pack::Nil)]),
        int_map(vec![]),
    ]));
    assert_eq!(
        failure(&int_header),
        Some(ParseFailure::BinaryDecodeFailure)
    );
}

#[test]
fn ok_responses_carry_the_checksum_and_the_table_when_the_client_lacks_it() {
    let server = server();
    let response = message(json!([{"@id_": 1}, {"Ok_": {}}]));
    let stale = BinaryRequest {
        known_checksums: vec![0],
        pac: None,
    };
    let bytes = server
        .encode_response("fn.ping_", &response, &stale)
        .expect("Ok_ is binary");
    let Pack::Array(parts) = read(&bytes) else {
        panic!("a message");
    };
    let headers = super::convert::pack_to_json(parts[0].clone(), None).expect("plain headers");
    assert_eq!(headers["@bin_"], json!([CHECKSUM]));
    assert_eq!(headers["@enc_"]["fn.example"], json!(4));
    assert_eq!(headers["@id_"], json!(1));
    assert_eq!(parts[1], int_map(vec![(0, int_map(vec![]))]));

    let current = BinaryRequest {
        known_checksums: vec![CHECKSUM],
        pac: None,
    };
    let bytes = server
        .encode_response("fn.ping_", &response, &current)
        .expect("Ok_ is binary");
    let Pack::Array(parts) = read(&bytes) else {
        panic!("a message");
    };
    assert_eq!(
        parts[0],
        str_map(vec![
            ("@id_", Pack::from(1)),
            ("@bin_", checksums(&[CHECKSUM]))
        ])
    );
}

#[test]
fn only_ok_results_are_binary() {
    let server = server();
    let error = message(json!([{}, {"ErrorUnknown_": {}}]));
    assert_eq!(
        server.encode_response("fn.ping_", &error, &BinaryRequest::default()),
        None
    );
}

#[test]
fn packed_responses_write_lists_of_structs_as_tables() {
    let server = server();
    let response = message(
        json!([{}, {"Ok_": {"data": [{"id": 1, "name": "one"}, {"id": 2, "name": "two"}]}}]),
    );
    let request = BinaryRequest {
        known_checksums: vec![CHECKSUM],
        pac: Some(true),
    };
    let bytes = server
        .encode_response("fn.example", &response, &request)
        .expect("Ok_ is binary");
    let Pack::Array(parts) = read(&bytes) else {
        panic!("a message");
    };
    assert_eq!(
        parts[0],
        str_map(vec![
            ("@bin_", checksums(&[CHECKSUM])),
            ("@pac_", Pack::Boolean(true))
        ])
    );
    let table = Pack::Array(vec![
        Pack::Ext(17, vec![]),
        Pack::Array(vec![Pack::Nil, Pack::from(6), Pack::from(9)]),
        Pack::Array(vec![Pack::from(1), Pack::from("one")]),
        Pack::Array(vec![Pack::from(2), Pack::from("two")]),
    ]);
    assert_eq!(parts[1], int_map(vec![(0, int_map(vec![(2, table)]))]));
}

#[test]
fn bytes_travel_raw_in_responses_and_as_base64_in_messages() {
    let mut builder = SchemaBuilder::new();
    let blob = builder.add_struct("struct.Blob", fields(vec![("data", TypeKind::Bytes)]));
    builder.function(
        "fn.blob",
        fields(vec![("raw", TypeKind::Bytes)]),
        fields(vec![
            ("blobs", array(TypeKind::Struct(blob))),
            ("text", TypeKind::String),
        ]),
    );
    let server = ServerBinary::new(builder.build());
    let encoding = server.encoding().clone();
    let response = message(json!([{}, {"Ok_": {"blobs": [{"data": "AAEC"}], "text": "AAEC"}}]));
    let request = BinaryRequest {
        known_checksums: vec![i64::from(server.checksum())],
        pac: None,
    };
    let bytes = server
        .encode_response("fn.blob", &response, &request)
        .expect("Ok_ is binary");
    let Pack::Array(parts) = read(&bytes) else {
        panic!("a message");
    };
    let id = |name: &str| u64::from(encoding.id(name).expect("encoded"));
    let expected_body = int_map(vec![(
        id("Ok_"),
        int_map(vec![
            (
                id("blobs"),
                Pack::Array(vec![int_map(vec![(
                    id("data"),
                    Pack::Binary(vec![0, 1, 2]),
                )])]),
            ),
            (id("text"), Pack::from("AAEC")),
        ]),
    )]);
    assert_eq!(parts[1], expected_body);

    // A request carrying raw bytes arrives as base64 text.
    let request = Pack::Array(vec![
        str_map(vec![("@bin_", checksums(&[i64::from(server.checksum())]))]),
        int_map(vec![(
            id("fn.blob"),
            int_map(vec![(id("raw"), Pack::Binary(b"abc".to_vec()))]),
        )]),
    ]);
    let decoded = server.decode_request(&msgpack(&request)).expect("decodes");
    assert_eq!(
        *decoded.body(),
        *json!({"fn.blob": {"raw": "YWJj"}})
            .as_object()
            .expect("object")
    );
}

#[test]
fn binary_requests_are_told_apart_from_json_by_their_first_byte() {
    assert!(is_msgpack(&[0x92, 0x80, 0x80]));
    assert!(!is_msgpack(b"[{}, {}]"));
    assert!(!is_msgpack(b""));
}

#[test]
fn binary_request_headers_are_read_after_validation() {
    let headers: Headers =
        serde_json::from_value(json!({"@bin_": [1, 2], "@pac_": false})).expect("an object");
    let request = BinaryRequest::from_headers(&headers).expect("asks for binary");
    assert_eq!(request.known_checksums, vec![1, 2]);
    assert!(!request.packed());
    let mut response_headers = Headers::new();
    request.echo_headers(&mut response_headers);
    assert_eq!(Value::from(response_headers), json!({"@pac_": false}));
    assert_eq!(BinaryRequest::from_headers(&Headers::new()), None);
}

#[test]
fn bytes_are_found_through_recursion_unions_and_links_only_where_declared() {
    use super::shape::BytesReach;

    let mut builder = SchemaBuilder::new();
    let tree = builder.add_struct("struct.Tree", fields(vec![]));
    builder.set_struct_fields(tree, fields(vec![("kids", array(TypeKind::Struct(tree)))]));
    let payload = builder.add_union(
        "union.Payload",
        vec![
            ("Text", fields(vec![])),
            ("Raw", fields(vec![("data", TypeKind::Bytes)])),
        ],
    );
    let upload = builder.function(
        "fn.upload",
        fields(vec![("file", object(TypeKind::Bytes))]),
        fields(vec![]),
    );
    let schema = builder.build();
    let reach = BytesReach::new(&schema);
    let has_bytes = |list: Vec<(&str, TypeKind)>| reach.fields(fields(list).values());

    assert!(!has_bytes(vec![
        ("tree", TypeKind::Struct(tree)),
        ("any", TypeKind::Any)
    ]));
    assert!(has_bytes(vec![
        ("tree", TypeKind::Struct(tree)),
        ("payload", TypeKind::Union(payload))
    ]));
    assert!(has_bytes(vec![(
        "next",
        array(TypeKind::FunctionLink(upload))
    )]));
}

#[test]
fn bytes_at_the_end_of_a_long_chain_are_found_from_its_start() {
    use super::shape::BytesReach;

    // struct.S0 → S1 → ... → S2999, which holds bytes; struct.T0 → T1 → ... ends in none.
    let mut builder = SchemaBuilder::new();
    let chain = |builder: &mut SchemaBuilder, prefix: &str, last: Vec<(&str, TypeKind)>| {
        let ids: Vec<_> = (0..3_000)
            .map(|i| builder.add_struct(&format!("struct.{prefix}{i}"), fields(vec![])))
            .collect();
        for pair in ids.windows(2) {
            builder.set_struct_fields(pair[0], fields(vec![("next", TypeKind::Struct(pair[1]))]));
        }
        builder.set_struct_fields(ids[ids.len() - 1], fields(last));
        ids[0]
    };
    let with_bytes = chain(&mut builder, "S", vec![("data", TypeKind::Bytes)]);
    let without = chain(&mut builder, "T", vec![("text", TypeKind::String)]);
    let schema = builder.build();
    let reach = BytesReach::new(&schema);
    assert!(reach.fields(fields(vec![("s", array(TypeKind::Struct(with_bytes)))]).values()));
    assert!(!reach.fields(fields(vec![("t", object(TypeKind::Struct(without)))]).values()));
}

proptest::proptest! {
    /// The one-walk reading of a request never changes an outcome: cut, flip or
    /// extend a request's bytes anywhere, and the answer is the step-by-step one.
    #[test]
    fn reading_in_one_walk_answers_as_reading_step_by_step(
        edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 0u8..=255, 0u8..4), 0..4),
        packed in proptest::prelude::any::<bool>(),
    ) {
        let server = server();
        let mut headers = vec![("@bin_", checksums(&[CHECKSUM]))];
        if packed {
            headers.push(("@pac_", Pack::Boolean(true)));
        }
        let mut bytes = msgpack(&Pack::Array(vec![
            str_map(headers),
            int_map(vec![(5, int_map(vec![]))]),
        ]));
        for (at, byte, kind) in edits {
            let at = at.index(bytes.len() + 1);
            match kind {
                0 => bytes.truncate(at),
                1 => bytes.insert(at, byte),
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        let parts = |message: Message| {
            let (headers, body, _) = message.into_parts();
            (headers, body)
        };
        proptest::prop_assert_eq!(
            server.decode_request(&bytes).map(parts),
            server.decode_checked(&bytes).map(parts)
        );
    }
}
