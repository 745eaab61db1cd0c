//! What logins and token families leave behind once they are over: the memory argon2
//! worked in is kept for the next check, not allocated afresh for each and left to the
//! allocator; a family's records and marks end with their lifetimes; logins while the
//! store is down leave a bounded number of tasks behind.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use telepact_auth::{
    AuthConfig, AuthError, Authenticator, Credential, CredentialStore, JwtKey, JwtKeys,
    ManualClock, MemoryStore, MemoryUsers, PasswordParams, StoreError, ThrottleLimits, UnixTime,
};

use super::authenticator::{authenticator, bearer, past_the_reuse_grace, sign_in};

/// The argon2 memory of the test below, in KiB: a size nothing else in this binary
/// allocates, so that its count is this test's alone; a multiple of four, as argon2
/// rounds it down to one (four blocks a lane).
const MEMORY_KIB: u32 = 3_004;

/// Counts the allocations of argon2 memory of [`MEMORY_KIB`] (1 KiB blocks).
struct Counting;

static ARGON2_BUFFERS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is handed to `System` unchanged; only a count is kept beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout);
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(Layout::from_size_align(new_size, layout.align()).unwrap_or(layout));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(layout: Layout) {
    if layout.size() == MEMORY_KIB as usize * 1024 {
        ARGON2_BUFFERS.fetch_add(1, Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Hundreds of failed logins under ever-new usernames, two checks at a time, allocate
/// argon2's memory once per place (and once for the decoy hash made at start), where
/// each login allocated it afresh: glibc then kept several such buffers in each of its
/// arenas, and the auth example grew from 11 MB to 616 MB of resident memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_reuse_the_memory_their_checks_ran_in() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests().memory_kib(MEMORY_KIB);
    config.password_checks = 2;
    config.password_wait = std::time::Duration::from_secs(30);
    config.throttle = ThrottleLimits::default().per_account(1_000);
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).expect("a key"));
    let users = Arc::new(MemoryUsers::new());
    let store = Arc::new(MemoryStore::new());
    let auth = Authenticator::new(config, keys, users, store).expect("an authenticator");
    let before = ARGON2_BUFFERS.load(Ordering::Relaxed);
    // In waves of ten: more than 16 a place waiting would be refused as busy.
    for wave in 0..30 {
        let mut logins = tokio::task::JoinSet::new();
        for n in 0..10 {
            let auth = auth.clone();
            let credential = Credential::Password {
                username: format!("nobody-{wave}-{n}"),
                password: "wrong".into(),
            };
            logins.spawn(async move { auth.authenticate(&credential, None).await });
        }
        for refused in logins.join_all().await {
            assert!(
                matches!(refused, Err(AuthError::BadPassword)),
                "{refused:?}"
            );
        }
    }
    let allocated = ARGON2_BUFFERS.load(Ordering::Relaxed) - before;
    assert!(
        allocated <= 2,
        "300 checks allocated argon2 memory {allocated} times"
    );
}

/// Token families signed in, refreshed, found stolen (a refresh token used twice) and
/// abandoned, and sessions opened and left, leave nothing in the store once their
/// lifetimes are over: a family that made no API key is marked stolen for as long as it
/// would have lived, where the mark was kept for good. One that made a key keeps its
/// mark (`authenticator::keys_go_with_a_family_found_stolen`).
#[tokio::test]
async fn abandoned_families_and_sessions_leave_nothing_past_their_lifetimes() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(MemoryStore::new());
    let auth = authenticator(store.clone(), &clock);
    let identity = sign_in(&auth).await;
    let held_for_good = || {
        store.purge_expired(i64::MAX);
        store.len()
    };
    let baseline = held_for_good();
    for round in 0..50 {
        let pair = auth.issue_tokens(&identity).await.expect("a family");
        let session = auth.create_linked_session(&identity, &pair).await;
        session.expect("a session");
        let next = auth.refresh(&pair.refresh_token).await.expect("refreshed");
        if round % 2 == 0 {
            past_the_reuse_grace(&auth, &clock);
            let reused = auth.refresh(&pair.refresh_token).await;
            assert!(
                matches!(reused, Err(AuthError::RefreshReused)),
                "{reused:?}"
            );
        } else {
            let signed_in = bearer(&auth, &next.access_token).await.expect("signed in");
            auth.logout(&signed_in).await.expect("logged out");
        }
    }
    assert!(store.len() > baseline + 100, "{} entries", store.len());
    assert_eq!(held_for_good(), baseline);
}

