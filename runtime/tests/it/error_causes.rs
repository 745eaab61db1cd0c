//! Each error that has a cause says only what failed at its own layer, and a person (a
//! log line, `ErrorChain`, `anyhow`'s `{:#}`) reads the cause once, through `source()`.

use std::error::Error;
use std::io;
use std::time::Duration;

use serde_json::Value;
use telepact::binary::{DecodeError, FrameError, InvalidEncoding};
use telepact::client::authorise::AuthoriseError;
use telepact::client::{HttpTransport, InvalidResponse};
use telepact::http::{TlsConfig, TlsError};
use telepact::mock::MockError;
use telepact::nats::NatsError;
use telepact::random::TypedGenerateError;
use telepact::schema::Schema;
use telepact::test_client::TestClientError;
use telepact::typed::{CallError, MockCallError};
use telepact::{Client, ClientError, ErrorChain, FunctionRouter, HandlerError, Message, Server};

use crate::log_capture::Capture;

fn not_json() -> serde_json::Error {
    serde_json::from_str::<Value>("{").expect_err("not JSON")
}

fn timed_out() -> ClientError {
    ClientError::Timeout(Duration::from_millis(20))
}

/// A PEM pair whose key is not the certificate's.
fn mismatched_pem() -> (String, String) {
    let names = vec!["127.0.0.1".to_string()];
    let one = rcgen::generate_simple_self_signed(names.clone()).expect("generates");
    let other = rcgen::generate_simple_self_signed(names).expect("generates");
    (one.cert.pem(), other.signing_key.serialize_pem())
}

/// What a call to a loopback port nothing listens on fails with.
async fn refused_call() -> ClientError {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    let transport = HttpTransport::new(&format!("http://127.0.0.1:{port}/api")).expect("a url");
    let request = Message::new(Default::default(), "fn.ping_", Default::default());
    Client::new(transport)
        .request(request)
        .await
        .expect_err("nothing listens")
}

/// A task's end that is no answer: cancelled.
async fn cancelled_task() -> tokio::task::JoinError {
    let task = tokio::spawn(std::future::pending::<()>());
    task.abort();
    task.await.expect_err("cancelled")
}

fn binary_failures() -> Vec<(&'static str, Box<dyn Error>)> {
    let invalid = |error: InvalidResponse| Box::new(ClientError::from(error)) as Box<dyn Error>;
    let headers = FrameError::Headers(DecodeError::UnknownFieldId(7));
    vec![
        ("response headers", invalid(InvalidResponse::Frame(headers))),
        (
            "a binary body",
            invalid(InvalidResponse::Body(DecodeError::InvalidUtf8)),
        ),
        (
            "an @enc_ table",
            invalid(InvalidResponse::Encoding(InvalidEncoding::IdOutOfRange {
                name: "fn.ping_".into(),
                len: 1,
            })),
        ),
        ("a response", invalid(InvalidResponse::NotJson(not_json()))),
    ]
}

fn client_failures() -> Vec<(&'static str, Box<dyn Error>)> {
    let sign_in = AuthoriseError::SignInCall {
        function: "fn.login".into(),
        source: timed_out(),
    };
    let refused = AuthoriseError::Refused {
        status: 400,
        error: "invalid_grant".into(),
        description: None,
    };
    let decode = telepact::typed::DecodeError {
        function: "fn.myShift".into(),
        part: "response body",
        source: not_json(),
    };
    vec![
        (
            "a serialization",
            Box::new(ClientError::Serialization(Box::new(io::Error::other(
                "a map key is not a string",
            )))),
        ),
        (
            "an authorisation",
            Box::new(ClientError::Authorise(Box::new(sign_in))),
        ),
        (
            "a sign-in",
            Box::new(AuthoriseError::SignInRequired(Box::new(refused))),
        ),
        ("a typed call", Box::new(CallError::from(decode))),
        (
            "a mock call",
            Box::new(MockCallError::Client(ClientError::Transport(Box::new(
                io::Error::other("connection reset by peer"),
            )))),
        ),
        (
            "a test client",
            Box::new(TestClientError::Client(ClientError::Transport(Box::new(
                io::Error::other("connection reset by peer"),
            )))),
        ),
    ]
}

fn setup_failures() -> Vec<(&'static str, Box<dyn Error>)> {
    let unreadable = Schema::from_dir("/nonexistent/api").expect_err("no directory");
    let (certificate, key) = mismatched_pem();
    let bad_key = "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n";
    vec![
        ("a mock", Box::new(MockError::from(unreadable))),
        (
            "PEM files",
            Box::new(
                TlsConfig::from_pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem")
                    .expect_err("no files"),
            ),
        ),
        (
            "a PEM key",
            Box::new(
                TlsConfig::from_pem(certificate.as_bytes(), bad_key.as_bytes()).expect_err("bad"),
            ),
        ),
        (
            "a PEM pair",
            Box::new(
                TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).expect_err("mismatch"),
            ),
        ),
        (
            "a typed value",
            Box::new(TypedGenerateError::Unreadable {
                key: "struct.Item",
                source: not_json(),
            }),
        ),
        (
            "a test client's schema",
            Box::new(TestClientError::from(
                Schema::from_text("[{\"fn.x\": 1}]").expect_err("not a schema"),
            )),
        ),
    ]
}

#[tokio::test]
async fn no_message_repeats_its_cause() {
    let mut errors = binary_failures();
    errors.extend(client_failures());
    errors.extend(setup_failures());
    errors.push(("a refused call", Box::new(refused_call().await)));
    errors.push((
        "a NATS worker",
        Box::new(NatsError::from(cancelled_task().await)),
    ));
    for (name, error) in &errors {
        telepact_test_support::assert_causes_shown_once(name, error.as_ref());
    }
    assert!(matches!(
        setup_failures()[3].1.downcast_ref::<TlsError>(),
        Some(TlsError::Rustls(_))
    ));
}

#[test]
fn a_chain_is_read_once_in_order() {
    let error = ClientError::from(InvalidResponse::Frame(FrameError::Headers(
        DecodeError::UnknownFieldId(7),
    )));
    assert_eq!(error.to_string(), "invalid response");
    assert_eq!(
        ErrorChain(&error).to_string(),
        "invalid response: the headers have no JSON form: no field has id 7"
    );
}

/// A handler's error with a cause of its own.
#[derive(Debug, thiserror::Error)]
#[error("cannot load the shift")]
struct ShiftUnavailable(#[source] io::Error);

/// The `handler failed` line holds the handler's error with each of its causes, once.
#[test]
fn a_failed_handler_is_logged_with_its_causes_once() {
    let schema = Schema::from_text(r#"[{"fn.work": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let router = FunctionRouter::new().route("fn.work", |_request: Message| async move {
        let disk = io::Error::other("disk full");
        Err::<Message, HandlerError>(Box::new(ShiftUnavailable(disk)))
    });
    let server = Server::builder(schema, router)
        .auth_required(false)
        .build()
        .expect("builds");
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime starts");
        runtime.block_on(server.process(br#"[{}, {"fn.work": {}}]"#));
    });
    let lines = capture.lines();
    let [failed] = lines.as_slice() else {
        panic!("one line: {lines:?}");
    };
    assert!(
        failed.contains("error=cannot load the shift: disk full"),
        "{failed}"
    );
    assert_eq!(failed.matches("disk full").count(), 1, "{failed}");
}
