//! The client against the real server, in process: binary negotiation, packed lists
//! and `bytes` end to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use telepact::binary::is_msgpack;
use telepact::client::{ClientOptions, TransportError};
use telepact::schema::Schema;
use telepact::{Client, FunctionRouter, HandlerError, Message, Server};

const SCHEMA: &str = r#"[
    {"struct.Item": {"id": "integer", "name!": "string", "blob!": "bytes"}},
    {"fn.items": {"count": "integer"}, "->": [{"Ok_": {"items": ["struct.Item"]}}]}
]"#;

async fn items(request: Message) -> Result<Message, HandlerError> {
    let count = request
        .payload()
        .and_then(|payload| payload.get("count"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let items: Vec<Value> = (0..count)
        .map(|id| match id % 2 {
            0 => json!({"id": id, "name!": format!("item {id}")}),
            _ => json!({"id": id, "blob!": "AAEC"}),
        })
        .collect();
    let payload = json!({"items": items});
    Ok(Message::new(
        Default::default(),
        "Ok_",
        payload.as_object().cloned().unwrap_or_default(),
    ))
}

/// A client whose transport calls `server.process` and counts MessagePack requests.
fn client(options: ClientOptions) -> (Client, Arc<AtomicUsize>) {
    let schema = Schema::from_text(SCHEMA).expect("the test schema loads");
    let router = FunctionRouter::new().route("fn.items", items);
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("the server builds");
    let server = Arc::new(server);
    let binary_requests = Arc::new(AtomicUsize::new(0));
    let counter = binary_requests.clone();
    let client = Client::with_options(
        move |bytes: Vec<u8>| {
            let server = server.clone();
            if is_msgpack(&bytes) {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            async move { Ok::<_, TransportError>(server.process(&bytes).await.bytes) }
        },
        options,
    );
    (client, binary_requests)
}

fn call(count: u64) -> Message {
    let payload = json!({"count": count});
    Message::new(
        Default::default(),
        "fn.items",
        payload.as_object().cloned().unwrap_or_default(),
    )
}

#[tokio::test]
async fn binary_and_packed_clients_get_what_a_json_client_gets() {
    let (json_client, _) = client(ClientOptions::default());
    let expected = json_client.request(call(5)).await.expect("answered").body;
    assert_eq!(expected["Ok_"]["items"][1]["blob!"], json!("AAEC"));

    for packed in [false, true] {
        let (binary_client, binary_requests) =
            client(ClientOptions::default().binary(true).packed(packed));
        for _ in 0..3 {
            let response = binary_client.request(call(5)).await.expect("answered");
            assert_eq!(response.body, expected, "packed: {packed}");
            assert!(response.headers.contains_key("@bin_"));
        }
        // The first call learned the encoding; the next two were MessagePack.
        assert_eq!(binary_requests.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn errors_come_back_as_json_to_a_binary_client() {
    let (client, _) = client(ClientOptions::default().binary(true));
    client.request(call(1)).await.expect("answered");
    let wrong = Message::new(
        Default::default(),
        "fn.items",
        json!({"count": "many"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    let response = client.request(wrong).await.expect("answered");
    assert_eq!(response.target(), "ErrorInvalidRequestBody_");
}
