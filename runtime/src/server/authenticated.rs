//! What an on-auth hook answers: the headers and typed values a request gains, and the
//! future that carries them.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use smallvec::SmallVec;

use crate::message::{HeaderName, Headers};
use crate::router::{BoxFuture, HandlerError};

/// What a successful on-auth hook hands on: headers merged into the request, and typed
/// values (for example the caller's identity) put into [`Message::extensions`].
///
/// [`Message::extensions`]: crate::Message::extensions
#[derive(Default)]
pub struct Authenticated {
    /// Headers merged into the request, in the order added. A list rather than a map:
    /// the server inserts each into the request's headers, so a map here would only be
    /// built to be taken apart.
    headers: Vec<(HeaderName, serde_json::Value)>,
    /// Typed values put into the request's extensions, in the order added. Kept apart
    /// rather than in an extensions map of their own: a hook attaches one value or two,
    /// and a map here would be built only to be emptied into the request's.
    extensions: SmallVec<[Box<dyn Extension>; 1]>,
}

impl Authenticated {
    /// Nothing to add: the request passes unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header to merge into the request (replacing one the request has, or one
    /// added before under the same name).
    pub fn header(mut self, name: impl Into<HeaderName>, value: serde_json::Value) -> Self {
        self.headers.push((name.into(), value));
        self
    }

    /// Attaches a typed value for middleware and handlers (replacing one of the same
    /// type that the request has, or that was attached before).
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.push(Box::new(value));
        self
    }

    /// The headers to merge, in the order added.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &serde_json::Value)> {
        self.headers.iter().map(|(name, value)| (&**name, value))
    }

    /// The value the request's header `name` gets, if this adds one.
    pub fn header_value(&self, name: &str) -> Option<&serde_json::Value> {
        let mut added = self.headers.iter().rev();
        added
            .find(|(added, _)| added == name)
            .map(|(_, value)| value)
    }

    /// The value of type `T` the request gets, if this attaches one.
    pub fn get_extension<T: 'static>(&self) -> Option<&T> {
        let mut attached = self.extensions.iter().rev();
        attached.find_map(|value| (**value).as_any().downcast_ref())
    }

    /// Merges the headers into `headers` and the values into `extensions`.
    pub(crate) fn merge_into(self, headers: &mut Headers, extensions: &mut http::Extensions) {
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        for value in self.extensions {
            value.insert_into(extensions);
        }
    }
}

impl From<Headers> for Authenticated {
    fn from(headers: Headers) -> Self {
        Authenticated {
            headers: headers.into_iter().collect(),
            extensions: SmallVec::new(),
        }
    }
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let types: Vec<_> = self.extensions.iter().map(|v| (**v).type_name()).collect();
        f.debug_struct("Authenticated")
            .field("headers", &self.headers)
            .field("extensions", &types)
            .finish()
    }
}

/// A typed value waiting to go into a request's extensions.
trait Extension: Send + Sync {
    fn insert_into(self: Box<Self>, extensions: &mut http::Extensions);
    fn as_any(&self) -> &dyn Any;
    fn type_name(&self) -> &'static str;
}

impl<T: Clone + Send + Sync + 'static> Extension for T {
    fn insert_into(self: Box<Self>, extensions: &mut http::Extensions) {
        extensions.insert(*self);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
}

/// The error an on-auth hook returns when it could not check the credentials, as
/// against checking and refusing them: its credential store or user directory did not
/// answer, or a step of its own (randomness, a blocking task) failed. Returned as the
/// hook's [`HandlerError`] (`Err(AuthUnavailable::new(cause).into())`), it makes the
/// server answer `ErrorUnknown_` with a case id and log the cause under that id, where
/// any other error of the hook answers `ErrorUnauthenticated_`.
///
/// The difference matters to clients: `ErrorUnauthenticated_` tells them the credential
/// is no good, and an authoriser then drops its token, spends its refresh token or signs
/// in again; the runtime client's authorisers renew only after `ErrorUnauthenticated_`.
/// A hook that panics or runs past the call's time limit could not check either, and is
/// answered the same way.
///
/// It is logged with its cause (`could not check the credentials: ` and the cause's
/// chain): keep credentials out of the cause.
#[derive(Debug, thiserror::Error)]
#[error("could not check the credentials")]
pub struct AuthUnavailable {
    #[source]
    cause: HandlerError,
}

impl AuthUnavailable {
    /// The credentials could not be checked, because of `cause`.
    pub fn new(cause: impl Into<HandlerError>) -> Self {
        AuthUnavailable {
            cause: cause.into(),
        }
    }

    /// Why the credentials could not be checked.
    pub fn cause(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.cause
    }
}

/// What the server made of a request's credentials with the on-auth hook.
pub(crate) enum AuthCheck {
    Passed,
    /// Missing or rejected: answered `ErrorUnauthenticated_`.
    Refused,
    /// Not checked (the hook could not, panicked or ran out of time): answered
    /// `ErrorUnknown_` under this case id.
    Unchecked(String),
}

