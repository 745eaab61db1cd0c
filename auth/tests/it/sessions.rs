//! Sessions opened by a sign-in with a session.

use std::sync::Arc;

use telepact_auth::{AuthError, ManualClock, MemoryStore};

use crate::authenticator::{authenticator, session_of, sign_in};

/// A session opened by a sign-in with a password's session ends when that session logs
/// out, as one opened with a token's does: a stolen session could otherwise open one
/// that its owner's logout did not reach.
#[tokio::test]
async fn a_session_opened_with_a_session_ends_when_that_session_logs_out() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let ada = sign_in(&auth).await;
    let own = session_of(&auth.create_session(&ada).await.unwrap());
    let by_own = auth.authenticate(&own, None).await.unwrap();
    let opened = session_of(&auth.create_session(&by_own).await.unwrap());
    let by_opened = auth.authenticate(&opened, None).await.unwrap();
    let again = session_of(&auth.create_session(&by_opened).await.unwrap());
    assert!(auth.authenticate(&again, None).await.is_ok());

    auth.logout(&by_own).await.unwrap();
    for ended in [&own, &opened, &again] {
        let refused = auth.authenticate(ended, None).await;
        assert!(matches!(refused, Err(AuthError::BadSession)), "{refused:?}");
    }

    // Another password sign-in's session is no part of it.
    let other = session_of(&auth.create_session(&ada).await.unwrap());
    assert!(auth.authenticate(&other, None).await.is_ok());
}
