//! The authenticator's flows without a transport, run on every store backend.

use std::sync::Arc;

use telepact_auth::{
    AuthConfig, AuthError, AuthMethod, Authenticator, Credential, CredentialStore, Identity,
    JwtKey, JwtKeys, ManualClock, MemoryStore, MemoryUsers, PasswordParams, User,
};

const PASSWORD: &str = "s3cret-enough";

fn authenticator(store: Arc<dyn CredentialStore>, clock: &ManualClock) -> Authenticator {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    authenticator_with(config, store, clock)
}

fn authenticator_with(
    config: AuthConfig,
    store: Arc<dyn CredentialStore>,
    clock: &ManualClock,
) -> Authenticator {
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
    users.insert("ada", auth.passwords().hash(PASSWORD).unwrap(), user);
    auth
}

async fn sign_in(auth: &Authenticator) -> Identity {
    let credential = Credential::Password {
        username: "ada".into(),
        password: PASSWORD.into(),
    };
    auth.authenticate(&credential, Some("127.0.0.1"))
        .await
        .unwrap()
}

async fn bearer(auth: &Authenticator, token: &str) -> Result<Identity, AuthError> {
    let credential = Credential::Bearer {
        token: token.into(),
    };
    auth.authenticate(&credential, None).await
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
    assert!(auth.revoke_api_key(&identity, &key.key_id).await.unwrap());
    assert!(matches!(
        auth.authenticate(&Credential::ApiKey { key: key.key }, None)
            .await,
        Err(AuthError::BadApiKey)
    ));

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
async fn wrong_passwords_and_unknown_users_are_refused_alike() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    for (username, password) in [("ada", "wrong"), ("nobody", PASSWORD)] {
        let credential = Credential::Password {
            username: username.into(),
            password: password.into(),
        };
        assert!(matches!(
            auth.authenticate(&credential, None).await,
            Err(AuthError::BadPassword)
        ));
    }
}

async fn stored_hash(users: &dyn telepact_auth::UserLoader) -> String {
    let login = users.find_login("ada").await.unwrap().unwrap();
    login.password_hash
}

/// An authenticator hashing at the test costs over `users`, where "ada" signs in with
/// [`PASSWORD`], hashed at lower costs.
fn with_older_hash(
    users: Arc<dyn telepact_auth::UserLoader>,
    directory: &MemoryUsers,
) -> Authenticator {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    let auth = Authenticator::new(config, keys, users, Arc::new(MemoryStore::new())).unwrap();
    let older = PasswordParams::insecure_for_tests().memory_kib(32);
    let older = telepact_auth::PasswordHasher::new(older).unwrap();
    let user = User {
        user_id: "u1".into(),
        ..User::default()
    };
    directory.insert("ada", older.hash(PASSWORD).unwrap(), user);
    auth
}

#[tokio::test]
async fn a_login_moves_a_hash_with_older_costs_to_the_current_ones() {
    let users = MemoryUsers::new();
    let auth = with_older_hash(Arc::new(users.clone()), &users);
    let older = stored_hash(&users).await;
    assert!(auth.passwords().needs_rehash(&older));

    let wrong = Credential::Password {
        username: "ada".into(),
        password: "wrong".into(),
    };
    assert!(matches!(
        auth.authenticate(&wrong, None).await,
        Err(AuthError::BadPassword)
    ));
    assert_eq!(
        stored_hash(&users).await,
        older,
        "a failed login changes nothing"
    );

    sign_in(&auth).await;
    let current = stored_hash(&users).await;
    assert_ne!(current, older);
    assert!(!auth.passwords().needs_rehash(&current));
    assert!(auth.passwords().verify(PASSWORD, &current));

    sign_in(&auth).await;
    assert_eq!(stored_hash(&users).await, current, "a current hash stays");
}

#[tokio::test]
async fn a_directory_the_service_only_reads_keeps_its_hashes() {
    let users = Arc::new(CountingUsers {
        inner: MemoryUsers::new(),
        lookups: Default::default(),
    });
    let auth = with_older_hash(users.clone(), &users.inner);
    let older = stored_hash(&users.inner).await;
    sign_in(&auth).await;
    assert_eq!(stored_hash(&users.inner).await, older);
}

