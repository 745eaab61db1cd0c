//! The token cache file: reused across client restarts while the token lives,
//! owner-only, and ignored (with a warning) when corrupt.

use crate::authorise_support;

use std::time::{Duration, SystemTime};

use authorise_support::log_capture::Capture;
use authorise_support::{Gate, Issuer, guarded_client, scratch_dir, whoami};
use telepact::client::authorise::{BearerAuthoriser, Token, TokenCache};
use telepact::clock::ManualClock;

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn write_owner_only(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

#[test]
fn a_token_survives_a_store_and_load() {
    let dir = scratch_dir("roundtrip");
    let cache = TokenCache::new(dir.join("nested").join("token.json"));
    let token = Token::new("access")
        .refresh_token("refresh")
        .expires_at(start());

    cache.store(&token).expect("stored");

    assert_eq!(cache.load(), Some(token));
    cache.clear().expect("cleared");
    assert_eq!(cache.load(), None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_background_store_writes_the_same_file() {
    let dir = scratch_dir("background");
    let cache = TokenCache::new(dir.join("token.json"));
    let token = Token::new("access").expires_at(start());

    cache.store_in_background(&token).await.expect("stored");

    assert_eq!(cache.load(), Some(token));
}

#[cfg(unix)]
#[test]
fn the_cache_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("mode");
    let cache = TokenCache::new(dir.join("token.json"));

    cache.store(&Token::new("access")).expect("stored");

    let mode = std::fs::metadata(cache.path())
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[cfg(unix)]
#[test]
fn an_expiry_past_the_end_of_time_is_ignored_not_a_panic() {
    let dir = scratch_dir("far-future");
    let cache = TokenCache::new(dir.join("token.json"));
    let text = format!(r#"{{"access_token": "a", "expires_at": {}}}"#, u64::MAX);
    write_owner_only(cache.path(), &text);

    assert_eq!(cache.load(), None);
}

#[cfg(unix)]
#[test]
fn a_cache_file_others_can_read_is_ignored_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("shared");
    let cache = TokenCache::new(dir.join("token.json"));
    cache.store(&Token::new("access")).expect("stored");
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let capture = Capture::default();

    let loaded = tracing::subscriber::with_default(capture.clone(), || cache.load());

    assert_eq!(loaded, None);
    assert!(capture.lines().iter().any(|line| line.starts_with("WARN")
        && line.contains("message=token cache is not private to this user")
        && line.contains("mode 644")));
}

/// In a directory others can write to, another user could plant a token of their own
/// account for this client to act in: a file of theirs is ignored, private or not.
#[cfg(unix)]
#[test]
fn a_cache_file_another_user_owns_is_ignored_with_a_warning() {
    let dir = scratch_dir("planted");
    let cache = TokenCache::new(dir.join("token.json"));
    cache.store(&Token::new("planted")).expect("stored");
    let nobody = 65534;
    if let Err(error) = std::os::unix::fs::chown(cache.path(), Some(nobody), None) {
        telepact_test_support::skip(&format!(
            "giving a file to another user needs root here: {error}"
        ));
        return;
    }
    let capture = Capture::default();

    let loaded = tracing::subscriber::with_default(capture.clone(), || cache.load());

    assert_eq!(loaded, None);
    assert!(
        capture.lines().iter().any(|line| line.starts_with("WARN")
            && line.contains("message=token cache is not private to this user")
            && line.contains("owned by uid 65534")),
        "{:?}",
        capture.lines()
    );
    // The next token replaces the planted file with one of this user's.
    cache.store(&Token::new("mine")).expect("stored");
    assert_eq!(cache.load(), Some(Token::new("mine")));
}

#[tokio::test]
async fn a_cached_token_is_reused_after_a_restart() {
    let dir = scratch_dir("restart");
    let gate = Gate::default();
    let clock = ManualClock::new(start());
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let authoriser = || {
        BearerAuthoriser::new(issuer.clone())
            .clock(clock.clone())
            .cache(TokenCache::new(dir.join("token.json")))
    };

    let first = guarded_client(&gate).with_authoriser(authoriser());
    first.request(whoami()).await.expect("answered");
    drop(first);
    clock.advance(Duration::from_secs(60));
    let restarted = guarded_client(&gate).with_authoriser(authoriser());
    restarted.request(whoami()).await.expect("answered");

    assert_eq!(issuer.fetches(), 1);
    assert_eq!(gate.seen_tokens(), ["tok-1", "tok-1"]);
}

#[tokio::test]
async fn a_cached_token_near_expiry_is_replaced_and_the_file_updated() {
    let dir = scratch_dir("stale");
    let gate = Gate::default();
    let clock = ManualClock::new(start());
    let cache = TokenCache::new(dir.join("token.json"));
    gate.accept("cached");
    cache
        .store(&Token::new("cached").expires_in(start(), Duration::from_secs(100)))
        .expect("stored");
    clock.advance(Duration::from_secs(80)); // 20 s left, under the 30 s margin
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let authoriser = BearerAuthoriser::new(issuer.clone())
        .clock(clock.clone())
        .cache(cache.clone());

    guarded_client(&gate)
        .with_authoriser(authoriser)
        .request(whoami())
        .await
        .expect("answered");

    assert_eq!(gate.seen_tokens(), ["tok-1"]);
    let stored = cache.load().expect("rewritten");
    assert_eq!(stored.access_token.expose(), "tok-1");
    assert_eq!(
        stored.expires_at,
        Some(start() + Duration::from_secs(80 + 600))
    );
}

#[tokio::test]
async fn a_corrupt_cache_file_is_ignored_with_a_warning_and_replaced() {
    let dir = scratch_dir("corrupt");
    let gate = Gate::default();
    let cache = TokenCache::new(dir.join("token.json"));
    write_owner_only(cache.path(), "{\"access_token\": 42");
    let issuer = Issuer::new("tok", Duration::from_secs(600), &gate);
    let capture = Capture::default();

    let authoriser = tracing::subscriber::with_default(capture.clone(), || {
        BearerAuthoriser::new(issuer.clone()).cache(cache.clone())
    });
    guarded_client(&gate)
        .with_authoriser(authoriser)
        .request(whoami())
        .await
        .expect("answered");

    assert!(
        capture
            .lines()
            .iter()
            .any(|line| line.starts_with("WARN") && line.contains("message=token cache is corrupt")),
        "{:?}",
        capture.lines()
    );
    assert_eq!(issuer.fetches(), 1);
    assert_eq!(cache.load().map(|t| t.access_token), Some("tok-1".into()));
}

#[test]
fn a_cache_file_of_the_wrong_shape_is_corrupt() {
    let dir = scratch_dir("shapes");
    let cache = TokenCache::new(dir.join("token.json"));
    for text in [
        "",
        "[]",
        r#"{"refresh_token": "r"}"#,
        r#"{"access_token": "a", "expires_at": "soon"}"#,
        r#"{"access_token": "a", "refresh_token": 7}"#,
    ] {
        write_owner_only(cache.path(), text);
        assert_eq!(cache.load(), None, "{text}");
    }
}

/// Two caches of one file in one process (two clients signed in as the same user) may
/// store at once: each write stages in a file of its own, so neither removes or renames
/// the other's half-written one, and the file always holds one whole token. Both staged
/// in `<file>.<pid>.tmp`, and stores failed or left the file corrupt.
#[test]
fn caches_of_one_file_storing_at_once_leave_it_whole() {
    let path = scratch_dir("token-cache-race").join("token.json");
    let stores: Vec<_> = ["first", "second"]
        .into_iter()
        .map(|name| {
            let cache = TokenCache::new(&path);
            let token = Token::new(name.repeat(4096)).refresh_token(name);
            std::thread::spawn(move || {
                (0..40)
                    .map(|_| cache.store(&token).map_err(|error| error.to_string()))
                    .collect::<Result<Vec<_>, _>>()
            })
        })
        .collect();
    for store in stores {
        store.join().expect("joined").expect("every store succeeds");
    }
    let token = TokenCache::new(&path).load().expect("a whole token");
    let refresh = token.refresh_token.expect("stored with one");
    assert_eq!(token.access_token.expose(), refresh.expose().repeat(4096));
}
