use super::*;

/// Serves the bakery schema over HTTP (no handlers: only `fn.api_` matters) and
/// returns its URL; the server lives as long as the runtime.
fn serve_bakery(runtime: &tokio::runtime::Runtime) -> (String, Schema) {
    serve_bakery_with(runtime, None)
}

/// [`serve_bakery`], over TLS when `tls` is given.
fn serve_bakery_with(
    runtime: &tokio::runtime::Runtime,
    tls: Option<telepact::http::TlsConfig>,
) -> (String, Schema) {
    let schema = Schema::from_dir(BAKERY_API).unwrap();
    let server = Server::builder(schema.clone(), FunctionRouter::new())
        .on_auth(|_headers: telepact::Headers| async { Ok(telepact::Authenticated::default()) })
        .build()
        .unwrap();
    let router = telepact::http::router(server, &telepact::http::HttpOptions::default());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (options, scheme) = match tls {
        Some(tls) => (telepact::http::ServeOptions::default().tls(tls), "https"),
        None => (telepact::http::ServeOptions::default(), "http"),
    };
    runtime.spawn(telepact::http::serve_with(
        listener,
        router,
        std::future::pending(),
        options,
    ));
    let url = format!(
        "{scheme}://127.0.0.1:{port}{}",
        telepact::http::DEFAULT_PATH
    );
    (url, schema)
}

/// A schema is fetched over HTTPS too, its server's certificate checked against the
/// system's roots (here `SSL_CERT_FILE`, naming the server's own certificate).
#[test]
fn fetch_reads_a_schema_served_over_https() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let certificate = certified.cert.pem();
    let key = certified.signing_key.serialize_pem();
    let tls = telepact::http::TlsConfig::from_pem(certificate.as_bytes(), key.as_bytes()).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, served) = serve_bakery_with(&runtime, Some(tls));
    let scratch = scratch_dir("fetch-https");
    let roots = scratch.join("roots.pem");
    std::fs::write(&roots, &certificate).unwrap();
    let dir = scratch.join("api");
    let fetch = |roots: &Path| {
        telepact_command()
            .args(["fetch", "--http-url", &url, "--output-dir", path_text(&dir)])
            .env("SSL_CERT_FILE", roots)
            .output()
            .expect("the binary runs")
    };
    let output = fetch(&roots);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        Schema::from_dir(&dir).unwrap().original(),
        served.original()
    );
    // A certificate no root vouches for is refused, in one line.
    let strangers = scratch.join("strangers.pem");
    let stranger = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    std::fs::write(&strangers, stranger.cert.pem()).unwrap();
    let refused = fetch(&strangers);
    assert_fails_with(&refused, &format!("cannot fetch the schema from {url}"));
    assert!(
        stderr(&refused).contains("certificate"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(stderr(&refused).lines().count(), 1, "{}", stderr(&refused));
}

#[test]
fn fetch_writes_a_schema_that_loads_back_to_the_served_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, served) = serve_bakery(&runtime);
    let dir = scratch_dir("fetch").join("api");
    let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(names, ["api.telepact.json"]);
    let fetched = Schema::from_dir(&dir).unwrap();
    assert_eq!(fetched.original(), served.original());
    assert_eq!(fetched.full(), served.full());
}

#[test]
fn include_internal_keeps_the_standard_definitions() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, served) = serve_bakery(&runtime);
    let dir = scratch_dir("fetch-internal").join("api");
    let output = telepact(&[
        "fetch",
        "--http-url",
        &url,
        "--output-dir",
        path_text(&dir),
        "--include-internal",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(dir.join("api.telepact.json")).unwrap();
    let written: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(written, Value::Array(served.full().to_vec()));
    let fetched = Schema::from_dir(&dir).unwrap();
    assert_eq!(fetched.full(), served.full());
}

#[test]
fn codegen_reads_a_served_schema() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, _) = serve_bakery(&runtime);
    let output = telepact(&["codegen", "--schema-http-url", &url, "--out", "-"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let from_dir = telepact(&["codegen", "--schema-dir", BAKERY_API, "--out", "-"]);
    let strip_header = |text: String| text.split_once('\n').map(|(_, rest)| rest.to_string());
    assert_eq!(
        strip_header(stdout(&output)),
        strip_header(stdout(&from_dir))
    );
}

#[test]
fn an_unreachable_url_is_one_error() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/api");
    let dir = scratch_dir("fetch-unreachable").join("api");
    let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
    assert_fails_with(&output, &format!("cannot fetch the schema from {url}: "));
    assert!(
        stderr(&output).contains("Connection refused"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.exists());
}

/// A server answering every request with `status` and `body`, counting the requests;
/// it lives as long as the runtime.
fn serve_answer(
    runtime: &tokio::runtime::Runtime,
    status: u16,
    body: String,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let requests = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&requests);
    let router = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        let status = axum::http::StatusCode::from_u16(status).unwrap();
        let body = body.clone();
        async move { (status, [("content-type", "application/json")], body) }
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    runtime.spawn(async move { axum::serve(listener, router).await });
    (format!("http://127.0.0.1:{port}/api"), requests)
}

