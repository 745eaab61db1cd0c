//! The auth example's HTTP credentials through the gateway: `Authorization`,
//! `X-API-Key` and a cookie session with its CSRF header (or, on a WebSocket upgrade,
//! its CSRF subprotocol), forwarded as NATS headers and read by the workers as the
//! example's own HTTP server reads them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::*;

/// A gateway's answer, as a browser or curl sees it.
struct Answer {
    body: Value,
    set_cookie: Option<String>,
    cache_control: Option<String>,
}

impl Answer {
    fn tag(&self) -> &str {
        self.body[1]
            .as_object()
            .and_then(|result| result.keys().next())
            .map_or("", String::as_str)
    }

    fn payload(&self) -> &Value {
        &self.body[1][self.tag()]
    }
}

/// A `reqwest` client for plain HTTP, as a browser or curl calls the gateway.
fn plain_http() -> reqwest::Client {
    let tls = telepact::client::tls::plain_http_config().expect("a TLS setup");
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("client builds")
}

/// POSTs the call `function(argument)` to `url` with the HTTP `headers`.
async fn post(url: &str, headers: &[(&str, &str)], function: &str, argument: Value) -> Answer {
    let mut request = plain_http()
        .post(url)
        .body(json!([{}, {function: argument}]).to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let answer = request.send().await.expect("answered");
    assert_eq!(answer.status(), 200);
    let header = |name| {
        let value = answer.headers().get(name)?;
        value.to_str().ok().map(str::to_string)
    };
    let (set_cookie, cache_control) = (header("set-cookie"), header("cache-control"));
    let body = answer.bytes().await.expect("a body");
    Answer {
        body: serde_json::from_slice(&body).expect("JSON"),
        set_cookie,
        cache_control,
    }
}

fn basic(username: &str) -> String {
    let pair = format!("{username}:{}", password_of(username));
    format!("Basic {}", STANDARD.encode(pair))
}

/// `fn.me`, twice, over a WebSocket session to `url` opened as a browser page opens it:
/// the cookie, and the CSRF token offered as a subprotocol, which the gateway names as
/// chosen (the client checks it is the one offered).
async fn me_over_websocket(url: &str, cookie: &str, csrf: &str) -> Vec<Value> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = url.replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().expect("a WebSocket request");
    let protocol = format!("telepact-csrf.{csrf}");
    for (name, value) in [
        ("cookie", cookie),
        ("origin", BOARD_ORIGIN),
        ("sec-websocket-protocol", protocol.as_str()),
    ] {
        let value = value.parse().expect("a header value");
        request.headers_mut().insert(name, value);
    }
    let (mut socket, answer) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the gateway upgrades");
    assert_eq!(
        answer.headers()["sec-websocket-protocol"],
        protocol.as_str()
    );
    let mut answers = Vec::new();
    for _ in 0..2 {
        let call = json!([{}, {"fn.me": {}}]).to_string();
        socket.send(Frame::text(call)).await.expect("sent");
        let answer = socket.next().await.expect("an answer").expect("readable");
        let text = answer.to_text().expect("a text answer");
        answers.push(serde_json::from_str(text).expect("JSON"));
    }
    answers
}

/// The gateway grants the board's pages credentialed CORS requests with the CSRF
/// header, and no other origin's.
async fn preflights_are_granted_to_the_board_only(url: &str) {
    let http = plain_http();
    for (origin, granted) in [(BOARD_ORIGIN, true), ("https://evil.example", false)] {
        let answer = http
            .request(reqwest::Method::OPTIONS, url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-csrf-token",
            )
            .send()
            .await
            .expect("answered");
        let headers = answer.headers();
        let allowed = headers.get("access-control-allow-origin");
        assert_eq!(allowed.is_some_and(|value| value == origin), granted);
        if granted {
            assert_eq!(headers["access-control-allow-credentials"], "true");
        }
    }
}

/// A session cookie as the browser sends it back, from the `Set-Cookie` line.
fn cookie_of(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    assert!(pair.starts_with("__Host-tp_session="), "{set_cookie}");
    pair.to_string()
}

