//! What an attacker holding a credential, or one that ended, can make of it: no altered
//! form of a credential signs in, and no form of an ended one. Each refusal is the
//! credential's own (never a store or internal failure), so nothing an attacker sends
//! reads as the service failing.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use telepact_auth::{AuthError, Authenticator, Credential, Identity, ManualClock, MemoryStore};

use crate::authenticator::{PASSWORD, authenticator, bearer, sign_in};

/// One of each kind of credential, live and ended, and whom each live one signs in as.
struct Credentials {
    auth: Authenticator,
    live_bearer: (String, Identity),
    ended_bearer: String,
    live_key: (String, Identity),
    ended_key: String,
    live_session: (String, String, Identity),
    ended_session: (String, String),
    live_refresh: String,
    ended_refresh: String,
}

impl Credentials {
    async fn new() -> Self {
        let clock = ManualClock::starting_now();
        let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
        let ada = sign_in(&auth).await;

        let live = auth.issue_tokens(&ada).await.expect("tokens");
        let ended = auth.issue_tokens(&ada).await.expect("tokens");
        let ended_caller = bearer(&auth, &ended.access_token).await.expect("signs in");
        auth.logout(&ended_caller).await.expect("logged out");
        let live_caller = bearer(&auth, &live.access_token).await.expect("signs in");

        let key = auth
            .create_api_key(&ada, "ci", BTreeSet::new())
            .await
            .expect("key");
        let revoked = auth
            .create_api_key(&ada, "old", BTreeSet::new())
            .await
            .expect("key");
        assert!(
            auth.revoke_api_key(&ada, &revoked.key_id)
                .await
                .expect("revoked")
        );
        let key_caller = api_key(&auth, &key.key).await.expect("signs in");

        let session = auth.create_session(&ada).await.expect("session");
        let closed = auth.create_session(&ada).await.expect("session");
        let closed_caller = by_session(&auth, &closed.id, &closed.csrf)
            .await
            .expect("signs in");
        auth.logout(&closed_caller).await.expect("logged out");
        let session_caller = by_session(&auth, &session.id, &session.csrf)
            .await
            .expect("signs in");

        Credentials {
            auth,
            live_bearer: (live.access_token, live_caller),
            ended_bearer: ended.access_token,
            live_key: (key.key, key_caller),
            ended_key: revoked.key,
            live_session: (session.id, session.csrf, session_caller),
            ended_session: (closed.id, closed.csrf),
            live_refresh: live.refresh_token,
            ended_refresh: ended.refresh_token,
        }
    }

    async fn still_live(&self) {
        let auth = &self.auth;
        let (token, owner) = &self.live_bearer;
        assert_eq!(bearer(auth, token).await.ok().as_ref(), Some(owner));
        let (key, owner) = &self.live_key;
        assert_eq!(api_key(auth, key).await.ok().as_ref(), Some(owner));
        let (id, csrf, owner) = &self.live_session;
        assert_eq!(by_session(auth, id, csrf).await.ok().as_ref(), Some(owner));
        assert!(auth.refresh(&self.live_refresh).await.is_ok());
    }
}

async fn api_key(auth: &Authenticator, key: &str) -> Result<Identity, AuthError> {
    let credential = Credential::ApiKey { key: key.into() };
    auth.authenticate(&credential, None).await
}

async fn by_session(auth: &Authenticator, id: &str, csrf: &str) -> Result<Identity, AuthError> {
    let credential = Credential::Session {
        id: id.into(),
        csrf: csrf.into(),
    };
    auth.authenticate(&credential, None).await
}

/// Which credential the attacker alters.
#[derive(Debug, Clone, Copy)]
enum Target {
    LiveBearer,
    EndedBearer,
    LiveKey,
    EndedKey,
    LiveSessionId,
    LiveSessionCsrf,
    EndedSessionId,
    LiveRefresh,
    EndedRefresh,
}

/// One change to a credential's text, at a place chosen by an [`Index`].
#[derive(Debug, Clone)]
enum Alteration {
    Replace(Index, char),
    Insert(Index, char),
    Delete(Index),
    TruncateAt(Index),
    Append(String),
    /// Flips an ASCII letter's case, or a character's lowest bit.
    Flip(Index),
}

