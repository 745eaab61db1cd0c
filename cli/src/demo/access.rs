//! Who a call belongs to: the caller named in `@auth_`, or everyone.
//!
//! Calls without `@auth_` share one set of variables and one paper tape. `Ephemeral`
//! names a user without proof (the demo's way to show separate callers);
//! `Session` carries a token `fn.login` gave. Only `fn.logout` requires auth, and
//! only a session proves who the caller is, so the auth hook accepts sessions alone.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use telepact::{AuthFuture, AuthHook, Authenticated, HandlerError, Headers, Refusal};

use super::calculator::{Auth, Context};
use super::ledger::{Ledger, Owner};

/// The ledger, shared by the handlers and the auth hook.
pub(super) type SharedLedger = Arc<Mutex<Ledger>>;

/// The ledger, locked. Its state is whole between calls (each change is made under
/// one lock, without a panic midway), so a lock a panic poisoned is taken anyway.
pub(super) fn lock(ledger: &SharedLedger) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The user whose session token the auth hook accepted.
#[derive(Debug, Clone)]
pub(super) struct SessionUser(pub(super) String);

/// The auth hook: accepts a `Session` token of an open session.
#[derive(Debug, Clone)]
pub(super) struct SessionAuth(pub(super) SharedLedger);

impl AuthHook for SessionAuth {
    fn authenticate(&self, headers: &Headers) -> AuthFuture {
        let credentials = auth(headers).ok().flatten();
        let user = match credentials.as_deref() {
            Some(Auth::Session(session)) => {
                lock(&self.0).user_of(&session.token).map(str::to_owned)
            }
            _ => None,
        };
        let outcome = match user {
            Some(user) => Ok(Authenticated::new().extension(SessionUser(user))),
            None => Err(HandlerError::from("no open session for these credentials")),
        };
        AuthFuture::ready(outcome)
    }
}

/// Whose variables and paper tape a call uses: `Unauthenticated` for a session token
/// that is not (or no longer) open.
pub(super) fn owner(context: &Context, ledger: &Ledger) -> Result<Owner, Refusal> {
    match auth(&context.raw_headers)?.as_deref() {
        None => Ok(Owner::Everyone),
        Some(Auth::Ephemeral(ephemeral)) => Ok(Owner::User(ephemeral.username.clone())),
        Some(Auth::Session(session)) => ledger
            .user_of(&session.token)
            .map(|user| Owner::User(user.to_owned()))
            .ok_or(Refusal::Unauthenticated),
    }
}

/// `@auth_`, typed as the server read it with the request.
fn auth(headers: &Headers) -> Result<Option<std::borrow::Cow<'_, Auth>>, Refusal> {
    headers
        .get_as::<Auth>("@auth_")
        .transpose()
        .map_err(|_| Refusal::Unauthenticated)
}
