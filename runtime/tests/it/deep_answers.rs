//! An answer whose lists and maps nest deeper than a client reads (`serde_json`'s 128
//! levels, which the MessagePack reader keeps too) reaches no client: the server answers
//! `ErrorUnknown_` in its place and reports why, however the handler gave it.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value, json};
use telepact::binary::{ServerBinary, encode_request, is_msgpack};
use telepact::schema::Schema;
use telepact::{ErrorKind, FunctionRouter, HandlerError, Headers, Message, Server, TooDeep};

use crate::robustness::runtime;

const SCHEMA: &str = r#"[
  {"struct.Item": {"id": "integer", "next!": "struct.Item?"}},
  {"fn.nest": {"depth": "integer", "header!": "boolean"}, "->": [{"Ok_": {"items": ["struct.Item"]}}]}
]"#;

/// The most lists and maps a client reads on a path from a message's root.
const READ: usize = 127;

/// How a handler gives its answer.
#[derive(Debug, Clone, Copy)]
enum Given {
    Values,
    /// Serialized by the server, through generated-like types.
    Typed,
}

#[derive(Serialize)]
struct Item {
    id: i64,
    #[serde(rename = "next!", skip_serializing_if = "Option::is_none")]
    next: Option<Box<Item>>,
}

#[derive(Serialize)]
struct Items {
    items: Vec<Item>,
}

#[derive(Serialize)]
enum NestResult {
    #[serde(rename = "Ok_")]
    Ok(Items),
}

/// `[{}, {"Ok_": {"items": [item]}}]` opens four levels down to the list's item, whose
/// chain of `next!` items opens one each: `depth` levels in all.
fn chain(depth: usize) -> Item {
    let mut item = Item { id: 0, next: None };
    for id in 6..=depth {
        let next = Some(Box::new(item));
        item = Item {
            id: id as i64,
            next,
        };
    }
    item
}

/// Lists nested in a header, to open `depth` levels in all from the message's array.
fn nested_header(depth: usize) -> Value {
    (4..=depth).fold(json!([]), |inner, _| json!([inner]))
}

/// The errors a server reported: each one's kind, and the limit a [`TooDeep`] source
/// gives.
type Reported = Arc<Mutex<Vec<(ErrorKind, Option<usize>)>>>;

/// A server whose `fn.nest` answers as deep as asked, its errors reported to `reported`.
fn server(given: Given, reported: Reported) -> Server {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let router = FunctionRouter::new().route("fn.nest", move |request: Message| async move {
        let arguments = request.payload().cloned().unwrap_or_default();
        let depth = arguments.get("depth").and_then(Value::as_u64).unwrap_or(0) as usize;
        let mut headers = Headers::new();
        if arguments.get("header!") == Some(&Value::Bool(true)) {
            headers.insert("@deep", nested_header(depth));
        }
        let depth = if headers.is_empty() { depth } else { 5 };
        let answer = NestResult::Ok(Items {
            items: vec![chain(depth)],
        });
        Ok::<_, HandlerError>(match given {
            Given::Typed => Message::typed(headers, answer),
            Given::Values => {
                let Ok(Value::Object(body)) = serde_json::to_value(answer) else {
                    return Err("the answer is an object".into());
                };
                Message::from_body(headers, body)
            }
        })
    });
    Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error| {
            let source = std::error::Error::source(error);
            let too_deep = source.and_then(|s| s.downcast_ref::<TooDeep>());
            let too_deep = too_deep.map(|too_deep| too_deep.limit);
            reported
                .lock()
                .expect("lock")
                .push((error.kind(), too_deep));
        })
        .build()
        .expect("server builds")
}

/// The answer to `request` in JSON, and in binary (packed or not) read back as JSON,
/// each read as a client reads it.
fn answers(server: &Server, request: &Value) -> Vec<Value> {
    let rt = runtime();
    let binary = ServerBinary::new(Schema::from_text(SCHEMA).expect("schema loads"));
    let text = serde_json::to_vec(request).expect("JSON");
    let json_answer = rt.block_on(server.process(&text)).bytes;
    let mut answers = vec![serde_json::from_slice(&json_answer).expect("a client reads it")];
    for packed in [false, true] {
        let mut headers = Map::new();
        headers.insert("@bin_".into(), json!([binary.checksum()]));
        headers.insert("@pac_".into(), json!(packed));
        let body = request[1].as_object().expect("a body").clone();
        let message = Message::from_body(headers.into(), body);
        let bytes = encode_request(&message, binary.encoding(), packed).expect("encodes");
        let answer = rt.block_on(server.process(&bytes)).bytes;
        answers.push(match is_msgpack(&answer) {
            true => binary
                .decode_request(&answer)
                .expect("a client reads it")
                .to_json(),
            false => serde_json::from_slice(&answer).expect("a client reads it"),
        });
    }
    answers
}

#[test]
fn an_answer_nested_deeper_than_a_client_reads_is_an_unknown_error() {
    for given in [Given::Values, Given::Typed] {
        for header in [false, true] {
            let reported = Arc::new(Mutex::new(Vec::new()));
            let server = server(given, Arc::clone(&reported));
            for depth in [READ - 1, READ, READ + 1, 300] {
                let request = json!([{}, {"fn.nest": {"depth": depth, "header!": header}}]);
                for answer in answers(&server, &request) {
                    let case = format!("{given:?}, header {header}, depth {depth}: {answer}");
                    if depth <= READ {
                        assert!(answer[1].get("Ok_").is_some(), "{case}");
                        continue;
                    }
                    assert!(answer[1]["ErrorUnknown_"]["caseId"].is_string(), "{case}");
                    let last = reported.lock().expect("lock").pop();
                    assert_eq!(last, Some((ErrorKind::Undeliverable, Some(READ))), "{case}");
                }
            }
            assert!(reported.lock().expect("lock").is_empty());
        }
    }
}

/// Under `@unsafe_` the answer is not checked against the schema, so the schema bounds
/// its depth no longer: a function whose answers are flat, answered with lists nested
/// past what a client reads, is measured and refused all the same.
#[test]
fn an_unchecked_answer_is_measured_whatever_its_schema_allows() {
    let schema = r#"[{"fn.flat": {}, "->": [{"Ok_": {"n": "integer"}}]}]"#;
    let schema = Schema::from_text(schema).expect("schema loads");
    let router = FunctionRouter::new().route("fn.flat", |_request: Message| async {
        let deep = (0..300).fold(json!([]), |inner, _| json!([inner]));
        let Value::Object(body) = json!({"Ok_": {"n": deep}}) else {
            return Err("the answer is an object".into());
        };
        Ok::<_, HandlerError>(Message::from_body(Headers::new(), body))
    });
    let reported: Reported = Arc::default();
    let noted = Arc::clone(&reported);
    let server = Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error| {
            let source = std::error::Error::source(error);
            let too_deep = source.and_then(|s| s.downcast_ref::<TooDeep>());
            let entry = (error.kind(), too_deep.map(|too_deep| too_deep.limit));
            noted.lock().expect("lock").push(entry);
        })
        .build()
        .expect("server builds");
    let request = br#"[{"@unsafe_": true}, {"fn.flat": {}}]"#;
    let answer = runtime().block_on(server.process(request)).bytes;
    let answer: Value = serde_json::from_slice(&answer).expect("a client reads it");
    assert!(answer[1]["ErrorUnknown_"]["caseId"].is_string(), "{answer}");
    let reported = reported.lock().expect("lock").clone();
    assert_eq!(reported, [(ErrorKind::Undeliverable, Some(READ))]);
}