/// What an [`AuthHook`](crate::AuthHook) answers: a hook that decides at once (a
/// password checked in memory, say) answers [`AuthFuture::ready`] and costs no
/// allocation; one that waits for something (a database, a token service) answers
/// [`AuthFuture::new`] with its future, which is boxed.
#[must_use = "futures do nothing unless polled"]
pub struct AuthFuture(AuthState);

enum AuthState {
    /// The outcome, until it is taken by the one poll that completes the future.
    Ready(Option<Result<Authenticated, HandlerError>>),
    Later(BoxFuture<'static, Result<Authenticated, HandlerError>>),
}

impl AuthFuture {
    /// The outcome, known already.
    pub fn ready(outcome: Result<Authenticated, HandlerError>) -> Self {
        AuthFuture(AuthState::Ready(Some(outcome)))
    }

    /// The outcome of `future`, once it completes.
    pub fn new<F>(future: F) -> Self
    where
        F: Future<Output = Result<Authenticated, HandlerError>> + Send + 'static,
    {
        AuthFuture(AuthState::Later(Box::pin(future)))
    }
}

impl From<BoxFuture<'static, Result<Authenticated, HandlerError>>> for AuthFuture {
    fn from(future: BoxFuture<'static, Result<Authenticated, HandlerError>>) -> Self {
        AuthFuture(AuthState::Later(future))
    }
}

impl From<Result<Authenticated, HandlerError>> for AuthFuture {
    fn from(outcome: Result<Authenticated, HandlerError>) -> Self {
        AuthFuture::ready(outcome)
    }
}

impl Future for AuthFuture {
    type Output = Result<Authenticated, HandlerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            AuthState::Ready(outcome) => Poll::Ready(
                outcome
                    .take()
                    .expect("AuthFuture polled after it completed"),
            ),
            AuthState::Later(future) => future.as_mut().poll(cx),
        }
    }
}

impl std::fmt::Debug for AuthFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.0 {
            AuthState::Ready(_) => "ready",
            AuthState::Later(_) => "later",
        };
        f.debug_tuple("AuthFuture").field(&state).finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Station(&'static str);

    #[test]
    fn added_headers_and_values_replace_the_requests_and_the_last_added_wins() {
        let authenticated = Authenticated::new()
            .header("@who", json!("first"))
            .header("@station", json!("oven"))
            .header("@who", json!("second"))
            .extension(7_u8)
            .extension(Station("counter"))
            .extension(Station("oven"));
        assert_eq!(authenticated.header_value("@who"), Some(&json!("second")));
        assert_eq!(authenticated.header_value("@none"), None);
        assert_eq!(authenticated.headers().count(), 3);
        assert_eq!(authenticated.get_extension(), Some(&Station("oven")));
        assert_eq!(authenticated.get_extension::<u16>(), None);

        let mut headers = Headers::new();
        headers.insert("@who".to_string(), json!("forged"));
        headers.insert("@auth_".to_string(), json!({"Token": {"token": "t"}}));
        let mut extensions = http::Extensions::new();
        extensions.insert(Station("forged"));
        extensions.insert(1_u32);
        authenticated.merge_into(&mut headers, &mut extensions);
        assert_eq!(
            serde_json::Value::from(headers),
            json!({"@who": "second", "@auth_": {"Token": {"token": "t"}}, "@station": "oven"})
        );
        assert_eq!(extensions.get::<u8>(), Some(&7));
        assert_eq!(extensions.get::<Station>(), Some(&Station("oven")));
        assert_eq!(extensions.get::<u32>(), Some(&1), "the request's own stay");
    }

    #[test]
    fn debug_names_the_attached_types_not_their_values() {
        let authenticated = Authenticated::new().extension(Station("oven"));
        let shown = format!("{authenticated:?}");
        assert!(shown.contains("Station"), "{shown}");
        assert!(!shown.contains("oven"), "{shown}");
    }

    #[test]
    fn a_header_map_becomes_the_headers_to_merge() {
        let mut map = Headers::new();
        map.insert("@a".to_string(), json!(1));
        let authenticated = Authenticated::from(map);
        assert_eq!(authenticated.header_value("@a"), Some(&json!(1)));
    }

    #[tokio::test]
    async fn an_outcome_is_answered_at_once_or_when_its_future_completes() {
        let ready = AuthFuture::ready(Ok(Authenticated::new().extension(1_u8)));
        assert_eq!(format!("{ready:?}"), r#"AuthFuture("ready")"#);
        let ready = ready.await.unwrap();
        assert_eq!(ready.get_extension(), Some(&1_u8));

        let later = AuthFuture::new(async {
            tokio::task::yield_now().await;
            Err("no such user".into())
        });
        assert_eq!(format!("{later:?}"), r#"AuthFuture("later")"#);
        assert_eq!(later.await.unwrap_err().to_string(), "no such user");
    }
}
