//! The authorisation redirect received on a loopback port (RFC 8252 §7.3): how a
//! command-line or desktop app gets the code back from the user's browser.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::error::AuthoriseError;
use super::secret::Secret;
use crate::http::HttpOptions;

const SIGNED_IN_PAGE: &str =
    "<!doctype html><title>Signed in</title><p>Signed in. You can close this window.</p>";
const REFUSED_PAGE: &str =
    "<!doctype html><title>Sign-in failed</title><p>Sign-in failed. You can close this window.</p>";

/// Listens on `127.0.0.1` for the one redirect that ends an authorisation code
/// sign-in. Register [`redirect_uri`](Self::redirect_uri) with the provider, send the
/// user's browser to [`authorization_url`](super::authorization_url), then
/// [`receive`](Self::receive) the code.
///
/// ```no_run
/// # async fn sign_in() -> Result<(), telepact::client::authorise::AuthoriseError> {
/// use std::time::Duration;
/// use telepact::client::authorise::{
///     AuthorizationCode, LoopbackRedirect, Pkce, authorization_url, random_state,
/// };
///
/// let redirect = LoopbackRedirect::bind("/callback").await?;
/// let (pkce, state) = (Pkce::generate()?, random_state()?);
/// let url = authorization_url("https://idp.example/authorize", "cli",
///     redirect.redirect_uri(), &["reports:read"], &state, &pkce)?;
/// println!("Sign in at {url}");
/// let redirect_uri = redirect.redirect_uri().to_string();
/// let code = redirect.receive(&state, Duration::from_secs(300)).await?;
/// let source = AuthorizationCode::new("https://idp.example/token", "cli", redirect_uri)?
///     .code(code, &pkce);
/// # let _ = source;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    path: String,
    redirect_uri: String,
}

/// What the browser brought back with the expected `state`.
type Outcome = Result<Secret, AuthoriseError>;

#[derive(Clone)]
struct Expecting {
    state: Arc<str>,
    outcome: mpsc::Sender<Outcome>,
}

impl LoopbackRedirect {
    /// Listens on a free port; the redirect URI is `http://127.0.0.1:<port><path>`.
    ///
    /// # Errors
    ///
    /// As [`bind_port`](Self::bind_port).
    pub async fn bind(path: &str) -> Result<Self, AuthoriseError> {
        Self::bind_port(path, 0).await
    }

    /// Listens on `port`, for providers that only accept a registered fixed port.
    ///
    /// # Errors
    ///
    /// [`AuthoriseError::Redirect`] when `path` is not one the listener can serve as
    /// written (route syntax such as `{id}`, or what a request's path never holds: see
    /// [`HttpOptions::checked_path`]), or when the port cannot be listened on (taken,
    /// or not permitted).
    pub async fn bind_port(path: &str, port: u16) -> Result<Self, AuthoriseError> {
        // Checked here, so that routing it in `receive` cannot panic.
        let path = HttpOptions::default()
            .checked_path(path)
            .map_err(|invalid| AuthoriseError::Redirect(invalid.to_string()))?
            .path;
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|error| {
                AuthoriseError::Redirect(format!("cannot listen on loopback: {error}"))
            })?;
        let port = listener
            .local_addr()
            .map_err(|error| AuthoriseError::Redirect(error.to_string()))?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}{path}");
        Ok(LoopbackRedirect {
            listener,
            path,
            redirect_uri,
        })
    }

    /// The `http://127.0.0.1:<port><path>` address to register as the request's `redirect_uri`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `timeout` for the redirect carrying `state` and returns its code.
    /// Requests with another `state` (or none) are answered 400 and ignored, so a
    /// stray or forged request cannot end the sign-in. A redirect with the right
    /// `state` and an `error` ends it with [`AuthoriseError::SignInDenied`].
    ///
    /// # Errors
    ///
    /// - [`AuthoriseError::SignInDenied`] when the redirect with `state` carries an
    ///   `error`.
    /// - [`AuthoriseError::Redirect`] when no redirect with `state` arrives within
    ///   `timeout`, the first one carries no code, or the listener stops.
    pub async fn receive(self, state: &str, timeout: Duration) -> Result<Secret, AuthoriseError> {
        let (outcome, mut outcomes) = mpsc::channel(1);
        let expecting = Expecting {
            state: state.into(),
            outcome,
        };
        let app = Router::new()
            .route(&self.path, get(callback))
            .with_state(expecting);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(self.listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        let received = tokio::time::timeout(timeout, outcomes.recv()).await;
        let _ = stop.send(());
        // Let the browser's page go out; a connection kept open does not hold us up.
        if tokio::time::timeout(Duration::from_secs(1), server)
            .await
            .is_err()
        {
            tracing::debug!("redirect listener closed with a connection still open");
        }
        match received {
            Ok(Some(outcome)) => outcome,
            Ok(None) => Err(AuthoriseError::Redirect("the listener stopped".to_string())),
            Err(_) => Err(AuthoriseError::Redirect(format!(
                "none within {} s",
                timeout.as_secs()
            ))),
        }
    }
}

async fn callback(
    State(expecting): State<Expecting>,
    RawQuery(query): RawQuery,
) -> (StatusCode, Html<&'static str>) {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "code" => code = Some(Secret::new(value.into_owned())),
            "state" => state = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = Some(value.into_owned()),
            _ => {}
        }
    }
    if state.as_deref() != Some(&*expecting.state) {
        tracing::warn!("ignored a sign-in redirect with an unexpected state");
        return (StatusCode::BAD_REQUEST, Html(REFUSED_PAGE));
    }
    let (status, page, outcome) = match (code, error) {
        (_, Some(error)) => (
            StatusCode::OK,
            REFUSED_PAGE,
            Err(AuthoriseError::SignInDenied { error, description }),
        ),
        (Some(code), None) => (StatusCode::OK, SIGNED_IN_PAGE, Ok(code)),
        (None, None) => (
            StatusCode::BAD_REQUEST,
            REFUSED_PAGE,
            Err(AuthoriseError::Redirect("it carries no code".to_string())),
        ),
    };
    // Only the first outcome counts; later ones find the channel full or closed.
    let _ = expecting.outcome.try_send(outcome);
    (status, Html(page))
}
