//! Verifies each kind of credential and normalises it into an [`Identity`].

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::credential::Credential;
use crate::error::AuthError;
use crate::identity::{CredentialRef, Identity};
use crate::jwt::{self, JwtConfig, JwtKeys};
use crate::password::{MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES, PasswordHasher, PasswordParams};
use crate::password_check::PasswordCheck;
use crate::records::{
    self, ApiKeyRecord, Marker, SessionRecord, api_key_key, family_revoked_key, family_stolen_key,
    session_key, session_seen_key, token_revoked_key,
};
use crate::secret::{hash_secret, same_hash};
use crate::slots::PasswordSlots;
use crate::store::CredentialStore;
use crate::throttle::{LoginThrottle, ThrottleLimits};
use crate::users::{LoginRecord, User, UserLoader};
use telepact::clock::{Clock, SystemClock};

/// Lifetimes, limits and token audience.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Access-token issuer, audience, lifetime and clock leeway.
    pub jwt: JwtConfig,
    /// Seconds a refresh-token family lives from login (rotation does not extend it).
    pub refresh_ttl: i64,
    /// Seconds after a refresh token's first use in which using it again is answered
    /// rather than taken for theft (default 10; 0: never): the client whose refresh
    /// failed on its way back (a store write that timed out but took effect, an answer
    /// lost) retries with the same token. See [`Authenticator::refresh`].
    pub refresh_reuse_grace: i64,
    /// Seconds a session lives.
    pub session_ttl: i64,
    /// Seconds a session may go unused before it ends; `None`: only `session_ttl`.
    pub session_idle: Option<i64>,
    /// Seconds a new API key works; `None` (the default): until it is revoked.
    pub api_key_ttl: Option<i64>,
    /// Failed-login limits per user and per address.
    pub throttle: ThrottleLimits,
    /// Argon2 cost parameters for new password hashes.
    pub password: PasswordParams,
    /// How many password checks may run at once, each on the blocking pool. One
    /// account, and one client address, may hold or wait for at most half of them (at
    /// least one), so that a valid account logging in without pause cannot take them
    /// all. Each check that has run keeps the memory argon2 works in
    /// ([`PasswordParams::memory_kib`], 19 MiB by default) for the next: at most this
    /// many times that memory stays allocated, whatever the number of logins.
    pub password_checks: usize,
    /// How long a login arriving when every check is busy waits for one, in its turn,
    /// before it is refused ([`AuthError::Busy`]); at most 16 logins a check wait at
    /// once, and the rest are refused at once. Waiting in turn keeps accounts that log
    /// in without pause from holding every place. `Duration::ZERO`: refused at once.
    pub password_wait: std::time::Duration,
}

impl AuthConfig {
    /// Access tokens for 15 minutes, refresh families for 30 days (a refresh token
    /// answered again for 10 s after its first use), sessions for 8 hours (ending after
    /// 30 idle minutes).
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        AuthConfig {
            jwt: JwtConfig::new(issuer, audience),
            refresh_ttl: 30 * 24 * 3600,
            refresh_reuse_grace: 10,
            session_ttl: 8 * 3600,
            session_idle: Some(30 * 60),
            api_key_ttl: None,
            throttle: ThrottleLimits::default(),
            password: PasswordParams::default(),
            password_checks: std::thread::available_parallelism().map_or(1, usize::from),
            password_wait: std::time::Duration::from_secs(2),
        }
    }
}

telepact::__option_setters!(AuthConfig {
    jwt: JwtConfig,
    refresh_ttl: i64,
    refresh_reuse_grace: i64,
    session_ttl: i64,
    session_idle: Option<i64>,
    api_key_ttl: Option<i64>,
    throttle: ThrottleLimits,
    password: PasswordParams,
    password_checks: usize,
    password_wait: std::time::Duration,
});

/// Verifies credentials, issues and revokes tokens. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    pub(crate) config: Arc<AuthConfig>,
    pub(crate) keys: Arc<JwtKeys>,
    pub(crate) users: Arc<dyn UserLoader>,
    pub(crate) store: Arc<dyn CredentialStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) passwords: Arc<PasswordHasher>,
    pub(crate) throttle: LoginThrottle,
    /// Places for password checks: argon2 must not hold up the async workers.
    pub(crate) password_slots: Arc<PasswordSlots>,
    /// Login attempts being taken back in the background (see `password_check`).
    pub(crate) take_backs_in_background: Arc<std::sync::atomic::AtomicUsize>,
}

