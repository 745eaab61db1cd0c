//! Issuing, rotating and revoking credentials: token pairs, refresh rotation with reuse
//! detection, API keys and sessions.

use std::collections::BTreeSet;

use crate::authenticator::Authenticator;
use crate::error::AuthError;
use crate::identity::{CredentialRef, Identity};
use crate::jwt::{self, Claims};
use crate::records::{
    self, ApiKeyRecord, RefreshRecord, SessionRecord, UsedRefresh, api_key_key, family_keys_key,
    family_keys_noted_key, family_revoked_key, family_session_key, family_stolen_key, refresh_key,
    refresh_used_key, session_key, token_revoked_key,
};
use crate::secret::{hash_secret, random_id, random_secret, seal, unseal};
use telepact::clock::UnixTime;
use telepact::logging::LineBudget;

/// The refreshes answered again within their grace logged a second: the holder of a
/// refresh token may use it again as fast as it likes. The lines past it are counted,
/// and the next one gives the count.
static GRACE_LINES: LineBudget = LineBudget::per_second(10);

const REFRESH_PREFIX: &str = "tpr_";
const API_KEY_PREFIX: &str = "tpk_";
const SESSION_PREFIX: &str = "tps_";
const CSRF_PREFIX: &str = "tpc_";

/// What a login or refresh hands the client. `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// A signed JWT for `Bearer` credentials.
    pub access_token: String,
    /// Exchanged once for a new pair; reusing it (past a few seconds' grace) revokes
    /// the family.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh family, so a session opened by the same login can be tied to it.
    pub(crate) family: String,
}

/// A new API key: `key` is shown to its owner once and never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// The key's public identifier, used to list and revoke it.
    pub key_id: String,
    /// The secret key the client sends.
    pub key: String,
}

/// A new session: `id` goes into an HttpOnly cookie, `csrf` to the page's script.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The session id, secret; goes into the cookie.
    pub id: String,
    /// The token the page sends in a header with every request.
    pub csrf: String,
    /// When the session ends at the latest.
    pub expires_at: UnixTime,
    /// Seconds the session lives (the cookie's `Max-Age`).
    pub max_age: i64,
}

/// The most bytes an API key's name may have: it is stored with the key for as long as
/// the key lives, so a caller allowed to make keys must not make them hold megabytes.
pub const MAX_API_KEY_NAME_BYTES: usize = 256;

macro_rules! redacted_debug {
    ($type:ty, $name:literal) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!($name, "(..)"))
            }
        }
    };
}
redacted_debug!(TokenPair, "TokenPair");
redacted_debug!(NewApiKey, "NewApiKey");
redacted_debug!(NewSession, "NewSession");

/// An API key makes no credential (a key, a token family, a session): what it made
/// would outlive the key's own revocation or expiry.
fn refuse_api_key(identity: &Identity) -> Result<(), AuthError> {
    match identity.credential {
        CredentialRef::ApiKey { .. } => Err(AuthError::KeyFromKey),
        _ => Ok(()),
    }
}

/// Splits `tpk_<key id>.<secret>`.
pub(crate) fn split_api_key(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix(API_KEY_PREFIX)?
        .split_once('.')
        .filter(|(id, secret)| !id.is_empty() && !secret.is_empty())
}

impl Authenticator {
    /// Starts a new refresh-token family for `identity` and returns its first pair
    /// (what `fn.login` answers). A family started from a token or a session is a
    /// login of its own, which outlives the revocation of the one it came from: start
    /// families from a sign-in with the user's own secret.
    ///
    /// # Errors
    ///
    /// - [`AuthError::KeyFromKey`] when `identity` signed in with an API key: a key
    ///   could otherwise turn itself into a refresh family that outlives its own
    ///   revocation or expiry.
    /// - [`AuthError::Store`] when the credential store cannot be read or written.
    /// - [`AuthError::Internal`] when the OS gives no randomness, or a token or record
    ///   cannot be encoded or signed.
    pub async fn issue_tokens(&self, identity: &Identity) -> Result<TokenPair, AuthError> {
        refuse_api_key(identity)?;
        let family = random_id()?;
        let now = self.now();
        let expires_at = now + self.config.refresh_ttl;
        let refresh_token = random_secret(REFRESH_PREFIX)?;
        let noted = family_keys_noted_key(&family);
        let marker = self.marker()?;
        self.store.put(&noted, &marker, Some(expires_at)).await?;
        let scopes = &identity.scopes;
        let user_id = &identity.user_id;
        self.issue_pair(refresh_token, user_id, &family, scopes, expires_at, now)
            .await
    }

