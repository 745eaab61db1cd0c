//! How a credential's checks read the store: the marks that could end it are read at
//! once, so that a call signed in with a token waits one round trip to a remote store,
//! not one for each mark.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use telepact_auth::{CredentialStore, ManualClock, MemoryStore, StoreError, UnixTime};

use crate::authenticator::{authenticator, bearer, session_of, sign_in};

type StoreFuture<'a, T> = telepact::BoxFuture<'a, Result<T, StoreError>>;

/// A memory store that notes how many reads were under way at once, at most.
#[derive(Default)]
struct ReadsAtOnce {
    inner: MemoryStore,
    reading: AtomicUsize,
    most: AtomicUsize,
}

impl ReadsAtOnce {
    /// The most reads under way at once since the last call.
    fn most_since(&self) -> usize {
        self.most.swap(0, Ordering::SeqCst)
    }
}

impl CredentialStore for ReadsAtOnce {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, ()> {
        self.inner.put(key, value, at)
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, bool> {
        self.inner.put_if_absent(key, value, at)
    }

    /// Pends once before it reads, as a remote store's read does: reads issued together
    /// are under way together.
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            let reading = self.reading.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(reading, Ordering::SeqCst);
            tokio::task::yield_now().await;
            let value = self.inner.get(key).await;
            self.reading.fetch_sub(1, Ordering::SeqCst);
            value
        })
    }

    fn add<'a>(&'a self, key: &'a str, delta: i64, at: Option<UnixTime>) -> StoreFuture<'a, i64> {
        self.inner.add(key, delta, at)
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.inner.delete(key)
    }

    fn add_member<'a>(
        &'a self,
        key: &'a str,
        member: &'a str,
        at: Option<UnixTime>,
    ) -> StoreFuture<'a, u64> {
        self.inner.add_member(key, member, at)
    }

    fn remove_member<'a>(&'a self, key: &'a str, member: &'a str) -> StoreFuture<'a, ()> {
        self.inner.remove_member(key, member)
    }
}

/// A bearer token's revoked mark and its family's revoked and stolen marks are read at
/// once, and a session's family's two marks too. Read one after the other, the stolen
/// mark a theft's fix added made every call signed in with a token wait a third round
/// trip.
#[tokio::test]
async fn the_marks_that_could_end_a_credential_are_read_at_once() {
    let clock = ManualClock::starting_now();
    let store = Arc::new(ReadsAtOnce::default());
    let auth = authenticator(Arc::clone(&store) as Arc<dyn CredentialStore>, &clock);
    let ada = sign_in(&auth).await;
    let tokens = auth.issue_tokens(&ada).await.unwrap();
    let session = auth.create_linked_session(&ada, &tokens).await.unwrap();

    store.most_since();
    assert!(bearer(&auth, &tokens.access_token).await.is_ok());
    assert_eq!(store.most_since(), 3, "the token's and its family's marks");
    assert!(auth.authenticate(&session_of(&session), None).await.is_ok());
    assert_eq!(store.most_since(), 2, "the session's family's marks");
}
