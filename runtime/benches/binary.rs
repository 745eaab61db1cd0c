//! JSON vs binary (MessagePack with field ids) vs packed binary, on the shared benchmark
//! payloads: message sizes (printed once) and encode/decode times.
//!
//! Encoding is a server answering `Ok_ {items}`; decoding is a server reading the request
//! `fn.roundTrip* {items}`. Skips when `shared/bench/data/payloads.json` is absent.

#[path = "../src/binary/test_schema.rs"]
mod test_schema;

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use telepact::Message;
use telepact::binary::{BinaryRequest, ServerBinary, encode_request};
use telepact_schema::{Schema, TypeKind};
use test_schema::{SchemaBuilder, array, fields};

/// Payload kind → (function, item struct fields).
const KINDS: [(&str, &str); 3] = [
    ("typical", "fn.roundTripTypical"),
    ("all-strings", "fn.roundTripStrings"),
    ("all-numbers", "fn.roundTripNumbers"),
];
const TIMED_SIZES: [&str; 2] = ["small-list", "huge-list"];

/// The model of `shared/bench/data/benchmark.telepact.json`.
fn benchmark_schema() -> Schema {
    use TypeKind::{Integer, Number, String};
    let mut builder = SchemaBuilder::with_standard_functions();
    let items = [
        (
            "struct.TypicalItem",
            "fn.roundTripTypical",
            vec![
                ("accountId", Integer),
                ("customerName", String),
                ("region", String),
                ("unitPrice", Number),
                ("quantity", Integer),
            ],
        ),
        (
            "struct.StringItem",
            "fn.roundTripStrings",
            vec![
                ("code", String),
                ("city", String),
                ("country", String),
                ("segment", String),
                ("status", String),
            ],
        ),
        (
            "struct.NumberItem",
            "fn.roundTripNumbers",
            vec![
                ("accountId", Integer),
                ("visits", Integer),
                ("score", Number),
                ("balance", Number),
                ("ratio", Number),
            ],
        ),
    ];
    for (item, function, item_fields) in items {
        let id = builder.add_struct(item, fields(item_fields));
        let list = || fields(vec![("items", array(TypeKind::Struct(id)))]);
        builder.function(function, list(), list());
    }
    builder.build()
}

fn payloads() -> Option<Map<String, Value>> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/data/payloads.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("SKIP: benchmark payloads not found at {}", path.display());
        return None;
    };
    match serde_json::from_str(&text) {
        Ok(Value::Object(payloads)) => Some(payloads),
        _ => {
            println!("SKIP: {} is not an object of payloads", path.display());
            None
        }
    }
}

fn message(headers: Value, target: &str, payload: Value) -> Message {
    let mut body = Map::new();
    body.insert(target.into(), payload);
    Message::from_body(serde_json::from_value(headers).unwrap_or_default(), body)
}

struct Case {
    function: &'static str,
    label: String,
    response: Message,
    request: Message,
}

fn cases(payloads: &Map<String, Value>, server: &ServerBinary, sizes: &[&str]) -> Vec<Case> {
    let checksum = json!([server.checksum()]);
    let mut cases = Vec::new();
    for (kind, function) in KINDS {
        for size in sizes {
            let Some(items) = payloads.get(kind).and_then(|kind| kind.get(*size)) else {
                continue;
            };
            cases.push(Case {
                function,
                label: format!("{kind}/{size}"),
                response: message(json!({}), "Ok_", json!({"items": items})),
                request: message(
                    json!({"@bin_": checksum}),
                    function,
                    json!({"items": items}),
                ),
            });
        }
    }
    cases
}

fn binary_request(packed: bool, checksum: i32) -> BinaryRequest {
    BinaryRequest {
        known_checksums: vec![i64::from(checksum)],
        pac: Some(packed),
    }
}

fn json_bytes(message: &Message) -> Vec<u8> {
    serde_json::to_vec(&(&message.headers, message.body())).unwrap_or_default()
}

fn print_sizes(payloads: &Map<String, Value>, server: &ServerBinary) {
    println!("message sizes in bytes (response `Ok_ {{items}}`): json / binary / packed binary");
    let sizes = [
        "single",
        "small-list",
        "big-list",
        "really-big-list",
        "huge-list",
    ];
    for case in cases(payloads, server, &sizes) {
        let json = json_bytes(&case.response).len();
        let encode = |packed| {
            server
                .encode_response(
                    case.function,
                    &case.response,
                    &binary_request(packed, server.checksum()),
                )
                .map_or(0, |bytes| bytes.len())
        };
        let (binary, packed) = (encode(false), encode(true));
        let percent = |size: usize| 100.0 * size as f64 / json as f64;
        println!(
            "  {:28} {json:>8} / {binary:>8} ({:.0}%) / {packed:>8} ({:.0}%)",
            case.label,
            percent(binary),
            percent(packed)
        );
    }
}

fn bench_binary(criterion: &mut Criterion) {
    let Some(payloads) = payloads() else { return };
    let server = ServerBinary::new(benchmark_schema());
    print_sizes(&payloads, &server);
    let checksum = server.checksum();

    let mut encode = criterion.benchmark_group("encode response");
    for case in cases(&payloads, &server, &TIMED_SIZES) {
        encode.bench_with_input(
            BenchmarkId::new("json", &case.label),
            &case,
            |bench, case| bench.iter(|| json_bytes(black_box(&case.response))),
        );
        for (name, packed) in [("binary", false), ("packed", true)] {
            let request = binary_request(packed, checksum);
            encode.bench_with_input(BenchmarkId::new(name, &case.label), &case, |bench, case| {
                bench.iter(|| {
                    server.encode_response(case.function, black_box(&case.response), &request)
                })
            });
        }
    }
    encode.finish();

    let mut decode = criterion.benchmark_group("decode request");
    for case in cases(&payloads, &server, &TIMED_SIZES) {
        let json = json_bytes(&case.request);
        decode.bench_with_input(
            BenchmarkId::new("json", &case.label),
            &json,
            |bench, bytes| bench.iter(|| serde_json::from_slice::<Value>(black_box(bytes)).ok()),
        );
        for (name, packed) in [("binary", false), ("packed", true)] {
            let mut request = case.request.clone();
            if packed {
                request.headers.insert("@pac_", Value::Bool(true));
            }
            let Ok(bytes) = encode_request(&request, server.encoding(), packed) else {
                continue;
            };
            decode.bench_with_input(
                BenchmarkId::new(name, &case.label),
                &bytes,
                |bench, bytes| bench.iter(|| server.decode_request(black_box(bytes)).ok()),
            );
        }
    }
    decode.finish();
}

fn configured() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = configured();
    targets = bench_binary
}
criterion_main!(benches);
