//! Generated values of wide definitions cost about their size, not their size times
//! the width of what they hold.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use telepact::mock::MockServer;
use telepact::schema::Schema;

/// `union.U` of `width` empty tags, `struct.W` of `width` optional fields, `struct.S`
/// holding `fields` of each, and `fn.wide`, whose result holds five `struct.S`. Names
/// are declared out of order (sorting names in order costs no more than reading them).
fn wide_schema(width: usize, fields: usize) -> Schema {
    let shuffled = (0..width).map(|i| i * 7_919 % width);
    let tags: Vec<Value> = shuffled
        .clone()
        .map(|i| json!({ format!("T{i:05}"): {} }))
        .collect();
    let optional: serde_json::Map<String, Value> = shuffled
        .map(|i| (format!("o{i:05}!"), json!("integer")))
        .collect();
    let mut held = serde_json::Map::new();
    for i in 0..fields {
        held.insert(format!("u{i:05}"), json!("union.U"));
        held.insert(format!("w{i:05}"), json!("struct.W"));
    }
    let ok: serde_json::Map<String, Value> = ["a", "b", "c", "d", "e"]
        .into_iter()
        .map(|name| (name.to_string(), json!("struct.S")))
        .collect();
    let schema = json!([
        {"union.U": tags},
        {"struct.W": optional},
        {"struct.S": held},
        {"fn.wide": {}, "->": [{"Ok_": ok}]}
    ]);
    Schema::from_text(&schema.to_string()).expect("schema loads")
}

/// A call whose generated answer holds thousands of values of a union of 5,000 tags
/// and of a struct of 5,000 optional fields answers in well under a second: each value
/// sorted its definition's names again (and a tight one visited every optional field),
/// 20 s in a debug build.
#[tokio::test]
async fn wide_unions_and_structs_are_generated_in_time_with_their_values() {
    let mock = MockServer::new(wide_schema(5_000, 1_000)).expect("mock builds");
    let started = Instant::now();
    let answer = mock.process(br#"[{}, {"fn.wide": {}}]"#).await.bytes;
    let took = started.elapsed();
    let answer: Value = serde_json::from_slice(&answer).expect("answer is JSON");
    assert!(answer.pointer("/1/Ok_/a").is_some(), "{answer:.300}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
