//! `Server::process` on the shared benchmark payloads against a bare serde_json
//! parse + serialize of the same bytes (the floor any JSON server pays): the echo of
//! JSON values, and the same echo as a typed route (`typed`), whose input is read and
//! whose answer is written without JSON values.

use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use telepact::Server;
use telepact::schema::Schema;

#[path = "support/echo.rs"]
mod support;
use support::echo_router;

#[path = "support/measure.rs"]
mod measure;

#[global_allocator]
static GLOBAL: measure::Counting = measure::Counting;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/data")
}

fn process(c: &mut Criterion) {
    let dir = data_dir();
    let (Ok(schema_text), Ok(payloads)) = (
        std::fs::read_to_string(dir.join("benchmark.telepact.json")),
        std::fs::read_to_string(dir.join("payloads.json")),
    ) else {
        println!("SKIP: benchmark data not found at {}", dir.display());
        return;
    };
    let schema = Schema::from_text(&schema_text).expect("benchmark schema loads");
    let server_of = |typed| {
        Server::builder(schema.clone(), echo_router(typed))
            .auth_required(false)
            .build()
            .expect("server builds")
    };
    let (server, typed) = (server_of(false), server_of(true));
    let payloads: Value = serde_json::from_str(&payloads).expect("payloads are JSON");

    let mut group = c.benchmark_group("roundTripTypical");
    for size in ["single", "big-list", "huge-list"] {
        let items = &payloads["typical"][size];
        let request = json!([{}, {"fn.roundTripTypical": {"items": items}}]);
        let bytes = serde_json::to_vec(&request).expect("request serializes");
        let response = measure::run(server.process(&bytes));
        assert!(
            response.bytes.starts_with(b"[{},{\"Ok_\""),
            "{size}: {}",
            String::from_utf8_lossy(&response.bytes[..80.min(response.bytes.len())])
        );
        let typed_response = measure::run(typed.process(&bytes));
        assert_eq!(
            typed_response.bytes, response.bytes,
            "{size}: the typed echo's answer"
        );
        println!(
            "{size}: serde_json {} allocations per call, process {}, typed {}",
            measure::per_call(
                || serde_json::from_slice::<Value>(&bytes).map(|v| serde_json::to_vec(&v))
            ),
            measure::per_call(|| measure::run(server.process(&bytes))),
            measure::per_call(|| measure::run(typed.process(&bytes))),
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("serde_json", size), &bytes, |b, bytes| {
            b.iter(|| {
                let value: Value = serde_json::from_slice(bytes).expect("parses");
                serde_json::to_vec(&value).expect("serializes")
            })
        });
        group.bench_with_input(BenchmarkId::new("process", size), &bytes, |b, bytes| {
            b.iter(|| measure::run(server.process(bytes)).bytes)
        });
        group.bench_with_input(BenchmarkId::new("typed", size), &bytes, |b, bytes| {
            b.iter(|| measure::run(typed.process(bytes)).bytes)
        });
    }
    group.finish();
}

criterion_group!(benches, process);
criterion_main!(benches);
