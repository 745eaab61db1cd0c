//! The loopback redirect: the browser's return from the sign-in page, received on
//! 127.0.0.1, then traded for tokens at a real token endpoint.

#![cfg(all(feature = "http-client", feature = "axum"))]

use crate::authorise_support;

use std::time::Duration;

use authorise_support::endpoint::{Endpoint, bearer};
use authorise_support::whoami;
use telepact::client::authorise::{
    AuthoriseError, AuthorizationCode, BearerAuthoriser, LoopbackRedirect, Pkce, authorization_url,
    random_state,
};

const WAIT: Duration = Duration::from_secs(10);

/// The user's browser following the provider's redirect.
async fn browser_visits(url: String) -> (u16, String) {
    let response = crate::plain_http_client()
        .get(url)
        .send()
        .await
        .expect("the listener answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a page"))
}

#[tokio::test]
async fn the_redirect_brings_the_code_that_signs_the_client_in() {
    let endpoint = Endpoint::start(300).await;
    let redirect = LoopbackRedirect::bind("callback").await.expect("listening");
    let redirect_uri = redirect.redirect_uri().to_string();
    assert!(redirect_uri.starts_with("http://127.0.0.1:"));
    assert!(redirect_uri.ends_with("/callback"));

    let (pkce, state) = (Pkce::generate().unwrap(), random_state().unwrap());
    let url = authorization_url(
        &format!("{}/authorize", endpoint.url),
        "cli",
        &redirect_uri,
        &[],
        &state,
        &pkce,
    )
    .unwrap();
    let code = endpoint.approve(&url);

    let expected_state = state.clone();
    let receiving = tokio::spawn(async move { redirect.receive(&expected_state, WAIT).await });
    let forged = browser_visits(format!("{redirect_uri}?code=stolen&state=guess")).await;
    assert_eq!(forged.0, 400, "a stray request does not end the sign-in");
    let (status, page) = browser_visits(format!("{redirect_uri}?code={code}&state={state}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Signed in"));
    let received = receiving.await.unwrap().expect("a code");
    assert_eq!(received.expose(), code);

    let source = AuthorizationCode::new(&endpoint.token_url(), "cli", redirect_uri)
        .unwrap()
        .code(received, &pkce);
    let client = endpoint.client(BearerAuthoriser::new(source));
    client.request(whoami()).await.expect("answered");
    assert_eq!(endpoint.grants(), ["authorization_code"]);
    assert_eq!(endpoint.api_authorizations(), [bearer("at-1")]);
}

#[tokio::test]
async fn a_declined_sign_in_ends_with_the_providers_error() {
    let redirect = LoopbackRedirect::bind("/cb").await.expect("listening");
    let uri = redirect.redirect_uri().to_string();
    let browser = tokio::spawn(browser_visits(format!(
        "{uri}?error=access_denied&error_description=user+said+no&state=s1"
    )));

    let error = redirect.receive("s1", WAIT).await.expect_err("refused");
    assert!(
        matches!(&error, AuthoriseError::SignInDenied { error, description }
            if error == "access_denied" && description.as_deref() == Some("user said no")),
        "{error:?}"
    );
    assert!(browser.await.unwrap().1.contains("Sign-in failed"));
}

#[tokio::test]
async fn no_redirect_in_time_is_a_clear_error() {
    let redirect = LoopbackRedirect::bind("/cb").await.expect("listening");
    let error = redirect
        .receive("s1", Duration::from_millis(50))
        .await
        .expect_err("timed out");
    assert!(matches!(error, AuthoriseError::Redirect(_)), "{error:?}");
    assert!(error.to_string().contains("redirect"), "{error}");
}

/// A path the listener's router would not serve as written is refused when binding,
/// rather than panicking in `receive`.
#[tokio::test]
async fn a_path_with_route_syntax_is_refused_when_binding() {
    for path in ["/cb/{id}", "/cb/{", "/cb/:id", "/cb/*rest"] {
        let error = LoopbackRedirect::bind(path).await.expect_err(path);
        assert!(
            matches!(&error, AuthoriseError::Redirect(reason) if reason.contains("route syntax")),
            "{path}: {error}"
        );
    }
}
