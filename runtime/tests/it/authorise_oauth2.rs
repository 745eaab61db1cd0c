//! The OAuth2 client credentials authoriser against a real token endpoint (a small
//! axum app on loopback), sending the token in the HTTP `Authorization` header.

#![cfg(feature = "http-client")]

use crate::authorise_support;

use std::time::Duration;

use authorise_support::endpoint::{CLIENT_ID, CLIENT_SECRET, Endpoint, bearer, start};
use authorise_support::{scratch_dir, whoami};
use telepact::client::authorise::{
    AuthoriseError, BearerAuthoriser, ClientAuthMethod, ClientCredentials, TokenCache,
};
use telepact::clock::ManualClock;
use telepact::{Client, ClientError};

#[tokio::test]
async fn client_secret_basic_sends_encoded_credentials_and_scopes() {
    let endpoint = Endpoint::start(300).await;
    let source = endpoint
        .credentials()
        .scopes(["reports:read", "reports:write"]);
    let client = endpoint.client(BearerAuthoriser::new(source));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "Ok_");
    let requests = endpoint.token_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].basic,
        Some((CLIENT_ID.into(), CLIENT_SECRET.into()))
    );
    assert_eq!(
        requests[0].form.get("scope").map(String::as_str),
        Some("reports:read reports:write")
    );
    assert!(!requests[0].form.contains_key("client_secret"));
    assert_eq!(endpoint.api_authorizations(), [bearer("at-1")]);
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_form() {
    let endpoint = Endpoint::start(300).await;
    let source = endpoint
        .credentials()
        .auth_method(ClientAuthMethod::SecretPost)
        .param("audience", "reports-api");
    let client = endpoint.client(BearerAuthoriser::new(source));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "Ok_");
    let request = &endpoint.token_requests()[0];
    assert_eq!(request.basic, None);
    assert_eq!(
        request.form.get("client_id").map(String::as_str),
        Some(CLIENT_ID)
    );
    assert_eq!(
        request.form.get("client_secret").map(String::as_str),
        Some(CLIENT_SECRET)
    );
    assert_eq!(
        request.form.get("audience").map(String::as_str),
        Some("reports-api")
    );
    assert!(!request.form.contains_key("scope"));
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_clear_error() {
    let endpoint = Endpoint::start(300).await;
    let source = ClientCredentials::new(&endpoint.token_url(), CLIENT_ID, "not-the-secret")
        .expect("a valid url");
    let client = endpoint.client(BearerAuthoriser::new(source));

    let error = client.request(whoami()).await.expect_err("refused");

    let ClientError::Authorise(inner) = &error else {
        panic!("expected an authorisation error, got {error:?}");
    };
    assert!(matches!(
        inner.as_ref(),
        AuthoriseError::Refused { status: 401, error, .. } if error == "invalid_client"
    ));
    assert_eq!(
        inner.to_string(),
        "the token endpoint refused the request (HTTP 401, invalid_client): Client authentication failed"
    );
    assert!(!format!("{error:?}{error}").contains("not-the-secret"));
    assert!(endpoint.api_authorizations().is_empty());
}

#[tokio::test]
async fn the_token_is_renewed_before_it_expires() {
    let endpoint = Endpoint::start(120).await;
    let clock = ManualClock::new(start());
    let authoriser = BearerAuthoriser::new(endpoint.credentials())
        .margin(Duration::from_secs(30))
        .clock(clock.clone());
    let client = endpoint.client(authoriser);

    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(89)); // 31 s left
    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(2)); // 29 s left
    client.request(whoami()).await.expect("answered");

    assert_eq!(endpoint.token_requests().len(), 2);
    assert_eq!(
        endpoint.api_authorizations(),
        [bearer("at-1"), bearer("at-1"), bearer("at-2")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_make_one_token_request() {
    let endpoint = Endpoint::start(300).await;
    let client = endpoint.client(BearerAuthoriser::new(endpoint.credentials()));

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.request(whoami()).await })
        })
        .collect();
    for call in calls {
        let response = call.await.expect("joined").expect("answered");
        assert_eq!(response.target(), "Ok_");
    }

    assert_eq!(endpoint.token_requests().len(), 1);
    assert_eq!(endpoint.api_authorizations(), vec![bearer("at-1"); 8]);
}

#[tokio::test]
async fn a_refused_token_is_replaced_and_the_call_retried() {
    let endpoint = Endpoint::start(300).await;
    let client = endpoint.client(BearerAuthoriser::new(endpoint.credentials()));
    client.request(whoami()).await.expect("answered");
    endpoint.revoke("at-1");

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "Ok_");
    assert_eq!(
        endpoint.api_authorizations(),
        [bearer("at-1"), bearer("at-1"), bearer("at-2")]
    );
}

