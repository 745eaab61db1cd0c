//! Answers a client's calls with arbitrary bytes, as a hostile or broken server could:
//! a typed call and then a call of JSON values, each answered by its part of the input
//! (the first two bytes give the first part's length). The client, with binary on so that
//! a first answer may teach it an encoding the second request then uses, must return a
//! response or an error, never panic.

#![no_main]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use telepact::client::{ClientOptions, TransportError};
use telepact::schema::Schema;
use telepact::typed::__codegen::call;
use telepact::typed::FunctionInput;
use telepact::{Client, Headers, Message, ValueValidator};

#[derive(Serialize, Deserialize)]
struct Item {
    id: i64,
    #[serde(rename = "tags!", default, skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct PutInput {
    items: Vec<Item>,
}

#[derive(Serialize, Deserialize)]
enum PutOutput {
    #[serde(rename = "Ok_")]
    Ok {
        count: i64,
        #[serde(rename = "items!", default, skip_serializing_if = "Option::is_none")]
        items: Option<Vec<Item>>,
    },
    ErrorFull {
        left: i64,
    },
}

impl FunctionInput for PutInput {
    const NAME: &'static str = "fn.put";
    const RESULT_TAGS: &'static [&'static str] = &["Ok_", "ErrorFull"];
    type Output = PutOutput;
}

/// The schema the types above are written for, which a typed call checks answers
/// against.
const SCHEMA: &str = r#"[
    {"struct.Item": {"id": "integer", "tags!": ["string"]}},
    {"fn.put": {"items": ["struct.Item"]},
     "->": [{"Ok_": {"count": "integer", "items!": ["struct.Item"]}}, {"ErrorFull": {"left": "integer"}}]}
]"#;

fn answers() -> &'static ValueValidator {
    static ANSWERS: OnceLock<ValueValidator> = OnceLock::new();
    ANSWERS
        .get_or_init(|| ValueValidator::new(Schema::from_text(SCHEMA).expect("the schema loads")))
}

/// A client whose transport answers each request with the next of `answers`, and
/// refuses once they are used up.
fn client(answers: VecDeque<Vec<u8>>) -> Client {
    let answers = Arc::new(Mutex::new(answers));
    let options = ClientOptions::default()
        .binary(true)
        .correlation_ids(true)
        .timeout(Duration::from_secs(5));
    Client::with_options(
        move |_request: Vec<u8>| {
            let answer = answers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            async move { answer.ok_or_else(|| TransportError::from("no answer left")) }
        },
        options,
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((length, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let split = usize::from(u16::from_be_bytes(*length)).min(rest.len());
    let (first, second) = rest.split_at(split);
    let client = client(VecDeque::from([first.to_vec(), second.to_vec()]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let input = PutInput {
            items: vec![Item {
                id: 1,
                tags: Some(vec!["a".into()]),
            }],
        };
        let headers = Map::<String, Value>::new();
        let _ = call::<PutInput, _, Map<String, Value>>(&client, answers(), input, &headers).await;
        let mut payload = Map::new();
        payload.insert("items".to_string(), json!([{"id": 2}]));
        let _ = client
            .request(Message::new(Headers::new(), "fn.put", payload))
            .await;
    });
});
