//! The Redis backend against a real `redis-server`.

#![cfg(feature = "redis")]

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
