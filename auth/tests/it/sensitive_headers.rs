//! The headers that carry credentials as the application's own layers see them: a
//! layer that logs headers (tower-http's `TraceLayer` with headers in its spans) must
//! print none of them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use telepact::http::HttpOptions;
use telepact::schema::Schema;
use telepact::{FunctionRouter, Server};
use telepact_auth::http::{HttpAuthOptions, router, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The credential headers a request sends, each value holding `secret-`.
const CREDENTIALS: &str = "Authorization: Bearer secret-bearer\r\n\
    Proxy-Authorization: Basic secret-proxy\r\n\
    Cookie: theme=dark; __Host-tp_session=secret-session\r\n\
    X-API-Key: secret-key\r\n\
    X-CSRF-Token: secret-csrf\r\n";

/// An application's layer around the adapter's router, served with
/// `telepact_auth::http::serve`, prints the request's headers with `Debug`: every
/// credential header shows as `Sensitive`, the others as sent. They were printed as the
/// client sent them, bearer token, session id and API key.
#[tokio::test]
async fn an_applications_layer_sees_the_credential_headers_as_sensitive() {
    let schema = Schema::from_text("[]").expect("schema loads");
    let server = Server::builder(schema, FunctionRouter::new())
        .auth_required(false)
        .build()
        .expect("server builds");
    let printed = Arc::new(Mutex::new(String::new()));
    let into = Arc::clone(&printed);
    let app = router(server, &HttpOptions::default(), HttpAuthOptions::default()).layer(
        axum::middleware::map_request(move |request: Request| {
            *into.lock().unwrap() = format!("{:?}", request.headers());
            async move { request }
        }),
    );
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("binds");
    let port = listener.local_addr().expect("an address").port();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));

    let body = r#"[{}, {"fn.ping_": {}}]"#;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{CREDENTIALS}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        telepact::http::DEFAULT_PATH,
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer));
    read.await.expect("answered in time").expect("reads");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    let printed = printed.lock().unwrap().clone();
    assert!(!printed.contains("secret-"), "{printed}");
    assert_eq!(printed.matches("Sensitive").count(), 5, "{printed}");
    assert!(printed.contains("127.0.0.1"), "{printed}");
}
