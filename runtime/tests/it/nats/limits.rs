//! What NATS will not carry: an answer past the server's `max_payload` (found before the
//! send, or by the send when the limit fell mid-call; a header bridge's reply headers
//! dropped with it), a body past it at the gateway, and a subject NATS would refuse.

use std::sync::Mutex;

use telepact::nats::NatsError;
use telepact::nats::async_nats::HeaderMap as NatsHeaders;
use telepact::{ErrorKind, ProcessError, TooLarge};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_max_payload_is_replaced_by_error_unknown() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let reported = Arc::new(Mutex::new(Vec::new()));
    let hook_sees = Arc::clone(&reported);
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let metrics = recorder.snapshotter();
    let server = builder()
        .on_error(move |error: &ProcessError| {
            let case_id = error.case_id().map(str::to_string);
            let source = std::error::Error::source(error);
            let too_large = source.and_then(|source| source.downcast_ref::<TooLarge>());
            hook_sees.lock().expect("lock").push((
                error.kind(),
                case_id,
                too_large.map(|t| t.size > t.limit),
            ));
        })
        .metrics_recorder(recorder)
        .build()
        .expect("server builds");
    let worker = worker_of(server, &nats_server.url()).await;

    // The caller gets `ErrorUnknown_` at once rather than waiting for its deadline, in
    // either encoding, with its `@id_`, under the case id the on-error hook was given.
    for binary in [false, true] {
        let client = nats_client(&nats_server.url(), binary).await;
        let mut headers = Headers::new();
        headers.insert("@id_", json!("big one"));
        let big = Message::new(headers, "fn.big", Map::new());
        let response = client.request(big).await.expect("answered");
        assert_eq!(response.target(), "ErrorUnknown_", "binary={binary}");
        assert_eq!(response.header("@id_"), Some(&json!("big one")));
        let case_id = response.payload().and_then(|payload| payload.get("caseId"));
        let case_id = case_id.and_then(Value::as_str).map(str::to_string);
        assert!(case_id.is_some(), "binary={binary}");
        let last = reported.lock().expect("lock").last().cloned();
        assert_eq!(last, Some((ErrorKind::Undeliverable, case_id, Some(true))));
    }
    assert_eq!(reported.lock().expect("lock").len(), 2);
    // Dropping the worker's server hands its held calls to the recorder.
    worker.drain().await.expect("drains");
    // Counted as the caller saw them, not as the handler answered.
    let counted: Vec<_> = metrics
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "telepact_calls_total")
        .map(|(key, _, _, value)| {
            let labels: Vec<_> = key.key().labels().map(|l| l.value().to_string()).collect();
            (labels.join(" "), value)
        })
        .collect();
    assert_eq!(
        counted,
        [(
            "fn.big ErrorUnknown_".to_string(),
            metrics_util::debugging::DebugValue::Counter(2)
        )]
    );
}

