//! The authenticator's flows without a transport, run on every store backend.

use std::collections::BTreeSet;
use std::sync::Arc;

use telepact_auth::{
    AuthConfig, AuthError, AuthMethod, Authenticator, Credential, CredentialStore, Identity,
    JwtKey, JwtKeys, ManualClock, MemoryStore, MemoryUsers, PasswordParams, User,
};

pub(crate) const PASSWORD: &str = "s3cret-enough";

pub(crate) fn authenticator(store: Arc<dyn CredentialStore>, clock: &ManualClock) -> Authenticator {
    authenticator_with(test_config(), store, clock)
}

/// The tests' configuration: passwords hashed fast.
pub(crate) fn test_config() -> AuthConfig {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config
}

pub(crate) fn authenticator_with(
    config: AuthConfig,
    store: Arc<dyn CredentialStore>,
    clock: &ManualClock,
) -> Authenticator {
    authenticator_and_users(config, store, clock).0
}

/// An authenticator of the users ada (`u1`), bob and cy, and the directory holding
/// them, for a test that changes a user.
pub(crate) fn authenticator_and_users(
    config: AuthConfig,
    store: Arc<dyn CredentialStore>,
    clock: &ManualClock,
) -> (Authenticator, MemoryUsers) {
    let users = MemoryUsers::new();
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    let auth = Authenticator::new(config, keys, Arc::new(users.clone()), store)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let user = User {
        user_id: "u1".into(),
        tenant: "acme".into(),
        roles: ["member".to_string()].into(),
        scopes: ["a".to_string(), "b".to_string()].into(),
        disabled: false,
    };
    let hash = auth.passwords().hash(PASSWORD).unwrap();
    let bob = User {
        user_id: "u2".into(),
        ..user.clone()
    };
    let cy = User {
        user_id: "u3".into(),
        ..user.clone()
    };
    users.insert("ada", hash.clone(), user);
    users.insert("bob", hash.clone(), bob);
    users.insert("cy", hash, cy);
    (auth, users)
}

pub(crate) async fn sign_in(auth: &Authenticator) -> Identity {
    let credential = Credential::Password {
        username: "ada".into(),
        password: PASSWORD.into(),
    };
    auth.authenticate(&credential, Some("127.0.0.1"))
        .await
        .unwrap()
}

pub(crate) async fn bearer(auth: &Authenticator, token: &str) -> Result<Identity, AuthError> {
    let credential = Credential::Bearer {
        token: token.into(),
    };
    auth.authenticate(&credential, None).await
}

/// Moves `clock` past the seconds in which a used refresh token is answered again.
pub(crate) fn past_the_reuse_grace(auth: &Authenticator, clock: &ManualClock) {
    let grace = u64::try_from(auth.config().refresh_reuse_grace).unwrap_or(0);
    clock.advance_secs(grace + 1);
}