impl Alteration {
    fn apply(&self, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        let at = |index: &Index, len: usize| index.index(len.max(1)).min(len);
        match self {
            Alteration::Replace(index, c) if !chars.is_empty() => {
                let i = index.index(chars.len());
                chars[i] = *c;
            }
            Alteration::Insert(index, c) => chars.insert(at(index, chars.len()), *c),
            Alteration::Delete(index) if !chars.is_empty() => {
                chars.remove(index.index(chars.len()));
            }
            Alteration::TruncateAt(index) => chars.truncate(at(index, chars.len())),
            Alteration::Append(tail) => chars.extend(tail.chars()),
            Alteration::Flip(index) if !chars.is_empty() => {
                let i = index.index(chars.len());
                let c = chars[i];
                chars[i] = if c.is_ascii_alphabetic() {
                    (c as u8 ^ 0x20) as char
                } else {
                    char::from_u32(u32::from(c) ^ 1).unwrap_or(c)
                };
            }
            _ => {}
        }
        chars.into_iter().collect()
    }
}

/// Characters that mean something in the credentials' formats, and any other.
fn a_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            'A', 'a', 'z', '0', '9', '-', '_', '.', '=', '+', '/', ' ', '%', '\0', '\n', 'é',
        ]),
        1 => any::<char>(),
    ]
}

fn an_alteration() -> impl Strategy<Value = Alteration> {
    prop_oneof![
        (any::<Index>(), a_char()).prop_map(|(i, c)| Alteration::Replace(i, c)),
        (any::<Index>(), a_char()).prop_map(|(i, c)| Alteration::Insert(i, c)),
        any::<Index>().prop_map(Alteration::Delete),
        any::<Index>().prop_map(Alteration::TruncateAt),
        prop::collection::vec(a_char(), 1..8)
            .prop_map(|tail| Alteration::Append(tail.into_iter().collect())),
        any::<Index>().prop_map(Alteration::Flip),
    ]
}

fn a_target() -> impl Strategy<Value = Target> {
    prop::sample::select(vec![
        Target::LiveBearer,
        Target::EndedBearer,
        Target::LiveKey,
        Target::EndedKey,
        Target::LiveSessionId,
        Target::LiveSessionCsrf,
        Target::EndedSessionId,
        Target::LiveRefresh,
        Target::EndedRefresh,
    ])
}

/// A refusal that is the credential's own: anything else (a store or internal failure)
/// would let an attacker's text read as the service failing.
fn credential_refusal(error: &AuthError) -> bool {
    matches!(
        error,
        AuthError::BadToken(_)
            | AuthError::TokenRevoked
            | AuthError::BadApiKey
            | AuthError::BadSession
            | AuthError::BadCsrf
            | AuthError::BadRefreshToken
    )
}

fn refused(outcome: Result<Identity, AuthError>, altered: &str) -> Result<(), TestCaseError> {
    match outcome {
        Ok(identity) => Err(TestCaseError::fail(format!(
            "{altered:?} signed in as {identity:?}"
        ))),
        Err(error) => {
            prop_assert!(credential_refusal(&error), "{error:?} for {altered:?}");
            Ok(())
        }
    }
}

async fn attempt(
    credentials: &Credentials,
    target: Target,
    alteration: &Alteration,
) -> Result<(), TestCaseError> {
    let auth = &credentials.auth;
    let alter = |text: &str| alteration.apply(text);
    match target {
        Target::LiveBearer => {
            let altered = alter(&credentials.live_bearer.0);
            refused(bearer(auth, &altered).await, &altered)
        }
        Target::EndedBearer => {
            let altered = alter(&credentials.ended_bearer);
            refused(bearer(auth, &altered).await, &altered)
        }
        Target::LiveKey => {
            let altered = alter(&credentials.live_key.0);
            refused(api_key(auth, &altered).await, &altered)
        }
        Target::EndedKey => {
            let altered = alter(&credentials.ended_key);
            refused(api_key(auth, &altered).await, &altered)
        }
        Target::LiveSessionId => {
            let (id, csrf, _) = &credentials.live_session;
            let altered = alter(id);
            refused(by_session(auth, &altered, csrf).await, &altered)
        }
        Target::LiveSessionCsrf => {
            let (id, csrf, _) = &credentials.live_session;
            let altered = alter(csrf);
            refused(by_session(auth, id, &altered).await, &altered)
        }
        Target::EndedSessionId => {
            let (id, csrf) = &credentials.ended_session;
            let altered = alter(id);
            refused(by_session(auth, &altered, csrf).await, &altered)
        }
        // An altered live refresh token that worked would rotate the live family.
        Target::LiveRefresh => refresh_refused(auth, &alter(&credentials.live_refresh)).await,
        Target::EndedRefresh => refresh_refused(auth, &alter(&credentials.ended_refresh)).await,
    }
}

