//! Generation time for a large synthetic schema: 200 functions and 500 types
//! (400 structs, 100 unions), loaded once, generated per iteration.

use std::fmt::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use telepact_schema::Schema;

const STRUCTS: usize = 400;
const UNIONS: usize = 100;
const FUNCTIONS: usize = 200;

fn synthetic_schema_json() -> String {
    let mut entries = Vec::new();
    for i in 0..STRUCTS {
        let mut fields = String::from(
            r#""id": "integer", "name": "string?", "tags!": ["string"], "data": {"string": "any"}, "blob!": "bytes""#,
        );
        if i > 0 {
            write!(
                fields,
                r#", "prev!": "struct.S{}", "many": ["struct.S{}"]"#,
                i - 1,
                i - 1
            )
            .unwrap();
        }
        write!(fields, r#", "choice!": "union.U{}""#, i % UNIONS).unwrap();
        entries.push(format!(
            r#"{{"///": " Struct {i}.", "struct.S{i}": {{{fields}}}}}"#
        ));
    }
    for i in 0..UNIONS {
        entries.push(format!(
            r#"{{"union.U{i}": [{{"Empty": {{}}}}, {{"One": {{"value": "number"}}}}, {{"Many": {{"values": ["integer?"], "link!": "struct.S{}"}}}}]}}"#,
            i * 3
        ));
    }
    for i in 0..FUNCTIONS {
        let link = if i > 0 {
            format!(r#", "next!": "fn.f{}""#, i - 1)
        } else {
            String::new()
        };
        entries.push(format!(
            r#"{{"///": " Function {i}.", "fn.f{i}": {{"input": "struct.S{i}", "flag!": "boolean"{link}}}, "->": [{{"Ok_": {{"output": "struct.S{}"}}}}, {{"ErrorMissing": {{"id": "integer"}}}}]}}"#,
            (i + 1) % STRUCTS
        ));
    }
    format!("[{}]", entries.join(",\n"))
}

fn generate(c: &mut Criterion) {
    let schema = match Schema::from_text(&synthetic_schema_json()) {
        Ok(schema) => schema,
        Err(error) => panic!("synthetic schema does not load: {error}"),
    };
    let builder = telepact_codegen::configure();
    c.bench_function("generate 200 functions, 500 types", |b| {
        b.iter(|| {
            builder
                .generate(&schema, "synthetic")
                .map(|code| code.len())
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = generate
}
criterion_main!(benches);
