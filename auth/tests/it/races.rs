//! Credentials made or ended while another request, or another instance sharing the
//! store, changes the same sign-in: each interleaving is played out step by step.

use std::collections::BTreeSet;
use std::sync::Arc;

use telepact_auth::{
    AuthError, Authenticator, Credential, CredentialStore, Identity, ManualClock, MemoryStore,
    StoreError, UnixTime,
};

use crate::authenticator::{
    authenticator, authenticator_with, bearer, past_the_reuse_grace, sign_in, test_config,
    until_purged,
};

fn session_of(session: &telepact_auth::NewSession) -> Credential {
    Credential::Session {
        id: session.id.clone(),
        csrf: session.csrf.clone(),
    }
}

/// Whether what `made` holds signs anyone in: an API key or a session.
async fn signs_in(auth: &Authenticator, made: &Credential) -> bool {
    auth.authenticate(made, None).await.is_ok()
}

/// A request signed in with a session tied to a login's refresh family, whose family is
/// found stolen (on `other`, an instance sharing the store) between the session's check
/// and the handler's call: the API key or session the handler makes must not outlive
/// the revocation. The ended session's record was gone, so they were made tied to no
/// family, and worked on.
async fn made_while_the_family_is_found_stolen(
    auth: &Authenticator,
    other: &Authenticator,
    clock: &ManualClock,
) {
    let ada = sign_in(auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let session = auth.create_linked_session(&ada, &tokens).await.unwrap();
    let by_session: Identity = auth
        .authenticate(&session_of(&session), None)
        .await
        .unwrap();

    other.refresh(&tokens.refresh_token).await.unwrap();
    past_the_reuse_grace(other, clock);
    let stolen = other.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(stolen, Err(AuthError::RefreshReused)),
        "{stolen:?}"
    );

    let key = auth.create_api_key(&by_session, "k", BTreeSet::new()).await;
    if let Ok(key) = key {
        let key = Credential::ApiKey { key: key.key };
        assert!(!signs_in(auth, &key).await, "a key outlived the theft");
    }
    let opened = auth.create_session(&by_session).await;
    if let Ok(opened) = opened {
        let opened = session_of(&opened);
        assert!(
            !signs_in(auth, &opened).await,
            "a session outlived the theft"
        );
    }
}

#[tokio::test]
async fn a_session_ended_mid_request_makes_nothing_that_outlives_its_family() {
    let clock = ManualClock::starting_now();
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new());
    let (auth, other) = (
        authenticator(Arc::clone(&store), &clock),
        authenticator(store, &clock),
    );
    made_while_the_family_is_found_stolen(&auth, &other, &clock).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_session_ended_mid_request_on_another_instance_makes_nothing_that_outlives_it() {
    let Some(redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let connect = || telepact_auth::store::RedisStore::connect(&url, "races:");
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(connect().await.unwrap()), &clock);
    let other = authenticator(Arc::new(connect().await.unwrap()), &clock);
    made_while_the_family_is_found_stolen(&auth, &other, &clock).await;
}
type StoreFuture<'a, T> = telepact::BoxFuture<'a, Result<T, StoreError>>;

/// A memory store that plays out what tests arm: its next write of a key starting with
/// a prefix fails, as a store that went away part way through a sequence of writes; its
/// claims (of a refresh token) take seconds of a clock, as a slow store's do; or two
/// theft detections of one family run at once (see [`ScriptedStore::theft_found_twice`]).
#[derive(Default)]
struct ScriptedStore {
    inner: MemoryStore,
    armed: std::sync::Mutex<Option<&'static str>>,
    slow_claims: std::sync::Mutex<Option<(ManualClock, u64)>>,
    /// The stolen-mark writes so far, when two detections are played out.
    stolen_writes: Option<std::sync::atomic::AtomicUsize>,
    second_done: tokio::sync::Notify,
    /// Armed, the next `add_member` waits for it, as a slow store's write does.
    held_member: std::sync::Mutex<Option<Arc<tokio::sync::Notify>>>,
    /// Told when a held `add_member` starts to wait.
    member_held: tokio::sync::Notify,
}

