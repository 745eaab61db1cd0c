//! Load times of representative schemas.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::PathBuf;

use telepact_schema::Schema;

/// The bakery example's schema (small, YAML, with auth).
const BAKERY: &str = include_str!("../../api/auth.telepact.yaml");

fn conformance_example() -> Option<String> {
    let root = std::env::var_os("TELEPACT_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/telepact-conformance")
        });
    let path = root.join("schemas/example/example.telepact.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("SKIP: conformance vectors not found at {}", root.display());
            None
        }
    }
}

fn load(c: &mut Criterion) {
    c.bench_function("load bakery (yaml)", |b| {
        b.iter(|| Schema::from_documents([("auth.telepact.yaml", black_box(BAKERY))]))
    });
    if let Some(example) = conformance_example() {
        c.bench_function("load conformance example (json)", |b| {
            b.iter(|| {
                Schema::from_documents([("example.telepact.json", black_box(example.as_str()))])
            })
        });
    }
}

criterion_group!(benches, load);
criterion_main!(benches);
