//! Feeds arbitrary bytes to `Server::process`: it must answer, never panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use telepact::schema::Schema;
use telepact::{FunctionRouter, HandlerError, Message, Server};

#[path = "support.rs"]
mod support;
use support::{assert_one_body_entry, run};

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

fuzz_target!(|data: &[u8]| {
    assert_one_body_entry(&run(server().process(data)));
});