impl ScriptedStore {
    /// A store that sweeps what expired by `clock`.
    fn with_clock(clock: &ManualClock) -> Self {
        ScriptedStore {
            inner: MemoryStore::new().with_clock(Arc::new(clock.clone())),
            ..Default::default()
        }
    }

    fn fail_next_put(&self, prefix: &'static str) {
        *self.armed.lock().unwrap() = Some(prefix);
    }

    /// Each claim from now on moves `clock` on by `seconds`.
    fn claims_take(&self, clock: &ManualClock, seconds: u64) {
        *self.slow_claims.lock().unwrap() = Some((clock.clone(), seconds));
    }

    /// Plays out two theft detections of one family at once: the first's first write of
    /// the family's stolen mark is held until the second has written its mark twice (as
    /// long as the family lives, then as long as its keys do), and the first's next write
    /// of the mark then fails.
    fn theft_found_twice(mut self) -> Self {
        self.stolen_writes = Some(Default::default());
        self
    }

    /// Runs `write` (made only when it is to run) in the order the test arms.
    fn ordered<'a, T: Send + 'a>(
        &'a self,
        key: &str,
        write: impl FnOnce() -> StoreFuture<'a, T> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        let Some(writes) = self
            .stolen_writes
            .as_ref()
            .filter(|_| key.starts_with("family-stolen:"))
        else {
            return write();
        };
        let order = writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            match order {
                0 => {
                    self.second_done.notified().await;
                    write().await
                }
                2 => {
                    let written = write().await;
                    self.second_done.notify_one();
                    written
                }
                3 => Err(StoreError::new("test", "write", "refused")),
                _ => write().await,
            }
        })
    }

    fn refuses(&self, key: &str) -> bool {
        let mut armed = self.armed.lock().unwrap();
        let refused = armed.is_some_and(|prefix| key.starts_with(prefix));
        if refused {
            *armed = None;
        }
        refused
    }
}

impl CredentialStore for ScriptedStore {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, ()> {
        if self.refuses(key) {
            return Box::pin(async { Err(StoreError::new("test", "write", "refused")) });
        }
        self.ordered(key, move || self.inner.put(key, value, at))
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, bool> {
        if let Some((clock, seconds)) = &*self.slow_claims.lock().unwrap() {
            clock.advance_secs(*seconds);
        }
        self.ordered(key, move || self.inner.put_if_absent(key, value, at))
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        self.inner.get(key)
    }

    fn add<'a>(&'a self, key: &'a str, delta: i64, at: Option<UnixTime>) -> StoreFuture<'a, i64> {
        self.inner.add(key, delta, at)
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.inner.delete(key)
    }

    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, u64> {
        let Some(release) = self.held_member.lock().unwrap().take() else {
            return self.inner.add_member(key, member, at);
        };
        Box::pin(async move {
            self.member_held.notify_one();
            release.notified().await;
            self.inner.add_member(key, member, at).await
        })
    }

    fn remove_member<'a>(&'a self, key: &'a str, member: &'a str) -> StoreFuture<'a, ()> {
        self.inner.remove_member(key, member)
    }
}

/// A logout whose store failed part way is refused, and leaves the caller's credential
/// signing in so that the client can log out again; the second logout ends the whole
/// sign-in. The token (or session) was ended before its family was revoked: a failure
/// between the two left the refresh token working and no credential to log out with.
#[tokio::test]
async fn a_logout_that_failed_part_way_can_be_done_again() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ScriptedStore::default());
    let auth = authenticator(Arc::clone(&store) as Arc<dyn CredentialStore>, &clock);
    let ada = sign_in(&auth).await;

    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let by_token = Credential::Bearer {
        token: tokens.access_token.clone(),
    };
    logout_twice(&auth, &store, &by_token).await;
    let refused = auth.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(refused, Err(AuthError::BadRefreshToken)),
        "{refused:?}"
    );

    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let session = auth.create_linked_session(&ada, &tokens).await.unwrap();
    let by_session = session_of(&session);
    logout_twice(&auth, &store, &by_session).await;
    let refused = auth.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(refused, Err(AuthError::BadRefreshToken)),
        "{refused:?}"
    );
    assert!(!signs_in(&auth, &by_session).await);
}

