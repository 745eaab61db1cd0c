//! The Redis backend against a real `redis-server`.

#![cfg(feature = "redis")]

use telepact::clock::Clock;
use telepact_auth::CredentialStore;
use telepact_auth::store::RedisStore;
use telepact_test_support::RedisServer;

#[tokio::test]
async fn redis_keeps_the_store_contract_and_shares_it_between_clients() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let first = RedisStore::connect(&redis.url(), "test:").await.unwrap();
    let second = RedisStore::connect(&redis.url(), "test:").await.unwrap();

    assert_eq!(first.get("k").await.unwrap(), None);
    first.put("k", "v1", None).await.unwrap();
    assert_eq!(second.get("k").await.unwrap().as_deref(), Some("v1"));

    assert!(
        first
            .put_if_absent("claim", "a", Some(i64::MAX / 4))
            .await
            .unwrap()
    );
    assert!(!second.put_if_absent("claim", "b", None).await.unwrap());
    assert_eq!(second.get("claim").await.unwrap().as_deref(), Some("a"));

    assert_eq!(first.increment("n", Some(0)).await.unwrap(), 1);
    assert_eq!(second.increment("n", None).await.unwrap(), 2);

    second.delete("k").await.unwrap();
    assert_eq!(first.get("k").await.unwrap(), None);

    let other_prefix = RedisStore::connect(&redis.url(), "other:").await.unwrap();
    assert_eq!(other_prefix.get("claim").await.unwrap(), None);
}

/// A set's members count once however often they are added, from any client, and go
/// once however often they are removed: the failed-login limits count attempts with it,
/// and a write retried, or run late, must not count twice.
#[tokio::test]
async fn redis_sets_count_each_member_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let first = RedisStore::connect(&redis.url(), "set:").await.unwrap();
    let second = RedisStore::connect(&redis.url(), "set:").await.unwrap();
    let later = Some(i64::MAX / 4);
    assert_eq!(first.add_member("s", "a", later).await.unwrap(), 1);
    assert_eq!(second.add_member("s", "a", later).await.unwrap(), 1);
    assert_eq!(second.add_member("s", "b", later).await.unwrap(), 2);
    for _ in 0..2 {
        first.remove_member("s", "a").await.unwrap();
    }
    second.remove_member("s", "never").await.unwrap();
    first.remove_member("absent", "a").await.unwrap();
    assert_eq!(second.member_count("s").await.unwrap(), 1);
    assert_eq!(second.member_count("absent").await.unwrap(), 0);
    assert_eq!(first.add_member("s", "c", None).await.unwrap(), 2);
}

#[tokio::test]
async fn concurrent_claims_have_exactly_one_winner() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url(), "race:").await.unwrap();
    let mut claims = Vec::new();
    for n in 0..16 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            store
                .put_if_absent("once", &n.to_string(), None)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for claim in claims {
        winners += usize::from(claim.await.unwrap());
    }
    assert_eq!(winners, 1);
}

