//! Replays `binary.json` through the whole server (`Server::process` behind the
//! conformance fixture): MessagePack requests, `@bin_` negotiation, `@pac_`, and
//! `@bin_` header validation.

use crate::binary_support;
use crate::fixture;
use crate::vectors;

use binary_support::{marked_to_pack, pack_to_marked, read_cases, read_pack, write_pack};
use fixture::{Fixture, FixtureOptions};
use serde_json::Value;
use telepact::Encoding;

/// The request bytes: MessagePack when the case marks it with `"@msgpack": true`.
fn request_bytes(case: &Value) -> Vec<u8> {
    let mut request = case["request"].clone();
    let as_msgpack = request[0]
        .as_object_mut()
        .and_then(|headers| headers.remove("@msgpack"))
        == Some(Value::Bool(true));
    if as_msgpack {
        write_pack(&marked_to_pack(&request))
    } else {
        serde_json::to_vec(&request).expect("request serializes")
    }
}

#[tokio::test]
async fn binary_vectors_through_the_server() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let options = FixtureOptions {
        base_dir: Some(dir.clone()),
        ..FixtureOptions::default()
    };
    let fixture =
        Fixture::load(&dir.join("schemas/binary"), options).expect("binary fixture loads");
    let cases = read_cases(&dir, "binary.json");
    let mut failures = Vec::new();
    for case in &cases {
        let response = fixture.handle(&request_bytes(case)).await;
        let actual = match response.encoding {
            Encoding::Binary => pack_to_marked(&read_pack(&response.bytes)),
            Encoding::Json => serde_json::from_slice(&response.bytes).expect("JSON response"),
        };
        if !vectors::json_eq(&actual, &case["response"], false) {
            let name = format!("binary[{}]", case["index"]);
            failures.push((
                name,
                format!("expected {}\n     got {actual}", case["response"]),
            ));
        }
    }
    vectors::report("binary.json (in process)", cases.len(), &failures);
}
