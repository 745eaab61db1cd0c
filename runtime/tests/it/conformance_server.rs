//! Replays the conformance vectors against the test server: in process through
//! `Server::process`, and over HTTP through the same fixture the
//! `conformance_server` example serves.

use crate::fixture;
use crate::vectors;

use std::path::Path;

use fixture::{Fixture, FixtureOptions};

fn fixture(dir: &Path, schema: &str, auth: bool) -> Fixture {
    let options = FixtureOptions {
        auth,
        validate_schemas: schema == "parse",
        base_dir: Some(dir.to_path_buf()),
    };
    Fixture::load(&dir.join("schemas").join(schema), options).expect("fixture loads")
}

async fn in_process(file: &str, schema: &str, auth: bool) {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let fixture = fixture(&dir, schema, auth);
    let cases = vectors::load_cases(&dir, file);
    let failures = vectors::run_cases(&cases, |request| {
        let fixture = &fixture;
        async move { fixture.handle(&request).await.bytes }
    })
    .await;
    vectors::report(&format!("{file} (in process)"), cases.len(), &failures);
}

#[tokio::test]
async fn server_vectors_in_process() {
    in_process("server.json", "example", false).await;
}

#[tokio::test]
async fn auth_vectors_in_process() {
    in_process("auth.json", "auth", true).await;
}

#[tokio::test]
async fn garbage_vectors_in_process() {
    in_process("garbage.json", "example", false).await;
}

#[tokio::test]
async fn parse_vectors_in_process() {
    in_process("parse.json", "parse", false).await;
}

/// Over HTTP through the axum transport, with the fixture the example serves.
#[cfg(feature = "axum")]
mod over_http {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::{fixture, vectors};
    use crate::fixture::SharedFixture;

    /// One HTTP/1.1 POST on a fresh connection; returns the status and body.
    async fn post(port: u16, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connects");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .await
            .expect("writes head");
        stream.write_all(body).await.expect("writes body");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("reads response");
        split_response(&response)
    }

    fn split_response(response: &[u8]) -> (u16, Vec<u8>) {
        let end = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response has a head");
        let head = String::from_utf8_lossy(&response[..end]);
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        (status, response[end + 4..].to_vec())
    }

    async fn over_http(file: &str, schema: &str, auth: bool) {
        let Some(dir) = vectors::conformance_dir() else {
            return;
        };
        let shared = SharedFixture(Arc::new(fixture(&dir, schema, auth)));
        let options = telepact::http::HttpOptions::default().path("/api");
        let router = telepact::http::router(shared, &options);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("binds");
        let port = listener.local_addr().expect("has an address").port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(telepact::http::serve(listener, router, async {
            let _ = stopped.await;
        }));
        let cases = vectors::load_cases(&dir, file);
        let failures = vectors::run_cases(&cases, |request| async move {
            let (status, body) = post(port, "/api", &request).await;
            assert_eq!(status, 200);
            body
        })
        .await;
        let _ = stop.send(());
        server.await.expect("server task").expect("server ran");
        vectors::report(&format!("{file} (over HTTP)"), cases.len(), &failures);
    }

    #[tokio::test]
    async fn server_vectors_over_http() {
        over_http("server.json", "example", false).await;
    }

    #[tokio::test]
    async fn auth_and_garbage_vectors_over_http() {
        over_http("auth.json", "auth", true).await;
        over_http("garbage.json", "example", false).await;
    }
}

/// Every schema the vectors serve (not the deliberately broken `parse*` ones) answers
/// `fn.api_` with examples and internal definitions small and parseable with serde_json's
/// default recursion limit.
#[tokio::test]
async fn api_examples_of_every_conformance_schema_stay_small_and_parseable() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let request = br#"[{}, {"fn.api_": {"includeExamples!": true, "includeInternal!": true}}]"#;
    let mut checked = Vec::new();
    // The mock schemas (`mockgen`, `api_examples_mock`) are checked with the mock server.
    for schema in ["example", "auth", "binary", "load"] {
        let fixture = fixture(&dir, schema, schema == "auth");
        let response = fixture.handle(request).await;
        assert!(
            response.bytes.len() < 64 * 1024,
            "{schema}: {} bytes",
            response.bytes.len()
        );
        let answer: serde_json::Value =
            serde_json::from_slice(&response.bytes).expect("answer parses with default limits");
        assert!(answer.pointer("/1/Ok_/api").is_some(), "{schema}: {answer}");
        checked.push(schema);
    }
    assert_eq!(checked.len(), 4);
}
