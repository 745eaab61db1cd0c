//! What the server logs: the case id beside the real error, never the credentials.

mod log_capture;

use log_capture::Capture;

use serde_json::Value;
use telepact::schema::Schema;
use telepact::{Authenticated, FunctionRouter, HandlerError, Headers, Message, Server};

const SECRET: &str = "s3cr3t-token-value";

fn server() -> Server {
    let schema = Schema::from_text(
        r#"[{"union.Auth_": [{"Token": {"token": "string"}}]},
            {"fn.work": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .expect("schema loads");
    let router = FunctionRouter::new().route("fn.work", |_request: Message| async move {
        Err::<Message, HandlerError>("disk full".into())
    });
    Server::builder(schema, router)
        .on_auth(|headers: Headers| {
            let accepted = headers.get("@auth_").is_some_and(|auth| {
                auth.pointer("/Token/token") == Some(&Value::from("accepted-token"))
            });
            async move {
                if accepted {
                    Ok(Authenticated::new())
                } else {
                    Err(HandlerError::from("credentials rejected"))
                }
            }
        })
        .build()
        .expect("server builds")
}

fn run_logged(requests: &[String]) -> (Vec<String>, Vec<Value>) {
    let capture = Capture::default();
    let server = server();
    let responses = tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        requests
            .iter()
            .map(|request| {
                let response = runtime.block_on(server.process(request.as_bytes()));
                serde_json::from_slice(&response.bytes).expect("JSON response")
            })
            .collect()
    });
    let lines = capture.lines();
    (lines, responses)
}

#[test]
fn rejected_credentials_are_not_logged() {
    let request =
        format!(r#"[{{"@auth_": {{"Token": {{"token": "{SECRET}"}}}}}}, {{"fn.work": {{}}}}]"#);
    let (lines, responses) = run_logged(&[request]);
    assert!(responses[0].pointer("/1/ErrorUnauthenticated_").is_some());
    assert!(!lines.is_empty(), "the rejection is logged");
    assert!(lines.iter().all(|line| !line.contains(SECRET)), "{lines:?}");
}

#[test]
fn handler_failures_are_logged_with_their_case_id() {
    let request =
        r#"[{"@auth_": {"Token": {"token": "accepted-token"}}}, {"fn.work": {}}]"#.to_string();
    let (lines, responses) = run_logged(&[request]);
    let case_id = responses[0]
        .pointer("/1/ErrorUnknown_/caseId")
        .and_then(Value::as_str)
        .expect("a case id");
    let logged = lines
        .iter()
        .find(|line| line.contains(case_id))
        .expect("the case id is logged");
    assert!(logged.contains("disk full"), "{logged}");
    assert!(
        lines.iter().all(|line| !line.contains("accepted-token")),
        "{lines:?}"
    );
}
