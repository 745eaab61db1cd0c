//! A user disabled for a while, and enabled again.

use std::collections::BTreeSet;
use std::sync::Arc;

use telepact_auth::{
    AuthError, Authenticator, Credential, JwtKey, JwtKeys, ManualClock, MemoryStore, MemoryUsers,
    User,
};

use crate::authenticator::{PASSWORD, bearer, past_the_reuse_grace, sign_in, test_config};

fn with_users(clock: &ManualClock) -> (Authenticator, MemoryUsers) {
    let users = MemoryUsers::new();
    let keys = JwtKeys::new(JwtKey::new("k1", vec![7u8; 32]).unwrap());
    let store = Arc::new(MemoryStore::new());
    let auth = Authenticator::new(test_config(), keys, Arc::new(users.clone()), store)
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let user = User {
        user_id: "u1".into(),
        tenant: "acme".into(),
        scopes: ["a".to_string()].into(),
        ..User::default()
    };
    users.insert("ada", auth.passwords().hash(PASSWORD).unwrap(), user);
    (auth, users)
}

/// A refresh refused while its user is disabled leaves the refresh token as it was, as
/// the user's other credentials are: once the user is enabled again it refreshes. It
/// was used up by the refusal, and its next use taken for theft, which revoked the
/// family and the API keys it made.
#[tokio::test]
async fn a_refresh_refused_while_its_user_is_disabled_works_once_enabled_again() {
    let clock = ManualClock::starting_now();
    let (auth, users) = with_users(&clock);
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
