//! Authorisers on the runtime client against an in-process server: fixed credentials,
//! refresh before expiry, one refresh for concurrent calls, and one retry after
//! `ErrorUnauthenticated_`.

use crate::authorise_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use authorise_support::{Gate, Issuer, guarded_client, whoami};
use serde_json::{Value, json};
use telepact::client::authorise::{
    AuthoriseError, BasicAuthoriser, BasicPlacement, BearerAuthoriser, StaticAuthoriser, Token,
    TokenPlacement,
};
use telepact::clock::ManualClock;
use telepact::{Client, ClientError, Headers, Message};
use tokio::sync::Notify;

fn method_of(response: &Message) -> Option<&str> {
    response.payload()?.get("method")?.as_str()
}

#[tokio::test]
async fn a_static_authoriser_sends_its_value_as_auth() {
    let gate = Gate::default();
    let client = guarded_client(&gate)
        .with_authoriser(StaticAuthoriser::new(json!({"ApiKey": {"key": "key-1"}})));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(method_of(&response), Some("ApiKey"));
    assert_eq!(gate.seen(), vec![json!({"ApiKey": {"key": "key-1"}})]);
}

#[tokio::test]
async fn a_refused_static_credential_is_answered_without_a_retry() {
    let gate = Gate::default();
    let client = guarded_client(&gate)
        .with_authoriser(StaticAuthoriser::new(json!({"ApiKey": {"key": "wrong"}})));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "ErrorUnauthenticated_");
    assert_eq!(gate.seen().len(), 1);
}

#[tokio::test]
async fn a_basic_authoriser_sends_the_password_variant() {
    let gate = Gate::default();
    let client = guarded_client(&gate).with_authoriser(BasicAuthoriser::new("alice", "alice-pw"));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(method_of(&response), Some("Password"));
    assert_eq!(
        gate.seen(),
        vec![json!({"Password": {"username": "alice", "password": "alice-pw"}})]
    );
}

#[tokio::test]
async fn variant_and_field_names_are_configurable() {
    let gate = Gate::default();
    let basic = BasicAuthoriser::new("alice", "alice-pw")
        .placement(BasicPlacement::auth("Login", "user", "secret"));
    let issuer = Issuer::new("tok", Duration::from_secs(60), &gate);
    let bearer = BearerAuthoriser::new(issuer).placement(TokenPlacement::auth("Token", "value"));

    // This server knows neither shape; only what was sent matters here.
    let _ = guarded_client(&gate)
        .with_authoriser(basic)
        .request(whoami())
        .await;
    let _ = guarded_client(&gate)
        .with_authoriser(bearer)
        .request(whoami())
        .await;

    let seen = gate.seen();
    assert_eq!(
        seen[0],
        json!({"Login": {"user": "alice", "secret": "alice-pw"}})
    );
    assert_eq!(seen[1], json!({"Token": {"value": "tok-1"}}));
}

#[tokio::test]
async fn an_explicit_auth_header_wins_over_the_authoriser() {
    let gate = Gate::default();
    let issuer = Issuer::new("tok", Duration::from_secs(60), &gate);
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(issuer.clone()));
    let mut headers = Headers::new();
    headers.insert("@auth_", json!({"ApiKey": {"key": "key-1"}}));

    let response = client
        .request(Message::new(headers, "fn.whoami", Default::default()))
        .await
        .expect("answered");

    assert_eq!(method_of(&response), Some("ApiKey"));
    assert_eq!(issuer.fetches(), 0);
}

#[tokio::test]
async fn clones_keep_or_drop_the_authoriser() {
    let gate = Gate::default();
    let plain = guarded_client(&gate);
    let authorised = plain
        .clone()
        .with_authoriser(BasicAuthoriser::new("alice", "alice-pw"));

    let anonymous = plain.request(whoami()).await.expect("answered");
    let signed_in = authorised.request(whoami()).await.expect("answered");

    assert!(!plain.has_authoriser() && authorised.has_authoriser());
    assert_eq!(anonymous.target(), "ErrorUnauthenticated_");
    assert_eq!(method_of(&signed_in), Some("Password"));
}

