//! The typed records kept in a [`CredentialStore`], and the keys they live under.
//! Secrets are never stored: only their SHA-256 (see `secret`).

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::store::CredentialStore;
use telepact::clock::UnixTime;

/// A refresh token, stored under `refresh:<hash>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshRecord {
    pub user_id: String,
    pub family: String,
    pub scopes: BTreeSet<String>,
    pub expires_at: UnixTime,
}

/// An API key, stored under `apikey:<key id>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ApiKeyRecord {
    pub user_id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: BTreeSet<String>,
    pub created_at: UnixTime,
    /// When the key stops working; `None`: when revoked.
    #[serde(default)]
    pub expires_at: Option<UnixTime>,
    /// The refresh family of the sign-in that made the key: when that family is found
    /// stolen (a refresh token used twice), the key goes with it.
    #[serde(default)]
    pub family: Option<String>,
}

/// A session, stored under `session:<hash>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    pub user_id: String,
    pub csrf_hash: String,
    pub scopes: BTreeSet<String>,
    pub expires_at: UnixTime,
    /// The refresh family opened by the same login (logging out of either ends both),
    /// else the family of the session it was opened with, or one of its own. `None` only
    /// in sessions stored before every session had one.
    #[serde(default)]
    pub family: Option<String>,
}

/// A marker whose presence is the fact (a revocation, a used refresh token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Marker {
    pub at: UnixTime,
}

/// The claim on a used refresh token, stored under `refresh-used:<hash>`: when it was
/// used, and the refresh token it was exchanged for, sealed with the used one (see
/// `secret::seal`), so that the same client retrying within the grace gets that same
/// token. A claim written before the grace existed has no successor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UsedRefresh {
    pub at: UnixTime,
    #[serde(default)]
    pub successor: Option<String>,
}

pub(crate) fn refresh_key(hash: &str) -> String {
    format!("refresh:{hash}")
}

pub(crate) fn refresh_used_key(hash: &str) -> String {
    format!("refresh-used:{hash}")
}

pub(crate) fn family_revoked_key(family: &str) -> String {
    format!("family-revoked:{family}")
}

/// Set when a family's refresh token was used twice: unlike a logout, this also ends
/// the API keys the family's tokens or session made.
pub(crate) fn family_stolen_key(family: &str) -> String {
    format!("family-stolen:{family}")
}

/// Set when a sign-in of the family makes an API key, for as long as the key lives: a
/// family found stolen is marked for as long only when it made one.
pub(crate) fn family_keys_key(family: &str) -> String {
    format!("family-keys:{family}")
}

/// Set when a family starts, for as long as it lives: its API keys are noted under
/// [`family_keys_key`]. A family started before keys were noted has none, and may
/// have made keys all the same.
pub(crate) fn family_keys_noted_key(family: &str) -> String {
    format!("family-keys-noted:{family}")
}

pub(crate) fn token_revoked_key(token_id: &str) -> String {
    format!("token-revoked:{token_id}")
}

pub(crate) fn api_key_key(key_id: &str) -> String {
    format!("apikey:{key_id}")
}

pub(crate) fn session_key(hash: &str) -> String {
    format!("session:{hash}")
}

/// When a session was last used (Unix seconds as text).
pub(crate) fn session_seen_key(hash: &str) -> String {
    format!("session-seen:{hash}")
}

/// The hash of the session a refresh family was opened with.
pub(crate) fn family_session_key(family: &str) -> String {
    format!("family-session:{family}")
}

/// Reads and decodes a record; an undecodable one counts as absent.
pub(crate) async fn load<T: DeserializeOwned>(
    store: &dyn CredentialStore,
    key: &str,
) -> Result<Option<T>, AuthError> {
    let text = store.get(key).await?;
    Ok(text.and_then(|text| serde_json::from_str(&text).ok()))
}

pub(crate) async fn save<T: Serialize>(
    store: &dyn CredentialStore,
    key: &str,
    record: &T,
    expires_at: Option<UnixTime>,
) -> Result<(), AuthError> {
    let text = encode(record)?;
    Ok(store.put(key, &text, expires_at).await?)
}

pub(crate) fn encode<T: Serialize>(record: &T) -> Result<String, AuthError> {
    serde_json::to_string(record).map_err(|_| AuthError::Internal("encode a record"))
}