/// Signed in with `Authorization: Basic`, a caller uses its bearer token, an API key
/// and the session cookie (with its CSRF header, or over a WebSocket its CSRF
/// subprotocol) through the gateway, whichever worker answers; the board's pages are
/// granted CORS; the cookie counts only with the CSRF header and from a same-site page, the
/// session id never reaches the body, and logging out clears the cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_credentials_and_cookie_sessions_work_through_the_gateway() {
    let Some(nats_server) = NatsServer::start() else {
        return;
    };
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (url, workers) = start(&nats_server.url(), &redis, 2).await;

    let authorization = basic("alice");
    let sign_in = [("authorization", authorization.as_str())];
    let login = post(&url, &sign_in, "fn.login", json!({"session!": true})).await;
    assert_eq!(login.tag(), "Ok_", "{}", login.body);
    let set_cookie = login
        .set_cookie
        .as_deref()
        .expect("a session cookie is set");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    assert_eq!(login.cache_control.as_deref(), Some("no-store"));
    let cookie = cookie_of(set_cookie);
    let session_id = cookie.trim_start_matches("__Host-tp_session=");
    assert!(
        !login.body.to_string().contains(session_id),
        "the id leaked"
    );
    assert!(!login.body.to_string().contains("@sessionCookie"));
    let csrf = login.payload()["csrfToken!"]
        .as_str()
        .expect("a CSRF token");
    let token = login.payload()["accessToken"].as_str().expect("a token");

    let bearer = format!("Bearer {token}");
    let me = post(&url, &[("authorization", &bearer)], "fn.me", json!({})).await;
    assert_eq!(me.payload()["method"], "Bearer", "{}", me.body);
    // A key is made with the password, asked for again.
    let created = post(
        &url,
        &sign_in,
        "fn.createApiKey",
        json!({"name": "curl", "scopes": ["profile:read"]}),
    )
    .await;
    let key = created.payload()["apiKey"].as_str();
    let key = key.unwrap_or_else(|| panic!("an API key: {}", created.body));
    let me = post(&url, &[("x-api-key", key)], "fn.me", json!({})).await;
    assert_eq!(me.payload()["method"], "ApiKey", "{}", me.body);

    // Among the site's other cookies, which the gateway leaves out.
    let cookies = format!("theme=dark; {cookie}");
    let with_session = [("cookie", cookies.as_str()), ("x-csrf-token", csrf)];
    // Four calls: with two workers, both answer some with high probability.
    for _ in 0..4 {
        let me = post(&url, &with_session, "fn.me", json!({})).await;
        assert_eq!(me.payload()["userId"], "u-alice", "{}", me.body);
        assert_eq!(me.payload()["method"], "Session");
        assert_eq!(me.set_cookie, None);
    }
    for me in me_over_websocket(&url, &cookie, csrf).await {
        assert_eq!(me[1]["Ok_"]["userId"], "u-alice", "{me}");
        assert_eq!(me[1]["Ok_"]["method"], "Session", "{me}");
    }
    preflights_are_granted_to_the_board_only(&url).await;
    let without_csrf = [("cookie", cookie.as_str())];
    let cross_site = [
        ("cookie", cookie.as_str()),
        ("x-csrf-token", csrf),
        ("sec-fetch-site", "cross-site"),
    ];
    for refused in [&without_csrf[..], &cross_site[..]] {
        let me = post(&url, refused, "fn.me", json!({})).await;
        assert_eq!(me.tag(), "ErrorUnauthenticated_", "{}", me.body);
    }

    let out = post(&url, &with_session, "fn.logout", json!({})).await;
    assert_eq!(out.tag(), "Ok_", "{}", out.body);
    let cleared = out.set_cookie.expect("the cookie is cleared");
    assert!(cleared.starts_with("__Host-tp_session=;") && cleared.contains("Max-Age=0"));
    let after = post(&url, &with_session, "fn.me", json!({})).await;
    assert_eq!(after.tag(), "ErrorUnauthenticated_", "{}", after.body);
    for worker in workers {
        worker.drain().await.expect("drains");
    }
}
