//! The series an operator alerts on beyond each call's count and time: connections
//! refused at the listener's bounds, connections open, and calls in flight.
#![cfg(feature = "axum")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use telepact::http::{self, HttpOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::http_transport::{schema_server, serve_app};

const REFUSED: &str = "telepact_http_connections_refused_total";
const OPEN: &str = "telepact_http_connections_open";
const IN_FLIGHT: &str = "telepact_calls_in_flight";

/// What a [`DebuggingRecorder`] recorded: its snapshots take each counter and gauge
/// back to zero, so the readings are added up here.
struct Readings {
    snapshotter: Snapshotter,
    totals: RefCell<HashMap<(String, Vec<String>), f64>>,
}

impl Readings {
    fn of(recorder: &DebuggingRecorder) -> Self {
        Readings {
            snapshotter: recorder.snapshotter(),
            totals: RefCell::default(),
        }
    }

    /// The value of the series `name` with `labels` (`key=value`), if recorded.
    fn value(&self, name: &str, labels: &[&str]) -> Option<f64> {
        let mut totals = self.totals.borrow_mut();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let labels = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let reading = match value {
                DebugValue::Counter(count) => count as f64,
                DebugValue::Gauge(value) => value.into_inner(),
                DebugValue::Histogram(values) => values.len() as f64,
            };
            *totals.entry((key.name().to_string(), labels)).or_default() += reading;
        }
        let labels = labels.iter().map(ToString::to_string).collect();
        totals.get(&(name.to_string(), labels)).copied()
    }

    /// Waits up to 5 s for the series `name`, without labels, to read `value`.
    async fn settles_at(&self, name: &str, value: f64) -> bool {
        for _ in 0..250 {
            if self.value(name, &[]) == Some(value) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

/// Runs `work` on a runtime of one thread with `recorder` as the facade's recorder, so
/// the listener's tasks report to it.
fn with_recorder(recorder: &DebuggingRecorder, work: impl std::future::Future<Output = ()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime starts");
    metrics::with_local_recorder(recorder, || runtime.block_on(work));
}

/// One answered ping over `stream`, which stays open.
async fn ping(stream: &mut TcpStream) {
    let body = br#"[{}, {"fn.ping_": {}}]"#;
    let head = format!(
        "POST /api/telepact HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(body).await.expect("writes");
    let mut answer = [0u8; 512];
    let read = stream.read(&mut answer).await.expect("answered");
    assert!(answer[..read].starts_with(b"HTTP/1.1 200"));
}

/// Whether the server closed `stream` without answering.
async fn closed_unread(stream: &mut TcpStream) -> bool {
    let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
    matches!(read, Ok(Ok(0) | Err(_)))
}

#[test]
fn connections_refused_at_either_bound_are_counted_by_that_bound() {
    let recorder = DebuggingRecorder::new();
    let readings = Readings::of(&recorder);
    let bounds = [
        (
            "per_address",
            http::ServeOptions::default().connections_per_address(Some(1)),
        ),
        (
            "total",
            http::ServeOptions::default()
                .connections_per_address(None)
                .max_connections(Some(1)),
        ),
    ];
    with_recorder(&recorder, async {
        for (limit, serve) in bounds {
            let app = http::router(schema_server(), &HttpOptions::default());
            let (port, stop, _) = serve_app(app, serve).await;
            let mut first = TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connects");
            ping(&mut first).await;
            assert_eq!(readings.value(OPEN, &[]), Some(1.0), "{limit}");
            for _ in 0..3 {
                let mut past = TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connects");
                assert!(closed_unread(&mut past).await, "{limit}");
            }
            let label = format!("limit={limit}");
            assert_eq!(readings.value(REFUSED, &[&label]), Some(3.0));
            drop(first);
            assert!(readings.settles_at(OPEN, 0.0).await, "{limit}: closed");
            let _ = stop.send(());
        }
    });
    let described: Vec<_> = recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name().starts_with("telepact_http_connections"))
        .map(|(_, _, description, _)| description.is_some())
        .collect();
    assert!(!described.is_empty() && described.iter().all(|d| *d));
}

/// A server whose `fn.wait` answers once `gate` has a permit, reporting to the facade.
fn gated_server(gate: &std::sync::Arc<tokio::sync::Semaphore>) -> telepact::Server {
    gated_server_with(gate, |builder| builder.metrics(true))
}

/// A server whose `fn.wait` answers once `gate` has a permit, its reporting as
/// `reporting` sets it.
fn gated_server_with(
    gate: &std::sync::Arc<tokio::sync::Semaphore>,
    reporting: impl FnOnce(telepact::ServerBuilder) -> telepact::ServerBuilder,
) -> telepact::Server {
    let schema = telepact::schema::Schema::from_text(r#"[{"fn.wait": {}, "->": [{"Ok_": {}}]}]"#)
        .expect("loads");
    let gate = std::sync::Arc::clone(gate);
    let router = telepact::FunctionRouter::new().route("fn.wait", move |_: telepact::Message| {
        let gate = std::sync::Arc::clone(&gate);
        async move {
            let _ = gate.acquire().await.map(|permit| permit.forget());
            Ok::<_, telepact::HandlerError>(telepact::Message::new(
                telepact::Headers::new(),
                "Ok_",
                serde_json::Map::new(),
            ))
        }
    });
    reporting(telepact::Server::builder(schema, router).auth_required(false))
        .build()
        .expect("server builds")
}

#[test]
fn calls_in_flight_rise_while_they_run_and_fall_when_answered_or_cut_off() {
    let recorder = DebuggingRecorder::new();
    let readings = Readings::of(&recorder);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let server = gated_server(&gate);
    let wait = br#"[{}, {"fn.wait": {}}]"#;
    with_recorder(&recorder, async {
        let calls: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn({
                    let server = server.clone();
                    async move { server.process(wait).await }
                })
            })
            .collect();
        assert!(readings.settles_at(IN_FLIGHT, 3.0).await, "three waiting");
        gate.add_permits(2);
        assert!(readings.settles_at(IN_FLIGHT, 1.0).await, "two answered");
        // The third's caller goes: its future is dropped unanswered.
        for call in &calls {
            call.abort();
        }
        assert!(readings.settles_at(IN_FLIGHT, 0.0).await, "one cut off");
        server.process(br#"[{}, {"fn.ping_": {}}]"#).await;
        assert_eq!(readings.value(IN_FLIGHT, &[]), Some(0.0));
    });
    let cancelled = ["function=fn.wait", "result=cancelled"];
    assert_eq!(
        readings.value("telepact_calls_total", &cancelled),
        Some(1.0)
    );
}

/// `count` calls of `fn.wait` on `server`, started on a runtime of two threads (kept
/// running while the runtime returned with them lives).
fn waiting_calls(
    server: &telepact::Server,
    count: usize,
) -> (
    tokio::runtime::Runtime,
    Vec<tokio::task::JoinHandle<telepact::Response>>,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime starts");
    let wait = br#"[{}, {"fn.wait": {}}]"#;
    let calls = (0..count)
        .map(|_| {
            let server = server.clone();
            runtime.spawn(async move { server.process(wait).await })
        })
        .collect();
    (runtime, calls)
}

/// Whether `reading` comes to `value` within five seconds (read every 20 ms).
fn settles_at(reading: impl Fn() -> Option<f64>, value: f64) -> bool {
    (0..250).any(|_| {
        let now = reading() == Some(value);
        if !now {
            std::thread::sleep(Duration::from_millis(20));
        }
        now
    })
}

/// With a recorder of the server's own, calls in flight are counted per thread and the
/// gauge is moved when the server's held calls are handed over (a scrape flushes first).
#[test]
fn calls_in_flight_reach_the_servers_own_recorder_when_it_is_flushed() {
    let recorder = DebuggingRecorder::new();
    let readings = Readings::of(&recorder);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let server = gated_server_with(&gate, |builder| builder.metrics_recorder(recorder));
    let in_flight = || {
        server.flush_metrics();
        readings.value(IN_FLIGHT, &[])
    };
    let (_runtime, calls) = waiting_calls(&server, 3);
    let settles_at = |value| settles_at(in_flight, value);
    assert!(settles_at(3.0), "three waiting: {:?}", in_flight());
    gate.add_permits(2);
    assert!(settles_at(1.0), "two answered: {:?}", in_flight());
    for call in &calls {
        call.abort();
    }
    assert!(settles_at(0.0), "one cut off: {:?}", in_flight());
}

/// Two servers reporting to one recorder (one exporter scraping both) share its
/// `telepact_calls_in_flight` series: it counts the calls of both, and a server with
/// none in flight does not hide the other's.
#[test]
fn calls_in_flight_of_two_servers_on_one_recorder_add_up() {
    let recorder = std::sync::Arc::new(DebuggingRecorder::new());
    let readings = Readings::of(&recorder);
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let busy = gated_server_with(&gate, |builder| {
        builder.metrics_recorder(std::sync::Arc::clone(&recorder))
    });
    let idle = gated_server_with(&gate, |builder| {
        builder.metrics_recorder(std::sync::Arc::clone(&recorder))
    });
    let in_flight = || {
        busy.flush_metrics();
        idle.flush_metrics();
        readings.value(IN_FLIGHT, &[])
    };
    let (_runtime, calls) = waiting_calls(&busy, 2);
    let settles_at = |value| settles_at(in_flight, value);
    assert!(settles_at(2.0), "two waiting: {:?}", in_flight());
    gate.add_permits(2);
    assert!(settles_at(0.0), "both answered: {:?}", in_flight());
    drop(calls);
}

/// The crate's docs name every series of the README's metrics table that the runtime
/// itself records: they named four of the ten.
#[test]
fn the_crate_docs_name_every_series_the_runtime_records() {
    let read = |path: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path:?}: {error}"))
    };
    let readme = read("../README.md");
    let table = readme
        .lines()
        .filter(|line| line.starts_with("| `telepact_"))
        .flat_map(|line| line.split('|').nth(1))
        .flat_map(|names| names.split('`').skip(1).step_by(2));
    let sources = [
        "src/server/call_metrics.rs",
        "src/http/per_address.rs",
        "src/nats/gateway.rs",
    ]
    .map(read)
    .concat();
    let recorded: Vec<&str> = table
        .filter(|name| sources.contains(&format!("\"{name}\"")))
        .collect();
    assert!(recorded.len() >= 10, "{recorded:?}");
    let docs = read("src/lib.rs");
    let unnamed: Vec<&&str> = recorded
        .iter()
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(unnamed.is_empty(), "not in the crate docs: {unnamed:?}");
}
