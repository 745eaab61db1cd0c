//! Replays `binary.json` against the binary layer alone (no server): decoding of the
//! MessagePack requests, the parse failures, and the encoding of the fixture's `Ok_`
//! responses (`@enc_`, `@bin_`, `@pac_`, ids). Cases whose answer comes from header
//! validation (`@bin_: null`, ...) need the full server and are listed, not replayed.

use crate::binary_support;

use std::path::Path;

use binary_support::test_schema::{BINARY_CONFORMANCE_CHECKSUM, binary_conformance_schema};
use binary_support::{
    conformance_dir, fixture_result, marked_to_pack, message, pack_to_marked,
    parse_failure_response, read_cases, read_pack, write_pack,
};
use serde_json::Value;
use telepact::binary::{BinaryEncoding, BinaryRequest, ServerBinary};
use telepact_schema::Schema;

enum Outcome {
    Passed,
    NeedsServer,
}

/// Runs one case; panics with the case's index on a mismatch.
fn replay(server: &ServerBinary, case: &Value) -> Outcome {
    let index = &case["index"];
    let expected = &case["response"];
    if expected[1].get("ErrorInvalidRequestHeaders_").is_some() {
        return Outcome::NeedsServer;
    }
    let mut request = case["request"].clone();
    let sent_as_msgpack = request[0]
        .as_object_mut()
        .and_then(|headers| headers.remove("@msgpack"))
        == Some(Value::Bool(true));

    let decoded = if sent_as_msgpack {
        server.decode_request(&write_pack(&marked_to_pack(&request)))
    } else {
        Ok(message(request))
    };
    let actual = match decoded {
        Err(failure) => parse_failure_response(failure),
        Ok(request) => {
            let response = fixture_result(&request);
            let binary =
                BinaryRequest::from_headers(&request.headers).expect("every case asks for binary");
            let mut response = response;
            binary.echo_headers(&mut response.headers);
            match server.encode_response(request.target(), &response, &binary) {
                Some(bytes) => pack_to_marked(&read_pack(&bytes)),
                None => response.to_json(),
            }
        }
    };
    assert_eq!(&actual, expected, "binary.json case {index}");
    Outcome::Passed
}

/// The `binary.json` cases the binary layer answers alone; the rest are header
/// validation failures.
const BINARY_LAYER_CASES: usize = 5;

fn replay_all(server: &ServerBinary, dir: &Path, label: &str) {
    let cases = read_cases(dir, "binary.json");
    let mut passed = 0;
    let mut deferred = Vec::new();
    for case in &cases {
        match replay(server, case) {
            Outcome::Passed => passed += 1,
            Outcome::NeedsServer => deferred.push(case["index"].to_string()),
        }
    }
    telepact_test_support::record_vectors(
        "binary.json",
        &format!("binary layer, {label}; {} need the server", deferred.len()),
        cases.len(),
        passed,
    );
    // Every case is either replayed here or answered by header validation, which
    // `conformance_binary` replays through the whole server.
    assert_eq!(
        (passed, deferred.len()),
        (BINARY_LAYER_CASES, cases.len() - BINARY_LAYER_CASES),
        "deferred: {}",
        deferred.join(", ")
    );
}

/// The `@enc_` table of the first case is the encoding of `schemas/binary`.
fn expected_encoding(dir: &Path) -> BinaryEncoding {
    let cases = read_cases(dir, "binary.json");
    let headers = &cases[0]["response"][0];
    let checksum = headers["@bin_"][0].as_i64().expect("a checksum") as i32;
    BinaryEncoding::from_field_ids(
        headers["@enc_"].as_object().expect("an @enc_ table"),
        checksum,
    )
    .expect("a valid table")
}

#[test]
fn the_hand_built_model_replays_binary_json() {
    let Some(dir) = conformance_dir() else { return };
    let schema = binary_conformance_schema();
    let encoding = BinaryEncoding::new(&schema);
    assert_eq!(encoding, expected_encoding(&dir));
    assert_eq!(encoding.checksum(), BINARY_CONFORMANCE_CHECKSUM);
    replay_all(&ServerBinary::new(schema), &dir, "hand-built model");
}

#[test]
fn the_loaded_schema_replays_binary_json() {
    let Some(dir) = conformance_dir() else { return };
    let schema = Schema::from_dir(dir.join("schemas/binary")).expect("schemas/binary loads");
    assert_eq!(BinaryEncoding::new(&schema), expected_encoding(&dir));
    replay_all(&ServerBinary::new(schema), &dir, "loaded schema");
}

/// Checksums the reference implementation computes for other conformance schemas (and
/// the benchmark schema); equal checksums mean equal sorted name lists.
#[test]
fn loaded_schemas_get_the_reference_checksums() {
    let Some(dir) = conformance_dir() else { return };
    let expected = [
        ("schemas/binary", 1059755324),
        ("schemas/example", -479553589),
        ("schemas/auth", 998815718),
        ("schemas/api_examples_mock", -1725463538),
    ];
    for (schema_dir, checksum) in expected {
        let schema = Schema::from_dir(dir.join(schema_dir))
            .unwrap_or_else(|error| panic!("{schema_dir}: {error}"));
        assert_eq!(
            BinaryEncoding::new(&schema).checksum(),
            checksum,
            "{schema_dir}"
        );
    }
}