/// Logs out with `credential` while the family's revocation cannot be written, then
/// again once it can.
async fn logout_twice(auth: &Authenticator, store: &ScriptedStore, credential: &Credential) {
    let caller = auth.authenticate(credential, None).await.unwrap();
    store.fail_next_put("family-revoked:");
    let failed = auth.logout(&caller).await;
    assert!(matches!(failed, Err(AuthError::Store(_))), "{failed:?}");
    let again = auth.authenticate(credential, None).await;
    let again = again.expect("the credential signs in, to log out again");
    auth.logout(&again).await.unwrap();
}

/// A refresh accepted in its family's last second, whose claim of the token took the
/// store two seconds, answers the pair as of the instant it was accepted: an access token
/// that ends with the family, a second on. The refresh read the clock again after the
/// claim, and answered `expires_in` -1 with an access token and refresh token both past
/// the family's end.
#[tokio::test]
async fn a_refresh_answers_as_of_the_instant_it_was_accepted() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ScriptedStore::default());
    let auth = authenticator(Arc::clone(&store) as Arc<dyn CredentialStore>, &clock);
    let tokens = auth.issue_tokens(&sign_in(&auth).await).await.unwrap();
    let last_second = u64::try_from(auth.config().refresh_ttl - 1).unwrap();
    clock.advance_secs(last_second);
    store.claims_take(&clock, 2);
    let answered = auth.refresh(&tokens.refresh_token).await;
    let answered = answered.expect("accepted before the family ended");
    assert_eq!(answered.expires_in, 1);
}

/// A theft found while the store refuses one of the revocation's writes (the family's
/// stolen mark, written again as long as its keys live, or its revoked mark) is
/// answered `AuthError::Store`, and the thief's refresh token is refused all the same.
/// A failed stolen mark ended the detection before the family was revoked, and a failed
/// revoked mark left it unrevoked: the family's tokens worked on until the stolen token
/// was used again.
#[tokio::test]
async fn a_theft_found_while_a_revocation_write_fails_still_ends_the_family() {
    for failing in ["family-stolen:", "family-revoked:"] {
        let clock = ManualClock::starting_now();
        let store = Arc::new(ScriptedStore::default());
        let auth = authenticator(Arc::clone(&store) as Arc<dyn CredentialStore>, &clock);
        let tokens = auth.issue_tokens(&sign_in(&auth).await).await.unwrap();
        // A key made by the family has its stolen mark written twice.
        let by_token = bearer(&auth, &tokens.access_token).await.unwrap();
        auth.create_api_key(&by_token, "k", BTreeSet::new())
            .await
            .unwrap();
        let thief = auth.refresh(&tokens.refresh_token).await.unwrap();
        past_the_reuse_grace(&auth, &clock);
        store.fail_next_put(failing);
        let found = auth.refresh(&tokens.refresh_token).await;
        assert!(
            matches!(found, Err(AuthError::Store(_))),
            "{failing}: {found:?}"
        );
        let refused = auth.refresh(&thief.refresh_token).await;
        assert!(
            matches!(refused, Err(AuthError::BadRefreshToken)),
            "{failing}: {refused:?}"
        );
    }
}

/// A theft found while the store refuses the family's revoked mark (its stolen mark
/// written) ends the family's access tokens and the session its login opened, not only
/// its refresh tokens. Tokens and sessions read the revoked mark alone, and signed in
/// until their own ends.
#[tokio::test]
async fn a_theft_whose_revoked_mark_fails_ends_the_familys_tokens_and_session() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ScriptedStore::default());
    let auth = authenticator(Arc::clone(&store) as Arc<dyn CredentialStore>, &clock);
    let ada = sign_in(&auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let session = auth.create_linked_session(&ada, &tokens).await.unwrap();
    let thief = auth.refresh(&tokens.refresh_token).await.unwrap();
    past_the_reuse_grace(&auth, &clock);
    store.fail_next_put("family-revoked:");
    let found = auth.refresh(&tokens.refresh_token).await;
    assert!(matches!(found, Err(AuthError::Store(_))), "{found:?}");

    let by_token = bearer(&auth, &thief.access_token).await;
    assert!(
        matches!(by_token, Err(AuthError::TokenRevoked)),
        "{by_token:?}"
    );
    let by_session = auth.authenticate(&session_of(&session), None).await;
    assert!(
        matches!(by_session, Err(AuthError::BadSession)),
        "{by_session:?}"
    );
}

