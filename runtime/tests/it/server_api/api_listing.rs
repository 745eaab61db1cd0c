//! `fn.api_`, whose answers the server writes once for each variant and form: every way
//! of asking gets the listing, and an answer changed on its way out is sent as changed.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use telepact::client::TransportError;
use telepact::schema::Schema;
use telepact::{
    Client, FunctionRouter, Headers, Message, Server, ServerBuilder, middleware_from_fn,
};

use super::PLAIN_SCHEMA;

fn plain_builder() -> ServerBuilder {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Server::builder(schema, FunctionRouter::new()).auth_required(false)
}

fn plain_server() -> Server {
    plain_builder().build().expect("server builds")
}

/// `builder`'s server, with a response hook that keeps each answer's body as it reads it.
fn keeping_answers(builder: ServerBuilder) -> (Server, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let observed = Arc::clone(&seen);
    let server = builder
        .on_response(move |response: &Message| {
            let body = Value::Object(response.body().clone());
            observed.lock().expect("not poisoned").push(body);
            Ok(())
        })
        .build()
        .expect("server builds");
    (server, seen)
}

fn listing() -> Value {
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    Value::Array(schema.original().to_vec())
}

fn api_call(headers: Value, payload: Value) -> Vec<u8> {
    serde_json::to_vec(&json!([headers, {"fn.api_": payload}])).expect("JSON")
}

#[tokio::test]
async fn every_call_gets_the_same_bytes_and_each_variant_its_listing() {
    let server = plain_server();
    let first = server.process(&api_call(json!({}), json!({}))).await;
    let again = server.process(&api_call(json!({}), json!({}))).await;
    assert_eq!(first.bytes, again.bytes);
    let answer: Value = serde_json::from_slice(&first.bytes).expect("JSON");
    assert_eq!(answer, json!([{}, {"Ok_": {"api": listing()}}]));

    let with_id = server
        .process(&api_call(
            json!({"@id_": 7}),
            json!({"includeInternal!": true}),
        ))
        .await;
    let answer: Value = serde_json::from_slice(&with_id.bytes).expect("JSON");
    assert_eq!(answer[0], json!({"@id_": 7}));
    let api = answer.pointer("/1/Ok_/api").and_then(Value::as_array);
    let names: Vec<&str> = api
        .into_iter()
        .flatten()
        .filter_map(|definition| definition.as_object()?.keys().find(|k| k.contains('.')))
        .map(String::as_str)
        .collect();
    assert!(
        names.contains(&"fn.point") && names.contains(&"fn.api_"),
        "{names:?}"
    );
}

#[tokio::test]
async fn select_and_binary_clients_get_the_listing_as_any_answer() {
    let server = plain_server();
    let selected = server
        .process(&api_call(
            json!({"@select_": {"->": {"Ok_": []}}}),
            json!({}),
        ))
        .await;
    let answer: Value = serde_json::from_slice(&selected.bytes).expect("JSON");
    assert_eq!(answer, json!([{}, {"Ok_": {}}]));

    let server = Arc::new(server);
    let client = Client::with_options(
        move |bytes: Vec<u8>| {
            let server = Arc::clone(&server);
            async move { Ok::<_, TransportError>(server.process(&bytes).await.bytes) }
        },
        telepact::client::ClientOptions::default().binary(true),
    );
    for _ in 0..2 {
        let call = Message::new(Headers::new(), "fn.api_", Default::default());
        let response = client.request(call).await.expect("answered");
        assert!(response.headers.contains_key("@bin_"));
        assert_eq!(response.body()["Ok_"]["api"], listing());
    }
}

