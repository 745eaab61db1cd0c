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

/// Fails the run when `text` does not load: timing a rejected schema would mislead.
fn check_loads(name: &str, text: &str) {
    if let Err(error) = Schema::from_documents([(name, text)]) {
        panic!("{name} does not load: {error}");
    }
}

fn load(c: &mut Criterion) {
    check_loads("empty.telepact.json", "[]");
    check_loads("auth.telepact.yaml", BAKERY);
    // No definitions of its own: what every load pays for the standard definitions.
    c.bench_function("load empty (json)", |b| {
        b.iter(|| Schema::from_documents([("empty.telepact.json", black_box("[]"))]))
    });
    c.bench_function("load bakery (yaml)", |b| {
        b.iter(|| Schema::from_documents([("auth.telepact.yaml", black_box(BAKERY))]))
    });
    if let Some(example) = conformance_example() {
        check_loads("example.telepact.json", &example);
        c.bench_function("load conformance example (json)", |b| {
            b.iter(|| {
                Schema::from_documents([("example.telepact.json", black_box(example.as_str()))])
            })
        });
    }
}

criterion_group!(benches, load);
criterion_main!(benches);