#[tokio::test]
async fn a_bearer_token_is_renewed_once_it_is_within_the_margin_of_expiry() {
    let gate = Gate::default();
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
    let issuer = Issuer::new("tok", Duration::from_secs(60), &gate);
    let authoriser = BearerAuthoriser::new(issuer.clone())
        .margin(Duration::from_secs(30))
        .clock(clock.clone());
    let client = guarded_client(&gate).with_authoriser(authoriser);

    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(29)); // 31 s left: still fresh
    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(2)); // 29 s left: inside the margin
    client.request(whoami()).await.expect("answered");

    assert_eq!(gate.seen_tokens(), ["tok-1", "tok-1", "tok-2"]);
    assert_eq!(issuer.fetches(), 2);
}

/// A token that lives no longer than the margin (20 s against 30 s) was renewed on every
/// call, each one a token request. It is renewed once half its life is spent instead.
#[tokio::test]
async fn a_token_shorter_lived_than_the_margin_is_renewed_halfway_not_on_every_call() {
    let gate = Gate::default();
    let clock = ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000));
    let issuer = Issuer::new("tok", Duration::from_secs(20), &gate);
    let authoriser = BearerAuthoriser::new(issuer.clone())
        .margin(Duration::from_secs(30))
        .clock(clock.clone());
    let client = guarded_client(&gate).with_authoriser(authoriser);

    client.request(whoami()).await.expect("answered");
    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(9)); // 11 s left of 20
    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(2)); // 9 s left: past halfway
    client.request(whoami()).await.expect("answered");

    assert_eq!(gate.seen_tokens(), ["tok-1", "tok-1", "tok-1", "tok-2"]);
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_token_without_expiry_is_kept_until_refused() {
    let gate = Gate::default();
    gate.accept("forever");
    let clock = ManualClock::starting_now();
    let issuer = Issuer::new("tok", Duration::from_secs(60), &gate);
    let authoriser = BearerAuthoriser::new(issuer.clone())
        .clock(clock.clone())
        .token(Token::new("forever"));
    let client = guarded_client(&gate).with_authoriser(authoriser);

    client.request(whoami()).await.expect("answered");
    clock.advance(Duration::from_secs(86_400 * 365));
    client.request(whoami()).await.expect("answered");

    assert_eq!(gate.seen_tokens(), ["forever", "forever"]);
    assert_eq!(issuer.fetches(), 0);
}

/// An `expires_in` past what the clock can hold (a server's `u64::MAX` seconds) is a
/// token that does not expire, not one expired at once, renewed on every call.
#[tokio::test]
async fn a_lifetime_past_the_clock_s_range_never_expires() {
    let gate = Gate::default();
    gate.accept("long-lived");
    let fetches = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&fetches);
    let source = move |_previous: Option<Token>, now: SystemTime| {
        counted.fetch_add(1, Ordering::SeqCst);
        let lifetime = Duration::from_secs(u64::MAX);
        async move { Ok(Token::new("long-lived").expires_in(now, lifetime)) }
    };
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(source));

    for _ in 0..3 {
        client.request(whoami()).await.expect("answered");
    }

    assert_eq!(gate.seen_tokens(), ["long-lived"; 3]);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

/// A token source that blocks until released, so calls pile up behind its first fetch.
#[derive(Clone)]
struct Gated {
    issuer: Issuer,
    entered: Arc<Notify>,
    release: Arc<Notify>,
}

impl telepact::client::authorise::TokenSource for Gated {
    fn fetch(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> telepact::BoxFuture<'_, Result<Token, AuthoriseError>> {
        Box::pin(async move {
            self.entered.notify_one();
            self.release.notified().await;
            self.issuer.fetch(previous, now).await
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_fetch() {
    let gate = Gate::default();
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let source = Gated {
        issuer: issuer.clone(),
        entered: Arc::new(Notify::new()),
        release: Arc::new(Notify::new()),
    };
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(source.clone()));

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.request(whoami()).await })
        })
        .collect();
    source.entered.notified().await;
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    source.release.notify_one();
    for call in calls {
        let response = call.await.expect("joined").expect("answered");
        assert_eq!(method_of(&response), Some("Bearer"));
    }

    assert_eq!(issuer.fetches(), 1);
    assert_eq!(gate.seen_tokens(), vec!["tok-1"; 8]);
}

