//! The HTTP transport against a tiny axum server on loopback.

#![cfg(all(feature = "http-client", feature = "axum"))]

use crate::binary_support;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use binary_support::{FakeServer, message, rotating_servers};
use serde_json::{Value, json};
use telepact::client::ClientOptions;
use telepact::{Client, ClientError};

/// Serves the fake server at `/api`; a request whose content type does not match its
/// bytes gets 415.
async fn start(server: Arc<FakeServer>) -> String {
    async fn api(
        State(server): State<Arc<FakeServer>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Vec<u8>) {
        let expected = if telepact::binary::is_msgpack(&body) {
            "application/octet-stream"
        } else {
            "application/json"
        };
        if headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            != Some(expected)
        {
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Vec::new());
        }
        (StatusCode::OK, server.process(&body))
    }
    let app = Router::new().route("/api", post(api)).with_state(server);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("test server stopped: {error}");
        }
    });
    format!("http://{address}/api")
}

#[tokio::test]
async fn json_and_binary_calls_go_over_http() {
    let server = Arc::new(rotating_servers());
    let url = start(server.clone()).await;
    let client = Client::http(&url, ClientOptions::default().binary(true)).expect("valid URL");
    let data = json!({"data": [{"id": 7, "name": "seven"}]});
    for _ in 0..2 {
        let response = client
            .request(message(json!([{"@ok_": data}, {"fn.example": {}}])))
            .await
            .expect("answered");
        assert_eq!(Value::Object(response.into_body()), json!({"Ok_": data}));
    }
    // The first call was JSON, the second MessagePack: both content types were right.
    assert_eq!(
        server
            .binary_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn http_errors_are_transport_errors() {
    let url = start(Arc::new(rotating_servers())).await;
    let client = Client::http(&url.replace("/api", "/missing"), ClientOptions::default())
        .expect("valid URL");
    let result = client.request(message(json!([{}, {"fn.ping_": {}}]))).await;
    assert!(
        matches!(result, Err(ClientError::Transport(_))),
        "{result:?}"
    );
    assert!(matches!(
        Client::http("not a url", ClientOptions::default()),
        Err(ClientError::Transport(_))
    ));
}

/// Serves `router` on a loopback port; returns its address.
async fn serve_router(router: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// A refused POST's error carries the start of the server's answer, on one line: the
/// runtime's own 404 names the path it serves, and a client sent to the wrong one
/// learns where to go rather than the status alone.
#[tokio::test]
async fn a_refused_post_shows_the_start_of_the_servers_answer_on_one_line() {
    let served = telepact::http::not_found_naming(Router::new(), "/api/telepact");
    let address = serve_router(served).await;
    let client = Client::http(&format!("http://{address}/api"), ClientOptions::default())
        .expect("valid URL");
    let Err(error) = client.request(message(json!([{}, {"fn.ping_": {}}]))).await else {
        panic!("a 404 was taken as an answer");
    };
    let shown = telepact::ErrorChain(&error).to_string();
    assert!(shown.contains("HTTP 404 Not Found"), "{shown}");
    assert!(
        shown.contains("Telepact messages at /api/telepact"),
        "{shown}"
    );

    let hostile = format!("line one\nline two\u{1b}[31m{}", "x".repeat(100_000));
    let answering = Router::new().route(
        "/api",
        post(move || {
            let hostile = hostile.clone();
            async move { (StatusCode::INTERNAL_SERVER_ERROR, hostile) }
        }),
    );
    let address = serve_router(answering).await;
    let client = Client::http(&format!("http://{address}/api"), ClientOptions::default())
        .expect("valid URL");
    let Err(error) = client.request(message(json!([{}, {"fn.ping_": {}}]))).await else {
        panic!("a 500 was taken as an answer");
    };
    let shown = telepact::ErrorChain(&error).to_string();
    assert!(shown.contains("HTTP 500 Internal Server Error"), "{shown}");
    assert!(shown.contains(r"line one\nline two\u{1b}[31m"), "{shown}");
    assert!(
        !shown.contains('\n') && !shown.contains('\u{1b}'),
        "{shown}"
    );
    assert!(shown.len() < 1_000, "{} bytes shown", shown.len());
}

#[test]
fn a_url_without_an_http_scheme_is_refused_when_the_client_is_made() {
    for url in ["localhost:8002/api/telepact", "ftp://127.0.0.1/api"] {
        let Err(error) = Client::http(url, ClientOptions::default()) else {
            panic!("{url} was taken");
        };
        let message = telepact::ErrorChain(&error).to_string();
        assert!(message.contains("is not http or https"), "{message}");
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_with_the_credentials() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let followed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&followed);
    let app = Router::new()
        .route(
            "/api",
            post(|| async {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, "/moved")],
                )
            }),
        )
        .route(
            "/moved",
            post(move |_body: Bytes| async move {
                counter.fetch_add(1, Ordering::SeqCst);
                (StatusCode::OK, r#"[{}, {"Ok_": {}}]"#)
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = Client::http(&format!("http://{address}/api"), ClientOptions::default())
        .expect("valid URL");
    let mut headers = telepact::Headers::new();
    headers.insert("@auth_", json!({"Token": {"token": "secret"}}));
    let request = telepact::Message::new(headers, "fn.ping_", Default::default());

    let outcome = client.request(request).await;

    assert!(
        matches!(outcome, Err(ClientError::Transport(_))),
        "{outcome:?}"
    );
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "requests re-sent to /moved"
    );
}

/// Answers every connection on a loopback port with `head` and then `size` bytes of
/// `x` (chunked when `head` says so); returns the URL.
async fn oversized_answers(head: &'static str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let url = format!("http://{}/api", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0; 4096];
                let _ = stream.read(&mut request).await;
                let body = vec![b'x'; size];
                let chunked = head.contains("chunked");
                let _ = stream.write_all(head.as_bytes()).await;
                if chunked {
                    for piece in body.chunks(64 * 1024) {
                        let frame = format!("{:x}\r\n", piece.len());
                        let _ = stream.write_all(frame.as_bytes()).await;
                        let _ = stream.write_all(piece).await;
                        let _ = stream.write_all(b"\r\n").await;
                    }
                    let _ = stream.write_all(b"0\r\n\r\n").await;
                } else {
                    let _ = stream.write_all(&body).await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_response_over_the_limit_is_refused() {
    use telepact::client::{HttpTransport, Transport};
    let request = br#"[{}, {"fn.ping_": {}}]"#.to_vec();
    let limit = 1024 * 1024;
    let sized = oversized_answers(
        "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\nConnection: close\r\n\r\n",
        2 * 1024 * 1024,
    )
    .await;
    let chunked = oversized_answers(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        2 * 1024 * 1024,
    )
    .await;
    for url in [&sized, &chunked] {
        let transport = HttpTransport::new(url)
            .expect("a valid url")
            .response_limit(limit);
        let error = transport
            .send(request.clone())
            .await
            .expect_err("over the limit");
        assert!(
            error
                .to_string()
                .contains("larger than the limit of 1048576 bytes"),
            "{error}"
        );
    }
    // Within the limit, the same answer is read whole.
    let transport = HttpTransport::new(&chunked).expect("a valid url");
    let body = transport
        .send(request)
        .await
        .expect("within the default limit");
    assert_eq!(body.len(), 2 * 1024 * 1024);
}

/// Headers given to the transport go with every request, their values out of `Debug`;
/// one of the same name given for a call (an authoriser's) takes its place.
#[tokio::test]
async fn the_transports_headers_go_with_every_request() {
    use telepact::client::{HttpTransport, Transport};
    type Seen = Arc<std::sync::Mutex<Vec<(Option<String>, Option<String>)>>>;
    async fn api(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
        let text = |name| {
            let value = headers.get(name)?;
            value.to_str().ok().map(str::to_string)
        };
        let pair = (text("x-api-key"), text("authorization"));
        seen.lock().expect("not poisoned").push(pair);
        r#"[{},{"Ok_":{}}]"#
    }
    let seen = Seen::default();
    let app = Router::new()
        .route("/api", post(api))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let url = format!("http://{}/api", listener.local_addr().expect("bound"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let key = header::HeaderValue::from_static("tpk_key");
    let static_auth = header::HeaderValue::from_static("Bearer static");
    let transport = HttpTransport::new(&url)
        .expect("valid URL")
        .header(header::HeaderName::from_static("x-api-key"), key)
        .header(header::AUTHORIZATION, static_auth);
    let shown = format!("{transport:?}");
    assert!(
        !shown.contains("tpk_key") && !shown.contains("static"),
        "{shown}"
    );
    let ping = br#"[{},{"fn.ping_":{}}]"#.to_vec();
    transport.send(ping.clone()).await.expect("answered");
    let mut per_call = HeaderMap::new();
    per_call.insert(
        header::AUTHORIZATION,
        "Bearer per-call".parse().expect("a value"),
    );
    transport
        .send_with_headers(ping, per_call)
        .await
        .expect("answered");
    let seen = seen.lock().expect("not poisoned").clone();
    let pair = |auth: &str| (Some("tpk_key".to_string()), Some(auth.to_string()));
    assert_eq!(seen, [pair("Bearer static"), pair("Bearer per-call")]);
}

/// Credentials written in the URL (a password or a user name alone goes out as HTTP
/// basic auth; a query may hold an API key) stay out of the transport's `Debug`, as its
/// headers' values do, and out of the errors of its calls.
#[tokio::test]
async fn credentials_in_the_url_are_out_of_debug_and_errors() {
    use telepact::client::{HttpTransport, Transport};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let closed = listener.local_addr().expect("bound");
    drop(listener);
    let missing = start(Arc::new(rotating_servers()))
        .await
        .replace("/api", "/missing");
    for (url, secret, shown_as) in [
        (
            format!("http://baker:opensesame@{closed}/api?x=1"),
            "opensesame",
            format!("http://baker:***@{closed}/api?***"),
        ),
        (
            format!("http://tpk_token@{closed}/api"),
            "tpk_token",
            format!("http://***@{closed}/api"),
        ),
        (
            format!("http://{closed}/api?api_key=tpk_query"),
            "tpk_query",
            format!("http://{closed}/api?***"),
        ),
        (
            format!("{missing}?api_key=tpk_query"),
            "tpk_query",
            format!("{missing}?***"),
        ),
    ] {
        let transport = HttpTransport::new(&url).expect("valid URL");
        let shown = format!("{transport:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains(&shown_as), "{shown}");
        let error = transport
            .send(br#"[{},{"fn.ping_":{}}]"#.to_vec())
            .await
            .expect_err("nothing answers there");
        let chain = format!("{} {error:?}", telepact::ErrorChain(&*error));
        assert!(!chain.contains(secret), "{chain}");
    }
}

/// A refusing server whose answer starts and then stalls still gives its status: the
/// start of the answer is waited for only briefly, where the call waited out its whole
/// timeout for the rest of the answer and failed as timed out, the status lost.
#[tokio::test]
async fn a_refused_post_whose_answer_stalls_still_gives_its_status() {
    use futures_util::StreamExt;

    let stalling = Router::new().route(
        "/api",
        post(|| async {
            let start = futures_util::stream::once(async {
                Ok::<_, std::io::Error>(Bytes::from_static(b"overloaded, "))
            });
            let body = axum::body::Body::from_stream(start.chain(futures_util::stream::pending()));
            (StatusCode::SERVICE_UNAVAILABLE, body)
        }),
    );
    let address = serve_router(stalling).await;
    let options = ClientOptions::default().timeout(std::time::Duration::from_secs(10));
    let client = Client::http(&format!("http://{address}/api"), options).expect("valid URL");
    let call = client.request(message(json!([{}, {"fn.ping_": {}}])));
    let Err(error) = call.await else {
        panic!("a 503 was taken as an answer");
    };
    let shown = telepact::ErrorChain(&error).to_string();
    assert!(
        shown.contains("HTTP 503 Service Unavailable: overloaded,…"),
        "{shown}"
    );
}
