//! Calls reported to the `metrics` facade: the series a server records, and the bound
//! on how many a caller can make it record.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use telepact::schema::Schema;
use telepact::{FunctionRouter, Server, ServerBuilder};

const SCHEMA: &str = r#"[{"fn.noop": {}, "->": [{"Ok_": {}}]}]"#;

/// Every series a [`DebuggingRecorder`] holds after `calls` ran with it as the local
/// recorder: name, labels as `key=value`, and the value (durations only counted), sorted.
fn metric_series(
    calls: impl FnOnce(&tokio::runtime::Runtime),
) -> Vec<(String, Vec<String>, String)> {
    use metrics_util::debugging::DebuggingRecorder;

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || calls(&runtime()));
    series_of(&snapshotter)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime starts")
}

/// The `telepact_http_refusals_total` series recorded, as [`series_of`] gives them.
pub(crate) fn refusals_of(
    snapshotter: &metrics_util::debugging::Snapshotter,
) -> Vec<(String, Vec<String>, String)> {
    series_of(snapshotter)
        .into_iter()
        .filter(|(name, _, _)| name == "telepact_http_refusals_total")
        .collect()
}

/// The series `snapshotter`'s recorder holds, as [`metric_series`] gives them.
pub(crate) fn series_of(
    snapshotter: &metrics_util::debugging::Snapshotter,
) -> Vec<(String, Vec<String>, String)> {
    use metrics_util::debugging::DebugValue;

    let mut seen: Vec<(String, Vec<String>, String)> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (_, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            let value = match value {
                DebugValue::Counter(count) => format!("count {count}"),
                DebugValue::Histogram(values) => {
                    let values: Vec<f64> = values.into_iter().map(|v| v.into_inner()).collect();
                    if key.name() == "telepact_call_duration_seconds" {
                        format!("{} durations", values.len())
                    } else {
                        format!("{values:?}")
                    }
                }
                DebugValue::Gauge(value) => format!("gauge {value}"),
            };
            (key.name().to_string(), labels, value)
        })
        .collect();
    seen.sort();
    seen
}

/// The `telepact_calls_total` series of `seen`: labels joined, and the count.
fn calls_counted(seen: &[(String, Vec<String>, String)]) -> Vec<(String, &str)> {
    seen.iter()
        .filter(|(name, _, _)| name == "telepact_calls_total")
        .map(|(_, labels, value)| (labels.join(" "), value.as_str()))
        .collect()
}

/// A server of [`SCHEMA`], open to all, its metrics set up by `metrics`.
fn server_of(metrics: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Server {
    let schema = Schema::from_text(SCHEMA).expect("schema loads");
    let builder = Server::builder(schema, FunctionRouter::new()).auth_required(false);
    metrics(builder).build().expect("server builds")
}

/// A server of [`SCHEMA`] reporting through the `metrics` facade.
fn metrics_server() -> Server {
    server_of(|builder| builder.metrics(true))
}

#[test]
fn calls_are_counted_and_measured_through_the_metrics_facade() {
    let server = metrics_server();
    let request = br#"[{}, {"fn.ping_": {}}]"#;
    let mut response = None;
    let seen = metric_series(|runtime| {
        runtime.block_on(async {
            server.process(request).await;
            response = Some(server.process(request).await);
        })
    });
    let function = "function=fn.ping_".to_string();
    let size = response.expect("answered").bytes.len() as f64;
    assert_eq!(
        seen,
        [
            (
                "telepact_call_duration_seconds".to_string(),
                vec![function.clone()],
                "2 durations".to_string()
            ),
            (
                "telepact_calls_in_flight".to_string(),
                vec![],
                "gauge 0".to_string()
            ),
            (
                "telepact_calls_total".to_string(),
                vec![function.clone(), "result=Ok_".to_string()],
                "count 2".to_string()
            ),
            (
                "telepact_request_bytes".to_string(),
                vec![function.clone()],
                format!("{:?}", [request.len() as f64; 2])
            ),
            (
                "telepact_response_bytes".to_string(),
                vec![function],
                format!("{:?}", [size; 2])
            ),
        ]
    );
}

#[test]
fn each_series_is_described_with_its_unit_to_either_recorder() {
    use metrics_util::debugging::{DebuggingRecorder, Snapshotter};

    let described = |snapshotter: &Snapshotter| {
        let mut described: Vec<(String, Option<Unit>, bool)> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, unit, description, _)| {
                let (_, key) = key.into_parts();
                (key.name().to_string(), unit, description.is_some())
            })
            .collect();
        described.sort_by(|a, b| a.0.cmp(&b.0));
        described.dedup();
        described
    };
    let expected = [
        ("telepact_call_duration_seconds", Some(Unit::Seconds)),
        ("telepact_calls_in_flight", None),
        ("telepact_calls_total", None),
        ("telepact_request_bytes", Some(Unit::Bytes)),
        ("telepact_response_bytes", Some(Unit::Bytes)),
    ]
    .map(|(name, unit)| (name.to_string(), unit, true));
    let ping = br#"[{}, {"fn.noop": {}}]"#;

    // The facade's recorder, current when the server is built.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let server = metrics_server();
        runtime().block_on(server.process(ping));
    });
    assert_eq!(described(&snapshotter), expected);

    // A recorder of the server's own.
    let (server, snapshotter) = server_with_own_recorder();
    runtime().block_on(server.process(ping));
    server.flush_metrics();
    assert_eq!(described(&snapshotter), expected);
}