/// Two instances sharing one Redis, each with room for every guess at once.
#[cfg(feature = "redis")]
async fn two_instances(
    redis: &telepact_test_support::RedisServer,
    prefix: &str,
    grace: i64,
) -> (Authenticator, Authenticator, ManualClock) {
    let clock = ManualClock::starting_now();
    let mut config = telepact_auth::AuthConfig::new("issuer", "audience");
    config.password = telepact_auth::PasswordParams::insecure_for_tests();
    config.password_checks = 128;
    config.refresh_reuse_grace = grace;
    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = telepact_auth::store::RedisStore::connect(&redis.url(), prefix).await;
        let store = Arc::new(store.unwrap());
        instances.push(authenticator_with(config.clone(), store, &clock));
    }
    let second = instances.pop().unwrap();
    (instances.pop().unwrap(), second, clock)
}

/// Wrong guesses sent all at once to two instances sharing Redis, from one address:
/// no more than the account's limit from that address reach the password check.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_at_once_on_two_instances_are_held_to_the_limit() {
    let Some(redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let (first, second, _clock) = two_instances(&redis, "guesses:", 10).await;
    let limit = first.config().throttle.per_account_from_address as usize;
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..40 {
        let auth = if n % 2 == 0 { &first } else { &second }.clone();
        guesses.spawn(async move {
            let credential = Credential::Password {
                username: "ada".into(),
                password: format!("guess {n}"),
            };
            auth.authenticate(&credential, Some("10.0.0.9")).await
        });
    }
    let outcomes = guesses.join_all().await;
    let checked = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(AuthError::BadPassword)))
        .count();
    let throttled = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(AuthError::Throttled)))
        .count();
    assert!(checked <= limit, "{checked} guesses checked");
    assert_eq!(checked + throttled, 40, "{outcomes:?}");
}

/// One refresh token sent many times at once to two instances sharing Redis: with no
/// grace, at most one use is answered and the family is revoked; with the grace, every
/// use answered gets the same refresh token.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refreshes_at_once_on_two_instances_share_one_successor_or_revoke() {
    let Some(redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    for grace in [0, 10] {
        let prefix = format!("refresh-{grace}:");
        let (first, second, _clock) = two_instances(&redis, &prefix, grace).await;
        let tokens = first.issue_tokens(&sign_in(&first).await).await.unwrap();
        let mut uses = tokio::task::JoinSet::new();
        for n in 0..16 {
            let auth = if n % 2 == 0 { &first } else { &second }.clone();
            let token = tokens.refresh_token.clone();
            uses.spawn(async move { auth.refresh(&token).await });
        }
        let outcomes = uses.join_all().await;
        let answered: BTreeSet<String> = outcomes
            .iter()
            .filter_map(|outcome| outcome.as_ref().ok())
            .map(|pair| pair.refresh_token.clone())
            .collect();
        assert_eq!(answered.len(), 1, "grace {grace}: {outcomes:?}");
        let successor = answered.into_iter().next().unwrap();
        if grace == 0 {
            let answered = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
            assert_eq!(answered, 1, "{outcomes:?}");
            let refused = second.refresh(&successor).await;
            assert!(
                matches!(refused, Err(AuthError::BadRefreshToken)),
                "{refused:?}"
            );
        } else {
            assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
            second.refresh(&successor).await.unwrap();
        }
    }
}

