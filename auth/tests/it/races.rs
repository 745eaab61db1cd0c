//! Credentials made or ended while another request, or another instance sharing the
//! store, changes the same sign-in: each interleaving is played out step by step.

use std::collections::BTreeSet;
use std::sync::Arc;

use telepact_auth::{
    AuthError, Authenticator, Credential, CredentialStore, Identity, ManualClock, MemoryStore,
};

use crate::authenticator::{authenticator, past_the_reuse_grace, sign_in};

fn session_of(session: &telepact_auth::NewSession) -> Credential {
    Credential::Session {
        id: session.id.clone(),
        csrf: session.csrf.clone(),
    }
}

/// Whether what `made` holds signs anyone in: an API key or a session.
async fn signs_in(auth: &Authenticator, made: &Credential) -> bool {
    auth.authenticate(made, None).await.is_ok()
}

/// A request signed in with a session tied to a login's refresh family, whose family is
/// found stolen (on `other`, an instance sharing the store) between the session's check
/// and the handler's call: the API key or session the handler makes must not outlive
/// the revocation. The ended session's record was gone, so they were made tied to no
/// family, and worked on.
async fn made_while_the_family_is_found_stolen(
    auth: &Authenticator,
    other: &Authenticator,
    clock: &ManualClock,
) {
    let ada = sign_in(auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let session = auth.create_linked_session(&ada, &tokens).await.unwrap();
    let by_session: Identity = auth
        .authenticate(&session_of(&session), None)
        .await
        .unwrap();

    other.refresh(&tokens.refresh_token).await.unwrap();
    past_the_reuse_grace(other, clock);
    let stolen = other.refresh(&tokens.refresh_token).await;
    assert!(
        matches!(stolen, Err(AuthError::RefreshReused)),
        "{stolen:?}"
    );

    let key = auth.create_api_key(&by_session, "k", BTreeSet::new()).await;
    if let Ok(key) = key {
        let key = Credential::ApiKey { key: key.key };
        assert!(!signs_in(auth, &key).await, "a key outlived the theft");
    }
    let opened = auth.create_session(&by_session).await;
    if let Ok(opened) = opened {
        let opened = session_of(&opened);
        assert!(
            !signs_in(auth, &opened).await,
            "a session outlived the theft"
        );
    }
}

#[tokio::test]
async fn a_session_ended_mid_request_makes_nothing_that_outlives_its_family() {
    let clock = ManualClock::starting_now();
    let store: Arc<dyn CredentialStore> = Arc::new(MemoryStore::new());
    let (auth, other) = (
        authenticator(Arc::clone(&store), &clock),
        authenticator(store, &clock),
    );
    made_while_the_family_is_found_stolen(&auth, &other, &clock).await;
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_session_ended_mid_request_on_another_instance_makes_nothing_that_outlives_it() {
    let Some(redis) = telepact_test_support::RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let connect = || telepact_auth::store::RedisStore::connect(&url, "races:");
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(connect().await.unwrap()), &clock);
    let other = authenticator(Arc::new(connect().await.unwrap()), &clock);
    made_while_the_family_is_found_stolen(&auth, &other, &clock).await;
}
