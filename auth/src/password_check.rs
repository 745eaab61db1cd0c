//! A password login's count and check, run to their end on a task of their own.
//!
//! The attempt is recorded before the password is checked and taken back when the
//! password was right, so only failures stay counted. Were the check part of the
//! caller's future, a caller that gave up between the two (a short `@time_`, a closed
//! connection) would leave a right password counted as a failure; and a take-back that
//! met a stalled store would leave it counted too. So the check runs on a task the caller
//! only waits for, and a take-back that fails is tried again in the background.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use telepact::logging::LineBudget;

use crate::authenticator::Authenticator;
use crate::error::AuthError;
use crate::slots::Slot;
use crate::store::CredentialStore;
use crate::throttle::{LoginAttempt, LoginThrottle};
use crate::users::LoginRecord;
use telepact::clock::Clock;

/// How many times a take-back is tried in the background, at most.
const TAKE_BACK_TRIES: u32 = 10;
/// The wait before the first background try; each next one waits twice as long, up to
/// [`TAKE_BACK_MOST_WAIT`].
const TAKE_BACK_FIRST_WAIT: Duration = Duration::from_millis(500);
const TAKE_BACK_MOST_WAIT: Duration = Duration::from_secs(30);

/// How many take-backs one [`Authenticator`] tries in the background at once. Each
/// lives up to about two minutes; while the store is down, logins are refused as fast
/// as it refuses them, thousands a second, and each left one behind: 20,000 logins in
/// 5 s held 21 MB. Past the bound an attempt stays counted until the window after its own ends, as
/// one whose tries all failed does.
pub(crate) const MOST_TAKE_BACKS_IN_BACKGROUND: usize = 1_024;

/// Warnings a second that a take-back was not tried for want of room.
static UNTRIED_LINES: LineBudget = LineBudget::per_second(1);

/// The account found and the password's new hash, when it needs one.
pub(crate) type Verified = (LoginRecord, Option<String>);

/// One password login, from its count to its check.
pub(crate) struct PasswordCheck {
    pub(crate) authenticator: Authenticator,
    pub(crate) username: String,
    pub(crate) password: String,
    /// The client's failed-login bucket, for its share of the check's places.
    pub(crate) address: Option<String>,
    pub(crate) attempt: LoginAttempt,
}

impl PasswordCheck {
    /// Runs the login on a task of its own and waits for its outcome; the login runs to
    /// its end even when this future is dropped.
    pub(crate) async fn run_to_end(self) -> Result<Verified, AuthError> {
        tokio::spawn(self.run())
            .await
            .map_err(|_| AuthError::Internal("check a password"))?
    }

    /// Records the attempt, checks the password, and takes the attempt back unless the
    /// password was wrong. An attempt that could not be recorded is refused unchecked
    /// (it may have been recorded all the same) and taken back: it is no failure.
    ///
    /// The check's place is taken once the attempt is admitted: a guesser past its limit
    /// then holds none of the account's share of them while its refusals are counted,
    /// which kept the account's owner, elsewhere, refused as busy.
    async fn run(self) -> Result<Verified, AuthError> {
        let PasswordCheck {
            authenticator: auth,
            username,
            password,
            address,
            attempt,
        } = self;
        let store = &*auth.store;
        match auth.throttle.admit(store, &attempt).await {
            Ok(true) => {}
            Ok(false) => return Err(AuthError::Throttled),
            Err(unrecorded) => {
                take_back_in_background(&auth, attempt);
                return Err(unrecorded);
            }
        }
        let Some(slot) = auth
            .password_slots
            .take(&username, address.as_deref())
            .await
        else {
            take_back(&auth, attempt).await;
            return Err(AuthError::Busy);
        };
        let login = match auth.users.find_login(&username).await {
            Ok(login) => login,
            Err(unchecked) => {
                take_back_in_background(&auth, attempt);
                return Err(unchecked);
            }
        };
        match check(&auth, login, password, slot).await {
            Ok(Some(verified)) => {
                take_back(&auth, attempt).await;
                Ok(verified)
            }
            Ok(None) => Err(AuthError::BadPassword),
            Err(unchecked) => {
                take_back_in_background(&auth, attempt);
                Err(unchecked)
            }
        }
    }
}

