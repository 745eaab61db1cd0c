//! Secrets stay out of `Debug` output and logs.

use crate::authorise_support;

use std::time::Duration;

use authorise_support::log_capture::Capture;
use authorise_support::{Gate, Issuer, guarded_client, whoami};
use serde_json::json;
use telepact::client::authorise::{
    Authoriser, BasicAuthoriser, BasicPlacement, BearerAuthoriser, Credential, Secret,
    StaticAuthoriser, TelepactLogin, Token, TokenPlacement,
};

const SECRET: &str = "hunter2-very-secret";

fn assert_hidden(shown: &str) {
    assert!(!shown.contains(SECRET), "secret shown in {shown}");
    let encoded = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("alice:{SECRET}"),
    );
    assert!(!shown.contains(&encoded), "encoded secret shown in {shown}");
}

#[tokio::test]
async fn debug_output_hides_every_secret() {
    let token = Token::new(SECRET).refresh_token(SECRET);
    let basic = BasicAuthoriser::new("alice", SECRET);
    let http_basic = BasicAuthoriser::new("alice", SECRET).placement(BasicPlacement::HttpBasic);
    let fixed = StaticAuthoriser::new(json!({"ApiKey": {"key": SECRET}}));
    let login = TelepactLogin::new(guarded_client(&Gate::default()), "alice", SECRET);
    let bearer = BearerAuthoriser::new(login.clone()).token(token.clone());
    let as_header = BearerAuthoriser::new(|_: Option<Token>, _| async { Ok(Token::new(SECRET)) })
        .placement(TokenPlacement::HttpBearer);

    let credentials: Vec<Credential> = vec![
        basic.credential().await.expect("a credential"),
        http_basic.credential().await.expect("a credential"),
        fixed.credential().await.expect("a credential"),
        bearer.credential().await.expect("a credential"),
        as_header.credential().await.expect("a credential"),
    ];

    assert_hidden(&format!("{:?}", Secret::new(SECRET)));
    assert_hidden(&format!(
        "{token:?} {basic:?} {http_basic:?} {fixed:?} {login:?} {bearer:?}"
    ));
    assert_hidden(&format!("{credentials:?}"));
    assert_eq!(
        format!("{:?}", credentials[0]),
        "Auth(AuthValue(Password: ***))"
    );
    assert_eq!(
        format!("{:?}", credentials[4]),
        "Transport([\"authorization\"])"
    );
}

#[tokio::test]
async fn logs_of_a_refresh_and_retry_carry_no_token() {
    let gate = Gate::default();
    let issuer = Issuer::new("secret-token", Duration::from_secs(600), &gate);
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(issuer));
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());

    client.request(whoami()).await.expect("answered");
    gate.revoke("secret-token-1");
    client.request(whoami()).await.expect("answered");

    assert_eq!(
        gate.seen_tokens(),
        ["secret-token-1", "secret-token-1", "secret-token-2"]
    );
    let lines = capture.lines();
    assert!(
        lines.iter().any(|line| line.contains("retrying once")),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|line| !line.contains("secret-token")),
        "{lines:?}"
    );
}
