//! Password logins: refusals, hashes moved to current costs, the throttle under
//! concurrent guesses, and the places password checks run in.

use std::sync::Arc;

use telepact_auth::{
    AuthConfig, AuthError, Authenticator, Credential, Identity, JwtKey, JwtKeys, ManualClock,
    MemoryStore, MemoryUsers, PasswordParams, User, UserLoader,
};

use super::authenticator::{PASSWORD, authenticator, authenticator_with, bearer, sign_in};

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused_alike() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    for (username, password) in [("ada", "wrong"), ("nobody", PASSWORD)] {
        let credential = password_login(username, password);
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

    let wrong = password_login("ada", "wrong");
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
    let users = Arc::new(CountingUsers::default());
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
#[derive(Default)]
struct CountingUsers {
    inner: MemoryUsers,
    lookups: std::sync::atomic::AtomicUsize,
}

/// An authenticator over an empty [`CountingUsers`] directory, and that directory.
fn over_counting_users(config: AuthConfig) -> (Authenticator, Arc<CountingUsers>) {
    let users = Arc::new(CountingUsers::default());
    (over_users(config, users.clone()), users)
}

/// An authenticator over `users`, with a store in memory.
fn over_users(config: AuthConfig, users: Arc<dyn UserLoader>) -> Authenticator {
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    Authenticator::new(config, keys, users, Arc::new(MemoryStore::new())).unwrap()
}

/// An authenticator with cheap password hashes over `users`, a directory that reads
/// `directory`, into which Ada (`u1`, [`PASSWORD`]) is put.
fn with_ada(
    mut config: AuthConfig,
    directory: &MemoryUsers,
    users: Arc<dyn UserLoader>,
) -> Authenticator {
    config.password = PasswordParams::insecure_for_tests();
    let auth = over_users(config, users);
    let user = User {
        user_id: "u1".into(),
        ..User::default()
    };
    directory.insert("ada", auth.passwords().hash(PASSWORD).unwrap(), user);
    auth
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
    // A place for every guess at once (one account holds half of them): each holds its
    // place while its attempt is counted, on a task of its own.
    config.password_checks = 128;
    let limit = config.throttle.per_account_from_address as usize;
    let (auth, users) = over_counting_users(config);
    let hash = auth.passwords().hash(PASSWORD).unwrap();
    users.inner.insert("ada", hash, User::default());
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..50 {
        let auth = auth.clone();
        guesses.spawn(async move {
            let credential = password_login("ada", &format!("guess {n}"));
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

/// An authenticator with two password-check places, each check dear enough to outlast
/// a scheduler turn, cheap enough for a debug build.
pub(crate) fn with_two_slow_places() -> Authenticator {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::default()
        .memory_kib(2048)
        .iterations(1)
        .parallelism(1);
    config.password_checks = 2;
    config.throttle.per_account = 100;
    let clock = ManualClock::starting_now();
    authenticator_with(config, Arc::new(MemoryStore::new()), &clock)
}

/// The password checks cannot end before the bearer call answers: the runtime's one
/// blocking thread is held until then, so a check waits on the blocking pool. Were a
/// check run on the async worker, or the bearer call behind a check's place, the two
/// logins holding the places would end first, or the bearer call would not answer.
#[test]
fn bearer_calls_answer_while_password_logins_run() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let auth = with_two_slow_places();
        let identity = sign_in(&auth).await;
        let pair = auth.issue_tokens(&identity).await.unwrap();
        let (release_pool, held) = std::sync::mpsc::channel::<()>();
        let pool_holder = tokio::task::spawn_blocking(move || held.recv());
        let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut logins = tokio::task::JoinSet::new();
        for n in 0..32 {
            let (auth, finished) = (auth.clone(), Arc::clone(&finished));
            // Two accounts, as one account holds at most one of the two places.
            let username = if n % 2 == 0 { "ada" } else { "bob" };
            logins.spawn(async move {
                let outcome = sign_in_as(&auth, username, None).await;
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                outcome
            });
        }
        // Each account's other logins are refused at once, not queued.
        for _ in 0..1_000 {
            if finished.load(std::sync::atomic::Ordering::SeqCst) >= 30 {
                break;
            }
            tokio::task::yield_now().await;
        }
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            bearer(&auth, &pair.access_token),
        );
        let caller = answer.await.expect("the bearer call waited").unwrap();
        assert_eq!(caller.user_id, "u1");
        let finished_then = finished.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            finished_then, 30,
            "logins refused, and none checked, by then"
        );
        release_pool.send(()).unwrap();
        pool_holder.await.unwrap().unwrap();
        let outcomes = logins.join_all().await;
        assert_eq!(count_signed_in_and_busy(&outcomes), (2, 30), "{outcomes:?}");
    });
}