/// Every flow against one store.
async fn exercise(store: Arc<dyn CredentialStore>) {
    let clock = ManualClock::starting_now();
    let auth = authenticator(store, &clock);
    let identity = sign_in(&auth).await;
    assert_eq!(identity.method(), AuthMethod::Password);
    assert_eq!(identity.tenant, "acme");

    // Token pair, rotation, reuse detection.
    let first = auth.issue_tokens(&identity).await.unwrap();
    let by_token = bearer(&auth, &first.access_token).await.unwrap();
    assert_eq!(by_token.user_id, "u1");
    assert_eq!(by_token.method(), AuthMethod::Bearer);
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    past_the_reuse_grace(&auth, &clock);
    assert!(matches!(
        auth.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        auth.refresh(&second.refresh_token).await,
        Err(AuthError::BadRefreshToken)
    ));
    assert!(matches!(
        bearer(&auth, &second.access_token).await,
        Err(AuthError::TokenRevoked)
    ));

    // A reused refresh token also ends the session its login opened.
    let tokens = auth.issue_tokens(&identity).await.unwrap();
    let linked = auth
        .create_linked_session(&identity, &tokens)
        .await
        .unwrap();
    let linked = Credential::Session {
        id: linked.id,
        csrf: linked.csrf,
    };
    assert!(auth.authenticate(&linked, None).await.is_ok());
    auth.refresh(&tokens.refresh_token).await.unwrap();
    past_the_reuse_grace(&auth, &clock);
    assert!(matches!(
        auth.refresh(&tokens.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        auth.authenticate(&linked, None).await,
        Err(AuthError::BadSession)
    ));

    // API keys: narrowed scopes, revocation.
    let key = auth
        .create_api_key(&identity, "ci", ["a".to_string()].into())
        .await
        .unwrap();
    let by_key = auth
        .authenticate(
            &Credential::ApiKey {
                key: key.key.clone(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(by_key.scopes, ["a".to_string()].into());
    // A key makes no keys, tokens or sessions (they would outlive its revocation), and
    // a name is kept to a bound.
    assert!(matches!(
        auth.create_api_key(&by_key, "more", BTreeSet::new()).await,
        Err(AuthError::KeyFromKey)
    ));
    assert!(matches!(
        auth.issue_tokens(&by_key).await,
        Err(AuthError::KeyFromKey)
    ));
    assert!(matches!(
        auth.create_session(&by_key).await,
        Err(AuthError::KeyFromKey)
    ));
    let pair = auth.issue_tokens(&identity).await.unwrap();
    assert!(matches!(
        auth.create_linked_session(&by_key, &pair).await,
        Err(AuthError::KeyFromKey)
    ));
    let longest = "k".repeat(telepact_auth::MAX_API_KEY_NAME_BYTES);
    assert!(
        auth.create_api_key(&identity, &longest, BTreeSet::new())
            .await
            .is_ok()
    );
    assert!(matches!(
        auth.create_api_key(&identity, &format!("{longest}k"), BTreeSet::new())
            .await,
        Err(AuthError::KeyNameTooLong { limit: 256 })
    ));
    assert!(auth.revoke_api_key(&identity, &key.key_id).await.unwrap());
    assert!(matches!(
        auth.authenticate(&Credential::ApiKey { key: key.key }, None)
            .await,
        Err(AuthError::BadApiKey)
    ));

    keys_go_with_a_family_found_stolen(&auth, &identity, &clock).await;

    // Sessions: CSRF, expiry, logout.
    let session = auth.create_session(&identity).await.unwrap();
    let good = Credential::Session {
        id: session.id.clone(),
        csrf: session.csrf.clone(),
    };
    let forged = Credential::Session {
        id: session.id.clone(),
        csrf: String::new(),
    };
    let by_session = auth.authenticate(&good, None).await.unwrap();
    assert!(matches!(
        auth.authenticate(&forged, None).await,
        Err(AuthError::BadCsrf)
    ));
    auth.logout(&by_session).await.unwrap();
    assert!(matches!(
        auth.authenticate(&good, None).await,
        Err(AuthError::BadSession)
    ));

    // Logout of a bearer token, then expiry of another.
    let pair = auth.issue_tokens(&identity).await.unwrap();
    let caller = bearer(&auth, &pair.access_token).await.unwrap();
    auth.logout(&caller).await.unwrap();
    assert!(bearer(&auth, &pair.access_token).await.is_err());
    let pair = auth.issue_tokens(&identity).await.unwrap();
    clock.advance_secs(u64::try_from(auth.config().jwt.ttl).unwrap());
    assert!(matches!(
        bearer(&auth, &pair.access_token).await,
        Err(AuthError::BadToken("expired"))
    ));
}

/// A key made with a family's access token or linked session stops working when a
/// refresh token of that family is used twice; a logout leaves it working, and so does
/// the theft of a family other than the one that made it.
async fn keys_go_with_a_family_found_stolen(
    auth: &Authenticator,
    identity: &Identity,
    clock: &ManualClock,
) {
    let works = |key: &str| {
        let credential = Credential::ApiKey { key: key.into() };
        async move { auth.authenticate(&credential, None).await.is_ok() }
    };
    let stolen = auth.issue_tokens(identity).await.unwrap();
    let thief = bearer(auth, &stolen.access_token).await.unwrap();
    let thiefs_key = auth.create_api_key(&thief, "t", BTreeSet::new()).await;
    let session = auth.create_linked_session(identity, &stolen).await.unwrap();
    let session = Credential::Session {
        id: session.id,
        csrf: session.csrf,
    };
    let by_session = auth.authenticate(&session, None).await.unwrap();
    let sessions_key = auth.create_api_key(&by_session, "s", BTreeSet::new()).await;
    let by_password = auth.create_api_key(identity, "p", BTreeSet::new()).await;
    let logged_out = auth.issue_tokens(identity).await.unwrap();
    let leaving = bearer(auth, &logged_out.access_token).await.unwrap();
    let before_logout = auth.create_api_key(&leaving, "l", BTreeSet::new()).await;
    auth.logout(&leaving).await.unwrap();
    let [thiefs_key, sessions_key, by_password, before_logout] =
        [thiefs_key, sessions_key, by_password, before_logout].map(|key| key.unwrap().key);
    assert!(works(&thiefs_key).await && works(&sessions_key).await);

    auth.refresh(&stolen.refresh_token).await.unwrap();
    past_the_reuse_grace(auth, clock);
    assert!(matches!(
        auth.refresh(&stolen.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(!works(&thiefs_key).await, "made with the family's token");
    assert!(!works(&sessions_key).await, "made in the family's session");
    assert!(!works(&thiefs_key).await, "and it stays refused");
    assert!(works(&by_password).await, "made with the password");
    assert!(works(&before_logout).await, "a logout is not a theft");
}

/// Within its grace a used refresh token is answered again, with the refresh token its
/// first use got and a new access token: the client of a refresh whose answer was lost
/// (a store write that timed out but took effect) retries it. Past the grace, or once
/// that successor was used, a second use is theft and revokes the family; with a grace
/// of 0 every second use is.
#[tokio::test]
async fn a_used_refresh_token_is_answered_again_within_its_grace_only() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let identity = sign_in(&auth).await;
    let grace = u64::try_from(auth.config().refresh_reuse_grace).unwrap();
    assert_eq!(grace, 10);

    let first = auth.issue_tokens(&identity).await.unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    clock.advance_secs(grace);
    let again = auth.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(again.refresh_token, second.refresh_token);
    assert_ne!(again.access_token, second.access_token);
    assert!(bearer(&auth, &again.access_token).await.is_ok());
    clock.advance_secs(1);
    assert!(matches!(
        auth.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        auth.refresh(&second.refresh_token).await,
        Err(AuthError::BadRefreshToken)
    ));

    let first = auth.issue_tokens(&identity).await.unwrap();
    let second = auth.refresh(&first.refresh_token).await.unwrap();
    let third = auth.refresh(&second.refresh_token).await.unwrap();
    assert!(matches!(
        auth.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        bearer(&auth, &third.access_token).await,
        Err(AuthError::TokenRevoked)
    ));

    let mut config = auth.config().clone();
    config.refresh_reuse_grace = 0;
    let strict = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    let first = strict.issue_tokens(&sign_in(&strict).await).await.unwrap();
    strict.refresh(&first.refresh_token).await.unwrap();
    assert!(matches!(
        strict.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
}

#[tokio::test]
async fn every_flow_on_the_memory_store() {
    exercise(Arc::new(MemoryStore::new())).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn every_flow_on_the_sqlite_store() {
    let store = telepact_auth::store::SqliteStore::in_memory().unwrap();
    exercise(Arc::new(store)).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn every_flow_on_the_redis_store() {
    let Some(redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let store = telepact_auth::store::RedisStore::connect(&redis.url(), "flows:")
        .await
        .unwrap();
    exercise(Arc::new(store)).await;
}

#[tokio::test]
async fn identity_headers_sent_by_a_client_never_reach_a_handler() {
    use telepact::{FunctionRouter, HandlerError, Headers, Message, Server};
    const SCHEMA: &str = r#"[
      {"union.Auth_": [{"Bearer": {"token": "string"}}]},
      {"fn.open": {}, "$authenticated": false, "->": [{"Ok_": {"posed": "boolean"}}]}
    ]"#;
    let router = FunctionRouter::new().route("fn.open", |request: Message| async move {
        let posed = Identity::HEADER_NAMES
            .iter()
            .any(|name| request.headers.contains_key(name));
        let mut payload = serde_json::Map::new();
        payload.insert("posed".to_string(), serde_json::json!(posed));
        Ok::<_, HandlerError>(Message::new(Headers::new(), "Ok_", payload))
    });
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let schema = telepact::schema::Schema::from_text(SCHEMA).unwrap();
    let server = Server::builder(schema, router)
        .on_auth(auth.hook())
        .build()
        .unwrap();
    let request = serde_json::json!([
        {"@userId": "u1", "@roles": ["admin"], "@tenant": "acme"},
        {"fn.open": {}}
    ]);
    let response = server.process(&serde_json::to_vec(&request).unwrap()).await;
    let response: serde_json::Value = serde_json::from_slice(&response.bytes).unwrap();
    assert_eq!(response, serde_json::json!([{}, {"Ok_": {"posed": false}}]));
}

#[test]
fn an_explicit_rule_wins_over_an_internal_name_and_a_rule_the_runtime_cannot_enforce_is_a_mismatch()
{
    use telepact_auth::{Policy, Requirement};
    let admin = Requirement::Role("admin".into());
    let policy = Policy::new()
        .require("fn.purge_", admin.clone())
        .require("fn.ping_", admin.clone());
    assert_eq!(policy.requirement("fn.purge_"), &admin);
    assert_eq!(policy.requirement("fn.api_"), &Requirement::Public);
    let schema = telepact::schema::Schema::from_text(
        r#"[{"union.Auth_": [{"Bearer": {"token": "string"}}]}, {"fn.me": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .unwrap();
    // `fn.ping_` is never authenticated; `fn.purge_` is no function of the schema.
    assert_eq!(policy.mismatches(&schema), ["fn.ping_", "fn.purge_"]);
}

/// An internal function of the schema's own is never authenticated: anyone may call it,
/// which the policy must say in so many words; one marked `$internal: true` falls back
/// to needing a caller, which no call to it can meet.
#[test]
fn an_internal_function_of_the_schemas_own_is_a_mismatch_until_the_policy_makes_it_public() {
    use telepact_auth::Policy;
    let schema = telepact::schema::Schema::from_text(
        r#"[{"union.Auth_": [{"Bearer": {"token": "string"}}]},
            {"fn.export_": {}, "->": [{"Ok_": {}}]},
            {"fn.audit": {}, "$internal": true, "->": [{"Ok_": {}}]},
            {"fn.me": {}, "->": [{"Ok_": {}}]}]"#,
    )
    .unwrap();
    assert_eq!(
        Policy::new().mismatches(&schema),
        ["fn.audit", "fn.export_"]
    );
    let confirmed = Policy::new().public("fn.export_").public("fn.audit");
    assert!(confirmed.mismatches(&schema).is_empty());
}

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.session_ttl = 3600;
    config.session_idle = Some(600);
    let clock = ManualClock::starting_now();
    let auth = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    let identity = sign_in(&auth).await;
    let session = auth.create_session(&identity).await.unwrap();
    let credential = Credential::Session {
        id: session.id.clone(),
        csrf: session.csrf.clone(),
    };
    for _ in 0..3 {
        clock.advance_secs(599);
        assert!(auth.authenticate(&credential, None).await.is_ok());
    }
    clock.advance_secs(600);
    assert!(matches!(
        auth.authenticate(&credential, None).await,
        Err(AuthError::BadSession)
    ));
}

/// A session's last use that the store holds as a time far in the past (a value edited
/// by hand, or garbage) ends the session as idle, rather than overflow the idle time
/// (a panic; in a release build, a session signing in past its idle time).
#[tokio::test]
async fn a_last_use_far_in_the_past_ends_the_session() {
    use sha2::Digest;
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::starting_now();
    let auth = authenticator(store.clone(), &clock);
    let identity = sign_in(&auth).await;
    for last_use in [i64::MIN.to_string(), "garbage".to_string()] {
        let session = auth.create_session(&identity).await.unwrap();
        let hash: String = sha2::Sha256::digest(session.id.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let seen = format!("session-seen:{hash}");
        store.put(&seen, &last_use, None).await.unwrap();
        assert!(
            matches!(
                auth.authenticate(&session_of(&session), None).await,
                Err(AuthError::BadSession)
            ),
            "{last_use}"
        );
    }
}

#[tokio::test]
async fn an_api_key_stops_working_after_its_lifetime() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.api_key_ttl = Some(3600);
    let clock = ManualClock::starting_now();
    let auth = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    let identity = sign_in(&auth).await;
    let key = auth
        .create_api_key(&identity, "ci", ["a".to_string()].into())
        .await
        .unwrap();
    let credential = Credential::ApiKey { key: key.key };
    clock.advance_secs(3599);
    assert!(auth.authenticate(&credential, None).await.is_ok());
    clock.advance_secs(1);
    assert!(matches!(
        auth.authenticate(&credential, None).await,
        Err(AuthError::BadApiKey)
    ));
}

/// `Debug` of a password credential names nothing the caller typed: people type their
/// password into the user name field often enough.
#[test]
fn a_password_credentials_debug_output_shows_neither_field() {
    let credential = Credential::Password {
        username: "hunter2-typed-here".into(),
        password: "hunter2".into(),
    };
    let shown = format!("{credential:?} {credential:#?}");
    assert!(shown.contains("Password"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// Writes until an embedded store (memory or SQLite) purges what expired: it purges
/// every few hundred writes.
pub(crate) async fn until_purged(store: &dyn CredentialStore) {
    for _ in 0..300 {
        store.increment("churn", None).await.unwrap();
    }
}

/// A refresh in a family's last `jwt.ttl` gives an access token that ends with the
/// family, not after it: the family's revocation as stolen is kept only that long, and
/// once a store dropped it, a token that outlived the family worked again (and could
/// make an API key no revocation reached).
async fn last_access_token_ends_with_the_family(
    store: Arc<dyn CredentialStore>,
    clock: &ManualClock,
) {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.refresh_ttl = 3600;
    assert_eq!(config.jwt.ttl, 900);
    let auth = authenticator_with(config, Arc::clone(&store), clock);
    let identity = sign_in(&auth).await;
    let first = auth.issue_tokens(&identity).await.unwrap();
    clock.advance_secs(3500);
    let late = auth.refresh(&first.refresh_token).await.unwrap();
    assert_eq!(late.expires_in, 100, "the family ends in 100 s");
    past_the_reuse_grace(&auth, clock);
    assert!(matches!(
        auth.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    assert!(matches!(
        bearer(&auth, &late.access_token).await,
        Err(AuthError::TokenRevoked)
    ));
    // Past the family's end and the stores' five minutes of grace.
    clock.advance_secs(400);
    until_purged(&*store).await;
    assert!(matches!(
        bearer(&auth, &late.access_token).await,
        Err(AuthError::BadToken("expired"))
    ));
}

#[tokio::test]
async fn a_stolen_familys_last_access_token_ends_with_the_family() {
    let clock = ManualClock::starting_now();
    let memory = MemoryStore::new().with_clock(Arc::new(clock.clone()));
    last_access_token_ends_with_the_family(Arc::new(memory), &clock).await;
    let clock = ManualClock::starting_now();
    let sqlite = telepact_auth::store::SqliteStore::in_memory()
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    last_access_token_ends_with_the_family(Arc::new(sqlite), &clock).await;
}

pub(crate) fn session_of(session: &telepact_auth::NewSession) -> Credential {
    Credential::Session {
        id: session.id.clone(),
        csrf: session.csrf.clone(),
    }
}

/// A session opened by a sign-in with a token ends with the token's family: when the
/// token logs out, and when a refresh token of the family is used twice. (It outlived
/// both, so a stolen access token could open a session its revocation did not reach.)
#[tokio::test]
async fn a_session_opened_with_a_token_ends_with_its_family() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let ada = sign_in(&auth).await;

    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let by_token = bearer(&auth, &tokens.access_token).await.unwrap();
    let session = session_of(&auth.create_session(&by_token).await.unwrap());
    let by_session = auth.authenticate(&session, None).await.unwrap();
    // What the session signs in with makes the same family's session in turn.
    let again = session_of(&auth.create_session(&by_session).await.unwrap());
    auth.logout(&by_token).await.unwrap();
    for ended in [&session, &again] {
        let refused = auth.authenticate(ended, None).await;
        assert!(matches!(refused, Err(AuthError::BadSession)), "{refused:?}");
    }

    let stolen = auth.issue_tokens(&ada).await.unwrap();
    let by_token = bearer(&auth, &stolen.access_token).await.unwrap();
    let session = session_of(&auth.create_session(&by_token).await.unwrap());
    auth.refresh(&stolen.refresh_token).await.unwrap();
    past_the_reuse_grace(&auth, &clock);
    assert!(matches!(
        auth.refresh(&stolen.refresh_token).await,
        Err(AuthError::RefreshReused)
    ));
    let refused = auth.authenticate(&session, None).await;
    assert!(matches!(refused, Err(AuthError::BadSession)), "{refused:?}");

    // A password sign-in's session belongs to none of those families, and outlives their ends.
    let own = session_of(&auth.create_session(&ada).await.unwrap());
    assert!(auth.authenticate(&own, None).await.is_ok());
}

/// Every session tied to one family ends with it, not only the last one tied.
#[tokio::test]
async fn every_session_linked_to_a_family_ends_with_it() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let ada = sign_in(&auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let first = session_of(&auth.create_linked_session(&ada, &tokens).await.unwrap());
    let second = session_of(&auth.create_linked_session(&ada, &tokens).await.unwrap());
    let by_token = bearer(&auth, &tokens.access_token).await.unwrap();
    auth.logout(&by_token).await.unwrap();
    for ended in [&first, &second] {
        let refused = auth.authenticate(ended, None).await;
        assert!(matches!(refused, Err(AuthError::BadSession)), "{refused:?}");
    }
}