/// A directory whose store of new hashes is down.
struct UnwritableUsers(MemoryUsers);

impl telepact_auth::UserLoader for UnwritableUsers {
    fn find_login(
        &self,
        username: &str,
    ) -> telepact::BoxFuture<'_, Result<Option<telepact_auth::LoginRecord>, AuthError>> {
        self.0.find_login(username)
    }

    fn load_user(&self, user_id: &str) -> telepact::BoxFuture<'_, Result<Option<User>, AuthError>> {
        self.0.load_user(user_id)
    }

    fn stores_password_hashes(&self) -> bool {
        true
    }

    fn replace_password_hash(
        &self,
        _username: &str,
        _old_hash: &str,
        _new_hash: String,
    ) -> telepact::BoxFuture<'_, Result<(), AuthError>> {
        Box::pin(async { Err(AuthError::Internal("reach the directory")) })
    }
}

#[tokio::test]
async fn a_new_hash_the_directory_cannot_store_costs_the_login_nothing() {
    let users = Arc::new(UnwritableUsers(MemoryUsers::new()));
    let auth = with_older_hash(users.clone(), &users.0);
    let older = stored_hash(&users.0).await;
    sign_in(&auth).await;
    assert_eq!(stored_hash(&users.0).await, older);
}

#[tokio::test]
async fn a_hash_replaced_since_the_login_read_it_is_kept() {
    use telepact_auth::UserLoader;
    let users = MemoryUsers::new();
    let auth = with_older_hash(Arc::new(users.clone()), &users);
    let changed = auth.passwords().hash("a new password").unwrap();
    let older = stored_hash(&users).await;
    users.insert("ada", changed.clone(), User::default());
    let rehashed = auth.passwords().hash(PASSWORD).unwrap();
    users
        .replace_password_hash("ada", &older, rehashed)
        .await
        .unwrap();
    assert_eq!(stored_hash(&users).await, changed);
}

/// A directory that counts password lookups (each is followed by a verification) and
/// yields first, as a real directory does, so concurrent logins interleave.
struct CountingUsers {
    inner: MemoryUsers,
    lookups: std::sync::atomic::AtomicUsize,
}

impl telepact_auth::UserLoader for CountingUsers {
    fn find_login(
        &self,
        username: &str,
    ) -> telepact::BoxFuture<'_, Result<Option<telepact_auth::LoginRecord>, AuthError>> {
        let username = username.to_string();
        Box::pin(async move {
            self.lookups
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::task::yield_now().await;
            self.inner.find_login(&username).await
        })
    }

    fn load_user(&self, user_id: &str) -> telepact::BoxFuture<'_, Result<Option<User>, AuthError>> {
        self.inner.load_user(user_id)
    }

    // Would store, but `stores_password_hashes` keeps its default: no login calls it.
    fn replace_password_hash(
        &self,
        username: &str,
        old_hash: &str,
        new_hash: String,
    ) -> telepact::BoxFuture<'_, Result<(), AuthError>> {
        self.inner
            .replace_password_hash(username, old_hash, new_hash)
    }
}

#[tokio::test]
async fn concurrent_wrong_logins_reach_the_password_check_at_most_the_limit() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.password_checks = 64;
    let limit = config.throttle.per_account as usize;
    let users = Arc::new(CountingUsers {
        inner: MemoryUsers::new(),
        lookups: Default::default(),
    });
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    let auth =
        Authenticator::new(config, keys, users.clone(), Arc::new(MemoryStore::new())).unwrap();
    let hash = auth.passwords().hash(PASSWORD).unwrap();
    users.inner.insert("ada", hash, User::default());
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..50 {
        let auth = auth.clone();
        guesses.spawn(async move {
            let credential = Credential::Password {
                username: "ada".into(),
                password: format!("guess {n}"),
            };
            auth.authenticate(&credential, None).await
        });
    }
    let outcomes = guesses.join_all().await;
    let throttled = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(AuthError::Throttled)))
        .count();
    let lookups = users.lookups.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(lookups, limit, "guesses that reached the password check");
    assert_eq!(throttled, 50 - limit);
}