#[tokio::test]
async fn one_account_logging_in_without_pause_leaves_places_for_others() {
    let auth = with_two_slow_places();
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let auth = auth.clone();
        logins.spawn(async move { sign_in_as(&auth, "ada", Some("10.0.0.1")).await });
    }
    tokio::task::yield_now().await;
    // Ada's logins hold one place at most: the other is bob's.
    let bob = sign_in_as(&auth, "bob", Some("10.0.0.2")).await;
    assert_eq!(
        bob.map(|identity| identity.user_id).ok().as_deref(),
        Some("u2")
    );
    let outcomes = logins.join_all().await;
    let (signed_in, busy) = count_signed_in_and_busy(&outcomes);
    assert_eq!(signed_in + busy, 16, "{outcomes:?}");
    assert!(signed_in >= 1 && busy >= 8, "{outcomes:?}");
}

/// Two valid accounts logging in without pause, from two addresses, cannot hold both
/// places: a third account's login waits its turn and gets one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_logging_in_without_pause_leave_a_place_for_a_third() {
    let auth = with_two_slow_places();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut loops = tokio::task::JoinSet::new();
    for (username, address) in [("ada", "10.0.0.1"), ("bob", "10.0.0.2")] {
        let (auth, stop) = (auth.clone(), Arc::clone(&stop));
        loops.spawn(async move {
            let mut signed_in = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                signed_in += usize::from(sign_in_as(&auth, username, Some(address)).await.is_ok());
            }
            signed_in
        });
    }
    // Both loops under way, so both places are taken whenever a check ends.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut outcomes = Vec::new();
    for _ in 0..10 {
        outcomes.push(sign_in_as(&auth, "cy", Some("10.0.0.3")).await);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let looped = loops.join_all().await;
    assert!(looped.iter().all(|&signed_in| signed_in > 0), "{looped:?}");
    assert!(
        outcomes.iter().all(Result::is_ok),
        "cy was refused while two accounts looped: {outcomes:?}"
    );
}

fn count_signed_in_and_busy(outcomes: &[Result<Identity, AuthError>]) -> (usize, usize) {
    let signed_in = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    let busy = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(AuthError::Busy)))
        .count();
    (signed_in, busy)
}

async fn sign_in_as(
    auth: &Authenticator,
    username: &str,
    address: Option<&str>,
) -> Result<Identity, AuthError> {
    auth.authenticate(&password_login(username, PASSWORD), address)
        .await
}

fn password_login(username: &str, password: &str) -> Credential {
    Credential::Password {
        username: username.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn oversized_usernames_and_passwords_are_refused_before_the_directory() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    let (auth, users) = over_counting_users(config);
    let long = "x".repeat(1 << 20);
    for (username, password) in [(long.as_str(), PASSWORD), ("ada", long.as_str())] {
        let credential = password_login(username, password);
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

/// A directory that finds one account under several spellings of its name, as one that
/// folds case and compatibility forms (full-width, mathematical, circled letters) does.
struct FoldingUsers(MemoryUsers);

const ADA_SPELLINGS: [&str; 6] = ["ada", "ADA", "ａｄａ", "ＡＤＡ", "𝐚𝐝𝐚", "ⓐⓓⓐ"];

impl telepact_auth::UserLoader for FoldingUsers {
    fn find_login(
        &self,
        username: &str,
    ) -> telepact::BoxFuture<'_, Result<Option<telepact_auth::LoginRecord>, AuthError>> {
        let folded = if ADA_SPELLINGS.contains(&username) {
            "ada"
        } else {
            username
        };
        self.0.find_login(folded)
    }

    fn load_user(&self, user_id: &str) -> telepact::BoxFuture<'_, Result<Option<User>, AuthError>> {
        self.0.load_user(user_id)
    }
}

/// A guesser locks the account only for its own address: the owner, elsewhere, signs in
/// with the right password, which the guesser's address may no longer try.
#[tokio::test]
async fn a_guesser_elsewhere_leaves_the_account_to_its_owner() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let limit = auth.config().throttle.per_account_from_address;
    for _ in 0..limit {
        let guess = password_login("ada", "wrong");
        let refused = auth.authenticate(&guess, Some("10.0.0.9")).await;
        assert!(
            matches!(refused, Err(AuthError::BadPassword)),
            "{refused:?}"
        );
    }
    let guesser = sign_in_as(&auth, "ada", Some("10.0.0.9")).await;
    assert!(matches!(guesser, Err(AuthError::Throttled)), "{guesser:?}");
    let owner = sign_in_as(&auth, "ada", Some("10.0.0.1")).await;
    assert_eq!(
        owner.map(|identity| identity.user_id).ok().as_deref(),
        Some("u1")
    );
}