async fn refresh_refused(auth: &Authenticator, altered: &str) -> Result<(), TestCaseError> {
    let outcome = auth.refresh(altered).await;
    prop_assert!(
        matches!(outcome, Err(AuthError::BadRefreshToken)),
        "{:?} for {altered:?}",
        outcome.map(|_| "a new pair")
    );
    Ok(())
}

/// Whether `alteration` leaves `target`'s text as it was (the live refresh token would
/// then be used, and its family rotated).
fn leaves_as_is(credentials: &Credentials, target: Target, alteration: &Alteration) -> bool {
    let text = match target {
        Target::LiveBearer => &credentials.live_bearer.0,
        Target::LiveKey => &credentials.live_key.0,
        Target::LiveSessionId => &credentials.live_session.0,
        Target::LiveSessionCsrf => &credentials.live_session.1,
        Target::LiveRefresh => &credentials.live_refresh,
        Target::EndedBearer | Target::EndedKey | Target::EndedSessionId | Target::EndedRefresh => {
            return false;
        }
    };
    alteration.apply(text) == *text
}

#[test]
fn no_altered_credential_signs_in_nor_any_form_of_an_ended_one() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let credentials = runtime.block_on(Credentials::new());
    let config = Config {
        cases: 4096,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&(a_target(), an_alteration()), |(target, alteration)| {
        if leaves_as_is(&credentials, target, &alteration) {
            return Ok(());
        }
        runtime.block_on(attempt(&credentials, target, &alteration))
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    // The live credentials, unaltered, still sign in as they did: their altered forms
    // were refused for the alteration.
    runtime.block_on(credentials.still_live());
}

/// A token put together from the parts of two users' signed tokens is refused unless
/// it is one of them whole.
#[tokio::test]
async fn tokens_spliced_from_two_signed_tokens_are_refused() {
    let clock = ManualClock::starting_now();
    let auth = authenticator(Arc::new(MemoryStore::new()), &clock);
    let ada = sign_in(&auth).await;
    let bob = auth
        .authenticate(
            &Credential::Password {
                username: "bob".into(),
                password: PASSWORD.into(),
            },
            Some("127.0.0.2"),
        )
        .await
        .expect("bob signs in");
    let ada_token = auth.issue_tokens(&ada).await.expect("tokens").access_token;
    let bob_token = auth.issue_tokens(&bob).await.expect("tokens").access_token;
    let parts = |token: &str| -> Vec<String> { token.split('.').map(str::to_string).collect() };
    let (a, b) = (parts(&ada_token), parts(&bob_token));
    assert_eq!((a.len(), b.len()), (3, 3), "three parts each");
    for mask in 0..8u8 {
        let pick = |i: usize| if mask & (1 << i) == 0 { &a[i] } else { &b[i] };
        let spliced = format!("{}.{}.{}", pick(0), pick(1), pick(2));
        let outcome = bearer(&auth, &spliced).await;
        // Both headers say the same (algorithm, type, key): either one makes the
        // token whole again.
        if spliced == ada_token {
            assert_eq!(outcome.expect("ada's own").user_id, "u1");
        } else if spliced == bob_token {
            assert_eq!(outcome.expect("bob's own").user_id, "u2");
        } else {
            assert!(
                matches!(outcome, Err(AuthError::BadToken("bad signature"))),
                "parts {mask:03b}: {outcome:?}"
            );
        }
    }
}