/// A header bridge's reply headers belong to the answer it saw: when that answer is
/// replaced for passing `max_payload`, the reply carries none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_answer_carries_none_of_the_bridges_reply_headers() {
    struct Stamp;
    impl nats::HeaderBridge for Stamp {
        fn request(&self, _nats: &NatsHeaders, _headers: &mut Headers) {}
        fn response(&self, _headers: &mut Headers, reply: &mut NatsHeaders) {
            reply.insert("x-stamp", "stamped");
        }
    }
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let options = nats::WorkerOptions::default().header_bridge(Stamp);
    let worker = nats::serve_with(server(), connect(&url).await, SUBJECT, "stamped", options)
        .await
        .expect("worker subscribes");
    let client = connect(&url).await;
    let calls = [
        (r#"[{}, {"fn.add": {"a": 1, "b": 2}}]"#, "Ok_", true),
        (r#"[{}, {"fn.big": {}}]"#, "ErrorUnknown_", false),
    ];
    for (call, tag, stamped) in calls {
        let reply = client
            .request(SUBJECT, call.into())
            .await
            .expect("answered");
        let answer: Value = serde_json::from_slice(&reply.payload).expect("JSON");
        assert!(answer[1].get(tag).is_some(), "{answer}");
        let stamp = reply.headers.as_ref().and_then(|h| h.get("x-stamp"));
        assert_eq!(stamp.is_some(), stamped, "{tag}");
    }
    worker.drain().await.expect("drains");
}

/// An `@id_` so long that `ErrorUnknown_` echoing it passes `max_payload` too: the
/// replacement goes without the echo, where it went unsent and its caller waited out
/// its deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_unknown_too_large_for_its_id_echo_is_sent_without_it() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let worker = worker(&url).await;
    let client = connect(&url).await;
    let max_payload = client.max_payload();
    let id = "x".repeat(max_payload - 64);
    let request = format!(r#"[{{"@id_": "{id}"}}, {{"fn.big": {{}}}}]"#);
    assert!(request.len() <= max_payload);
    let started = Instant::now();
    let reply = client.request(SUBJECT, request.into()).await;
    let reply = reply.expect("answered");
    assert!(started.elapsed() < TIMEOUT);
    let answer: Value = serde_json::from_slice(&reply.payload).expect("JSON");
    assert!(answer[1].get("ErrorUnknown_").is_some(), "{answer:.200}");
    assert_eq!(answer[0], json!({}));
    worker.drain().await.expect("drains");
}

/// An answer that fits `max_payload` alone but not with the header bridge's reply
/// headers is replaced too, and reported with the size NATS refused, headers included,
/// where the report named the answer's own size, within the limit it said it passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_max_payload_with_its_reply_headers_is_reported_at_that_size() {
    struct Stamp;
    impl nats::HeaderBridge for Stamp {
        fn request(&self, _nats: &NatsHeaders, _headers: &mut Headers) {}
        fn response(&self, _headers: &mut Headers, reply: &mut NatsHeaders) {
            reply.insert("x-stamp", "s".repeat(200).as_str());
        }
    }
    const MAX_PAYLOAD: usize = 1 << 20;
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let router = FunctionRouter::new().route("fn.near", |_request: Message| async move {
        let mut payload = Map::new();
        payload.insert("text".to_string(), json!("x".repeat(MAX_PAYLOAD - 100)));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let schema = r#"[{"fn.near": {}, "->": [{"Ok_": {"text": "string"}}]}]"#;
    let schema = Schema::from_text(schema).expect("the schema loads");
    let reported = Arc::new(Mutex::new(Vec::new()));
    let hook_sees = Arc::clone(&reported);
    let server = Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error: &ProcessError| {
            let source = std::error::Error::source(error);
            let too_large = source.and_then(|source| source.downcast_ref::<TooLarge>());
            hook_sees.lock().expect("lock").push(too_large.copied());
        })
        .build()
        .expect("server builds");
    let worker_nats = connect(&url).await;
    assert_eq!(worker_nats.max_payload(), MAX_PAYLOAD);
    let options = nats::WorkerOptions::default().header_bridge(Stamp);
    let worker = nats::serve_with(server, worker_nats, SUBJECT, "stamped", options)
        .await
        .expect("worker subscribes");
    let client = connect(&url).await;
    let call = r#"[{}, {"fn.near": {}}]"#;
    let reply = client.request(SUBJECT, call.into()).await;
    let answer: Value = serde_json::from_slice(&reply.expect("answered").payload).expect("JSON");
    assert!(answer[1].get("ErrorUnknown_").is_some(), "{answer:.200}");
    let reported = reported.lock().expect("lock").clone();
    let [Some(too_large)] = reported[..] else {
        panic!("{reported:?}");
    };
    assert_eq!(too_large.limit, MAX_PAYLOAD);
    assert!(too_large.size > too_large.limit, "{too_large}");
    worker.drain().await.expect("drains");
}

/// The limit can fall between the answer and its send: the worker reconnects to a NATS
/// server taking smaller messages while a call is in flight. Publishing then refuses the
/// answer, and the caller still gets `ErrorUnknown_` at once, not a timeout; what is
/// reported names the call's function, as when the answer is past the limit at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_past_a_limit_lowered_mid_call_is_answered_error_unknown() {
    const LOWERED: usize = 8 << 10;
    let Some(mut nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let (started, mut in_flight) = tokio::sync::mpsc::unbounded_channel();
    let release = Arc::new(tokio::sync::Notify::new());
    let released = Arc::clone(&release);
    // Past the lowered limit, well inside the first one.
    let router = FunctionRouter::new().route("fn.held", move |_request: Message| {
        let (started, released) = (started.clone(), Arc::clone(&released));
        async move {
            let _ = started.send(());
            released.notified().await;
            let mut payload = Map::new();
            payload.insert("text".to_string(), json!("x".repeat(4 * LOWERED)));
            Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
        }
    });
    let reported = Arc::new(Mutex::new(Vec::new()));
    let hook_sees = Arc::clone(&reported);
    let schema = r#"[{"fn.held": {}, "->": [{"Ok_": {"text": "string"}}]}]"#;
    let schema = Schema::from_text(schema).expect("the schema loads");
    let server = Server::builder(schema, router)
        .auth_required(false)
        .on_error(move |error: &ProcessError| {
            let source = std::error::Error::source(error);
            let too_large = source.and_then(|source| source.downcast_ref::<TooLarge>());
            let sizes =
                too_large.map(|too_large| (too_large.size > too_large.limit, too_large.limit));
            let said = error.to_string();
            hook_sees
                .lock()
                .expect("lock")
                .push((error.kind(), sizes, said));
        })
        .build()
        .expect("server builds");
    // Both connections wait out the restart: the caller's request stays pending.
    let patient = Duration::from_secs(20);
    let worker_nats = nats::connect(&url, patient).await.expect("connects");
    let worker = nats::serve(server, worker_nats.clone(), SUBJECT, "held")
        .await
        .expect("worker subscribes");
    let caller_nats = nats::connect(&url, patient).await.expect("connects");
    let transport = NatsTransport::new(caller_nats.clone(), SUBJECT).expect("a good subject");
    let client = Client::with_options(transport, ClientOptions::default().timeout(patient));
    let mut headers = Headers::new();
    headers.insert("@id_", json!(7));
    let call = tokio::spawn(async move {
        client
            .request(Message::new(headers, "fn.held", Map::new()))
            .await
    });
    in_flight
        .recv()
        .await
        .expect("the call reaches the handler");
    nats_server.restart_with_max_payload(LOWERED);
    // Reconnection is the clients' own: wait, bounded, until both hold the new limit.
    let deadline = Instant::now() + patient;
    while worker_nats.max_payload() != LOWERED || caller_nats.max_payload() != LOWERED {
        assert!(Instant::now() < deadline, "the clients did not reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The caller's reply subscription is back on the new server before the answer goes.
    caller_nats.flush().await.expect("flushes");
    release.notify_one();

    let response = call.await.expect("the call's task").expect("answered");
    assert_eq!(response.target(), "ErrorUnknown_");
    assert_eq!(response.header("@id_"), Some(&json!(7)));
    assert!(response.payload().and_then(|p| p.get("caseId")).is_some());
    let reported = reported.lock().expect("lock").clone();
    assert_eq!(
        reported,
        [(
            ErrorKind::Undeliverable,
            Some((true, LOWERED)),
            "a response of fn.held could not be sent".to_string()
        )]
    );
    worker.drain().await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_nats_cannot_carry_is_413_and_the_connection_stays_good() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let worker = worker(&nats_server.url()).await;
    let http = crate::plain_http_client();
    // The HTTP limit lets through what the NATS server's 1 MiB `max_payload` does not.
    let url = serve_gateway(&nats_server.url(), SUBJECT, &limit(4 << 20)).await;
    let past_max_payload = format!(
        r#"[{{"@id_": "{}"}}, {{"fn.add": {{"a": 2, "b": 3}}}}]"#,
        "x".repeat(1 << 20)
    );
    let response = http.post(&url).body(past_max_payload).send().await;
    assert_eq!(response.expect("answers").status().as_u16(), 413);
    // The connection is still good for the next call.
    let body = r#"[{}, {"fn.add": {"a": 2, "b": 3}}]"#;
    let response = http.post(&url).body(body).send().await;
    assert_eq!(response.expect("answers").status().as_u16(), 200);
    worker.drain().await.expect("drains");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_nats_would_refuse_is_refused_where_it_is_given() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    // Whitespace would break the protocol's framing; empty tokens match no subscription;
    // a worker on a wildcard would answer (and see the credentials of) every service whose
    // subject it matches.
    for subject in [
        "telepact test",
        "",
        "telepact..bakery",
        ".telepact",
        "telepact.\n",
        "telepact.*",
        "telepact.>",
        ">",
        "*.bakery",
    ] {
        let refused = |error: NatsError| {
            assert!(
                matches!(&error, NatsError::InvalidSubject { subject: given } if *given == subject),
                "{subject:?}: {error}"
            );
            assert!(error.to_string().contains("not a NATS subject"), "{error}");
        };
        refused(nats::gateway(connect(&url).await, subject, &HttpOptions::default()).unwrap_err());
        refused(NatsTransport::new(connect(&url).await, subject).unwrap_err());
        refused(
            nats::serve(server(), connect(&url).await, subject, "adders")
                .await
                .unwrap_err(),
        );
    }
    // A `*` or `>` inside a token is a character of its name, not a wildcard.
    assert!(NatsTransport::new(connect(&url).await, "telepact.bake*>").is_ok());
}

/// nats-server closes a connection whose protocol line passes its `max_control_line` (4 KiB
/// by default); the connection reconnects, subscribes again and is closed again, without
/// end. A subject or queue group that long is refused where it is given; the longest taken
/// serve and are called over one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_too_long_for_a_protocol_line_are_refused_where_they_are_given() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let url = nats_server.url();
    let too_long = format!("telepact.{}", "a".repeat(nats::MAX_SUBJECT_BYTES));
    let refused = |error: NatsError, name: &str| {
        assert!(
            matches!(&error, NatsError::NameTooLong { name: given, .. } if *given == name),
            "{error}"
        );
    };
    let gateway = nats::gateway(connect(&url).await, &too_long, &HttpOptions::default());
    refused(gateway.unwrap_err(), "subject");
    refused(
        NatsTransport::new(connect(&url).await, &too_long).unwrap_err(),
        "subject",
    );
    let serving = nats::serve(server(), connect(&url).await, &too_long, "adders").await;
    refused(serving.unwrap_err(), "subject");
    let group = "g".repeat(nats::MAX_QUEUE_GROUP_BYTES + 1);
    let serving = nats::serve(server(), connect(&url).await, SUBJECT, &group).await;
    refused(serving.unwrap_err(), "queue group");

    let longest = "s".repeat(nats::MAX_SUBJECT_BYTES);
    let group = "g".repeat(nats::MAX_QUEUE_GROUP_BYTES);
    let worker_nats = connect(&url).await;
    let worker = nats::serve(server(), worker_nats.clone(), &longest, &group)
        .await
        .expect("worker subscribes");
    let caller_nats = connect(&url).await;
    let transport = NatsTransport::new(caller_nats.clone(), &longest).expect("a good subject");
    let client = Client::with_options(transport, ClientOptions::default().timeout(TIMEOUT));
    for round in 0..3 {
        let response = client.request(add(round, 1)).await.expect("answered");
        assert_eq!(sum_of(&response), Some(round + 1));
    }
    for nats in [worker_nats, caller_nats] {
        assert_eq!(nats.statistics().connects.load(Ordering::Relaxed), 1);
    }
    worker.drain().await.expect("drains");
}

/// The line logged for an answer past `max_payload` names the call's function, as the
/// README says each line a call logs does; it named none.
#[tokio::test]
async fn an_answer_past_max_payload_is_logged_with_its_function() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let capture = crate::log_capture::Capture::default();
    // A current-thread runtime: the worker's tasks run where the capture is set.
    let _logged = tracing::subscriber::set_default(capture.clone());
    let worker = worker(&nats_server.url()).await;
    let client = nats_client(&nats_server.url(), false).await;
    let big = Message::new(Headers::new(), "fn.big", Map::new());
    let response = client.request(big).await.expect("answered");
    assert_eq!(response.target(), "ErrorUnknown_");
    worker.drain().await.expect("drains");
    let lines = capture.lines();
    let unsent: Vec<_> = lines
        .iter()
        .filter(|line| line.contains("could not be sent"))
        .collect();
    assert_eq!(unsent.len(), 1, "{lines:?}");
    assert!(unsent[0].contains(r#"function="fn.big""#), "{unsent:?}");
}