/// Checks `password` against `login` (an unknown user against a decoy, at the same cost)
/// on the blocking pool, holding `slot`; `None` when it is wrong.
async fn check(
    auth: &Authenticator,
    login: Option<LoginRecord>,
    password: String,
    slot: Slot,
) -> Result<Option<Verified>, AuthError> {
    let passwords = Arc::clone(&auth.passwords);
    let may_rehash = auth.users.stores_password_hashes();
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        match login {
            Some(login) if passwords.verify(&password, &login.password_hash) => {
                let rehashed = (may_rehash && passwords.needs_rehash(&login.password_hash))
                    .then(|| passwords.hash(&password).ok())
                    .flatten();
                Some((login, rehashed))
            }
            Some(_) => None,
            None => {
                passwords.verify_decoy(&password);
                None
            }
        }
    })
    .await
    .map_err(|_| AuthError::Internal("check a password"))
}

/// Takes `attempt` back now, or, when the store fails, in the background.
async fn take_back(auth: &Authenticator, attempt: LoginAttempt) {
    if auth
        .throttle
        .take_back(&*auth.store, &attempt)
        .await
        .is_err()
    {
        take_back_in_background(auth, attempt);
    }
}

/// Takes `attempt` back on a task of its own, trying again while the store fails, until
/// it is done, its counts' windows end, or [`TAKE_BACK_TRIES`] tries failed.
/// At most [`MOST_TAKE_BACKS_IN_BACKGROUND`] at once.
fn take_back_in_background(auth: &Authenticator, attempt: LoginAttempt) {
    let Some(place) = InBackground::take(&auth.take_backs_in_background) else {
        if let Some(left_out) = UNTRIED_LINES.admit() {
            let left_out = (left_out > 0).then_some(left_out);
            tracing::warn!(
                limit = MOST_TAKE_BACKS_IN_BACKGROUND,
                left_out,
                "too many login attempts wait to be taken back: this one counts as a failed login until the window after its own ends"
            );
        }
        return;
    };
    let retry = Retry {
        throttle: auth.throttle,
        store: Arc::clone(&auth.store),
        clock: Arc::clone(&auth.clock),
    };
    tokio::spawn(async move {
        retry.take_back(attempt).await;
        drop(place);
    });
}

/// A take-back's place among those tried in the background, given back when dropped
/// (its task ended, or was dropped with the runtime).
struct InBackground(Arc<AtomicUsize>);

impl InBackground {
    fn take(count: &Arc<AtomicUsize>) -> Option<Self> {
        let taken = count.fetch_add(1, Ordering::AcqRel);
        let place = InBackground(Arc::clone(count));
        (taken < MOST_TAKE_BACKS_IN_BACKGROUND).then_some(place)
    }
}

impl Drop for InBackground {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Retry {
    throttle: LoginThrottle,
    store: Arc<dyn CredentialStore>,
    clock: Arc<dyn Clock>,
}

impl Retry {
    async fn take_back(self, attempt: LoginAttempt) {
        let mut wait = TAKE_BACK_FIRST_WAIT;
        for _ in 0..TAKE_BACK_TRIES {
            let Err(error) = self.throttle.take_back(&*self.store, &attempt).await else {
                return;
            };
            if self.clock.unix_now() >= attempt.counted_until() {
                return;
            }
            tracing::debug!(error = %telepact::ErrorChain(&error), "could not take back a login attempt; trying again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(TAKE_BACK_MOST_WAIT);
        }
        tracing::warn!(
            "could not take back a login attempt: it counts as a failed login until the window after its own ends"
        );
    }
}
