//! A refresh whose store write timed out but took effect, retried by its client.

use std::sync::Arc;
use std::time::Duration;

use telepact_auth::AuthError;

use super::hook::SignedIn;
use super::{FaultyRedis, Service, bearer, tag};
use crate::authenticator::sign_in;

/// Longer than the store waits for an answer (2 s): the write times out, then runs.
const PAUSE: Duration = Duration::from_secs(3);

/// Redis holds the refresh's claim of its token past the store's wait, then runs it: the
/// caller got an error, yet the token is spent. Its retry with the same token is
/// answered with the refresh token the claim was for, which works. It read as a second
/// use, a theft, and revoked the family. A use after that successor was used is theft
/// all the same, and revokes the family.
#[tokio::test]
async fn a_refresh_retried_after_its_claim_timed_out_is_answered() {
    let Some(redis) = FaultyRedis::start() else {
        return;
    };
    let service = Service::on(redis.store("retry:").await);
    let first = service
        .auth
        .issue_tokens(&sign_in(&service.auth).await)
        .await
        .expect("a pair while Redis works");

    redis.pause_writes(PAUSE).await;
    let failed = service.auth.refresh(&first.refresh_token).await;
    assert!(matches!(failed, Err(AuthError::Store(_))), "{failed:?}");
    tokio::time::sleep(PAUSE).await;

    let retried = service.auth.refresh(&first.refresh_token).await;
    let retried = retried.expect("the retry is answered");
    assert_eq!(
        tag(&service.me(&bearer(&retried.access_token)).await),
        "Ok_"
    );
    let next = service.auth.refresh(&retried.refresh_token).await;
    let next = next.expect("the successor works");

    let replayed = service.auth.refresh(&first.refresh_token).await;
    assert!(
        matches!(replayed, Err(AuthError::RefreshReused)),
        "{replayed:?}"
    );
    let revoked = service.me(&bearer(&next.access_token)).await;
    assert_eq!(tag(&revoked), "ErrorUnauthenticated_", "{revoked}");
}

/// A login authoriser whose refresh timed out (Redis holding writes) keeps its refresh
/// token and, with the next call, refreshes with it again: the retry is answered, and
/// the client stays signed in. The retry revoked the family, and the authoriser had to
/// sign in again with the password.
#[tokio::test]
async fn a_login_authoriser_stays_signed_in_through_a_refresh_that_timed_out() {
    let Some(redis) = FaultyRedis::start() else {
        return;
    };
    let service = Arc::new(Service::on(redis.store("authoriser:").await));
    let ada = SignedIn::new(&service).await;
    ada.expire_token(&service);

    redis.pause_writes(PAUSE).await;
    ada.me_fails_unknown().await;
    tokio::time::sleep(PAUSE).await;
    assert_eq!(ada.me().await.expect("answered").target(), "Ok_");

    assert_eq!(
        ada.calls().as_slice(),
        ["fn.login", "fn.me", "fn.refresh", "fn.refresh", "fn.me"]
    );
}