/// While Redis is down every call fails within a bound (so the checks that need the
/// store fail closed instead of hanging), and calls succeed again once it is back.
#[tokio::test]
async fn calls_fail_promptly_while_redis_is_down_and_resume_after() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url(), "outage:").await.unwrap();
    store.put("k", "v", None).await.unwrap();
    redis.kill();
    // Far above the store's own bounds (a few seconds), far below the minutes a call
    // waited with the client's default reconnection.
    let bound = std::time::Duration::from_secs(20);
    for _ in 0..3 {
        let outcome = tokio::time::timeout(bound, store.get("k"))
            .await
            .expect("a call while Redis is down ends");
        assert!(outcome.is_err(), "{outcome:?}");
    }
    redis.restart();
    let back = tokio::time::timeout(bound, async {
        loop {
            // The first call after a failure may still meet the dead connection.
            if let Ok(value) = store.get("k").await {
                return value;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("calls resume once Redis is back");
    assert_eq!(
        back, None,
        "a server started without its data holds nothing"
    );
}

/// A Redis that evicts keys under memory pressure drops expiring entries: revocations,
/// used refresh tokens, failed-login counts. With `volatile-lru` (the default of several
/// managed services) and other data filling it, a logged-out token worked again and a
/// locked account unlocked. Such a Redis is refused at connect.
#[tokio::test]
async fn a_redis_that_evicts_keys_is_refused() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let client = redis::Client::open(redis.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    for policy in [
        "volatile-lru",
        "allkeys-lru",
        "volatile-ttl",
        "allkeys-random",
    ] {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg(policy)
            .query_async(&mut admin)
            .await
            .unwrap();
        let refused = RedisStore::connect(&redis.url(), "evicting:").await;
        let error = telepact::ErrorChain(&refused.expect_err(policy)).to_string();
        assert!(error.contains(policy), "{error}");
        assert!(error.contains("noeviction"), "{error}");
    }
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("noeviction")
        .query_async(&mut admin)
        .await
        .unwrap();
    let store = RedisStore::connect(&redis.url(), "kept:").await.unwrap();
    store.put("k", "v", None).await.unwrap();
}

/// A Redis restarted while an instance made no call: over RESP2 the instance's
/// connection had not noticed the drop, and its first call after the restart failed
/// ("broken pipe"); noticed, the connection reconnects at once, which fails while Redis
/// is down, and the manager kept that failure for the first call after Redis was back
/// ("Connection refused"). In the auth example either was a valid token refused, on every
/// instance. That call succeeds now, a count (which must not run twice) as well as a read,
/// and so does the first after an outage during which calls failed.
#[tokio::test]
async fn the_first_call_after_redis_is_back_succeeds() {
    // Past the reconnection's own retry (250 ms).
    const DOWN: std::time::Duration = std::time::Duration::from_millis(1500);
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url(), "back:").await.unwrap();
    store.put("k", "v", None).await.unwrap();
    redis.kill();
    tokio::time::sleep(DOWN).await;
    redis.restart();
    // Started without its data: the entry is gone.
    assert_eq!(store.get("k").await.unwrap(), None);
    assert_eq!(store.increment("n", None).await.unwrap(), 1);

    redis.kill();
    tokio::time::sleep(DOWN).await;
    redis.restart();
    assert_eq!(store.increment("n", None).await.unwrap(), 1);

    redis.kill();
    assert!(store.increment("n", None).await.is_err());
    tokio::time::sleep(DOWN).await;
    redis.restart();
    assert_eq!(store.increment("n", None).await.unwrap(), 1);
    assert_eq!(store.increment("n", None).await.unwrap(), 2);
}

/// Redis refusing connections (stopped, its port closed): each call fails at once, so a
/// login or a token check is refused without holding its caller. A reconnection used to
/// wait a second or two before its one retry (the client's least backoff, whatever the
/// most), and each call waited on one.
#[tokio::test]
async fn while_redis_refuses_connections_each_call_fails_at_once() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url(), "refused:").await.unwrap();
    store.put("k", "v", None).await.unwrap();
    redis.kill();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        assert!(store.get("k").await.is_err());
        assert!(store.increment("n", None).await.is_err());
        // Refused on loopback takes microseconds; the slack is for a busy machine.
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_millis(500), "{took:?}");
    }
}

/// An entry is kept minutes past its expiry, not a day: the entries of failed logins
/// matter for the failed-login window, and a Redis that must not evict held each one a
/// stream of failed logins from new addresses wrote for a day.
#[tokio::test]
async fn redis_keeps_an_entry_minutes_past_its_expiry() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let store = RedisStore::connect(&redis.url(), "ttl:").await.unwrap();
    let expires_at = telepact::clock::SystemClock.unix_now() + 60;
    store.put("value", "v", Some(expires_at)).await.unwrap();
    store.increment("count", Some(expires_at)).await.unwrap();
    store
        .add_member("attempts", "a", Some(expires_at))
        .await
        .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    for key in ["ttl:value", "ttl:count", "ttl:attempts"] {
        let ttl: i64 = redis::cmd("TTL")
            .arg(key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!((1..=60 + 5 * 60).contains(&ttl), "{key} kept {ttl} s");
    }
}

/// The Redis user the README's ACL line makes runs every store operation under the
/// prefix the examples give (`telepact-auth:`). The line allowed keys under `auth:`,
/// which no example uses, so each of the store's commands was refused.
#[tokio::test]
async fn the_readmes_acl_user_runs_the_store_under_the_examples_prefix() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let readme = include_str!("../../README.md");
    let acl = readme
        .split("`ACL SETUSER ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .expect("the README gives an ACL line");
    let client = redis::Client::open(redis.url()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let mut setuser = redis::cmd("ACL");
    setuser.arg("SETUSER");
    for rule in acl.split_whitespace() {
        setuser.arg(if rule == ">…" {
            ">acl-test-password"
        } else {
            rule
        });
    }
    let () = setuser.query_async(&mut admin).await.unwrap();
    let user = acl.split_whitespace().next().unwrap();
    let url = format!(
        "redis://{user}:acl-test-password@127.0.0.1:{}/",
        redis.port()
    );
    let store = RedisStore::connect(&url, "telepact-auth:").await.unwrap();
    let later = Some(telepact::clock::SystemClock.unix_now() + 60);
    store.put("k", "v", later).await.unwrap();
    assert!(store.put_if_absent("claim", "a", later).await.unwrap());
    assert_eq!(store.get("k").await.unwrap().as_deref(), Some("v"));
    assert_eq!(store.increment("n", later).await.unwrap(), 1);
    assert_eq!(store.decrement("n", None).await.unwrap(), 0);
    assert_eq!(store.add_member("s", "a", later).await.unwrap(), 1);
    store.remove_member("s", "a").await.unwrap();
    store.delete("k").await.unwrap();
}
