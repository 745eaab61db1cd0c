//! A Telepact sign-in pair as a token source: `fn.login` with a password, then
//! `fn.refresh` with the refresh token it answered.

use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::bearer::BearerAuthoriser;
use super::error::AuthoriseError;
use super::fixed::StaticAuthoriser;
use super::placement::BasicPlacement;
use super::secret::Secret;
use super::token::{Token, TokenSource};
use crate::client::Client;
use crate::message::{Headers, Message};
use crate::router::BoxFuture;

/// The function, variant and field names of a sign-in pair; the defaults are the auth
/// example's (`fn.login` with `@auth_: {"Password": {username, password}}` answering
/// `{accessToken, refreshToken, expiresIn}`, and `fn.refresh {refreshToken}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginNames {
    /// The function that takes the password and answers the tokens.
    pub login_function: String,
    /// `None`: sign in again instead of refreshing.
    pub refresh_function: Option<String>,
    /// The refresh function's argument carrying the refresh token.
    pub refresh_argument: String,
    /// How the password travels to the login function.
    pub password: BasicPlacement,
    /// The answer's field holding the access token.
    pub access_token_field: String,
    /// The answer's field holding the refresh token; optional in the answer.
    pub refresh_token_field: String,
    /// Seconds the access token lives; optional in the answer.
    pub expires_in_field: String,
}

impl Default for LoginNames {
    fn default() -> Self {
        LoginNames {
            login_function: "fn.login".into(),
            refresh_function: Some("fn.refresh".into()),
            refresh_argument: "refreshToken".into(),
            password: BasicPlacement::default(),
            access_token_field: "accessToken".into(),
            refresh_token_field: "refreshToken".into(),
            expires_in_field: "expiresIn".into(),
        }
    }
}

crate::__option_setters!(LoginNames {
    login_function: into String,
    refresh_function: Option<String>,
    refresh_argument: into String,
    password: BasicPlacement,
    access_token_field: into String,
    refresh_token_field: into String,
    expires_in_field: into String,
});

/// Signs in with a username and password through Telepact functions, and renews with
/// the refresh token while the server accepts it (signing in again once it refuses it).
/// A refresh that fails otherwise (the call fails, or the server answers `ErrorUnknown_`)
/// fails the fetch and keeps the refresh token, which the next fetch tries again.
#[derive(Clone)]
pub struct TelepactLogin {
    client: Client,
    username: String,
    password: Secret,
    names: LoginNames,
}

impl TelepactLogin {
    /// Signs in through `client` (any authoriser it has is left out).
    pub fn new(client: Client, username: impl Into<String>, password: impl Into<Secret>) -> Self {
        TelepactLogin {
            client: client.without_authoriser(),
            username: username.into(),
            password: password.into(),
            names: LoginNames::default(),
        }
    }

    /// The function, variant and field names to use instead of the defaults.
    pub fn names(mut self, names: LoginNames) -> Self {
        self.names = names;
        self
    }

    async fn login(&self, now: SystemTime) -> Result<Token, AuthoriseError> {
        let function = &self.names.login_function;
        let password = self
            .names
            .password
            .credential(&self.username, self.password.expose())?;
        let client = self
            .client
            .clone()
            .with_authoriser(StaticAuthoriser::from_credential(password));
        let request = Message::new(Headers::new(), function.as_str(), Map::new());
        self.answer(function, client.request(request).await, now)
    }

    async fn refresh(
        &self,
        function: &str,
        refresh_token: &Secret,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let mut payload = Map::new();
        payload.insert(
            self.names.refresh_argument.clone(),
            Value::from(refresh_token.expose()),
        );
        let request = Message::new(Headers::new(), function, payload);
        self.answer(function, self.client.request(request).await, now)
    }

    /// The token in an `Ok_` answer.
    fn answer(
        &self,
        function: &str,
        response: Result<Message, crate::client::ClientError>,
        now: SystemTime,
    ) -> Result<Token, AuthoriseError> {
        let response = response.map_err(|source| AuthoriseError::SignInCall {
            function: function.into(),
            source,
        })?;
        let refused = || AuthoriseError::SignInRefused {
            function: function.into(),
            result: response.target().into(),
        };
        if response.target() != "Ok_" {
            return Err(refused());
        }
        let payload = response.payload().ok_or_else(refused)?;
        let missing = |field: &str| AuthoriseError::MissingField {
            function: function.into(),
            field: field.into(),
        };
        let names = &self.names;
        let text = |field: &str| payload.get(field).and_then(Value::as_str);
        let access =
            text(&names.access_token_field).ok_or_else(|| missing(&names.access_token_field))?;
        let mut token = Token::new(access);
        if let Some(refresh) = text(&names.refresh_token_field) {
            token = token.refresh_token(refresh);
        }
        match payload.get(&names.expires_in_field) {
            None | Some(Value::Null) => {}
            Some(seconds) => {
                let seconds = seconds
                    .as_u64()
                    .ok_or_else(|| missing(&names.expires_in_field))?;
                token = token.expires_in(now, Duration::from_secs(seconds));
            }
        }
        Ok(token)
    }
}

impl TokenSource for TelepactLogin {
    fn fetch(
        &self,
        previous: Option<Token>,
        now: SystemTime,
    ) -> BoxFuture<'_, Result<Token, AuthoriseError>> {
        Box::pin(async move {
            let refresh_token = previous.and_then(|token| token.refresh_token);
            if let (Some(function), Some(refresh_token)) =
                (&self.names.refresh_function, refresh_token)
            {
                match self.refresh(function, &refresh_token, now).await {
                    Ok(token) => return Ok(token),
                    Err(error) if !refused(&error) => return Err(error),
                    Err(error) => {
                        tracing::debug!(error = %crate::ErrorChain(&error), "refresh refused; signing in again")
                    }
                }
            }
            self.login(now).await
        })
    }
}

/// Whether a refresh failed because the server refused the refresh token (or answered
/// something else than tokens), where signing in again is the way on. A call that did
/// not complete, or that the server could not check (`ErrorUnknown_`: its credential
/// store down, say), is not: the refresh token may be good, and is kept for the next
/// try. Signing in instead would start another family and, were the store failing,
/// send the password to a server that could not count the attempt.
fn refused(error: &AuthoriseError) -> bool {
    match error {
        AuthoriseError::SignInCall { .. } => false,
        AuthoriseError::SignInRefused { result, .. } => result != "ErrorUnknown_",
        _ => true,
    }
}

impl std::fmt::Debug for TelepactLogin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TelepactLogin")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

/// A ready authoriser for the auth example's sign-in pair: signs in through `client`
/// as `username`, sends the access token as `@auth_: {"Bearer": {"token": …}}` and
/// renews it with `fn.refresh` before it expires.
pub fn login_authoriser(
    client: Client,
    username: impl Into<String>,
    password: impl Into<Secret>,
) -> BearerAuthoriser {
    BearerAuthoriser::new(TelepactLogin::new(client, username, password))
}