#[test]
fn requests_the_http_endpoint_refuses_are_counted_by_status() {
    use telepact::http::{self, HttpOptions};
    use tower::ServiceExt as _;

    let (server, snapshotter) = server_with_own_recorder();
    let options = HttpOptions::default().body_limit(24);
    let post = |body: &'static str| {
        axum::http::Request::post("/api/telepact")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .expect("a request")
    };
    runtime().block_on(async {
        for body in [r#"[{}, {"fn.noop": {"padding": "past the limit"}}]"#; 2] {
            let refused = http::router(server.clone(), &options)
                .oneshot(post(body))
                .await;
            assert_eq!(refused.expect("an answer").status(), 413);
        }
        let answered = http::router(server.clone(), &options)
            .oneshot(post(r#"[{},{"fn.noop":{}}]"#))
            .await;
        assert_eq!(answered.expect("an answer").status(), 200);
    });
    server.flush_metrics();
    assert_eq!(
        refusals_of(&snapshotter),
        [(
            "telepact_http_refusals_total".to_string(),
            vec!["status=413".to_string()],
            "count 2".to_string()
        )]
    );
}

#[test]
fn callers_cannot_add_metric_series_with_function_names_of_their_own() {
    let server = metrics_server();
    let seen = metric_series(|runtime| {
        runtime.block_on(async {
            for i in 0..50 {
                let request = format!(r#"[{{}}, {{"fn.invented{i}": {{}}}}]"#);
                server.process(request.as_bytes()).await;
            }
            server.process(b"not a message").await;
        })
    });
    assert_eq!(
        calls_counted(&seen),
        [
            ("function= result=ErrorParseFailure_".to_string(), "count 1"),
            (
                "function=unknown result=ErrorInvalidRequestBody_".to_string(),
                "count 50"
            ),
        ]
    );
    assert_eq!(
        seen.len(),
        9,
        "four series per label set, and calls in flight: {seen:?}"
    );
}

/// A recorder that counts the registrations it is asked for, and keeps the series.
struct CountingRecorder {
    inner: metrics_util::debugging::DebuggingRecorder,
    registrations: Arc<AtomicUsize>,
}

impl CountingRecorder {
    /// The recorder that keeps the series, one registration counted.
    fn counted(&self) -> &metrics_util::debugging::DebuggingRecorder {
        self.registrations.fetch_add(1, Ordering::Relaxed);
        &self.inner
    }
}

impl Recorder for CountingRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.counted().register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.counted().register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        self.counted().register_histogram(key, metadata)
    }
}

#[test]
fn a_recorder_of_the_servers_own_gets_each_series_registered_once() {
    use metrics_util::debugging::DebuggingRecorder;

    let inner = DebuggingRecorder::new();
    let snapshotter = inner.snapshotter();
    let registrations = Arc::default();
    let recorder = CountingRecorder {
        inner,
        registrations: Arc::clone(&registrations),
    };
    let server = server_reporting_to(recorder);
    let request = br#"[{}, {"fn.ping_": {}}]"#;
    // The facade's current recorder is not the server's: it sees none of the calls.
    let facade = metric_series(|runtime| {
        runtime.block_on(async {
            for _ in 0..3 {
                server.process(request).await;
            }
            server.process(b"not a message").await;
        })
    });
    assert_eq!(facade, []);
    server.flush_metrics();
    let seen = series_of(&snapshotter);
    assert_eq!(
        calls_counted(&seen),
        [
            ("function= result=ErrorParseFailure_".to_string(), "count 1"),
            ("function=fn.ping_ result=Ok_".to_string(), "count 3"),
        ]
    );
    assert_eq!(
        seen.len(),
        9,
        "four series per label set, and calls in flight: {seen:?}"
    );
    // Four series for each of the two label sets and the gauge of calls in flight, each
    // registered on its first call.
    let registered = registrations.load(Ordering::Relaxed);
    assert_eq!(registered, 9);
}