/// A binary answer, packed or not, whichever listing it carries and whether or not the
/// client holds the encoding, is the one written from the listing as values (which a
/// middleware that asks to change the body, and changes nothing, makes the server do),
/// on the first call of its kind and on the next.
#[tokio::test]
async fn binary_answers_are_those_written_from_the_listing_as_values() {
    let written = plain_server();
    let from_values = plain_builder()
        .middleware(middleware_from_fn(|request: Message, next| async move {
            let mut result = next.run(request).await?;
            result.body_mut();
            Ok(result)
        }))
        .build()
        .expect("server builds");
    let schema = Schema::from_text(PLAIN_SCHEMA).expect("schema loads");
    let checksum = telepact::binary::ServerBinary::new(schema).checksum();
    for known in [json!([]), json!([checksum])] {
        for packed in [false, true] {
            for payload in [
                json!({}),
                json!({"includeInternal!": true}),
                json!({"includeExamples!": true}),
                json!({"includeInternal!": true, "includeExamples!": true}),
            ] {
                let mut headers = json!({"@bin_": known});
                if packed {
                    headers["@pac_"] = json!(true);
                }
                let call = api_call(headers, payload);
                let expected = from_values.process(&call).await;
                assert_eq!(expected.encoding, telepact::Encoding::Binary);
                for _ in 0..2 {
                    let answer = written.process(&call).await;
                    assert_eq!(answer.encoding, telepact::Encoding::Binary);
                    assert!(
                        answer.bytes == expected.bytes,
                        "{known} packed {packed}: {} bytes, {} written from values",
                        answer.bytes.len(),
                        expected.bytes.len()
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn a_hook_reads_the_written_listing_as_values() {
    let (server, seen) = keeping_answers(plain_builder());
    for _ in 0..2 {
        let response = server.process(&api_call(json!({}), json!({}))).await;
        let answer: Value = serde_json::from_slice(&response.bytes).expect("JSON");
        assert_eq!(answer, json!([{}, {"Ok_": {"api": listing()}}]));
    }
    let expected = json!({"Ok_": {"api": listing()}});
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        [expected.clone(), expected]
    );
}

#[tokio::test]
async fn a_listing_changed_on_its_way_out_is_sent_as_changed() {
    let truncating = middleware_from_fn(|request: Message, next| async move {
        let mut result = next.run(request).await?;
        if let Some(Value::Array(api)) = result.body_mut()["Ok_"].get_mut("api") {
            api.truncate(1);
        }
        Ok(result)
    });
    let (server, seen) = keeping_answers(plain_builder().middleware(truncating));
    let response = server.process(&api_call(json!({}), json!({}))).await;
    let answer: Value = serde_json::from_slice(&response.bytes).expect("JSON");
    let first = listing()[0].clone();
    assert_eq!(answer, json!([{}, {"Ok_": {"api": [first]}}]));
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(*seen, [json!({"Ok_": {"api": [first]}})]);
}

#[tokio::test]
async fn the_listing_given_as_another_functions_answer_is_checked_as_that_answer() {
    let server = plain_builder()
        .middleware(middleware_from_fn(|_request: Message, next| async move {
            let listing = Message::new(Headers::new(), "fn.api_", Default::default());
            next.run(listing).await
        }))
        .build()
        .expect("server builds");
    let call = serde_json::to_vec(&json!([{}, {"fn.point": {}}])).expect("JSON");
    let response = server.process(&call).await;
    let answer: Value = serde_json::from_slice(&response.bytes).expect("JSON");
    assert!(
        answer[1].get("ErrorInvalidResponseBody_").is_some(),
        "{answer}"
    );
}

#[tokio::test]
async fn a_listing_nested_past_what_a_client_reads_is_refused() {
    // A field of 124 nested lists loads (the schema's text nests 127 deep), and
    // `fn.api_` would put it four levels further down.
    let field = (0..124).fold(json!("integer"), |inner, _| json!([inner]));
    let definitions = json!([{"fn.deep": {"a": field}, "->": [{"Ok_": {}}]}]);
    let schema = Schema::from_text(&definitions.to_string()).expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("server builds");
    for _ in 0..2 {
        let response = server.process(&api_call(json!({}), json!({}))).await;
        let answer: Value = serde_json::from_slice(&response.bytes).expect("JSON");
        assert!(answer[1].get("ErrorUnknown_").is_some(), "{answer}");
    }
}
