//! A user disabled for a while, and enabled again.

use std::collections::BTreeSet;
use std::sync::Arc;

use telepact_auth::{AuthError, Credential, ManualClock, MemoryStore};

use crate::authenticator::{
    authenticator_and_users, bearer, past_the_reuse_grace, sign_in, test_config,
};

/// A refresh refused while its user is disabled leaves the refresh token as it was, as
/// the user's other credentials are: once the user is enabled again it refreshes. It
/// was used up by the refusal, and its next use taken for theft, which revoked the
/// family and the API keys it made.
#[tokio::test]
async fn a_refresh_refused_while_its_user_is_disabled_works_once_enabled_again() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(MemoryStore::new());
    let (auth, users) = authenticator_and_users(test_config(), store, &clock);
    let ada = sign_in(&auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let by_token = bearer(&auth, &tokens.access_token).await.unwrap();
    let key = auth
        .create_api_key(&by_token, "ci", BTreeSet::new())
        .await
        .unwrap();

    users.set_disabled("u1", true);
    let refused = auth.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(refused, Err(AuthError::UserUnavailable)),
        "{refused:?}"
    );
    past_the_reuse_grace(&auth, &clock);
    users.set_disabled("u1", false);

    let refreshed = auth.refresh(&tokens.refresh_token).await;
    assert!(refreshed.is_ok(), "{refreshed:?}");
    let by_key = Credential::ApiKey { key: key.key };
    assert!(auth.authenticate(&by_key, None).await.is_ok());
}
