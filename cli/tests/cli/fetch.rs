use super::*;

/// Serves the bakery schema over HTTP (no handlers: only `fn.api_` matters) and
/// returns its URL; the server lives as long as the runtime.
fn serve_bakery(runtime: &tokio::runtime::Runtime) -> (String, Schema) {
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
    runtime.spawn(telepact::http::serve(
        listener,
        router,
        std::future::pending(),
    ));
    let url = format!("http://127.0.0.1:{port}{}", telepact::http::DEFAULT_PATH);
    (url, schema)
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
    assert_eq!(fetched.original, served.original);
    assert_eq!(fetched.full, served.full);
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
    assert_eq!(written, Value::Array(served.full.clone()));
    let fetched = Schema::from_dir(&dir).unwrap();
    assert_eq!(fetched.full, served.full);
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
