//! The OAuth2 authorisation code authoriser with PKCE, renewed by refresh tokens,
//! against a real token endpoint (a small axum app on loopback).

#![cfg(feature = "http-client")]

use crate::authorise_support;

use std::collections::HashMap;
use std::time::Duration;

use authorise_support::endpoint::{Endpoint, bearer, start};
use authorise_support::{scratch_dir, whoami};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use telepact::ClientError;
use telepact::client::authorise::{
    AuthorizationCode, BearerAuthoriser, Pkce, TokenCache, authorization_url, random_state,
};
use telepact::clock::ManualClock;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn signed_in_code(endpoint: &Endpoint, pkce: &Pkce) -> String {
    let state = random_state().expect("randomness");
    let url = authorization_url(
        &format!("{}/authorize", endpoint.url),
        "desktop-app",
        REDIRECT,
        &["reports:read"],
        &state,
        pkce,
    )
    .expect("a valid url");
    endpoint.approve(&url)
}

fn code_flow(endpoint: &Endpoint) -> AuthorizationCode {
    AuthorizationCode::new(&endpoint.token_url(), "desktop-app", REDIRECT).expect("a valid url")
}

#[test]
fn the_authorization_url_carries_an_s256_challenge() {
    let pkce = Pkce::generate().expect("randomness");
    let url = authorization_url(
        "https://idp.example/authorize?tenant=7",
        "desktop-app",
        REDIRECT,
        &["reports:read", "offline_access"],
        "state-1",
        &pkce,
    )
    .expect("a valid url");

    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(pkce.verifier().expose().as_bytes()));
    assert_eq!(pkce.verifier().expose().len(), 43);
    assert_eq!(query["code_challenge"], expected);
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["scope"], "reports:read offline_access");
    assert_eq!(query["state"], "state-1");
    assert_eq!(query["tenant"], "7");
    assert!(!url.as_str().contains(pkce.verifier().expose()));
}

#[tokio::test]
async fn an_authorization_code_is_traded_once_then_the_refresh_token_renews() {
    let endpoint = Endpoint::start(300).await;
    let pkce = Pkce::generate().expect("randomness");
    let code = signed_in_code(&endpoint, &pkce);
    let clock = ManualClock::new(start());
    let source = code_flow(&endpoint).code(code, &pkce);
    let client = endpoint.client(BearerAuthoriser::new(source).clock(clock.clone()));

    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(290));
    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(290));
    client.request(whoami()).await.expect("answered");

    assert_eq!(
        endpoint.grants(),
        ["authorization_code", "refresh_token", "refresh_token"]
    );
    let exchange = &endpoint.token_requests()[0];
    assert_eq!(exchange.basic, None);
    assert_eq!(exchange.form["client_id"], "desktop-app");
    assert_eq!(exchange.form["code_verifier"], pkce.verifier().expose());
    assert_eq!(endpoint.token_requests()[2].form["refresh_token"], "rt-2");
    assert_eq!(
        endpoint.api_authorizations(),
        [bearer("at-1"), bearer("at-2"), bearer("at-3")]
    );
}

#[tokio::test]
async fn a_cached_refresh_token_signs_a_restarted_client_in() {
    let dir = scratch_dir("oauth2-code-restart");
    let endpoint = Endpoint::start(300).await;
    let pkce = Pkce::generate().expect("randomness");
    let code = signed_in_code(&endpoint, &pkce);
    let clock = ManualClock::new(start());
    let cache = TokenCache::new(dir.join("desktop-token.json"));

    let first = code_flow(&endpoint).code(code, &pkce);
    let first = BearerAuthoriser::new(first)
        .clock(clock.clone())
        .cache(cache.clone());
    endpoint
        .client(first)
        .request(whoami())
        .await
        .expect("answered");
    clock.advance(Duration::from_secs(3600)); // long expired; only the refresh token helps
    let restarted = BearerAuthoriser::new(code_flow(&endpoint))
        .clock(clock.clone())
        .cache(cache);
    let response = endpoint
        .client(restarted)
        .request(whoami())
        .await
        .expect("answered");

    assert_eq!(response.target(), "Ok_");
    assert_eq!(endpoint.grants(), ["authorization_code", "refresh_token"]);
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_a_spent_flow_asks_for_a_new_sign_in() {
    let endpoint = Endpoint::start(300).await;
    let pkce = Pkce::generate().expect("randomness");
    let code = signed_in_code(&endpoint, &pkce);
    let other = Pkce::generate().expect("randomness");
    let client = endpoint.client(BearerAuthoriser::new(
        code_flow(&endpoint).code(code, &other),
    ));

    let first = client.request(whoami()).await.expect_err("refused");
    let second = client.request(whoami()).await.expect_err("spent");

    let reason = |error: &ClientError| match error {
        ClientError::Authorise(inner) => inner.to_string(),
        other => panic!("expected an authorisation error, got {other:?}"),
    };
    assert_eq!(
        reason(&first),
        "the token endpoint refused the request (HTTP 400, invalid_grant): The grant is not valid"
    );
    assert!(
        reason(&second).starts_with("the user must sign in again"),
        "{second}"
    );
    assert_eq!(endpoint.grants(), ["authorization_code"]);
}

/// A refresh that does not reach the token endpoint (down, or a network outage) fails
/// as it is: the refresh token may still be good, and the next fetch tries it again.
/// Only the endpoint refusing it means the user must sign in again.
#[tokio::test]
async fn a_refresh_that_does_not_reach_the_endpoint_asks_for_no_new_sign_in() {
    use telepact::client::authorise::{AuthoriseError, Token, TokenSource};
    let previous = || Some(Token::new("at-0").refresh_token("rt-0"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let closed = format!("http://{}/token", listener.local_addr().expect("bound"));
    drop(listener);
    let unreachable =
        AuthorizationCode::new(&closed, "desktop-app", REDIRECT).expect("a valid url");
    let error = unreachable
        .fetch(previous(), start())
        .await
        .expect_err("unreachable");
    assert!(
        matches!(error, AuthoriseError::TokenEndpoint(_)),
        "{error:?}"
    );

    let endpoint = Endpoint::start(300).await;
    let refused = code_flow(&endpoint)
        .fetch(previous(), start())
        .await
        .expect_err("a refresh token it never issued");
    assert!(
        matches!(refused, AuthoriseError::SignInRequired(_)),
        "{refused:?}"
    );
}