/// Failed logins under ever-new usernames from ever-new addresses (a guesser with a
/// block of addresses) leave their counts in the store for about two windows (a count
/// is read in the window after its own): once they and the stores' five minutes of
/// grace are over, the next purge drops them, where
/// they stayed a day: three entries a guess, for a day of guesses.
#[tokio::test]
async fn failed_logins_leave_nothing_once_their_window_is_over() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(MemoryStore::new().with_clock(Arc::new(clock.clone())));
    let auth = authenticator(store.clone(), &clock);
    let baseline = store.len();
    let guess = |wave: usize, n: usize| {
        let auth = auth.clone();
        async move {
            let credential = Credential::Password {
                username: format!("nobody-{wave}-{n}"),
                password: "wrong".into(),
            };
            let address = format!("10.{wave}.{}.{}", n / 256, n % 256);
            let refused = auth.authenticate(&credential, Some(&address)).await;
            assert!(
                matches!(refused, Err(AuthError::BadPassword)),
                "{refused:?}"
            );
        }
    };
    for n in 0..200 {
        guess(0, n).await;
    }
    let one_wave = store.len() - baseline;
    assert!(one_wave >= 600, "{one_wave} entries for 200 failed logins");

    let window = auth.config().throttle.window;
    clock.advance_secs(2 * u64::try_from(window).unwrap() + 5 * 60 + 1);
    for n in 0..200 {
        guess(1, n).await;
    }
    let held = store.len() - baseline;
    assert!(
        held <= one_wave,
        "{held} entries after a second wave of {one_wave}: the first wave's stayed"
    );
}

/// A store that refuses everything, as one that is down does.
struct Down;

fn refused<T>() -> telepact::BoxFuture<'static, Result<T, StoreError>> {
    Box::pin(async { Err(StoreError::new("down", "answer", "connection refused")) })
}

impl CredentialStore for Down {
    fn put<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Option<UnixTime>,
    ) -> telepact::BoxFuture<'a, Result<(), StoreError>> {
        refused()
    }

    fn put_if_absent<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Option<UnixTime>,
    ) -> telepact::BoxFuture<'a, Result<bool, StoreError>> {
        refused()
    }

    fn get<'a>(
        &'a self,
        _: &'a str,
    ) -> telepact::BoxFuture<'a, Result<Option<String>, StoreError>> {
        refused()
    }

    fn add<'a>(
        &'a self,
        _: &'a str,
        _: i64,
        _: Option<UnixTime>,
    ) -> telepact::BoxFuture<'a, Result<i64, StoreError>> {
        refused()
    }

    fn delete<'a>(&'a self, _: &'a str) -> telepact::BoxFuture<'a, Result<(), StoreError>> {
        refused()
    }
}

/// Logins while the store is down are refused as fast as it refuses them, and each
/// left a task behind trying for about two minutes to take its attempt back: 3,000
/// logins left 3,000 tasks. At most 1,024 are tried now; the rest stay counted until
/// their windows end, as attempts whose tries all failed do.
#[tokio::test]
async fn logins_while_the_store_is_down_leave_a_bounded_number_of_tasks() {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).expect("a key"));
    let users = Arc::new(MemoryUsers::new());
    let auth = Authenticator::new(config, keys, users, Arc::new(Down)).expect("an authenticator");
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let before = tasks();
    for n in 0..3_000 {
        let credential = Credential::Password {
            username: format!("user-{n}"),
            password: "whatever".into(),
        };
        let refused = auth.authenticate(&credential, Some("10.0.0.1")).await;
        assert!(matches!(refused, Err(AuthError::Store(_))), "{refused:?}");
    }
    let left = tasks() - before;
    assert!(left <= 1_024, "3,000 logins left {left} tasks behind");
}

/// A family started before its API keys were noted (its store entries written by an
/// older version) may have made one, so when found stolen it is marked for good, as
/// every stolen family was.
#[tokio::test]
async fn a_family_from_before_keys_were_noted_stays_marked_for_good() {
    use base64::Engine as _;

    let clock = ManualClock::starting_now();
    let store = Arc::new(MemoryStore::new());
    let auth = authenticator(store.clone(), &clock);
    let identity = sign_in(&auth).await;
    let pair = auth.issue_tokens(&identity).await.expect("a family");
    let claims = pair.access_token.split('.').nth(1).expect("a JWT");
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims);
    let claims: serde_json::Value = serde_json::from_slice(&claims.expect("base64")).expect("JSON");
    let family = claims["fam"].as_str().expect("a family id");
    store
        .delete(&format!("family-keys-noted:{family}"))
        .await
        .expect("deleted");
    auth.refresh(&pair.refresh_token).await.expect("refreshed");
    past_the_reuse_grace(&auth, &clock);
    let reused = auth.refresh(&pair.refresh_token).await;
    assert!(
        matches!(reused, Err(AuthError::RefreshReused)),
        "{reused:?}"
    );
    store.purge_expired(i64::MAX);
    let mark = store.get(&format!("family-stolen:{family}")).await;
    assert!(mark.expect("read").is_some(), "marked for good");
}
