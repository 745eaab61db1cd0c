//! Replays the mock vectors (`mock.json`, `mockgen.json`, the mock half of
//! `api_examples.json`) against `telepact::mock::MockServer`, in process and over HTTP;
//! the auth half of `api_examples.json` against the test server; and `test_client.json`
//! through `telepact::test_client::TestClient` in front of the test server.

use crate::fixture;
use crate::vectors;

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use telepact::client::TransportError;
use telepact::mock::{MockOptions, MockServer};
use telepact::schema::Schema;
use telepact::test_client::{Expect, TestClient, TestClientError};
use telepact::{Client, Message};
use vectors::Case;

/// The options the vectors assume: generation only on `@gen_`.
fn vector_options() -> MockOptions {
    MockOptions::default().generate_responses(false)
}

fn mock(dir: &Path, schema: &str) -> MockServer {
    let schema = Schema::mock_from_dir(dir.join("schemas").join(schema)).expect("schema loads");
    MockServer::with_options(schema, vector_options()).expect("mock builds")
}

/// The cases of `file` (exactly `expected` of them, `group` when given), split into
/// runs that share one mock: one per group and suite, in file order.
fn runs(dir: &Path, file: &str, group: Option<&str>, expected: usize) -> Vec<Vec<Case>> {
    let text = std::fs::read_to_string(dir.join(file)).expect("vector file is readable");
    let records: Vec<Value> = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = vectors::load_cases(dir, file);
    assert_eq!(cases.len(), records.len());
    let mut runs: Vec<(String, Vec<Case>)> = Vec::new();
    for (record, case) in records.iter().zip(cases) {
        let record_group = record["group"].as_str().unwrap_or_default();
        if group.is_some_and(|g| g != record_group) {
            continue;
        }
        let key = format!(
            "{record_group}/{}",
            record["suite"].as_str().unwrap_or_default()
        );
        match runs.iter_mut().find(|(k, _)| *k == key) {
            Some((_, run)) => run.push(case),
            None => runs.push((key, vec![case])),
        }
    }
    let total: usize = runs.iter().map(|(_, run)| run.len()).sum();
    assert_eq!(total, expected, "{file}: case count");
    runs.into_iter().map(|(_, run)| run).collect()
}

/// The name a file's cases are counted under: `file/group` for one group of a file.
fn counted_as(file: &str, group: Option<&str>) -> String {
    match group {
        Some(group) => format!("{file}/{group}"),
        None => file.to_string(),
    }
}

async fn in_process(file: &str, schema: &str, group: Option<&str>, expected: usize) {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let mut failures = Vec::new();
    for run in runs(&dir, file, group, expected) {
        let mock = mock(&dir, schema);
        let found = vectors::run_cases(&run, |request| {
            let mock = &mock;
            async move { mock.process(&request).await.bytes }
        })
        .await;
        failures.extend(found);
    }
    let label = format!("{} (mock, in process)", counted_as(file, group));
    vectors::report(&label, expected, &failures);
}

#[tokio::test]
async fn mock_vectors_in_process() {
    in_process("mock.json", "example", None, 1258).await;
}

#[tokio::test]
async fn mockgen_vectors_in_process() {
    in_process("mockgen.json", "mockgen", None, 9).await;
}

#[tokio::test]
async fn api_examples_of_a_mock_in_process() {
    in_process(
        "api_examples.json",
        "api_examples_mock",
        Some("mock_cases"),
        1,
    )
    .await;
}

#[tokio::test]
async fn api_examples_of_the_auth_server_in_process() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let options = fixture::FixtureOptions {
        auth: true,
        ..Default::default()
    };
    let fixture =
        fixture::Fixture::load(&dir.join("schemas").join("auth"), options).expect("fixture loads");
    let mut failures = Vec::new();
    for run in runs(&dir, "api_examples.json", Some("auth_cases"), 1) {
        let found = vectors::run_cases(&run, |request| {
            let fixture = &fixture;
            async move { fixture.handle(&request).await.bytes }
        })
        .await;
        failures.extend(found);
    }
    vectors::report(
        "api_examples.json/auth_cases (auth server, in process)",
        1,
        &failures,
    );
}

/// Runs one `test_client.json` request through the test client, the way the vectors'
/// runner does: `@setSeed`, `@expectedPseudoJsonBody` and `@expectMatch` drive the
/// assertion; a failed assertion answers `[{"@assertionError": true}, {"ErrorUnknown_": {}}]`.
async fn assert_through(tester: &TestClient, request: &[u8]) -> Vec<u8> {
    let Ok(Value::Array(parts)) = serde_json::from_slice::<Value>(request) else {
        return b"request is not a message".to_vec();
    };
    let headers = parts[0].as_object().cloned().unwrap_or_default();
    let body = parts[1].as_object().cloned().unwrap_or_default();
    if let Some(seed) = headers.get("@setSeed").and_then(Value::as_i64) {
        tester.set_seed(seed);
    }
    let expected: Map<String, Value> = headers
        .get("@expectedPseudoJsonBody")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let expect = match headers.get("@expectMatch").and_then(Value::as_bool) {
        Some(false) => Expect::NoMatch,
        _ => Expect::Match,
    };
    let request = Message::from_body(headers.into(), body);
    let answer = match tester.assert_request(request, &expected, expect).await {
        Ok(response) => response.to_json(),
        Err(TestClientError::Mismatch { .. } | TestClientError::UnexpectedMatch { .. }) => {
            json!([{"@assertionError": true}, {"ErrorUnknown_": {}}])
        }
        Err(other) => json!({ "error": other.to_string() }),
    };
    answer.to_string().into_bytes()
}