/// Logins refused unchecked count against no one: a client that keeps signing in with
/// its right password to an account guessers locked for everyone leaves its address's
/// budget to the other accounts behind that address. (They counted against it, so the
/// locked account's own client shut an office's every login out.)
#[tokio::test]
async fn logins_refused_unchecked_leave_their_address_to_other_accounts() {
    let clock = ManualClock::starting_now();
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.throttle.per_account_from_address = 3;
    config.throttle.per_account = 6;
    config.throttle.per_address = 5;
    let auth = authenticator_with(config, Arc::new(MemoryStore::new()), &clock);
    for guesser in ["198.51.100.1", "198.51.100.2"] {
        for _ in 0..3 {
            let guess = auth
                .authenticate(&password_login("ada", "wrong"), Some(guesser))
                .await;
            assert!(matches!(guess, Err(AuthError::BadPassword)), "{guess:?}");
        }
    }
    let office = Some("203.0.113.9");
    for _ in 0..10 {
        let locked = sign_in_as(&auth, "ada", office).await;
        assert!(matches!(locked, Err(AuthError::Throttled)), "{locked:?}");
    }
    let bob = sign_in_as(&auth, "bob", office).await;
    assert_eq!(
        bob.map(|identity| identity.user_id).ok().as_deref(),
        Some("u2")
    );
}

/// Every spelling a directory takes for an account counts against that account: were
/// each counted apart, a guesser on many addresses would get the account's failed-login
/// limit once per spelling, and there are more spellings than guesses.
#[tokio::test]
async fn the_spellings_of_an_account_share_its_failed_login_count() {
    let directory = MemoryUsers::new();
    let mut config = AuthConfig::new("issuer", "audience");
    config.throttle.per_account = 5;
    let users = Arc::new(FoldingUsers(directory.clone()));
    let auth = with_ada(config, &directory, users);

    // The account's limit (5 here) of wrong guesses, each under another spelling, from
    // other addresses.
    for (n, spelling) in ADA_SPELLINGS[1..].iter().enumerate() {
        let guess = password_login(spelling, "wrong");
        let address = format!("10.0.0.{n}");
        let refused = auth.authenticate(&guess, Some(&address)).await;
        assert!(matches!(refused, Err(AuthError::BadPassword)), "{spelling}");
    }
    let after = sign_in_as(&auth, "ada", Some("10.0.1.1")).await;
    assert!(matches!(after, Err(AuthError::Throttled)), "{after:?}");
}

/// A directory that takes its time to find a login, as a remote one may.
struct SlowUsers(MemoryUsers);

impl telepact_auth::UserLoader for SlowUsers {
    fn find_login(
        &self,
        username: &str,
    ) -> telepact::BoxFuture<'_, Result<Option<telepact_auth::LoginRecord>, AuthError>> {
        let username = username.to_string();
        Box::pin(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            self.0.find_login(&username).await
        })
    }

    fn load_user(&self, user_id: &str) -> telepact::BoxFuture<'_, Result<Option<User>, AuthError>> {
        self.0.load_user(user_id)
    }
}

/// A login whose caller gives up once it is counted, before its password is checked (the
/// server drops the auth hook at a short `@time_`), is checked all the same: with the
/// right password it is taken back, so that an account's own logins cannot lock it; with
/// a wrong one it stays counted. Each such login counted as a failure, and the fourth
/// locked the account.
#[tokio::test]
async fn a_login_given_up_on_counts_as_a_failure_only_with_a_wrong_password() {
    let directory = MemoryUsers::new();
    let mut config = AuthConfig::new("issuer", "audience");
    config.password_checks = 16;
    config.throttle.per_account = 3;
    let users = Arc::new(SlowUsers(directory.clone()));
    let auth = with_ada(config, &directory, users);
    let given_up = |password: &'static str| {
        let (auth, credential) = (auth.clone(), password_login("ada", password));
        async move {
            let wait = std::time::Duration::from_millis(50);
            let _ = tokio::time::timeout(wait, auth.authenticate(&credential, None)).await;
        }
    };
    let checks_end = || tokio::time::sleep(std::time::Duration::from_millis(500));

    for _ in 0..4 {
        given_up(PASSWORD).await;
    }
    checks_end().await;
    let signed_in = sign_in_as(&auth, "ada", None).await;
    assert!(signed_in.is_ok(), "{signed_in:?}");

    for _ in 0..3 {
        given_up("wrong").await;
    }
    checks_end().await;
    let locked = sign_in_as(&auth, "ada", None).await;
    assert!(matches!(locked, Err(AuthError::Throttled)), "{locked:?}");
}