/// A server of [`SCHEMA`] reporting to `recorder`, a recorder of its own.
fn server_reporting_to(recorder: impl Recorder + Send + Sync + 'static) -> Server {
    server_of(|builder| builder.metrics_recorder(recorder))
}

/// A server reporting to a [`DebuggingRecorder`] of its own, and what reads that recorder.
pub(crate) fn server_with_own_recorder() -> (Server, metrics_util::debugging::Snapshotter) {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    (server_reporting_to(recorder), snapshotter)
}

#[test]
fn calls_held_in_batches_across_threads_are_all_handed_over() {
    let (server, snapshotter) = server_with_own_recorder();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime starts");
    let ping = br#"[{}, {"fn.ping_": {}}]"#;
    // More calls than a batch holds, from several tasks at once, results interleaved.
    runtime.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let server = server.clone();
                tokio::spawn(async move {
                    for call in 0..100 {
                        let request: &[u8] = if call % 10 == 9 { b"[" } else { ping };
                        server.process(request).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("calls run");
        }
    });
    server.flush_metrics();
    let seen = series_of(&snapshotter);
    assert_eq!(
        calls_counted(&seen),
        [
            (
                "function= result=ErrorParseFailure_".to_string(),
                "count 40"
            ),
            ("function=fn.ping_ result=Ok_".to_string(), "count 360"),
        ]
    );
    let durations: Vec<&str> = seen
        .iter()
        .filter(|(name, ..)| name == "telepact_call_duration_seconds")
        .map(|(.., value)| value.as_str())
        .collect();
    assert_eq!(durations, ["40 durations", "360 durations"]);
}