#[tokio::test]
async fn the_cached_token_response_is_reused_across_client_restarts() {
    let dir = scratch_dir("oauth2-restart");
    let endpoint = Endpoint::start(300).await;
    let clock = ManualClock::new(start());
    let authoriser = || {
        BearerAuthoriser::new(endpoint.credentials())
            .clock(clock.clone())
            .cache(TokenCache::new(dir.join("reports-token.json")))
    };

    endpoint
        .client(authoriser())
        .request(whoami())
        .await
        .expect("answered");
    clock.advance(Duration::from_secs(200)); // 100 s left
    endpoint
        .client(authoriser())
        .request(whoami())
        .await
        .expect("answered");
    clock.advance(Duration::from_secs(80)); // 20 s left: a restart now fetches anew
    endpoint
        .client(authoriser())
        .request(whoami())
        .await
        .expect("answered");

    assert_eq!(endpoint.token_requests().len(), 2);
    assert_eq!(
        endpoint.api_authorizations(),
        [bearer("at-1"), bearer("at-1"), bearer("at-2")]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = std::fs::metadata(dir.join("reports-token.json")).expect("cached");
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    drop(listener);
    // Credentials written in the URL stay out of the grant's Debug and the error.
    let url = format!("http://tenant:url-password@127.0.0.1:{port}/token?key=url-key");
    let source = ClientCredentials::new(&url, "id", "secret").expect("a valid url");
    let shown = format!("{source:?}");
    let client =
        Client::new(|_: Vec<u8>| async { Ok::<_, telepact::client::TransportError>(Vec::new()) })
            .with_authoriser(BearerAuthoriser::new(source));

    let error = client.request(whoami()).await.expect_err("unreachable");

    let ClientError::Authorise(inner) = &error else {
        panic!("expected an authorisation error, got {error:?}");
    };
    assert!(matches!(inner.as_ref(), AuthoriseError::TokenEndpoint(_)));
    for shown in [shown, inner.to_string(), format!("{error:?}")] {
        assert!(shown.contains("127.0.0.1"), "{shown}");
        assert!(!shown.contains("url-password"), "{shown}");
        assert!(!shown.contains("url-key"), "{shown}");
    }
}

#[test]
fn a_plain_http_token_url_is_refused_off_loopback() {
    for url in ["http://auth.example.com/token", "http://10.0.0.1/token"] {
        let refused = ClientCredentials::new(url, "id", "secret");
        assert!(
            matches!(refused, Err(AuthoriseError::TokenEndpoint(_))),
            "{url}"
        );
    }
    for url in [
        "https://auth.example.com/token",
        "http://127.0.0.1:9/token",
        "http://[::1]:9/token",
        "http://localhost:9/token",
    ] {
        assert!(ClientCredentials::new(url, "id", "secret").is_ok(), "{url}");
    }
}

#[tokio::test]
async fn a_token_endpoint_redirect_is_not_followed_with_the_secret() {
    use axum::http::{StatusCode, header};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let followed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&followed);
    let app = axum::Router::new()
        .route(
            "/token",
            axum::routing::post(|| async {
                (
                    StatusCode::PERMANENT_REDIRECT,
                    [(header::LOCATION, "/moved")],
                )
            }),
        )
        .route(
            "/moved",
            axum::routing::post(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                (
                    StatusCode::OK,
                    r#"{"access_token": "at", "token_type": "bearer"}"#,
                )
            }),
        );
    let url = serve_token_endpoint(app).await;
    let source = ClientCredentials::new(&url, "id", "secret").expect("a loopback url");
    let client =
        Client::new(|_: Vec<u8>| async { Ok::<_, telepact::client::TransportError>(Vec::new()) })
            .with_authoriser(BearerAuthoriser::new(source));

    let error = client.request(whoami()).await.expect_err("redirected");

    let ClientError::Authorise(inner) = &error else {
        panic!("expected an authorisation error, got {error:?}");
    };
    assert!(
        matches!(inner.as_ref(), AuthoriseError::Refused { status: 308, .. }),
        "{inner:?}"
    );
    assert_eq!(
        followed.load(Ordering::SeqCst),
        0,
        "forms re-sent to /moved"
    );
}

#[test]
fn debug_output_never_shows_the_client_secret() {
    let source = ClientCredentials::new("http://127.0.0.1:1/token", CLIENT_ID, CLIENT_SECRET)
        .expect("a valid url");
    let authoriser = BearerAuthoriser::new(source.clone());

    let shown = format!("{source:?} {authoriser:?}");

    assert!(!shown.contains(CLIENT_SECRET), "{shown}");
    assert!(shown.contains(CLIENT_ID));
}

/// Serves `app` on a loopback port and gives the URL of its `/token`.
async fn serve_token_endpoint(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let address = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/token")
}

/// Asked directly (not through a `Client`, whose call timeout would bound it anyway),
/// a token endpoint that never answers fails the request after its timeout.
#[tokio::test]
async fn a_token_endpoint_that_never_answers_fails_after_the_timeout() {
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(std::future::pending::<&'static str>),
    );
    let url = serve_token_endpoint(app).await;
    let source = ClientCredentials::new(&url, "id", "secret")
        .expect("a loopback url")
        .timeout(Duration::from_millis(300));
    let authoriser = BearerAuthoriser::new(source);

    let outcome = tokio::time::timeout(Duration::from_secs(20), authoriser.current_token())
        .await
        .expect("the token request ends by itself");

    let error = outcome.expect_err("no answer");
    assert!(
        matches!(error, AuthoriseError::TokenEndpoint(_)),
        "{error:?}"
    );
}

/// A token response larger than any token is refused, not read into memory.
#[tokio::test]
async fn an_oversized_token_response_is_refused() {
    let padding = "x".repeat(2 * 1024 * 1024);
    let body = format!(r#"{{"access_token": "at", "token_type": "bearer", "pad": "{padding}"}}"#);
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let url = serve_token_endpoint(app).await;
    let source = ClientCredentials::new(&url, "id", "secret").expect("a loopback url");

    let error = BearerAuthoriser::new(source)
        .current_token()
        .await
        .expect_err("too large");

    assert!(
        matches!(&error, AuthoriseError::TokenEndpoint(why) if why.contains("larger than the limit")),
        "{error:?}"
    );
}