    /// Trades a refresh token for a new pair. Each refresh token works once: presenting
    /// one a second time revokes its whole family (the tokens issued from it, the
    /// access tokens of that family, the session the same login opened and the API keys
    /// any of them made), since one of the two callers holds a stolen copy.
    ///
    /// Except within `AuthConfig::refresh_reuse_grace` seconds (10 by default) of its
    /// first use: a client whose refresh failed on the way back (the store's write timed
    /// out but took effect, the answer was lost) retries with the same token, and is
    /// answered with the refresh token the first use was given and a new access token,
    /// rather than losing its sign-in. The grace lets a thief who replays a stolen token
    /// within those seconds of its owner's refresh get that same refresh token: the
    /// reuse is not seen then, but the owner and the thief now share one refresh token,
    /// and the second of them to use it, past its grace, revokes the family. A token
    /// whose successor has been used already is never answered again, nor one of a
    /// revoked family. A grace of 0 revokes on every second use.
    ///
    /// # Errors
    ///
    /// - [`AuthError::BadRefreshToken`] when the token is unknown, expired, or its family
    ///   was revoked (or found stolen).
    /// - [`AuthError::RefreshReused`] when it was used before, past the grace; its family
    ///   is revoked.
    /// - [`AuthError::UserUnavailable`] when its user is unknown or disabled (or the
    ///   [`UserLoader`](crate::UserLoader)'s error when it fails).
    /// - [`AuthError::Store`] when the credential store cannot be read or written. The
    ///   refresh may have taken effect all the same: retry it within the grace.
    /// - [`AuthError::Internal`] when the OS gives no randomness, or a token or record
    ///   cannot be encoded or signed.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, AuthError> {
        let hash = hash_secret(refresh_token);
        let store = &*self.store;
        // One instant for the whole refresh: its store calls take time, and a pair
        // answered as of a later one could be past the family's end already.
        let now = self.now();
        let record: RefreshRecord = records::load(store, &refresh_key(&hash))
            .await?
            .ok_or(AuthError::BadRefreshToken)?;
        if now >= record.expires_at || self.family_revoked(Some(&record.family)).await? {
            return Err(AuthError::BadRefreshToken);
        }
        // The user before the claim: a refusal of a disabled user's refresh must not use
        // the token up, and have its next use, once the user is enabled, taken for theft.
        let user = self.user(&record.user_id).await?;
        let successor = self
            .claim_refresh(refresh_token, &hash, &record, now)
            .await?;
        let scopes = record.scopes.intersection(&user.scopes).cloned().collect();
        let (family, family_ends) = (&record.family, record.expires_at);
        self.issue_pair(successor, &user.user_id, family, &scopes, family_ends, now)
            .await
    }

    /// Claims `refresh_token` (whose hash is `hash`) for its successor, and returns the
    /// successor: a new refresh token on its first use, the one that use was given on a
    /// use within the grace. Any other use revokes the family as stolen.
    async fn claim_refresh(
        &self,
        refresh_token: &str,
        hash: &str,
        record: &RefreshRecord,
        now: UnixTime,
    ) -> Result<String, AuthError> {
        let successor = random_secret(REFRESH_PREFIX)?;
        let claim = UsedRefresh {
            at: now,
            successor: seal(refresh_token, REFRESH_PREFIX, &successor),
        };
        let key = refresh_used_key(hash);
        let claim = records::encode(&claim)?;
        let expires_at = Some(record.expires_at);
        if self.store.put_if_absent(&key, &claim, expires_at).await? {
            return Ok(successor);
        }
        if let Some(successor) = self
            .successor_within_grace(refresh_token, hash, now)
            .await?
        {
            if let Some(left_out) = GRACE_LINES.admit() {
                let left_out = (left_out > 0).then_some(left_out);
                tracing::info!(user_id = %record.user_id, left_out, "refresh token used again within its grace");
            }
            return Ok(successor);
        }
        self.revoke_stolen_family(&record.family, record.expires_at)
            .await?;
        tracing::warn!(user_id = %record.user_id, "refresh token reused; family revoked");
        Err(AuthError::RefreshReused)
    }

    /// The successor the first use of `refresh_token` was given, when that use was
    /// within the grace and the successor is unused.
    async fn successor_within_grace(
        &self,
        refresh_token: &str,
        hash: &str,
        now: UnixTime,
    ) -> Result<Option<String>, AuthError> {
        let grace = self.config.refresh_reuse_grace;
        if grace <= 0 {
            return Ok(None);
        }
        let used: Option<UsedRefresh> =
            records::load(&*self.store, &refresh_used_key(hash)).await?;
        let sealed = used
            .filter(|used| now.saturating_sub(used.at) <= grace)
            .and_then(|used| used.successor);
        let Some(successor) = sealed.and_then(|s| unseal(refresh_token, REFRESH_PREFIX, &s)) else {
            return Ok(None);
        };
        let successor_used = refresh_used_key(&hash_secret(&successor));
        if self.store.get(&successor_used).await?.is_some() {
            return Ok(None);
        }
        Ok(Some(successor))
    }

    /// Signs an access token as of `now` and stores `refresh_token` (its record written
    /// again, to the same effect, when a retry within the grace reissues it).
    ///
    /// The access token ends with its family at the latest: a family's revocation is
    /// kept only as long as the family lives, so a token of a late refresh that outlived
    /// it would work again once the store dropped the revocation (and could make an API
    /// key no revocation reaches).
    async fn issue_pair(
        &self,
        refresh_token: String,
        user_id: &str,
        family: &str,
        scopes: &BTreeSet<String>,
        family_expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<TokenPair, AuthError> {
        let expires_at = now
            .saturating_add(self.config.jwt.ttl)
            .min(family_expires_at);
        let claims = Claims {
            sub: user_id.to_string(),
            iss: self.config.jwt.issuer.clone(),
            aud: self.config.jwt.audience.clone(),
            exp: expires_at,
            nbf: now,
            iat: now,
            jti: random_id()?,
            fam: family.to_string(),
            scope: scopes.iter().cloned().collect::<Vec<_>>().join(" "),
        };
        let access_token = jwt::sign(&claims, &self.keys)?;
        let record = RefreshRecord {
            user_id: user_id.to_string(),
            family: family.to_string(),
            scopes: scopes.clone(),
            expires_at: family_expires_at,
        };
        let key = refresh_key(&hash_secret(&refresh_token));
        records::save(&*self.store, &key, &record, Some(family_expires_at)).await?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in: expires_at.saturating_sub(now),
            family: family.to_string(),
        })
    }

    /// Revokes every token of a refresh family until `until` (when the family would
    /// have ended), and every cookie session tied to it: a refresh token used twice means
    /// one was stolen, and no session may outlive the tokens. The revocation is kept at
    /// least as long as a session opened now would live, since tied sessions check it.
    ///
    /// # Errors
    ///
    /// - [`AuthError::Store`] when the credential store cannot be read or written.
    /// - [`AuthError::Internal`] when the revocation's record cannot be encoded.
    pub async fn revoke_family(&self, family: &str, until: UnixTime) -> Result<(), AuthError> {
        let marker = self.marker()?;
        let key = family_revoked_key(family);
        // Past every session tied to the family too: a session checks the mark.
        let until = until.max(self.now().saturating_add(self.config.session_ttl));
        self.store.put(&key, &marker, Some(until)).await?;
        if let Some(session_hash) = self.store.get(&family_session_key(family)).await? {
            self.store.delete(&session_key(&session_hash)).await?;
        }
        Ok(())
    }

    /// Revokes a family one of whose refresh tokens was used twice, and with it the API
    /// keys its tokens or session made: a thief holding the family's tokens could have
    /// made one to outlive the revocation. The keys are found by the family's mark when
    /// they are next used, so a family that may have made one is marked as long as such
    /// a key could live (for good when keys do not expire); one known to have made none,
    /// as long as the family would have lived. Marked first, so that a key being made
    /// meanwhile finds the mark ([`create_api_key`](Self::create_api_key)).
    /// The family is revoked whichever of the marks fails to be written.
    async fn revoke_stolen_family(&self, family: &str, until: UnixTime) -> Result<(), AuthError> {
        let marked = self.mark_stolen(family, until).await;
        let revoked = self.revoke_family(family, until).await;
        marked.and(revoked)
    }

    /// Writes `family`'s stolen mark (see [`revoke_stolen_family`](Self::revoke_stolen_family)).
    async fn mark_stolen(&self, family: &str, until: UnixTime) -> Result<(), AuthError> {
        let marker = self.marker()?;
        let key = family_stolen_key(family);
        // Only where no mark is: another detection of the same theft may have marked
        // the family for as long as its keys live, which this must not shorten.
        self.store.put_if_absent(&key, &marker, Some(until)).await?;
        if !self.made_no_api_key(family).await? {
            let keys_live_until = self.config.api_key_ttl.map(|ttl| self.now() + ttl);
            self.store.put(&key, &marker, keys_live_until).await?;
        }
        Ok(())
    }

    /// Whether `family` is known to have made no API key: its keys are noted, and none
    /// is. A family started before keys were noted may have made one.
    async fn made_no_api_key(&self, family: &str) -> Result<bool, AuthError> {
        let store = &*self.store;
        let noted = store.get(&family_keys_noted_key(family)).await?.is_some();
        Ok(noted && store.get(&family_keys_key(family)).await?.is_none())
    }

    /// The refresh family of the sign-in `identity` used, if any: a bearer token's, or
    /// that of the login a linked session was opened with.
    ///
    /// # Errors
    ///
    /// [`AuthError::BadSession`] when the session has ended since it signed the caller
    /// in (a logout, or its family revoked meanwhile): its family is no longer known,
    /// and what it made untied would outlive that revocation.
    async fn family_of(&self, identity: &Identity) -> Result<Option<String>, AuthError> {
        Ok(match &identity.credential {
            CredentialRef::Bearer { family, .. } => Some(family.clone()),
            CredentialRef::Session { session_hash } => {
                let key = session_key(session_hash);
                let record: Option<SessionRecord> = records::load(&*self.store, &key).await?;
                record.ok_or(AuthError::BadSession)?.family
            }
            CredentialRef::Password | CredentialRef::ApiKey { .. } => None,
        })
    }

    /// Ends what `identity` signed in with: a bearer token and its refresh family, or
    /// a session (and the family it is tied to). Password and API-key callers have
    /// nothing to end. A logout that fails leaves the credential signing in while the
    /// family lives, so that it can be tried again.
    ///
    /// # Errors
    ///
    /// As [`revoke_family`](Self::revoke_family).
    pub async fn logout(&self, identity: &Identity) -> Result<(), AuthError> {
        match &identity.credential {
            CredentialRef::Bearer {
                token_id,
                family,
                expires_at,
            } => {
                // The family first: were the token ended alone, a failure between the
                // two would leave the refresh token working and nothing to log out with.
                let until = self.now() + self.config.refresh_ttl;
                self.revoke_family(family, until).await?;
                let marker = self.marker()?;
                let key = token_revoked_key(token_id);
                Ok(self.store.put(&key, &marker, Some(*expires_at)).await?)
            }
            CredentialRef::Session { session_hash } => {
                let key = session_key(session_hash);
                let record: Option<SessionRecord> = records::load(&*self.store, &key).await?;
                // The family first, as for a token: the session ends with it.
                if let Some(family) = record.and_then(|record| record.family) {
                    let until = self.now() + self.config.refresh_ttl;
                    self.revoke_family(&family, until).await?;
                }
                Ok(self.store.delete(&key).await?)
            }
            CredentialRef::Password | CredentialRef::ApiKey { .. } => Ok(()),
        }
    }

    /// Creates an API key for the caller, limited to `scopes` (which the caller must
    /// hold), working for `AuthConfig::api_key_ttl` when that is set. A caller signed in
    /// with an API key gets [`AuthError::KeyFromKey`]; a `name` past
    /// [`MAX_API_KEY_NAME_BYTES`] gets [`AuthError::KeyNameTooLong`].
    ///
    /// The key outlives a logout of the sign-in that made it, but not the revocation of
    /// that sign-in's refresh family as stolen (see [`Authenticator::refresh`]).
    ///
    /// # Errors
    ///
    /// - [`AuthError::KeyFromKey`] and [`AuthError::KeyNameTooLong`], as above.
    /// - [`AuthError::ScopeNotHeld`] when `scopes` holds one the caller does not.
    /// - [`AuthError::TokenRevoked`] when the sign-in's refresh family was found stolen
    ///   while the key was being made.
    /// - [`AuthError::BadSession`] when the caller's session has ended since it signed
    ///   the caller in.
    /// - [`AuthError::Store`] when the credential store cannot be read or written.
    /// - [`AuthError::Internal`] when the OS gives no randomness, or a token or record
    ///   cannot be encoded or signed.
    pub async fn create_api_key(
        &self,
        identity: &Identity,
        name: &str,
        scopes: BTreeSet<String>,
    ) -> Result<NewApiKey, AuthError> {
        refuse_api_key(identity)?;
        if !scopes.is_subset(&identity.scopes) {
            return Err(AuthError::ScopeNotHeld);
        }
        if name.len() > MAX_API_KEY_NAME_BYTES {
            let limit = MAX_API_KEY_NAME_BYTES;
            return Err(AuthError::KeyNameTooLong { limit });
        }
        let key_id = random_id()?.replace(['-', '_'], "x");
        let secret = random_secret("")?;
        let record = ApiKeyRecord {
            user_id: identity.user_id.clone(),
            name: name.to_string(),
            secret_hash: hash_secret(&secret),
            scopes,
            created_at: self.now(),
            expires_at: self.config.api_key_ttl.map(|ttl| self.now() + ttl),
            family: self.family_of(identity).await?,
        };
        if let Some(family) = &record.family {
            let marker = self.marker()?;
            let made_key = family_keys_key(family);
            self.store
                .put(&made_key, &marker, record.expires_at)
                .await?;
        }
        let record_key = api_key_key(&key_id);
        records::save(&*self.store, &record_key, &record, record.expires_at).await?;
        // A family found stolen while the key was made may have missed the mark above.
        if self.made_by_stolen_family(&record).await? {
            self.store.delete(&record_key).await?;
            return Err(AuthError::TokenRevoked);
        }
        let key = format!("{API_KEY_PREFIX}{key_id}.{secret}");
        Ok(NewApiKey { key_id, key })
    }

    /// Revokes one of the caller's API keys; `false` when the caller has no such key.
    ///
    /// # Errors
    ///
    /// [`AuthError::Store`] when the credential store cannot be read or written.
    pub async fn revoke_api_key(
        &self,
        identity: &Identity,
        key_id: &str,
    ) -> Result<bool, AuthError> {
        let key = api_key_key(key_id);
        let record: Option<ApiKeyRecord> = records::load(&*self.store, &key).await?;
        match record {
            Some(record) if record.user_id == identity.user_id => {
                self.store.delete(&key).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Opens a server-side session for `identity`. A session opened by a sign-in with a
    /// token (or with a session tied to one) is tied to that token's refresh family, as
    /// [`create_linked_session`](Self::create_linked_session) ties one: it ends when the
    /// family is revoked (a logout, a refresh token used twice), and logging out of it
    /// revokes the family. Otherwise a stolen access token could open a session that
    /// outlived its own revocation. Any other session starts a family of its own, which
    /// the sessions opened by a sign-in with it join: logging out of one of them ends
    /// them all.
    ///
    /// # Errors
    ///
    /// - [`AuthError::KeyFromKey`] when `identity` signed in with an API key, as for
    ///   [`issue_tokens`](Self::issue_tokens).
    /// - [`AuthError::BadSession`] when `identity` signed in with a session that has
    ///   ended since.
    /// - [`AuthError::Store`] when the credential store cannot be read or written.
    /// - [`AuthError::Internal`] when the OS gives no randomness, or a token or record
    ///   cannot be encoded or signed.
    pub async fn create_session(&self, identity: &Identity) -> Result<NewSession, AuthError> {
        self.open_session(identity, None).await
    }

    /// Opens a session tied to the token pair the same login issued: logging out of the
    /// session revokes the tokens' family, and logging out with a token of the family
    /// ends the session.
    ///
    /// # Errors
    ///
    /// As [`create_session`](Self::create_session).
    pub async fn create_linked_session(
        &self,
        identity: &Identity,
        tokens: &TokenPair,
    ) -> Result<NewSession, AuthError> {
        self.open_session(identity, Some(&tokens.family)).await
    }

    async fn open_session(
        &self,
        identity: &Identity,
        family: Option<&str>,
    ) -> Result<NewSession, AuthError> {
        refuse_api_key(identity)?;
        let family = match family {
            Some(family) => family.to_string(),
            None => match self.family_of(identity).await? {
                Some(family) => family,
                // One of its own, which the sessions it opens join: a stolen session
                // could otherwise open one that outlived its owner's logout.
                None => random_id()?,
            },
        };
        let id = random_secret(SESSION_PREFIX)?;
        let csrf = random_secret(CSRF_PREFIX)?;
        let max_age = self.config.session_ttl;
        let expires_at = self.now() + max_age;
        let record = SessionRecord {
            user_id: identity.user_id.clone(),
            csrf_hash: hash_secret(&csrf),
            scopes: identity.scopes.clone(),
            expires_at,
            family: Some(family.clone()),
        };
        let session_hash = hash_secret(&id);
        records::save(
            &*self.store,
            &session_key(&session_hash),
            &record,
            Some(expires_at),
        )
        .await?;
        let key = family_session_key(&family);
        self.store
            .put(&key, &session_hash, Some(expires_at))
            .await?;
        Ok(NewSession {
            id,
            csrf,
            expires_at,
            max_age,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_split_into_id_and_secret() {
        assert_eq!(split_api_key("tpk_abc.def"), Some(("abc", "def")));
        assert_eq!(split_api_key("tpk_.def"), None);
        assert_eq!(split_api_key("tpk_abc."), None);
        assert_eq!(split_api_key("abc.def"), None);
    }
}
