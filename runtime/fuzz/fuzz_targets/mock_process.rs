//! Feeds arbitrary messages to a mock server, several to an input (split at each `0xff`,
//! a byte no JSON text holds), so that stubs made by one are matched and verified by the
//! next: every message must be answered, never panic. The mock's random seed is set
//! before each input and its stubs and calls cleared after, so inputs do not pile up
//! state and replay alike.

#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use telepact::Encoding;
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;

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
        MockServer::new(&schema, MockOptions::default()).expect("fuzz mock builds")
    })
}

fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Processes `message` and checks the answer is a message with one body entry.
fn answer(mock: &MockServer, message: &[u8]) {
    let response = run(mock.process(message));
    let body_entries = match response.encoding {
        Encoding::Json => {
            let value: Value =
                serde_json::from_slice(&response.bytes).expect("a JSON answer is JSON");
            value.get(1).and_then(Value::as_object).map(Map::len)
        }
        Encoding::Binary => {
            let value = rmpv::decode::read_value(&mut &response.bytes[..])
                .expect("a binary answer is MessagePack");
            value
                .as_array()
                .and_then(|message| message.get(1))
                .and_then(rmpv::Value::as_map)
                .map(Vec::len)
        }
    };
    assert_eq!(body_entries, Some(1), "response body has one entry");
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
