//! The failed-login limits while Redis refuses or holds writes.

use std::sync::Arc;
use std::time::Duration;

use telepact_auth::{
    AuthConfig, AuthError, Authenticator, Credential, Identity, ManualClock, PasswordParams,
};

use super::FaultyRedis;
use crate::authenticator::{PASSWORD, authenticator_with};

/// Longer than the store waits for an answer (2 s): the writes time out, then run.
const PAUSE: Duration = Duration::from_secs(3);

/// At most three failed logins for an account and for an address, and room for them
/// all to run at once.
async fn limited_to_three(redis: &FaultyRedis, prefix: &str) -> Authenticator {
    let mut config = AuthConfig::new("issuer", "audience");
    config.password = PasswordParams::insecure_for_tests();
    config.password_checks = 16;
    config.password_wait = Duration::from_secs(10);
    config.throttle.per_account = 3;
    config.throttle.per_address = 3;
    let store = Arc::new(redis.store(prefix).await);
    authenticator_with(config, store, &ManualClock::starting_now())
}

async fn log_in(auth: &Authenticator, password: &str) -> Result<Identity, AuthError> {
    let credential = Credential::Password {
        username: "ada".into(),
        password: password.into(),
    };
    auth.authenticate(&credential, Some("10.0.0.1")).await
}

/// Logins with the right password while Redis holds writes are refused (their attempts
/// could not be counted before the check), and once the writes run they are taken back:
/// the account's own logins do not lock it. They counted as failures, and after three of
/// them the right password was refused as throttled. Wrong passwords still lock it.
#[tokio::test]
async fn right_passwords_during_a_write_stall_do_not_lock_the_account() {
    let Some(redis) = FaultyRedis::start() else {
        return;
    };
    let auth = limited_to_three(&redis, "stall:").await;

    redis.pause_writes(PAUSE).await;
    let (a, b, c) = tokio::join!(
        log_in(&auth, PASSWORD),
        log_in(&auth, PASSWORD),
        log_in(&auth, PASSWORD)
    );
    for outcome in [a, b, c] {
        assert!(matches!(outcome, Err(AuthError::Store(_))), "{outcome:?}");
    }
    tokio::time::sleep(PAUSE).await;
    let signed_in = log_in(&auth, PASSWORD).await;
    assert!(signed_in.is_ok(), "{signed_in:?}");

    for _ in 0..3 {
        let refused = log_in(&auth, "wrong").await;
        assert!(
            matches!(refused, Err(AuthError::BadPassword)),
            "{refused:?}"
        );
    }
    let locked = log_in(&auth, PASSWORD).await;
    assert!(matches!(locked, Err(AuthError::Throttled)), "{locked:?}");
}

/// A full Redis refuses the attempt's count: the login is refused before its password is
/// checked, the right password as a wrong one (a guesser learns nothing it could not
/// count), and nothing is counted twice once Redis has room again.
#[tokio::test]
async fn logins_fail_closed_while_redis_is_full_and_count_once_after() {
    let Some(redis) = FaultyRedis::start() else {
        return;
    };
    let auth = limited_to_three(&redis, "full:").await;
    redis.fill().await;
    for password in [PASSWORD, "wrong", PASSWORD, "wrong", "wrong"] {
        let refused = log_in(&auth, password).await;
        assert!(matches!(refused, Err(AuthError::Store(_))), "{refused:?}");
    }
    redis.make_room().await;

    for _ in 0..2 {
        let refused = log_in(&auth, "wrong").await;
        assert!(
            matches!(refused, Err(AuthError::BadPassword)),
            "{refused:?}"
        );
    }
    let signed_in = log_in(&auth, PASSWORD).await;
    assert!(signed_in.is_ok(), "two failures of three: {signed_in:?}");
    let refused = log_in(&auth, "wrong").await;
    assert!(
        matches!(refused, Err(AuthError::BadPassword)),
        "{refused:?}"
    );
    let locked = log_in(&auth, PASSWORD).await;
    assert!(matches!(locked, Err(AuthError::Throttled)), "{locked:?}");
}
