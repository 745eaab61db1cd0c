//! Credentials shared through a store: two instances on one Redis see each other's
//! revocations and sessions at once; a restart on SQLite keeps revocations.

use crate::support;

use std::sync::Arc;

use serde_json::json;
use support::{Service, Setup, accepted, bearer, login, password, refreshes, session};
use telepact_auth::ManualClock;
use telepact_auth::store::{RedisStore, SqliteStore};
use telepact_auth_example::api::LogoutInput;
use telepact_test_support::RedisServer;

async fn two_instances_on(redis: &RedisServer) -> (Service, Service) {
    let clock = ManualClock::starting_now();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::connect(&redis.url(), "example:").await.unwrap();
        let setup = Setup::new()
            .with_store(Arc::new(store))
            .with_clock(clock.clone());
        instances.push(setup.start().await);
    }
    let b = instances.pop().unwrap();
    let a = instances.pop().unwrap();
    (a, b)
}

#[tokio::test]
async fn a_logout_on_one_instance_revokes_on_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = two_instances_on(&redis).await;
    let tokens = login(&a, "alice").await;
    assert!(accepted(&b, bearer(&tokens.access_token)).await);
    a.client()
        .logout_with(LogoutInput {}, bearer(&tokens.access_token))
        .await
        .unwrap();
    assert!(!accepted(&b, bearer(&tokens.access_token)).await);
    assert!(!refreshes(&b, &tokens.refresh_token).await);
}

#[tokio::test]
async fn a_session_opened_on_one_instance_works_on_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = two_instances_on(&redis).await;
    let raw = a
        .post(
            &[("authorization", "Basic Ym9iOmJvYi1wdy0y")],
            json!([{}, {"fn.login": {"session!": true}}]),
        )
        .await;
    let cookie = raw.set_cookie.clone().expect("a session cookie");
    let id = cookie["__Host-tp_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = raw.payload()["csrfToken!"].as_str().unwrap().to_string();
    assert!(accepted(&b, session(&id, &csrf)).await);
    b.client()
        .logout_with(LogoutInput {}, session(&id, &csrf))
        .await
        .unwrap();
    assert!(!accepted(&a, session(&id, &csrf)).await);
}

#[tokio::test]
async fn refresh_reuse_is_caught_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = two_instances_on(&redis).await;
    let tokens = login(&a, "bob").await;
    assert!(refreshes(&a, &tokens.refresh_token).await);
    // Past the seconds in which a retry of the refresh is answered.
    let grace = a.auth.config().refresh_reuse_grace;
    a.clock.advance_secs(u64::try_from(grace).unwrap_or(0) + 1);
    assert!(
        !refreshes(&b, &tokens.refresh_token).await,
        "the replay is refused"
    );
}

#[tokio::test]
async fn failed_logins_count_across_instances() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = two_instances_on(&redis).await;
    for instance in [&a, &b, &a, &b, &a] {
        assert!(!accepted(instance, support::wrong_password("carol")).await);
    }
    assert!(
        !accepted(&b, password("carol")).await,
        "carol is locked on every instance"
    );
    assert!(accepted(&a, password("alice")).await);
}

#[tokio::test]
async fn a_restart_on_sqlite_keeps_revocations_and_keys() {
    let dir = std::env::temp_dir().join(format!("auth-example-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("credentials.sqlite3");
    let _ = std::fs::remove_file(&path);

    let first = Setup::new()
        .with_store(Arc::new(SqliteStore::open(&path).unwrap()))
        .start()
        .await;
    let revoked = login(&first, "alice").await;
    let kept = login(&first, "bob").await;
    first
        .client()
        .logout_with(LogoutInput {}, bearer(&revoked.access_token))
        .await
        .unwrap();
    first.stop().await;

    let second = Setup::new()
        .with_store(Arc::new(SqliteStore::open(&path).unwrap()))
        .start()
        .await;
    assert!(!accepted(&second, bearer(&revoked.access_token)).await);
    assert!(!refreshes(&second, &revoked.refresh_token).await);
    assert!(accepted(&second, bearer(&kept.access_token)).await);
    assert!(refreshes(&second, &kept.refresh_token).await);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