impl Authenticator {
    /// Builds an authenticator; fails only if `config.password` holds invalid Argon2 parameters.
    ///
    /// Makes jsonwebtoken's RustCrypto backend its process default, unless one is set
    /// already: an application whose own JWT code turns on jsonwebtoken's `aws_lc_rs`
    /// backend leaves it with two and no default. Such an application that uses
    /// jsonwebtoken before building an authenticator installs a provider first
    /// (`jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default()`), as
    /// jsonwebtoken asks.
    ///
    /// # Errors
    ///
    /// [`AuthError::Internal`] when Argon2 rejects `config.password` (see
    /// [`PasswordHasher::new`]).
    pub fn new(
        config: AuthConfig,
        keys: JwtKeys,
        users: Arc<dyn UserLoader>,
        store: Arc<dyn CredentialStore>,
    ) -> Result<Self, AuthError> {
        crate::jwt::use_crypto_provider();
        Ok(Authenticator {
            passwords: Arc::new(
                PasswordHasher::new(config.password)?.keeping_memory_for(config.password_checks),
            ),
            throttle: LoginThrottle::new(config.throttle),
            password_slots: Arc::new(PasswordSlots::new(
                config.password_checks,
                config.password_wait,
            )),
            take_backs_in_background: Arc::default(),
            config: Arc::new(config),
            keys: Arc::new(keys),
            users,
            store,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for every expiry check and timestamp.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// The password hasher, for setting or changing a user's password.
    pub fn passwords(&self) -> &PasswordHasher {
        &self.passwords
    }

    /// The store holding refresh families, API keys, sessions and revocations.
    pub fn store(&self) -> &Arc<dyn CredentialStore> {
        &self.store
    }

    /// Verifies `credential` (from a client at `address`, when known) into an identity.
    ///
    /// # Errors
    ///
    /// By kind of credential:
    /// - password: [`AuthError::BadPassword`] for an unknown user, a wrong password, or a
    ///   username or password past its length limit; [`AuthError::Throttled`] past the
    ///   failed-login limit of the user or the address; [`AuthError::Busy`] when no
    ///   password-check place is free for it;
    /// - bearer token: [`AuthError::BadToken`] when it fails verification (malformed,
    ///   another algorithm, an unknown key id, a bad signature, issuer or audience, not
    ///   yet valid or expired: the text says which), [`AuthError::TokenRevoked`] when it
    ///   or its refresh family was revoked;
    /// - API key: [`AuthError::BadApiKey`] when it is unknown, wrong, expired, revoked, or
    ///   made by a sign-in whose refresh family was revoked as stolen;
    /// - session: [`AuthError::BadSession`] when it is unknown, expired or idle past
    ///   `session_idle`; [`AuthError::BadCsrf`] when the CSRF token does not match.
    ///
    /// Whatever the credential: [`AuthError::UserUnavailable`] when its user is unknown
    /// or disabled, the [`UserLoader`]'s own error when it fails,
    /// [`AuthError::Store`] when the credential store fails, and
    /// [`AuthError::Internal`] when a password check cannot run.
    pub async fn authenticate(
        &self,
        credential: &Credential,
        address: Option<&str>,
    ) -> Result<Identity, AuthError> {
        match credential {
            Credential::Password { username, password } => {
                self.verify_password(username, password, address).await
            }
            Credential::Bearer { token } => self.verify_bearer(token).await,
            Credential::ApiKey { key } => self.verify_api_key(key).await,
            Credential::Session { id, csrf } => self.verify_session(id, csrf).await,
        }
    }

    async fn verify_password(
        &self,
        username: &str,
        password: &str,
        address: Option<&str>,
    ) -> Result<Identity, AuthError> {
        if username.len() > MAX_USERNAME_BYTES || password.len() > MAX_PASSWORD_BYTES {
            return Err(AuthError::BadPassword);
        }
        let check = PasswordCheck {
            authenticator: self.clone(),
            username: username.to_string(),
            password: password.to_string(),
            address: address.map(str::to_string),
            attempt: self.throttle.attempt(username, address, self.now())?,
        };
        let (login, rehashed) = check.run_to_end().await?;
        if let Some(new_hash) = rehashed {
            self.replace_password_hash(username, &login, new_hash).await;
        }
        let user = self.user(&login.user_id).await?;
        let scopes = user.scopes.clone();
        Ok(identity(user, scopes, CredentialRef::Password))
    }

    /// Stores the new hash of a password just proved against an older one. A directory
    /// that fails to store it costs the login nothing: the old hash keeps working.
    async fn replace_password_hash(&self, username: &str, login: &LoginRecord, new_hash: String) {
        let replaced = self
            .users
            .replace_password_hash(username, &login.password_hash, new_hash)
            .await;
        if let Err(error) = replaced {
            tracing::warn!(user_id = %login.user_id, error = %telepact::ErrorChain(&error), "could not store a password's new hash");
        }
    }

    async fn verify_bearer(&self, token: &str) -> Result<Identity, AuthError> {
        let claims = jwt::verify(token, &self.keys, &self.config.jwt, self.now())?;
        let token_key = token_revoked_key(&claims.jti);
        // Read at once: every call signed in with a token waits for these marks.
        let (token_revoked, family_revoked) = tokio::try_join!(
            async { Ok::<_, AuthError>(self.store.get(&token_key).await?.is_some()) },
            self.family_revoked(Some(&claims.fam)),
        )?;
        if token_revoked || family_revoked {
            return Err(AuthError::TokenRevoked);
        }
        let user = self.user(&claims.sub).await?;
        let scopes = narrow(&user, &claims.scopes());
        let credential = CredentialRef::Bearer {
            token_id: claims.jti,
            family: claims.fam,
            expires_at: claims.exp,
        };
        Ok(identity(user, scopes, credential))
    }

    async fn verify_api_key(&self, key: &str) -> Result<Identity, AuthError> {
        let (key_id, secret) = crate::issue::split_api_key(key).ok_or(AuthError::BadApiKey)?;
        let record: ApiKeyRecord = records::load(&*self.store, &api_key_key(key_id))
            .await?
            .ok_or(AuthError::BadApiKey)?;
        if !same_hash(&hash_secret(secret), &record.secret_hash)
            || record.expires_at.is_some_and(|at| self.now() >= at)
        {
            return Err(AuthError::BadApiKey);
        }
        if self.made_by_stolen_family(&record).await? {
            self.store.delete(&api_key_key(key_id)).await?;
            return Err(AuthError::BadApiKey);
        }
        let user = self.user(&record.user_id).await?;
        let scopes = narrow(&user, &record.scopes);
        let credential = CredentialRef::ApiKey {
            key_id: key_id.to_string(),
        };
        Ok(identity(user, scopes, credential))
    }

    /// Whether the sign-in that made the key had its refresh family revoked as stolen.
    pub(crate) async fn made_by_stolen_family(
        &self,
        record: &ApiKeyRecord,
    ) -> Result<bool, AuthError> {
        let Some(family) = &record.family else {
            return Ok(false);
        };
        Ok(self.store.get(&family_stolen_key(family)).await?.is_some())
    }

    async fn verify_session(&self, id: &str, csrf: &str) -> Result<Identity, AuthError> {
        let session_hash = hash_secret(id);
        let record: SessionRecord = records::load(&*self.store, &session_key(&session_hash))
            .await?
            .ok_or(AuthError::BadSession)?;
        let now = self.now();
        if now >= record.expires_at {
            return Err(AuthError::BadSession);
        }
        if !same_hash(&hash_secret(csrf), &record.csrf_hash) {
            return Err(AuthError::BadCsrf);
        }
        if self.family_revoked(record.family.as_deref()).await? {
            self.store.delete(&session_key(&session_hash)).await?;
            return Err(AuthError::BadSession);
        }
        self.note_session_use(&session_hash, &record, now).await?;
        let user = self.user(&record.user_id).await?;
        let scopes = narrow(&user, &record.scopes);
        Ok(identity(
            user,
            scopes,
            CredentialRef::Session { session_hash },
        ))
    }

    /// Whether the refresh family a token or session belongs to was revoked, or found
    /// stolen: a revocation ends every session tied to it, not only the one the family
    /// notes, and a theft's revocation writes its stolen mark first, so the family ends
    /// even when the revoked mark after it could not be written.
    pub(crate) async fn family_revoked(&self, family: Option<&str>) -> Result<bool, AuthError> {
        let Some(family) = family else {
            return Ok(false);
        };
        let (revoked_key, stolen_key) = (family_revoked_key(family), family_stolen_key(family));
        // Read at once, as a remote store answers both in one round trip's time.
        let (revoked, stolen) =
            tokio::try_join!(self.store.get(&revoked_key), self.store.get(&stolen_key))?;
        Ok(revoked.is_some() || stolen.is_some())
    }

    /// Ends a session unused for longer than `session_idle`, else records this use. The
    /// last use lives under its own key, so a use racing a logout cannot bring the
    /// session back.
    async fn note_session_use(
        &self,
        session_hash: &str,
        record: &SessionRecord,
        now: telepact::clock::UnixTime,
    ) -> Result<(), AuthError> {
        let Some(idle) = self.config.session_idle else {
            return Ok(());
        };
        let key = session_seen_key(session_hash);
        let last_seen = match self.store.get(&key).await? {
            Some(text) => text.parse().unwrap_or(0),
            None => record.expires_at - self.config.session_ttl,
        };
        // Saturating: a last use the store holds far in the past (garbage) ends it.
        if now.saturating_sub(last_seen) >= idle {
            self.store.delete(&session_key(session_hash)).await?;
            return Err(AuthError::BadSession);
        }
        Ok(self
            .store
            .put(&key, &now.to_string(), Some(record.expires_at))
            .await?)
    }

    /// The user behind a credential; disabled and vanished users fail.
    pub(crate) async fn user(&self, user_id: &str) -> Result<User, AuthError> {
        match self.users.load_user(user_id).await? {
            Some(user) if !user.disabled => Ok(user),
            _ => Err(AuthError::UserUnavailable),
        }
    }

    pub(crate) fn marker(&self) -> Result<String, AuthError> {
        records::encode(&Marker {
            at: self.clock.unix_now(),
        })
    }

    pub(crate) fn now(&self) -> telepact::clock::UnixTime {
        self.clock.unix_now()
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A credential never grants more than its user currently holds.
fn narrow(user: &User, granted: &BTreeSet<String>) -> BTreeSet<String> {
    granted.intersection(&user.scopes).cloned().collect()
}

fn identity(user: User, scopes: BTreeSet<String>, credential: CredentialRef) -> Identity {
    Identity {
        user_id: user.user_id,
        tenant: user.tenant,
        roles: user.roles,
        scopes,
        credential,
    }
}
