//! Feeds arbitrary bytes to `Server::process`: it must answer, never panic.

#![no_main]

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use telepact::schema::Schema;
use telepact::{Encoding, FunctionRouter, HandlerError, Message, Server};

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "name!": "string?", "tags!": ["string"], "next!": "struct.Item?", "blob!": "bytes"}},
  {"union.Shape": [{"Circle": {"r": "number"}}, {"Square": {"side": "number"}}]},
  {"fn.echo": {"items": ["struct.Item"], "shape!": "union.Shape", "any!": "any", "link!": "fn.echo"},
   "->": [{"Ok_": {"items": ["struct.Item"], "shape!": "union.Shape"}}, {"ErrorNope": {"why": "string"}}]},
  {"headers.Trace": {"@trace": "string"}, "->": {"@spent": "integer"}}
]"#;

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let schema = Schema::from_text(SCHEMA).expect("fuzz schema loads");
        let router = FunctionRouter::new().route("fn.echo", |request: Message| async move {
            // Echo the arguments as the result, so response validation sees fuzzed data.
            let payload = request.payload().cloned().unwrap_or_default();
            Ok::<_, HandlerError>(Message::new(request.headers, "Ok_", payload))
        });
        Server::builder(schema, router)
            .auth_required(false)
            .build()
            .expect("fuzz server builds")
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

fuzz_target!(|data: &[u8]| {
    let response = run(server().process(data));
    // A valid `@bin_` request gets its answer in MessagePack; anything else gets JSON.
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
});