/// Two uses of a stolen refresh token found at once, one detection's mark written as
/// long as the family lives after the other's as long as its API keys live, and its own
/// longer write then failing: the mark ended with the family, and once the store dropped
/// it, a key the family made (keys here never expire) worked again.
#[tokio::test]
async fn a_theft_found_twice_at_once_keeps_the_longer_mark() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ScriptedStore::with_clock(&clock).theft_found_twice());
    let instance = || {
        let mut config = test_config();
        config.refresh_ttl = 3600;
        let store: Arc<dyn CredentialStore> = store.clone();
        authenticator_with(config, store, &clock)
    };
    let (auth, other) = (instance(), instance());
    let ada = sign_in(&auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let by_token = bearer(&auth, &tokens.access_token).await.unwrap();
    let key = auth.create_api_key(&by_token, "k", BTreeSet::new()).await;
    let key = Credential::ApiKey {
        key: key.unwrap().key,
    };
    auth.refresh(&tokens.refresh_token).await.unwrap();
    past_the_reuse_grace(&auth, &clock);

    let (first, second) = tokio::join!(
        auth.refresh(&tokens.refresh_token),
        other.refresh(&tokens.refresh_token)
    );
    assert!(matches!(first, Err(AuthError::Store(_))), "{first:?}");
    assert!(
        matches!(second, Err(AuthError::RefreshReused)),
        "{second:?}"
    );
    // The key is not used until the family has ended (a use now would delete it).
    // Past the family's end and the store's five minutes of grace.
    clock.advance_secs(4000);
    until_purged(&*store).await;
    assert!(!signs_in(&auth, &key).await, "the family's key works again");
}

/// A guesser past its limit for ada, whose refused attempts meet a slow store, holds no
/// password-check place while they are counted: the owner, elsewhere, signs in. Its
/// attempt held ada's share of the places, and her login was refused as busy, for as
/// long as the guesser kept one attempt under way.
#[tokio::test]
async fn a_guesser_past_its_limit_holds_no_place_the_owner_needs() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ScriptedStore::with_clock(&clock));
    let mut config = test_config();
    config.password_checks = 2;
    let auth = authenticator_with(
        config,
        Arc::clone(&store) as Arc<dyn CredentialStore>,
        &clock,
    );
    let login = |password: &str, address: &'static str| {
        let (auth, credential) = (
            auth.clone(),
            Credential::Password {
                username: "ada".into(),
                password: password.into(),
            },
        );
        async move { auth.authenticate(&credential, Some(address)).await }
    };
    let limit = test_config().throttle.per_account_from_address;
    for _ in 0..limit {
        let guessed = login("wrong", "10.0.0.9").await;
        assert!(
            matches!(guessed, Err(AuthError::BadPassword)),
            "{guessed:?}"
        );
    }
    let release = Arc::new(tokio::sync::Notify::new());
    *store.held_member.lock().unwrap() = Some(Arc::clone(&release));
    let guesser = tokio::spawn(login("wrong", "10.0.0.9"));
    store.member_held.notified().await;
    let owner = login(crate::authenticator::PASSWORD, "10.0.0.1").await;
    release.notify_one();
    let guessed = guesser.await.unwrap();
    assert!(matches!(guessed, Err(AuthError::Throttled)), "{guessed:?}");
    assert_eq!(owner.map(|ada| ada.user_id).ok().as_deref(), Some("u1"));
}

/// A login refused because the password-check places are taken was checked by no
/// password: the hook answers it as credentials it could not check (`ErrorUnknown_`),
/// so that a client keeps a password that may be good, where `ErrorUnauthenticated_`
/// told the client's authoriser the password was wrong.
#[tokio::test]
async fn a_login_refused_as_busy_is_answered_as_not_checked() {
    use telepact::{AuthHook, AuthUnavailable, Headers};
    let auth = crate::logins::with_two_slow_places();
    let hook = auth.hook();
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let mut headers = Headers::new();
        let login = serde_json::json!({"Password": {"username": "ada", "password": crate::authenticator::PASSWORD}});
        headers.insert("@auth_", login);
        logins.spawn(hook.authenticate(&headers));
    }
    let outcomes = logins.join_all().await;
    let not_checked = |outcome: &&Result<_, telepact::HandlerError>| matches!(outcome, Err(error) if error.downcast_ref::<AuthUnavailable>().is_some());
    let refused: Vec<_> = outcomes
        .iter()
        .filter_map(|outcome| outcome.as_ref().err())
        .filter(|error| error.downcast_ref::<AuthUnavailable>().is_none())
        .map(ToString::to_string)
        .collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert!(outcomes.iter().filter(not_checked).count() >= 8);
}