#[test]
fn a_failure_other_than_a_refused_connection_is_not_tried_again() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, requests) = serve_answer(&runtime, 404, String::new());
    let dir = scratch_dir("fetch-404").join("api");
    let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
    assert_fails_with(&output, &format!("cannot fetch the schema from {url}: "));
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn an_answer_that_is_no_schema_is_shown_cut_short() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let junk = "y".repeat(1_000_000);
    let answer = format!(r#"[{{}}, {{"ErrorX": {{"junk": "{junk}"}}}}]"#);
    let (url, _) = serve_answer(&runtime, 200, answer);
    let dir = scratch_dir("fetch-no-schema").join("api");
    let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
    assert_fails_with(&output, &format!("{url} did not serve its schema"));
    let shown = stderr(&output);
    assert!(shown.len() < 1_000, "{} bytes", shown.len());
    assert!(shown.contains(r#"{"ErrorX":{"junk":"yyy"#), "{shown}");
    assert!(shown.trim_end().ends_with("(1000022 bytes)"), "{shown}");
}

/// A served schema of deeply nested types, which indentation would make many times its
/// size, is written within the loader's limit on a file: fetched, it loads back.
#[test]
fn a_schema_that_indentation_would_swell_still_loads_back() {
    let mut nested = Value::from("string");
    for _ in 0..120 {
        nested = Value::Array(vec![nested]);
    }
    let fields: serde_json::Map<String, Value> = (0..1200)
        .map(|index| (format!("f{index}"), nested.clone()))
        .collect();
    let api = serde_json::json!([
        {"struct.Deep": fields},
        {"fn.ping": {}, "->": [{"Ok_": {}}]}
    ]);
    let answer = serde_json::json!([{}, {"Ok_": {"api": api}}]).to_string();
    assert!(answer.len() < 1 << 20, "{} bytes", answer.len());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, _) = serve_answer(&runtime, 200, answer);
    let dir = scratch_dir("fetch-swelling").join("api");
    let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
    assert!(output.status.success(), "{}", stderr(&output));
    let fetched = Schema::from_dir(&dir).unwrap_or_else(|error| panic!("{error}"));
    let served = Schema::from_text(&api.to_string()).unwrap();
    assert_eq!(fetched.original(), served.original());
}

/// The schema is a file of the schema directory wherever that is: under `/dev/shm` (a
/// memory file system, not a stream) it is made, and fetched again it is replaced, not
/// written a second time at its end, where the next load would refuse it.
#[test]
fn a_schema_directory_under_dev_holds_the_schema_once() {
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, served) = serve_bakery(&runtime);
    let dir = shm.join(format!("telepact-fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for _ in 0..2 {
        let output = telepact(&["fetch", "--http-url", &url, "--output-dir", path_text(&dir)]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let fetched = Schema::from_dir(&dir).map(|schema| schema.original().to_vec());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(fetched.unwrap(), served.original());
}

/// A FIFO in the schema file's place is replaced by the file: opening it to write would
/// wait for a reader forever, with Ctrl-C held for the write.
#[cfg(unix)]
#[test]
fn a_fifo_in_the_schema_file_place_is_replaced() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (url, served) = serve_bakery(&runtime);
    let dir = scratch_dir("fetch-fifo");
    let file = dir.join("api.telepact.json");
    let made = Command::new("mkfifo").arg(&file).status();
    assert!(made.is_ok_and(|status| status.success()));
    let mut child = telepact_command()
        .args(["fetch", "--http-url", &url, "--output-dir", path_text(&dir)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("fetch still waits on the FIFO");
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let fetched = Schema::from_dir(&dir).unwrap();
    assert_eq!(fetched.original(), served.original());
}
