//! Access and refresh tokens: expiry on an injected clock, rotation, reuse detection,
//! and tokens with the wrong audience, algorithm, signature or key.

use crate::support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use support::{
    AUDIENCE, ISSUER, KEY_ID, KEY_SECRET, Service, Setup, accepted, bearer, login, session,
};
use telepact_auth::{Clock, JwtKey, JwtKeys, SystemClock};
use telepact_auth_example::api::{RefreshInput, RefreshOk, RefreshOutput};

async fn refresh(service: &Service, token: &str) -> Option<RefreshOk> {
    let input = RefreshInput {
        refresh_token: token.to_string(),
    };
    match service
        .client()
        .refresh(input)
        .await
        .unwrap()
        .output
        .known()
        .expect("a result tag the schema declares")
    {
        RefreshOutput::Ok(ok) => Some(ok),
        RefreshOutput::ErrorUnauthenticated(_) => None,
        other => panic!("unexpected refresh answer: {other:?}"),
    }
}

#[tokio::test]
async fn access_tokens_expire_on_the_injected_clock() {
    let service = Service::start().await;
    let tokens = login(&service, "alice").await;
    service.clock.advance_secs(299);
    assert!(accepted(&service, bearer(&tokens.access_token)).await);
    service.clock.advance_secs(1);
    assert!(!accepted(&service, bearer(&tokens.access_token)).await);
}

#[tokio::test]
async fn sessions_expire_on_the_injected_clock() {
    let service = Service::start().await;
    let raw = service
        .post(
            &[("authorization", "Basic Ym9iOmJvYi1wdy0y")],
            serde_json::json!([{}, {"fn.login": {"session!": true}}]),
        )
        .await;
    let cookie = raw.set_cookie.clone().expect("a session cookie");
    let id = cookie["__Host-tp_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = raw.payload()["csrfToken!"].as_str().unwrap().to_string();
    service.clock.advance_secs(1799);
    assert!(accepted(&service, session(&id, &csrf)).await);
    service.clock.advance_secs(1);
    assert!(!accepted(&service, session(&id, &csrf)).await);
}

#[tokio::test]
async fn a_refresh_token_rotates_and_its_family_ends_with_the_refresh_lifetime() {
    let service = Service::start().await;
    let first = login(&service, "alice").await;
    let second = refresh(&service, &first.refresh_token)
        .await
        .expect("rotates");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert!(accepted(&service, bearer(&second.access_token)).await);
    service.clock.advance_secs(3600);
    assert!(refresh(&service, &second.refresh_token).await.is_none());
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_whole_family() {
    let service = Service::start().await;
    let first = login(&service, "bob").await;
    let second = refresh(&service, &first.refresh_token)
        .await
        .expect("rotates");
    let other_login = login(&service, "bob").await;

    // An attacker replays the first token, past the seconds in which a retry of the
    // refresh is answered: refused, and the family dies.
    let grace = service.auth.config().refresh_reuse_grace;
    service
        .clock
        .advance_secs(u64::try_from(grace).unwrap_or(0) + 1);
    assert!(refresh(&service, &first.refresh_token).await.is_none());
    assert!(refresh(&service, &second.refresh_token).await.is_none());
    assert!(!accepted(&service, bearer(&second.access_token)).await);
    assert!(!accepted(&service, bearer(&first.access_token)).await);

    // Another login (another family) is untouched.
    assert!(accepted(&service, bearer(&other_login.access_token)).await);
    assert!(
        refresh(&service, &other_login.refresh_token)
            .await
            .is_some()
    );
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    iss: &'a str,
    aud: &'a str,
    exp: i64,
    nbf: i64,
    iat: i64,
    jti: &'a str,
    fam: &'a str,
    scope: &'a str,
}

fn claims(audience: &str) -> Claims<'_> {
    let now = SystemClock.unix_now();
    Claims {
        sub: "u-alice",
        iss: ISSUER,
        aud: audience,
        exp: now + 300,
        nbf: now - 1,
        iat: now - 1,
        jti: "forged",
        fam: "forged",
        scope: "profile:read",
    }
}

fn forge(algorithm: Algorithm, kid: &str, secret: &[u8], audience: &str) -> String {
    // As an application using jsonwebtoken itself does: the workspace's tests turn on
    // both of its backends, which leaves it no default.
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let mut header = Header::new(algorithm);
    header.kid = Some(kid.to_string());
    header.typ = Some("at+jwt".to_string());
    jsonwebtoken::encode(
        &header,
        &claims(audience),
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test]
async fn a_token_signed_with_the_right_key_is_accepted() {
    let service = Service::start().await;
    let token = forge(Algorithm::HS256, KEY_ID, KEY_SECRET, AUDIENCE);
    assert!(accepted(&service, bearer(&token)).await);
}

#[tokio::test]
async fn wrong_audience_algorithm_signature_or_key_are_refused() {
    let service = Service::start().await;
    let wrong_audience = forge(Algorithm::HS256, KEY_ID, KEY_SECRET, "another-service");
    let wrong_algorithm = forge(Algorithm::HS512, KEY_ID, KEY_SECRET, AUDIENCE);
    let wrong_signature = forge(
        Algorithm::HS256,
        KEY_ID,
        b"another secret of at least 32 bytes!",
        AUDIENCE,
    );
    let unknown_key = forge(Algorithm::HS256, "retired-long-ago", KEY_SECRET, AUDIENCE);
    let unsigned = {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"test-key-1"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(AUDIENCE)).unwrap());
        format!("{header}.{body}.")
    };
    for token in [
        wrong_audience,
        wrong_algorithm,
        wrong_signature,
        unknown_key,
        unsigned,
    ] {
        assert!(
            !accepted(&service, bearer(&token)).await,
            "accepted {token}"
        );
    }
}

#[tokio::test]
async fn after_key_rotation_old_tokens_live_out_and_new_ones_use_the_new_key() {
    let old = Service::start().await;
    let old_token = login(&old, "alice").await.access_token;
    let mut setup = Setup::new();
    let new_key = JwtKey::new(
        "test-key-2",
        b"a brand new secret for the next key!!".to_vec(),
    )
    .unwrap();
    setup.keys = JwtKeys::new(new_key).accept(JwtKey::new(KEY_ID, KEY_SECRET).unwrap());
    let rotated = setup.start().await;
    assert!(accepted(&rotated, bearer(&old_token)).await);
    let new_token = login(&rotated, "alice").await.access_token;
    assert!(accepted(&rotated, bearer(&new_token)).await);
    assert!(
        !accepted(&old, bearer(&new_token)).await,
        "the old instance lacks the new key"
    );
}