#[tokio::test]
async fn a_refused_token_is_renewed_and_the_call_retried_once() {
    let gate = Gate::default();
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(issuer.clone()));
    client.request(whoami()).await.expect("answered");

    gate.revoke("tok-1"); // the server forgets it before it expires
    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(method_of(&response), Some("Bearer"));
    assert_eq!(gate.seen_tokens(), ["tok-1", "tok-1", "tok-2"]);
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn a_renewed_token_that_is_refused_too_is_answered_as_is() {
    let gate = Gate::default();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let source = move |_previous: Option<Token>, _now: SystemTime| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(Token::new("never-accepted")) }
    };
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(source));

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "ErrorUnauthenticated_");
    assert_eq!(gate.seen().len(), 2);
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refusals_share_one_renewal() {
    let gate = Gate::default();
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(issuer.clone()));
    client.request(whoami()).await.expect("answered");
    gate.revoke("tok-1");

    let calls: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.request(whoami()).await })
        })
        .collect();
    for call in calls {
        let response = call.await.expect("joined").expect("answered");
        assert_eq!(method_of(&response), Some("Bearer"));
    }

    assert_eq!(issuer.fetches(), 2);
    assert!(
        gate.seen_tokens()
            .iter()
            .skip(1)
            .all(|t| t == "tok-1" || t == "tok-2")
    );
}

#[tokio::test]
async fn a_failing_token_source_fails_the_call_with_its_error() {
    let gate = Gate::default();
    let source = |_previous: Option<Token>, _now: SystemTime| async {
        Err(AuthoriseError::Other("the vault is sealed".into()))
    };
    let client = guarded_client(&gate).with_authoriser(BearerAuthoriser::new(source));

    let error = client.request(whoami()).await.expect_err("no credential");

    let ClientError::Authorise(inner) = &error else {
        panic!("expected an authorisation error, got {error:?}");
    };
    assert!(matches!(
        inner.as_ref(),
        AuthoriseError::Other(text) if text == "the vault is sealed"
    ));
    assert!(
        gate.seen().is_empty(),
        "nothing is sent without a credential"
    );
}

/// A source that renews with the previous token's refresh token and answers the next
/// pair, as a server rotating refresh tokens does: each fetch waits for `release`, and
/// the refresh tokens it was handed are kept in `presented`.
fn rotating_source(
    release: Arc<Notify>,
    presented: Arc<std::sync::Mutex<Vec<String>>>,
) -> impl telepact::client::authorise::TokenSource {
    let fetches = Arc::new(AtomicUsize::new(0));
    move |previous: Option<Token>, now: SystemTime| {
        let refresh = previous.and_then(|token| token.refresh_token);
        if let Some(refresh) = refresh {
            presented.lock().unwrap().push(refresh.expose().to_string());
        }
        let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
        let release = Arc::clone(&release);
        async move {
            release.notified().await;
            Ok(Token::new(format!("access-{n}"))
                .refresh_token(format!("refresh-{n}"))
                .expires_in(now, Duration::from_secs(3600)))
        }
    }
}

/// The token server may have spent the refresh token by the time a call gives up: the
/// fetch goes on, and its token is the next call's, not a second use of the spent one.
#[tokio::test]
async fn a_token_fetched_for_a_call_that_gave_up_is_kept() {
    let (release, presented) = (Arc::new(Notify::new()), Arc::default());
    let expired = Token::new("access-0")
        .refresh_token("refresh-0")
        .expires_at(SystemTime::UNIX_EPOCH);
    let source = rotating_source(Arc::clone(&release), Arc::clone(&presented));
    let authoriser = BearerAuthoriser::new(source).token(expired);

    let given_up =
        tokio::time::timeout(Duration::from_millis(50), authoriser.current_token()).await;
    assert!(given_up.is_err(), "the first call gave up while fetching");
    release.notify_one();
    let next = authoriser.current_token().await.expect("a token");

    assert_eq!(next.access_token.expose(), "access-1");
    assert_eq!(*presented.lock().unwrap(), ["refresh-0"], "spent once");
}

#[tokio::test]
async fn a_transport_without_headers_refuses_a_header_credential() {
    let gate = Gate::default();
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let authoriser = BearerAuthoriser::new(issuer).placement(TokenPlacement::HttpBearer);
    let client = guarded_client(&gate).with_authoriser(authoriser);

    let error = client.request(whoami()).await.expect_err("refused");

    let shown = telepact::ErrorChain(&error).to_string();
    assert!(shown.contains("cannot carry transport headers"), "{shown}");
}

#[tokio::test]
async fn a_client_without_authoriser_is_unchanged() {
    let gate = Gate::default();
    let client: Client = guarded_client(&gate);

    let response = client.request(whoami()).await.expect("answered");

    assert_eq!(response.target(), "ErrorUnauthenticated_");
    assert_eq!(gate.seen(), vec![Value::Null]);
}
