//! The client against the real server, in process: binary negotiation, packed lists
//! and `bytes` end to end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use telepact::binary::is_msgpack;
use telepact::client::{ClientOptions, InvalidResponse, TransportError};
use telepact::schema::Schema;
use telepact::typed::Bytes;
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
    let expected = json_client
        .request(call(5))
        .await
        .expect("answered")
        .into_body();
    assert_eq!(expected["Ok_"]["items"][1]["blob!"], json!("AAEC"));

    for packed in [false, true] {
        let (binary_client, binary_requests) =
            client(ClientOptions::default().binary(true).packed(packed));
        for _ in 0..3 {
            let response = binary_client.request(call(5)).await.expect("answered");
            assert_eq!(*response.body(), expected, "packed: {packed}");
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

// `@base64_`: where a JSON answer carries bytes.

const FILES_SCHEMA: &str = r#"[
    {"struct.Doc": {"blob": "bytes", "pages": ["bytes"], "byName": {"string": "bytes"},
        "maybe": "bytes?", "kind": "union.Kind"}},
    {"union.Kind": [{"Text": {"text": "string"}}, {"Binary": {"data": "bytes"}}]},
    {"fn.fetch": {}, "->": [{"Ok_": {"doc": "struct.Doc", "note": "string"}}]}
]"#;

/// What the reference Python library answers for `FILES_SCHEMA` when its handler
/// returns `blob=b"\x00\x01\x02"`, `pages=[b"hi", b""]`, `byName={"a": b"\xff"}`,
/// `maybe=None`, `kind=Binary(data=b"ok")` and the text `note="aGk="`.
fn reference_answer() -> Value {
    json!([
        {"@base64_": {"Ok_": {"doc": {
            "blob": true, "pages": {"*": true}, "byName": {"*": true},
            "kind": {"Binary": {"data": true}}
        }}}},
        {"Ok_": {"doc": {
            "blob": "AAEC", "pages": ["aGk=", ""], "byName": {"a": "/w=="}, "maybe": null,
            "kind": {"Binary": {"data": "b2s="}}
        }, "note": "aGk="}}
    ])
}

fn files_server(mark_bytes: bool) -> Server {
    answering(
        FILES_SCHEMA,
        "fn.fetch",
        reference_answer()[1].clone(),
        mark_bytes,
    )
}

/// A server of `schema` whose `function` answers `body`, its bytes marked when
/// `mark_bytes`.
fn answering(schema: &str, function: &'static str, body: Value, mark_bytes: bool) -> Server {
    let schema = Schema::from_text(schema).expect("the schema loads");
    let router = FunctionRouter::new().route(function, move |_request: Message| {
        let body = body.as_object().cloned().unwrap_or_default();
        async move {
            let mut answer = Message::from_body(telepact::Headers::new(), body);
            if mark_bytes {
                answer.mark_bytes();
            }
            Ok::<_, HandlerError>(answer)
        }
    });
    Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("the server builds")
}

async fn answer_of(server: &Server, request: Value) -> Value {
    let response = server.process(request.to_string().as_bytes()).await;
    serde_json::from_slice(&response.bytes).expect("a JSON answer")
}

#[tokio::test]
async fn a_json_answer_names_its_bytes_as_the_reference_does() {
    let server = files_server(true);
    let answer = answer_of(&server, json!([{}, {"fn.fetch": {}}])).await;
    assert_eq!(answer, reference_answer());
}

#[tokio::test]
async fn plain_strings_and_binary_answers_carry_no_base64_header() {
    // Strings a handler did not mark stay strings, as the reference's `str` values do.
    let unmarked = answer_of(&files_server(false), json!([{}, {"fn.fetch": {}}])).await;
    assert_eq!(unmarked, json!([{}, reference_answer()[1].clone()]));

    let response = files_server(true)
        .process(br#"[{"@bin_": []}, {"fn.fetch": {}}]"#)
        .await;
    assert!(is_msgpack(&response.bytes));
    assert_eq!(response.headers.get("@base64_"), None);
}

/// A result other than `Ok_` goes to a binary client as JSON, naming its bytes as any
/// JSON answer does (they went unnamed, and read as text).
#[tokio::test]
async fn an_error_holding_bytes_names_them_to_a_binary_client_too() {
    let server = answering(
        r#"[{"fn.f": {}, "->": [{"Ok_": {}}, {"ErrorBlob": {"blob": "bytes"}}]}]"#,
        "fn.f",
        json!({"ErrorBlob": {"blob": "AAEC"}}),
        true,
    );
    for headers in [
        json!({}),
        json!({"@bin_": []}),
        json!({"@bin_": [], "@pac_": true}),
    ] {
        let answer = answer_of(&server, json!([headers, {"fn.f": {}}])).await;
        assert_eq!(
            answer[0]["@base64_"],
            json!({"ErrorBlob": {"blob": true}}),
            "{headers}: {answer}"
        );
        assert_eq!(answer[1], json!({"ErrorBlob": {"blob": "AAEC"}}));
    }
}

#[tokio::test]
async fn the_base64_header_names_only_what_select_leaves() {
    let request = json!([
        {"@select_": {"struct.Doc": ["blob", "maybe"]}},
        {"fn.fetch": {}}
    ]);
    let answer = answer_of(&files_server(true), request).await;
    assert_eq!(
        answer,
        json!([
            {"@base64_": {"Ok_": {"doc": {"blob": true}}}},
            {"Ok_": {"doc": {"blob": "AAEC", "maybe": null}, "note": "aGk="}}
        ])
    );
}

#[tokio::test]
async fn typed_handlers_mark_their_bytes() {
    let schema = Schema::from_text(FILES_SCHEMA).expect("the files schema loads");
    let router = FunctionRouter::new().route("fn.fetch", |request: Message| async move {
        let (_, context) = telepact::typed::__codegen::decode_request::<
            serde_json::Map<String, Value>,
            Value,
            Value,
        >(request)?;
        telepact::typed::__codegen::encode_response(reference_output(), context)
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("the server builds");
    let answer = answer_of(&server, json!([{}, {"fn.fetch": {}}])).await;
    assert_eq!(answer, reference_answer());
}

/// A client whose transport always answers the reference's bytes.
fn client_reading(answer: Value) -> Client {
    Client::new(move |_request: Vec<u8>| {
        let bytes = answer.to_string().into_bytes();
        async move { Ok::<_, TransportError>(bytes) }
    })
}

fn fetch() -> Message {
    Message::new(Default::default(), "fn.fetch", Default::default())
}

#[tokio::test]
async fn the_client_reads_the_reference_bytes_as_bytes() {
    let response = client_reading(reference_answer())
        .request(fetch())
        .await
        .expect("a response");
    let found: Vec<(Vec<String>, Vec<u8>)> = response
        .marked_bytes()
        .expect("the header fits")
        .into_iter()
        .map(|marked| (marked.path, marked.bytes))
        .collect();
    let at = |path: &[&str], bytes: &[u8]| {
        let path = path.iter().map(|part| part.to_string()).collect();
        (path, bytes.to_vec())
    };
    assert_eq!(
        found,
        vec![
            at(&["Ok_", "doc", "blob"], &[0, 1, 2]),
            at(&["Ok_", "doc", "pages", "0"], b"hi"),
            at(&["Ok_", "doc", "pages", "1"], b""),
            at(&["Ok_", "doc", "byName", "a"], &[0xff]),
            at(&["Ok_", "doc", "kind", "Binary", "data"], b"ok"),
        ]
    );
}

#[tokio::test]
async fn a_base64_header_that_does_not_fit_is_an_invalid_response() {
    let mut answer = reference_answer();
    answer[0]["@base64_"]["Ok_"]["note"] = json!(true);
    answer[1]["Ok_"]["note"] = json!("not base64!");
    let error = client_reading(answer)
        .request(fetch())
        .await
        .expect_err("the header names text that is not base64");
    let telepact::ClientError::InvalidResponse(InvalidResponse::Base64Header(error)) = error else {
        panic!("expected a @base64_ error, got {error}");
    };
    assert_eq!(error.path, ["Ok_", "note"]);
    assert_eq!(error.problem, "the value is not base64");
}

/// A list whose elements hold bytes in one union tag and not in the other, or are
/// `null`: the server names the bytes of every element under one `"*"`, and the client
/// passes over the elements that have none.
#[tokio::test]
async fn bytes_in_some_elements_of_a_list_reach_the_client() {
    let server = answering(
        r#"[
            {"union.Part": [{"Blob": {"data": "bytes"}}, {"Empty": {}}]},
            {"fn.parts": {}, "->": [{"Ok_": {"parts": ["union.Part?"]}}]}
        ]"#,
        "fn.parts",
        json!({"Ok_": {"parts": [{"Blob": {"data": "AQ=="}}, {"Empty": {}}, null]}}),
        true,
    );
    let client = Client::new(move |request: Vec<u8>| {
        let server = server.clone();
        async move { Ok::<_, TransportError>(server.process(&request).await.bytes) }
    });
    let response = client
        .request(Message::new(
            Default::default(),
            "fn.parts",
            Default::default(),
        ))
        .await
        .expect("a valid answer");
    let found = response.marked_bytes().expect("the header fits");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, ["Ok_", "parts", "0", "Blob", "data"]);
    assert_eq!(found[0].bytes, [1]);
}

/// What a typed client of `FILES_SCHEMA` checks its answers with.
fn files_validator() -> telepact::ValueValidator {
    let schema = telepact::schema::Schema::from_text(FILES_SCHEMA).expect("loads");
    telepact::ValueValidator::new(schema)
}

/// The types codegen writes for `FILES_SCHEMA`, by hand.
mod files {
    use serde::{Deserialize, Serialize};
    use telepact::typed::{Bytes, FunctionInput};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(crate) struct FetchInput {}

    impl FunctionInput for FetchInput {
        const NAME: &'static str = "fn.fetch";
        const RESULT_TAGS: &'static [&'static str] = &["Ok_"];
        type Output = FetchOutput;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(crate) enum FetchOutput {
        #[allow(non_camel_case_types)]
        Ok_ { doc: Doc, note: String },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Doc {
        pub blob: Bytes,
        pub pages: Vec<Bytes>,
        pub by_name: telepact::typed::IndexMap<String, Bytes>,
        pub maybe: Option<Bytes>,
        pub kind: Kind,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    pub(crate) enum Kind {
        Text { text: String },
        Binary { data: Bytes },
    }
}

fn reference_output() -> files::FetchOutput {
    files::FetchOutput::Ok_ {
        doc: files::Doc {
            blob: Bytes(vec![0, 1, 2]),
            pages: vec![Bytes(b"hi".to_vec()), Bytes(Vec::new())],
            by_name: [("a".to_string(), Bytes(vec![0xff]))].into_iter().collect(),
            maybe: None,
            kind: files::Kind::Binary {
                data: Bytes(b"ok".to_vec()),
            },
        },
        note: "aGk=".to_string(),
    }
}

#[tokio::test]
async fn the_typed_client_reads_the_reference_bytes_as_bytes() {
    let client = client_reading(reference_answer());
    let call = telepact::typed::__codegen::call::<_, _, Value>;
    let response = call(
        &client,
        &files_validator(),
        files::FetchInput {},
        &json!({}),
    )
    .await
    .expect("the answer fits the types");
    assert_eq!(response.output, reference_output());
}

/// `@base64_` is the protocol's own note of which strings are bytes, declared by no
/// schema: typed response headers that refuse keys they do not know (a generated type
/// given `#[serde(deny_unknown_fields)]`) read an answer carrying it all the same.
#[tokio::test]
async fn typed_headers_refusing_unknown_keys_read_an_answer_naming_its_bytes() {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        #[serde(rename = "@id_")]
        _id: Option<Value>,
    }
    let client = client_reading(reference_answer());
    let call = telepact::typed::__codegen::call::<_, _, Strict>;
    let response = call(
        &client,
        &files_validator(),
        files::FetchInput {},
        &json!({}),
    )
    .await
    .expect("the answer fits the types");
    assert_eq!(response.output, reference_output());
    assert!(response.raw_headers.contains_key("@base64_"));
}

/// `Duration::MAX` means no limit: sent as the protocol's largest integer, which the
/// server takes, not as a number past it.
#[tokio::test]
async fn the_longest_timeout_is_sent_as_the_largest_time_the_protocol_holds() {
    let (client, _) = client(ClientOptions::default().timeout(std::time::Duration::MAX));
    let response = client.request(call(1)).await.expect("answered");
    assert!(response.body().contains_key("Ok_"), "{:?}", response.body());
}

/// A `@time_` the caller wrote that is no number of milliseconds is sent as written,
/// for the server to judge, rather than replaced by the default.
#[tokio::test]
async fn a_time_header_that_is_no_number_of_milliseconds_is_sent_as_written() {
    let sent = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let seen = Arc::clone(&sent);
    let client = Client::new(move |bytes: Vec<u8>| {
        let request: Value = serde_json::from_slice(&bytes).expect("a JSON request");
        seen.lock().unwrap().push(request[0]["@time_"].clone());
        async { Ok::<_, TransportError>(br#"[{}, {"Ok_": {}}]"#.to_vec()) }
    });
    let written = [json!(-5), json!("100"), json!(100.5)];
    for time in &written {
        let mut request = call(1);
        request.headers.insert("@time_", time.clone());
        client.request(request).await.expect("answered");
    }
    client.request(call(1)).await.expect("answered");
    let mut expected = written.to_vec();
    expected.push(json!(5000));
    assert_eq!(*sent.lock().unwrap(), expected);
}

/// A binary answer carries bytes raw, with no `@base64_`: the client names where they
/// were, so `marked_bytes` reads them as from a JSON answer.
#[tokio::test]
async fn a_binary_answer_names_its_bytes_as_a_json_one_does() {
    let schema = Schema::from_text(SCHEMA).expect("the test schema loads");
    let router = FunctionRouter::new().route("fn.items", |request: Message| async move {
        let mut answer = items(request).await?;
        answer.mark_bytes();
        Ok::<_, HandlerError>(answer)
    });
    let server = Arc::new(
        Server::builder(schema, router)
            .auth_required(false)
            .build()
            .expect("the server builds"),
    );
    let client_with = |options: ClientOptions| {
        let server = Arc::clone(&server);
        Client::with_options(
            move |bytes: Vec<u8>| {
                let server = Arc::clone(&server);
                async move { Ok::<_, TransportError>(server.process(&bytes).await.bytes) }
            },
            options,
        )
    };
    let json = client_with(ClientOptions::default())
        .request(call(4))
        .await
        .expect("answered");
    let expected = json.marked_bytes().expect("the header fits");
    assert_eq!(expected.len(), 2, "{:?}", json.headers);
    for packed in [false, true] {
        let client = client_with(ClientOptions::default().binary(true).packed(packed));
        for _ in 0..2 {
            let response = client.request(call(4)).await.expect("answered");
            assert_eq!(response.body(), json.body(), "packed: {packed}");
            assert_eq!(
                response.headers.get("@base64_"),
                json.headers.get("@base64_")
            );
            assert_eq!(
                response.marked_bytes().expect("the header fits"),
                expected,
                "packed: {packed}"
            );
        }
    }
}
