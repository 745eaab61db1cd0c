//! What the targets that drive a server share: a future run to its end without a
//! runtime, and the shape every answer must have.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use serde_json::{Map, Value};
use telepact::{Encoding, Response};

/// Polls `future` until it is ready: the servers answer without waiting on I/O.
pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Checks `response` is a message whose body has one entry: JSON, or MessagePack for a
/// valid `@bin_` request.
pub fn assert_one_body_entry(response: &Response) {
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