#[tokio::test]
async fn bearer_calls_answer_while_password_logins_run() {
    let mut config = AuthConfig::new("issuer", "audience");
    // Dear enough that a check outlasts a scheduler turn, cheap enough for a debug build.
    config.password = PasswordParams::default()
        .memory_kib(2048)
        .iterations(1)
        .parallelism(1);
    config.password_checks = 2;
    config.throttle.per_account = 100;
    let clock = ManualClock::starting_now();
    let auth = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    let identity = sign_in(&auth).await;
    let pair = auth.issue_tokens(&identity).await.unwrap();
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (auth, finished) = (auth.clone(), Arc::clone(&finished));
        logins.spawn(async move {
            let outcome = sign_in_result(&auth).await;
            finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            outcome
        });
    }
    tokio::task::yield_now().await;
    let caller = bearer(&auth, &pair.access_token).await.unwrap();
    assert_eq!(caller.user_id, "u1");
    let finished_then = finished.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        finished_then < 32,
        "the bearer call waited for all {finished_then} password logins"
    );
    let outcomes = logins.join_all().await;
    let signed_in = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let busy = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(AuthError::Busy)))
        .count();
    // Two checks run at once and the rest are refused, not queued; how many more sign
    // in depends on how soon a check ends and frees its place while logins still arrive.
    assert_eq!(signed_in + busy, 32, "{outcomes:?}");
    assert!(signed_in >= 2, "{outcomes:?}");
    assert!(
        busy >= 16,
        "logins queued instead of being refused: {outcomes:?}"
    );
}

async fn sign_in_result(auth: &Authenticator) -> Result<Identity, AuthError> {
    let credential = Credential::Password {
        username: "ada".into(),
        password: PASSWORD.into(),
    };
    auth.authenticate(&credential, None).await
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

#[tokio::test]
async fn oversized_usernames_and_passwords_are_refused_before_the_directory() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    let users = Arc::new(CountingUsers {
        inner: MemoryUsers::new(),
        lookups: Default::default(),
    });
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    let auth =
        Authenticator::new(config, keys, users.clone(), Arc::new(MemoryStore::new())).unwrap();
    let long = "x".repeat(1 << 20);
    for (username, password) in [(long.as_str(), PASSWORD), ("ada", long.as_str())] {
        let credential = Credential::Password {
            username: username.into(),
            password: password.into(),
        };
        assert!(matches!(
            auth.authenticate(&credential, None).await,
            Err(AuthError::BadPassword)
        ));
    }
    assert_eq!(users.lookups.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(matches!(
        auth.passwords().hash(&long),
        Err(AuthError::Malformed)
    ));
}

#[tokio::test]
async fn the_address_limit_counts_an_ipv6_slash_64_as_one_client() {
    use telepact::{AuthHook, Headers, PeerAddress};
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.throttle.per_address = 2;
    let clock = ManualClock::starting_now();
    let auth = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    let hook = auth.hook();
    let guess = |host: u16, username: &str| {
        let mut headers = Headers::new();
        headers.insert(
            "@auth_",
            serde_json::json!({"Password": {"username": username, "password": "wrong"}}),
        );
        let mut transport = axum::http::Extensions::new();
        let address = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, host);
        transport.insert(PeerAddress((address, 443).into()));
        hook.authenticate_request(&headers, &transport)
    };
    for host in 1..=2 {
        assert!(guess(host, &format!("guess{host}")).await.is_err());
    }
    // A third address in the same /64, with the right password: the bucket is full.
    let mut headers = Headers::new();
    headers.insert(
        "@auth_",
        serde_json::json!({"Password": {"username": "ada", "password": PASSWORD}}),
    );
    let mut transport = axum::http::Extensions::new();
    let address = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 3);
    transport.insert(PeerAddress((address, 443).into()));
    assert!(
        hook.authenticate_request(&headers, &transport)
            .await
            .is_err()
    );
    let elsewhere = std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 3);
    transport.insert(PeerAddress((elsewhere, 443).into()));
    assert!(
        hook.authenticate_request(&headers, &transport)
            .await
            .is_ok()
    );
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
    assert_eq!(policy.mismatches(&schema), ["fn.ping_"]);
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
