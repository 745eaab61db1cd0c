//! The HTTP adapter: `Authorization`, `X-API-Key` and the session cookie with CSRF,
//! the way curl and browsers call.

use crate::support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use support::{Raw, Service, call, password_of};
use telepact_auth::http::SESSION_COOKIE_HEADER;

fn basic(username: &str) -> String {
    let pair = format!("{username}:{}", password_of(username));
    format!("Basic {}", STANDARD.encode(pair))
}

async fn login_with_session(service: &Service, username: &str) -> (Raw, String, String) {
    let auth = basic(username);
    let answer = service
        .post(
            &[("authorization", &auth)],
            call("fn.login", json!({"session!": true})),
        )
        .await;
    assert_eq!(answer.tag(), "Ok_", "{}", answer.text);
    let cookie = answer.set_cookie.clone().expect("a session cookie is set");
    let id = cookie_session_id(&cookie);
    let csrf = answer.payload()["csrfToken!"]
        .as_str()
        .expect("a CSRF token")
        .to_string();
    (answer, id, csrf)
}

fn cookie_session_id(set_cookie: &str) -> String {
    set_cookie
        .strip_prefix("__Host-tp_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the cookie names the session")
        .to_string()
}

#[tokio::test]
async fn basic_and_bearer_authorization_headers() {
    let service = Service::start().await;
    let me = service
        .post(
            &[("authorization", &basic("carol"))],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.payload()["userId"], "u-carol");
    assert_eq!(me.payload()["method"], "Password");

    let login = service
        .post(
            &[("authorization", &basic("alice"))],
            call("fn.login", json!({})),
        )
        .await;
    let token = login.payload()["accessToken"].as_str().unwrap().to_string();
    let me = service
        .post(
            &[("authorization", &format!("Bearer {token}"))],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(me.payload()["method"], "Bearer");
    assert_eq!(me.payload()["userId"], "u-alice");

    let wrong = service
        .post(
            &[("authorization", "Basic Ym9iOm5vcGU=")],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(wrong.tag(), "ErrorUnauthenticated_");
}

#[tokio::test]
async fn the_api_key_header() {
    let service = Service::start().await;
    let created = service
        .post(
            &[("authorization", &basic("bob"))],
            call(
                "fn.createApiKey",
                json!({"name": "curl", "scopes": ["profile:read"]}),
            ),
        )
        .await;
    let key = created.payload()["apiKey"].as_str().unwrap().to_string();
    let me = service
        .post(&[("x-api-key", &key)], call("fn.me", json!({})))
        .await;
    assert_eq!(me.payload()["method"], "ApiKey");
    assert_eq!(me.payload()["scopes"], json!(["profile:read"]));
}

#[tokio::test]
async fn a_session_cookie_is_http_only_secure_strict_and_never_in_the_body() {
    let service = Service::start().await;
    let (answer, id, _csrf) = login_with_session(&service, "bob").await;
    let cookie = answer.set_cookie.unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Max-Age=1800"), "{cookie}");
    assert!(id.starts_with("tps_"));
    assert!(
        !answer.text.contains(&id),
        "the session id leaked into the body"
    );
    assert!(!answer.text.contains("@sessionCookie"));
}

#[tokio::test]
async fn a_cross_site_page_cannot_sign_a_browser_into_a_session() {
    let service = Service::start().await;
    let login = || call("fn.login", json!({"session!": true}));
    let auth = basic("bob");
    // A form on another site posting the attacker's login (login CSRF). An origin
    // outside `allowed_origins` is refused the same way, when origins are listed.
    let cross_site = [("sec-fetch-site", "cross-site"), ("authorization", &auth)];
    let answer = service.post(&cross_site, login()).await;
    assert_eq!(answer.tag(), "Ok_", "{}", answer.text);
    assert_eq!(answer.set_cookie, None);
    let same_site = [("sec-fetch-site", "same-origin"), ("authorization", &auth)];
    let answer = service.post(&same_site, login()).await;
    assert!(
        answer.set_cookie.is_some(),
        "a page of the site gets its cookie"
    );
}

#[tokio::test]
async fn a_binary_login_answer_carries_the_session_only_in_the_cookie() {
    let service = Service::start().await;
    let (status, cookie, body) = service
        .post_bytes(
            &[("authorization", &basic("bob"))],
            json!([{"@bin_": []}, {"fn.login": {"session!": true}}]),
        )
        .await;
    assert_eq!(status, 200);
    assert!(!body.starts_with(b"["), "the answer is binary");
    let cookie = cookie.expect("a session cookie is set");
    let id = cookie_session_id(&cookie);
    let leaked = body.windows(id.len()).any(|window| window == id.as_bytes());
    assert!(!leaked, "the session id leaked into the binary body");
    let marker = SESSION_COOKIE_HEADER.as_bytes();
    assert!(!body.windows(marker.len()).any(|window| window == marker));
}

#[tokio::test]
async fn cookie_calls_need_the_csrf_header() {
    let service = Service::start().await;
    let (_, id, csrf) = login_with_session(&service, "bob").await;
    let cookie = format!("theme=dark; __Host-tp_session={id}");

    let with_csrf = service
        .post(
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(with_csrf.payload()["userId"], "u-bob");
    assert_eq!(with_csrf.payload()["method"], "Session");

    let forged = service
        .post(&[("cookie", &cookie)], call("fn.me", json!({})))
        .await;
    assert_eq!(forged.tag(), "ErrorUnauthenticated_");
    let wrong = service
        .post(
            &[("cookie", &cookie), ("x-csrf-token", "tpc_guess")],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(wrong.tag(), "ErrorUnauthenticated_");

    let cross_site = service
        .post(
            &[
                ("cookie", &cookie),
                ("x-csrf-token", &csrf),
                ("sec-fetch-site", "cross-site"),
            ],
            call("fn.me", json!({})),
        )
        .await;
    assert_eq!(cross_site.tag(), "ErrorUnauthenticated_");
}

#[tokio::test]
async fn logging_out_of_a_session_ends_it_and_clears_the_cookie() {
    let service = Service::start().await;
    let (_, id, csrf) = login_with_session(&service, "alice").await;
    let cookie = format!("__Host-tp_session={id}");
    let headers = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let out = service.post(&headers, call("fn.logout", json!({}))).await;
    assert_eq!(out.tag(), "Ok_");
    let cleared = out.set_cookie.expect("the cookie is cleared");
    assert!(cleared.starts_with("__Host-tp_session=;") && cleared.contains("Max-Age=0"));
    let after = service.post(&headers, call("fn.me", json!({}))).await;
    assert_eq!(after.tag(), "ErrorUnauthenticated_");
}

#[tokio::test]
async fn auth_in_the_message_wins_over_transport_headers() {
    let service = Service::start().await;
    let message = json!([
        {"@auth_": {"Password": {"username": "carol", "password": password_of("carol")}}},
        {"fn.me": {}}
    ]);
    let me = service
        .post(&[("authorization", &basic("alice"))], message)
        .await;
    assert_eq!(me.payload()["userId"], "u-carol");
}

#[tokio::test]
async fn answers_carrying_tokens_are_never_stored_by_caches() {
    let service = Service::start().await;
    for (auth, session) in [(basic("alice"), false), (basic("alice"), true)] {
        let response = crate::support::plain_http_client()
            .post(&service.url)
            .header("authorization", &auth)
            .body(call("fn.login", json!({"session!": session})).to_string())
            .send()
            .await
            .expect("answered");
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .and_then(|value| value.to_str().ok()),
            Some("no-store"),
            "login with session: {session}"
        );
    }
}

#[tokio::test]
async fn logging_out_of_a_session_revokes_the_tokens_of_the_same_login() {
    let service = Service::start().await;
    let (login, id, csrf) = login_with_session(&service, "alice").await;
    let refresh = login.payload()["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let access = login.payload()["accessToken"].as_str().unwrap().to_string();
    let cookie = format!("__Host-tp_session={id}");
    let headers = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let out = service.post(&headers, call("fn.logout", json!({}))).await;
    assert_eq!(out.tag(), "Ok_");
    let refreshed = service
        .post(&[], call("fn.refresh", json!({"refreshToken": refresh})))
        .await;
    assert_eq!(refreshed.tag(), "ErrorUnauthenticated_");
    let bearer = format!("Bearer {access}");
    let me = service
        .post(&[("authorization", &bearer)], call("fn.me", json!({})))
        .await;
    assert_eq!(me.tag(), "ErrorUnauthenticated_");

    // And the other way round: a token's logout ends the session.
    let (login, id, csrf) = login_with_session(&service, "alice").await;
    let bearer = format!(
        "Bearer {}",
        login.payload()["accessToken"].as_str().unwrap()
    );
    let out = service
        .post(&[("authorization", &bearer)], call("fn.logout", json!({})))
        .await;
    assert_eq!(out.tag(), "Ok_");
    let cookie = format!("__Host-tp_session={id}");
    let headers = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let me = service.post(&headers, call("fn.me", json!({}))).await;
    assert_eq!(me.tag(), "ErrorUnauthenticated_");
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket session to the service whose upgrade request carries `headers`.
async fn websocket(service: &Service, headers: &[(&str, &str)]) -> Socket {
    websocket_choosing(service, headers).await.0
}

/// [`websocket`], with the subprotocol the service chose, if any.
async fn websocket_choosing(
    service: &Service,
    headers: &[(&str, &str)],
) -> (Socket, Option<String>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = service.url.replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().expect("a WebSocket request");
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        let value = value.parse().expect("a header value");
        request.headers_mut().insert(name, value);
    }
    // The client checks that a chosen subprotocol is one it offered.
    let (socket, answer) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the service upgrades");
    let chosen = answer
        .headers()
        .get("sec-websocket-protocol")
        .map(|value| value.to_str().expect("text").to_string());
    (socket, chosen)
}

/// Sends `message` over `socket`; the answer's text.
async fn exchange(socket: &mut Socket, message: serde_json::Value) -> String {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Frame;
    let frame = Frame::text(message.to_string());
    socket.send(frame).await.expect("sent");
    let answer = socket.next().await.expect("an answer").expect("readable");
    answer.to_text().expect("a text answer").to_string()
}

/// A WebSocket session takes the upgrade request's credentials for every message, as a
/// POST takes its own; a session cookie a login opens there reaches neither the message
/// nor the caller.
#[tokio::test]
async fn a_websocket_session_carries_the_upgrade_requests_credentials() {
    let service = Service::start().await;
    let (_, id, csrf) = login_with_session(&service, "bob").await;
    let cookie = format!("__Host-tp_session={id}");
    let carol = basic("carol");
    let by_password = [("authorization", carol.as_str())];
    let by_cookie = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    for (headers, user, method) in [
        (&by_password[..], "u-carol", "Password"),
        (&by_cookie[..], "u-bob", "Session"),
    ] {
        let mut socket = websocket(&service, headers).await;
        for _ in 0..2 {
            let me = exchange(&mut socket, call("fn.me", json!({}))).await;
            let me: serde_json::Value = serde_json::from_str(&me).expect("JSON");
            assert_eq!(me[1]["Ok_"]["userId"], user, "{me}");
            assert_eq!(me[1]["Ok_"]["method"], method, "{me}");
        }
    }
    let mut anonymous = websocket(&service, &[]).await;
    let me = exchange(&mut anonymous, call("fn.me", json!({}))).await;
    assert!(me.contains("ErrorUnauthenticated_"), "{me}");

    let alice = basic("alice");
    let mut socket = websocket(&service, &[("authorization", &alice)]).await;
    let login = exchange(&mut socket, call("fn.login", json!({"session!": true}))).await;
    assert!(login.contains("\"Ok_\""), "{login}");
    assert!(
        !login.contains("tps_") && !login.contains(SESSION_COOKIE_HEADER),
        "{login}"
    );
}

/// A page cannot add the CSRF header to its WebSocket upgrade: it offers the token as a
/// subprotocol, which the service takes as that header and names as chosen. A wrong
/// token, or the right one from a cross-site page, opens no session.
#[tokio::test]
async fn a_page_offers_its_csrf_token_as_a_websocket_subprotocol() {
    let service = Service::start().await;
    let (_, id, csrf) = login_with_session(&service, "bob").await;
    let cookie = format!("__Host-tp_session={id}");
    let offered = format!("chat, telepact-csrf.{csrf}");
    let me = |protocols: String, site: &'static str| {
        let cookie = cookie.clone();
        let service = &service;
        async move {
            let headers = [
                ("cookie", cookie.as_str()),
                ("origin", "https://board.example.com"),
                ("sec-fetch-site", site),
                ("sec-websocket-protocol", protocols.as_str()),
            ];
            let (mut socket, chosen) = websocket_choosing(service, &headers).await;
            let me = exchange(&mut socket, call("fn.me", json!({}))).await;
            let me: serde_json::Value = serde_json::from_str(&me).expect("JSON");
            (me, chosen)
        }
    };

    let (answer, chosen) = me(offered, "same-origin").await;
    assert_eq!(answer[1]["Ok_"]["userId"], "u-bob", "{answer}");
    assert_eq!(answer[1]["Ok_"]["method"], "Session", "{answer}");
    assert_eq!(chosen, Some(format!("telepact-csrf.{csrf}")));

    for (protocols, site) in [
        ("telepact-csrf.tpc_wrong".to_string(), "same-origin"),
        (format!("telepact-csrf.{csrf}"), "cross-site"),
    ] {
        let (answer, _) = me(protocols, site).await;
        assert!(answer[1].get("ErrorUnauthenticated_").is_some(), "{answer}");
    }
}

/// A Rust client puts its credentials on the upgrade with `WebSocketOptions`: every
/// message of the session counts as that caller's.
#[tokio::test]
async fn a_rust_client_signs_its_websocket_upgrade() {
    use telepact::client::{WebSocketOptions, WebSocketTransport};
    let service = Service::start().await;
    let carol = http::HeaderValue::from_str(&basic("carol")).expect("a header value");
    let options = WebSocketOptions::default().header(http::header::AUTHORIZATION, carol);
    let url = service.url.replacen("http://", "ws://", 1);
    let transport = WebSocketTransport::connect_with(&url, options)
        .await
        .expect("the service upgrades");
    let client = telepact::Client::new(transport);
    for _ in 0..2 {
        let request = telepact::Message::new(Default::default(), "fn.me", Default::default());
        let me = client.request(request).await.expect("answered");
        let me = me.payload().expect("a payload");
        assert_eq!(me["userId"], "u-carol", "{me:?}");
        assert_eq!(me["method"], "Password", "{me:?}");
    }
}

/// A page of an allowed origin on another host of the site calls with its cookie: the
/// browser's preflight is granted for that origin, with credentials and the CSRF
/// header, and so is the call. Another origin gets no grant, and its cookie is ignored.
#[tokio::test]
async fn pages_of_allowed_origins_are_granted_credentialed_cors() {
    let mut setup = support::Setup::new();
    let board = "https://board.example.com";
    setup.http_auth = setup.http_auth.allowed_origins([format!("{board}/")]);
    let service = setup.start().await;
    let http = support::plain_http_client();
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, &service.url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type, x-csrf-token",
            )
            .send()
    };
    let granted = preflight(board).await.expect("answered");
    assert!(granted.status().is_success(), "{}", granted.status());
    let headers = granted.headers();
    assert_eq!(headers["access-control-allow-origin"], board);
    assert_eq!(headers["access-control-allow-credentials"], "true");
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .expect("text");
    assert!(allowed.contains("x-csrf-token"), "{allowed}");
    let refused = preflight("https://evil.example").await.expect("answered");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let (_, id, csrf) = login_with_session(&service, "bob").await;
    let cookie = format!("__Host-tp_session={id}");
    let call = |origin: &'static str| {
        http.post(&service.url)
            .header("origin", origin)
            .header("sec-fetch-site", "same-site")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .body(call("fn.me", json!({})).to_string())
            .send()
    };
    let me = call(board).await.expect("answered");
    assert_eq!(me.headers()["access-control-allow-origin"], board);
    let me: serde_json::Value =
        serde_json::from_slice(&me.bytes().await.expect("a body")).expect("JSON");
    assert_eq!(me[1]["Ok_"]["method"], "Session", "{me}");
    let other = call("https://evil.example").await.expect("answered");
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let other: serde_json::Value =
        serde_json::from_slice(&other.bytes().await.expect("a body")).expect("JSON");
    assert!(other[1].get("ErrorUnauthenticated_").is_some(), "{other}");

    // Nor does another origin's page get a cookie from a login it posts.
    let login = http
        .post(&service.url)
        .header("origin", "https://evil.example")
        .header("authorization", basic("bob"))
        .body(support::call("fn.login", json!({"session!": true})).to_string())
        .send()
        .await
        .expect("answered");
    assert!(login.status().is_success(), "{}", login.status());
    assert!(login.headers().get("set-cookie").is_none());
}

/// The adapter reads bodies and answers other methods as the runtime's own endpoint
/// does: a body in a coding it does not undo is refused before it is read (and the
/// HTTP/1 answer says the connection closes), and another method gets 405 with a
/// reason.
#[tokio::test]
async fn coded_bodies_and_other_methods_are_answered_as_the_endpoint_does() {
    let service = Service::start().await;
    let http = support::plain_http_client();
    let ping = json!([{}, {"fn.ping_": {}}]).to_string();
    let coded = http
        .post(&service.url)
        .header("content-encoding", "gzip")
        .body(ping.clone())
        .send()
        .await
        .expect("answered");
    assert_eq!(coded.status(), 415);
    assert_eq!(coded.headers()["accept-encoding"], "identity");
    assert_eq!(coded.headers()["connection"], "close");

    let put = http
        .put(&service.url)
        .body(ping)
        .send()
        .await
        .expect("answered");
    assert_eq!(put.status(), 405);
    let allowed = put.headers()["allow"].to_str().expect("text").to_string();
    assert!(allowed.contains("POST"), "{allowed}");
    let reason = put.text().await.expect("a body");
    assert!(reason.contains("by POST"), "{reason}");
    service.stop().await;
}
