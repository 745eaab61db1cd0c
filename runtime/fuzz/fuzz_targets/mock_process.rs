//! Feeds arbitrary messages to a mock server, several to an input (split at each `0xff`,
//! a byte no JSON text holds), so that stubs made by one are matched and verified by the
//! next: every message must be answered, never panic. The mock's random seed is set
//! before each input and its stubs and calls cleared after, so inputs do not pile up
//! state and replay alike.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use telepact::mock::MockServer;
use telepact::schema::Schema;

#[path = "support.rs"]
mod support;
use support::{assert_one_body_entry, run};

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string?", "tags!": ["string"], "kids!": ["struct.Item"],
                   "price!": "number", "meta!": {"string": "any"}}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}, {"Empty": {}}]},
  {"fn.put": {"items": ["struct.Item"], "shape!": "union.Shape", "note!": "string?", "blob!": "bytes"},
   "->": [{"Ok_": {"count": "integer", "items!": ["struct.Item"], "shape!": "union.Shape"}},
          {"ErrorFull": {"left": "integer"}}]},
  {"fn.get": {"id": "integer"}, "->": [{"Ok_": {"item!": "struct.Item?"}}]}
]"#;

/// At most this many messages are taken from one input.
const MESSAGES: usize = 6;

fn mock() -> &'static MockServer {
    static MOCK: OnceLock<MockServer> = OnceLock::new();
    MOCK.get_or_init(|| {
        let schema = Schema::from_text(SCHEMA).expect("fuzz schema loads");
        MockServer::new(schema).expect("fuzz mock builds")
    })
}

/// Processes `message` and checks the answer is a message with one body entry.
fn answer(mock: &MockServer, message: &[u8]) {
    assert_one_body_entry(&run(mock.process(message)));
}

fuzz_target!(|data: &[u8]| {
    let mock = mock();
    answer(mock, br#"[{}, {"fn.setRandomSeed_": {"seed": 7}}]"#);
    for message in data.split(|byte| *byte == 0xff).take(MESSAGES) {
        answer(mock, message);
    }
    answer(mock, br#"[{}, {"fn.clearStubs_": {}}]"#);
    answer(mock, br#"[{}, {"fn.clearCalls_": {}}]"#);
});