async fn replay_test_client(client: Client, dir: &Path, label: &str) {
    let tester = TestClient::new(client);
    let mut failures = Vec::new();
    for run in runs(dir, "test_client.json", None, 12) {
        let found = vectors::run_cases(&run, |request| {
            let tester = &tester;
            async move { assert_through(tester, &request).await }
        })
        .await;
        failures.extend(found);
    }
    vectors::report(label, 12, &failures);
}

fn test_server(dir: &Path) -> Arc<fixture::Fixture> {
    let schema_dir = dir.join("schemas").join("example");
    Arc::new(fixture::Fixture::load(&schema_dir, Default::default()).expect("fixture loads"))
}

#[tokio::test]
async fn test_client_vectors_in_process() {
    let Some(dir) = vectors::conformance_dir() else {
        return;
    };
    let server = test_server(&dir);
    let client = Client::new(move |bytes: Vec<u8>| {
        let server = Arc::clone(&server);
        async move { Ok::<_, TransportError>(server.handle(&bytes).await.bytes) }
    });
    replay_test_client(client, &dir, "test_client.json (in process)").await;
}

/// The same replays over HTTP through the axum transport, one listener per mock.
#[cfg(feature = "axum")]
mod over_http {
    use telepact::Client;
    use telepact::client::TransportError;
    use telepact::http::{HttpOptions, Processor};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use super::{mock, replay_test_client, runs, test_server, vectors};
    use crate::fixture::SharedFixture;

    /// A loopback listener serving `processor` at `/api` until dropped.
    struct Served {
        port: u16,
        stop: Option<oneshot::Sender<()>>,
        task: Option<JoinHandle<std::io::Result<()>>>,
    }

    impl Served {
        async fn start(processor: impl Processor) -> Served {
            let router = telepact::http::router(processor, &HttpOptions::default().path("/api"));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("binds");
            let port = listener.local_addr().expect("has an address").port();
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(telepact::http::serve(listener, router, async {
                let _ = stopped.await;
            }));
            Served {
                port,
                stop: Some(stop),
                task: Some(task),
            }
        }

        async fn stop(mut self) {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            if let Some(task) = self.task.take() {
                task.await.expect("server task").expect("server ran");
            }
        }
    }

    /// One HTTP/1.1 POST to `/api` on a fresh connection; returns the status and body.
    async fn post(port: u16, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let head = format!(
            "POST /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        let end = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("response has no head"))?;
        let head = String::from_utf8_lossy(&response[..end]);
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status line"))?;
        Ok((status, response[end + 4..].to_vec()))
    }

    async fn replay(file: &str, schema: &str, group: Option<&str>, expected: usize) {
        let Some(dir) = vectors::conformance_dir() else {
            return;
        };
        let mut failures = Vec::new();
        for run in runs(&dir, file, group, expected) {
            let served = Served::start(mock(&dir, schema)).await;
            let port = served.port;
            let found = vectors::run_cases(&run, |request| async move {
                let (status, body) = post(port, &request).await.expect("posts");
                assert_eq!(status, 200);
                body
            })
            .await;
            served.stop().await;
            failures.extend(found);
        }
        let label = format!("{} (mock, over HTTP)", super::counted_as(file, group));
        vectors::report(&label, expected, &failures);
    }

    #[tokio::test]
    async fn mock_vectors_over_http() {
        replay("mock.json", "example", None, 1258).await;
    }

    #[tokio::test]
    async fn mockgen_and_api_examples_over_http() {
        replay("mockgen.json", "mockgen", None, 9).await;
        replay(
            "api_examples.json",
            "api_examples_mock",
            Some("mock_cases"),
            1,
        )
        .await;
    }

    #[tokio::test]
    async fn test_client_vectors_over_http() {
        let Some(dir) = vectors::conformance_dir() else {
            return;
        };
        let served = Served::start(SharedFixture(test_server(&dir))).await;
        let port = served.port;
        let client = Client::new(move |bytes: Vec<u8>| async move {
            let (_, body) = post(port, &bytes).await?;
            Ok::<_, TransportError>(body)
        });
        replay_test_client(client, &dir, "test_client.json (over HTTP)").await;
        served.stop().await;
    }
}