#[test]
fn held_calls_reach_the_recorder_unasked_and_when_the_server_is_dropped() {
    let (server, snapshotter) = server_with_own_recorder();
    runtime().block_on(server.process(br#"[{}, {"fn.ping_": {}}]"#));
    // A background thread hands held calls over every second.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let ping_counted = [("function=fn.ping_ result=Ok_".to_string(), "count 1")];
    // A snapshot takes the counts it reads (the first may come as the call is handed over).
    while calls_counted(&series_of(&snapshotter)) != ping_counted {
        assert!(
            std::time::Instant::now() < deadline,
            "the held call is handed over"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    runtime().block_on(server.process(b"not a message"));
    drop(server);
    assert_eq!(
        calls_counted(&series_of(&snapshotter)),
        [
            ("function= result=ErrorParseFailure_".to_string(), "count 1"),
            ("function=fn.ping_ result=Ok_".to_string(), "count 0"),
        ]
    );
}

/// A server whose `fn.stuck` never answers, its metrics set up by `metrics`.
fn stuck_server_of(metrics: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Server {
    let schema = Schema::from_text(r#"[{"fn.stuck": {}, "->": [{"Ok_": {}}]}]"#).expect("loads");
    let router = FunctionRouter::new().route("fn.stuck", |_: telepact::Message| async {
        std::future::pending::<Result<telepact::Message, telepact::HandlerError>>().await
    });
    let builder = Server::builder(schema, router).auth_required(false);
    metrics(builder).build().expect("server builds")
}

/// Runs a call to `fn.stuck` on `server` for a moment, then drops it unanswered, as a
/// transport does when its caller goes or the shutdown's deadline passes.
fn cut_off_a_call(server: &Server, runtime: &tokio::runtime::Runtime) -> usize {
    let request = br#"[{}, {"fn.stuck": {}}]"#;
    let wait = std::time::Duration::from_millis(5);
    let cut_off =
        runtime.block_on(async { tokio::time::timeout(wait, server.process(request)).await });
    assert!(cut_off.is_err(), "the call never answers");
    request.len()
}

/// A call cut off before its answer is counted under `result="cancelled"`, its duration
/// and request size recorded, and no answer's size: through the facade's recorder and
/// through one of the server's own alike.
#[test]
fn a_call_cut_off_is_counted_as_cancelled() {
    let timed = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime starts")
    };
    let expected = |size: usize| {
        let function = "function=fn.stuck".to_string();
        vec![
            (
                "telepact_call_duration_seconds".to_string(),
                vec![function.clone()],
                "2 durations".to_string(),
            ),
            // Both calls ended, cut off: none is left in flight.
            (
                "telepact_calls_in_flight".to_string(),
                vec![],
                "gauge 0".to_string(),
            ),
            (
                "telepact_calls_total".to_string(),
                vec![function.clone(), "result=cancelled".to_string()],
                "count 2".to_string(),
            ),
            (
                "telepact_request_bytes".to_string(),
                vec![function],
                format!("{:?}", [size as f64; 2]),
            ),
        ]
    };

    let server = stuck_server_of(|builder| builder.metrics(true));
    let mut size = 0;
    let seen = metric_series(|_| {
        let runtime = timed();
        for _ in 0..2 {
            size = cut_off_a_call(&server, &runtime);
        }
    });
    assert_eq!(seen, expected(size));

    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let server = stuck_server_of(|builder| builder.metrics_recorder(recorder));
    let runtime = timed();
    for _ in 0..2 {
        cut_off_a_call(&server, &runtime);
    }
    server.flush_metrics();
    assert_eq!(series_of(&snapshotter), expected(size));
}

/// A recorder that keeps the series, and panics when asked for the answer sizes' one.
struct PanickingOnAnswerSizes(metrics_util::debugging::DebuggingRecorder);

impl Recorder for PanickingOnAnswerSizes {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.0.register_counter(key, metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.0.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        assert_ne!(key.name(), "telepact_response_bytes", "the recorder fails");
        self.0.register_histogram(key, metadata)
    }
}

/// A recorder that panics as an answered call is recorded leaves the call counted once,
/// as answered, and out of the calls in flight: it was counted again as cancelled, and
/// taken twice from the calls in flight, as the panic unwound.
#[test]
fn a_call_whose_recording_panics_is_counted_once() {
    let recorder = PanickingOnAnswerSizes(metrics_util::debugging::DebuggingRecorder::new());
    let snapshotter = recorder.0.snapshotter();
    let server = metrics_server();
    let request = br#"[{}, {"fn.ping_": {}}]"#;
    metrics::with_local_recorder(&recorder, || {
        let runtime = runtime();
        let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(server.process(request))
        }));
        assert!(
            processed.is_err(),
            "the recorder's panic reaches the caller"
        );
    });
    let seen = series_of(&snapshotter);
    assert_eq!(
        calls_counted(&seen),
        [("function=fn.ping_ result=Ok_".to_string(), "count 1")]
    );
    let in_flight = seen
        .iter()
        .find(|(name, _, _)| name == "telepact_calls_in_flight")
        .map(|(_, _, value)| value.as_str());
    assert_eq!(in_flight, Some("gauge 0"));
}

/// A span subscriber that panics as a call's result is written into its span.
struct PanickingOnResult;

struct FailOnResult;

impl tracing::field::Visit for FailOnResult {
    fn record_debug(&mut self, field: &tracing::field::Field, _: &dyn std::fmt::Debug) {
        assert_ne!(field.name(), "result", "the subscriber fails");
    }
}

impl tracing::Subscriber for PanickingOnResult {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }

    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut FailOnResult);
    }

    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A span subscriber that panics as an answered call's result is written leaves the
/// call out of the calls in flight: the call's metrics were recorded only after its
/// span, so the gauge kept it for ever.
#[test]
fn a_call_whose_span_recording_panics_leaves_the_calls_in_flight() {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let server = metrics_server();
    let request = br#"[{}, {"fn.ping_": {}}]"#;
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(PanickingOnResult, || {
            let runtime = runtime();
            let processed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(server.process(request))
            }));
            assert!(
                processed.is_err(),
                "the subscriber's panic reaches the caller"
            );
        });
    });
    server.flush_metrics();
    let seen = series_of(&snapshotter);
    let in_flight = seen
        .iter()
        .find(|(name, _, _)| name == "telepact_calls_in_flight")
        .map(|(_, _, value)| value.as_str());
    assert_eq!(in_flight, Some("gauge 0"));
}
